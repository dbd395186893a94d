// The worker daemon's command line as a function: pfor-worker's main, and a
// user program's when it serves its own kernels (pfor/serve.h).
#ifndef PFOR_WORKER_WORKER_MAIN_H_
#define PFOR_WORKER_WORKER_MAIN_H_

#include <string>
#include <vector>

namespace pfor::worker {

struct WorkerMainOptions {
  // Shown in --help and before each log line.
  std::string program_name = "pfor-worker";
  // See WorkerOptions::helper_kernels.
  std::vector<std::string> helper_kernels = {};
};

// Parses the pfor-worker flags, registers the built-in kernels and plugins,
// runs the worker until SIGTERM or SIGINT (drain) and returns the process
// exit code. Call from main, before starting threads of your own.
int WorkerMain(int argc, char** argv, const WorkerMainOptions& options = {});

}  // namespace pfor::worker

#endif  // PFOR_WORKER_WORKER_MAIN_H_
