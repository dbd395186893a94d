// The processes executor: kernels run in helper processes, so a crash, an
// abort, an exit, a runaway allocation or a hang in a kernel costs one
// helper, never the worker daemon.
//
// Each slot owns one warm helper: `pfor-helper`, started by spawn and exec
// (never fork of the multi-threaded daemon) on the slot's first chunk, reused
// for the chunks after it, and replaced when it dies or is killed. Requests
// and responses cross its standard input and output as length-delimited
// protobuf (proto/pfor/v1/helper.proto); its standard error is read all the
// while, and its last 2 KiB explain a helper that dies.
#ifndef PFOR_WORKER_PROCESS_RUNNER_H_
#define PFOR_WORKER_PROCESS_RUNNER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "slot_pool.h"

namespace pfor::worker {

struct ProcessOptions {
  // The pfor-helper binary.
  std::string helper_path = {};
  // Kernel plugins every helper loads (--plugin), as the worker does.
  std::vector<std::string> plugins = {};
  // Address-space limit of each helper (RLIMIT_AS); 0 means none.
  int64_t memory_limit_bytes = 0;
};

// A ChunkRunner whose chunks fail with the reason when something goes wrong:
// "helper was killed by SIGSEGV (Segmentation fault) while running the
// chunk", "helper exited with status 7 while running the chunk" (both with
// the tail of the helper's standard error), DEADLINE_EXCEEDED "chunk timed
// out after 30s" (the job's chunk timeout), RESOURCE_EXHAUSTED "... memory
// limit 2 GiB exceeded", CANCELLED; FAILED_PRECONDITION when the helper
// cannot be started. A helper that is cancelled or times out is killed (its
// whole process group) and reaped before Run returns; the slot's next chunk
// starts a new one. Destroying the runner kills and reaps every helper.
//
// Thread-safe as ChunkRunner requires: slots run concurrently, one chunk
// per slot at a time.
class ProcessRunner : public ChunkRunner {
 public:
  // The process id of `slot`'s helper, 0 when it has none running. For tests
  // and diagnostics; may be called from any thread.
  virtual pid_t HelperPid(int slot) const = 0;
};

std::unique_ptr<ProcessRunner> NewProcessRunner(ProcessOptions options);

// Where pfor-helper is: $PFOR_HELPER, else beside the running executable,
// else in the bin directory of the installed tree whose libpfor.so holds this
// code, else where the build put it, else where `cmake --install` puts it by
// default, else "pfor-helper" (looked up in PATH).
std::string DefaultHelperPath();

}  // namespace pfor::worker

#endif  // PFOR_WORKER_PROCESS_RUNNER_H_
