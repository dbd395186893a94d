// A program that defines kernels with PFOR_KERNEL can be a pfor worker too.
//
// Started as `program --pfor-worker --coordinator HOST:PORT [pfor-worker
// flags]`, it dials the coordinator and serves its own kernels beside the
// built-in ones, until SIGTERM drains it. Its own kernels run on the threads
// executor (helper processes hold the built-in and plugin kernels only).
// Call it first in main:
//
//   int main(int argc, char** argv) {
//     if (std::optional<int> code = pfor::ServeIfWorker(argc, argv)) {
//       return *code;
//     }
//     ...  // the program's usual work, e.g. submitting jobs
//   }
#ifndef PFOR_SERVE_H_
#define PFOR_SERVE_H_

#include <optional>

namespace pfor {

// Without --pfor-worker among the arguments: nullopt, at once. With it: runs
// the worker (the other arguments are pfor-worker's flags) and returns the
// process exit code when it stops. Blocks.
std::optional<int> ServeIfWorker(int argc, char** argv);

}  // namespace pfor

#endif  // PFOR_SERVE_H_
