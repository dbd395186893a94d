// The worker daemon as a library: the pfor-worker binary and the SDK's
// embedded cluster both start it through this header.
//
// A worker opens a link to the coordinator (a gRPC stream to its address, or
// the coordinator's in-process links), announces its executors (slots of
// threads, helper processes, commands) and kernels, and runs the chunks it
// is sent. It asks each executor's worth of chunks: free slots plus a
// prefetch that covers a round trip at the measured time per chunk, so a
// slot never waits on one. When the coordinator goes away it cancels what it
// holds (the coordinator requeues it) and redials with exponential backoff.
#ifndef PFOR_WORKER_WORKER_H_
#define PFOR_WORKER_WORKER_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/common/credentials.h"
#include "pfor/common/histogram.h"
#include "pfor/common/link.h"
#include "pfor/common/log.h"
#include "pfor/kernel.h"

namespace pfor::worker {

struct WorkerOptions {
  // host:port of the coordinator, reached over gRPC...
  std::string coordinator;
  // TLS files and token for `coordinator`.
  Credentials credentials;
  // ...or links opened within this process (the embedded cluster:
  // CoordinatorServer::LocalWorkerLinks()). Exactly one of the two.
  WorkerLinkOpener link;
  // Slots of the threads executor (kernels run in the daemon); 0 means one
  // per core.
  int threads = 0;
  // Slots of the processes executor (kernels run in helper processes,
  // started on first use); 0 means one per core, -1 none.
  int processes = 0;
  // Slots of the command executor; 0 (the default) means none: commands run
  // only on workers started with --allow-commands.
  int commands = 0;
  // The worker's environment variables a command inherits (--command-env
  // adds to them); its other variables, such as PFOR_TOKEN, stay hidden.
  std::vector<std::string> command_environment = {
      "PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME"};
  // Chunks asked for beyond each executor's slots. -1 (the default) adapts:
  // enough to keep every slot busy for `prefetch_target` at the measured
  // time per chunk, at least the executor's slots (so long chunks do not
  // pile up on one worker) and at most 256 per slot.
  int prefetch = -1;
  absl::Duration prefetch_target = absl::Milliseconds(2);
  // The pfor-helper binary for the processes executor; empty means found
  // beside this program or where the build put it.
  std::string helper_path;
  // Plugins the helpers load, as the daemon did (the daemon loads its own
  // before starting the worker).
  std::vector<std::string> plugins;
  // The kernels pfor-helper runs: the built-in ones and the plugins'.
  // Empty means every kernel of `kernels` (true when all of them come from
  // built-ins and plugins, as in pfor-worker); a program that registers
  // kernels of its own names the others here, and its kernels then run on
  // threads only.
  std::vector<std::string> helper_kernels;
  // Address-space limit of each helper process; 0 means none.
  int64_t helper_memory_limit_bytes = 0;
  // Name shown in listings; empty means host-pid.
  std::string name;
  // The kernels offered; must outlive the worker. nullptr means
  // KernelRegistry::Global().
  const KernelRegistry* kernels = nullptr;
  absl::Duration reconnect_min = absl::Milliseconds(100);
  absl::Duration reconnect_max = absl::Seconds(5);
  // Receives one line per connection event; must outlive the worker.
  // nullptr means silence.
  const Logger* logger = nullptr;
};

// A worker at one moment, for its /metrics.
struct WorkerStats {
  // Per executor, indexed by ExecutorKind.
  std::array<int, kExecutorKinds> slots{};
  // Slots running a chunk now.
  std::array<int, kExecutorKinds> busy_slots{};
  // Helper processes started again after one died or was killed.
  int64_t helper_restarts = 0;
  // Kernel time of every chunk run so far.
  DurationHistogram kernel_time;
  bool connected = false;
};

// Thread-safe.
class Worker {
 public:
  // Validates the options and starts dialing; does not wait for the
  // connection. INVALID_ARGUMENT for bad options.
  static absl::StatusOr<std::unique_ptr<Worker>> Start(WorkerOptions options);
  // Stops at once (see Stop).
  ~Worker();

  // Leaves cleanly: takes no more chunks, gives queued ones back, lets
  // running ones finish for up to `grace` and reports them, then
  // disconnects. Blocks until done.
  void Drain(absl::Duration grace);
  // Cancels running chunks and disconnects now. Blocks until done.
  // Idempotent.
  void Stop();

  // Slots of all executors.
  int slots() const;
  // True while a link to the coordinator is up and welcomed.
  bool connected() const;
  WorkerStats Stats() const;

 private:
  class Impl;
  explicit Worker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_WORKER_H_
