// PFOR_KERNEL in a program (pfor_kernel_api): straight into the global
// registry. Plugins link register_in_plugin.cc instead.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "pfor/kernel.h"

namespace pfor::internal {

bool RegisterKernelOrDie(KernelDef def) {
  const std::string name = def.name;
  absl::Status status = KernelRegistry::Global().Add(std::move(def));
  if (!status.ok()) {
    std::fprintf(stderr, "pfor: cannot register kernel %s: %s\n", name.c_str(),
                 std::string(status.message()).c_str());
    std::abort();
  }
  return true;
}

}  // namespace pfor::internal
