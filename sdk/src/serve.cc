#include "pfor/serve.h"

#include <string>
#include <vector>

#include "pfor/builtin_kernels.h"
#include "pfor/worker/worker_main.h"

namespace pfor {

std::optional<int> ServeIfWorker(int argc, char** argv) {
  constexpr std::string_view kFlag = "--pfor-worker";
  std::vector<char*> args;
  bool serve = false;
  for (int i = 0; i < argc; ++i) {
    if (argv[i] == kFlag) {
      serve = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  if (!serve) return std::nullopt;
  const std::string program = args.empty() ? "pfor" : args[0];
  args.push_back(nullptr);
  return worker::WorkerMain(
      static_cast<int>(args.size()) - 1, args.data(),
      {.program_name = program.substr(program.rfind('/') + 1),
       // This program's own kernels are not in pfor-helper.
       .helper_kernels = BuiltinKernelNames()});
}

}  // namespace pfor
