// The worker daemon as a library: the pfor-worker binary and the SDK's
// embedded cluster both start it through this header.
//
// A worker dials the coordinator, announces its slots and kernels, and runs
// the chunks it is sent on a thread pool. It asks for as many chunks as it
// has free slots plus a prefetch, so a slot never waits on a round trip.
// When the coordinator goes away it cancels what it holds (the coordinator
// requeues it) and redials with exponential backoff.
#ifndef PFOR_WORKER_WORKER_H_
#define PFOR_WORKER_WORKER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/kernel.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace pfor::worker {

struct WorkerOptions {
  // host:port of the coordinator...
  std::string coordinator;
  // ...or a channel to it (the embedded cluster's in-process channel).
  std::shared_ptr<grpc::Channel> channel;
  // Chunks run at once; 0 means one per core.
  int threads = 0;
  // Chunks asked for beyond the free slots; -1 means as many as slots.
  int prefetch = -1;
  // Name shown in listings; empty means host-pid.
  std::string name;
  // The kernels offered; must outlive the worker. nullptr means
  // KernelRegistry::Global().
  const KernelRegistry* kernels = nullptr;
  absl::Duration reconnect_min = absl::Milliseconds(100);
  absl::Duration reconnect_max = absl::Seconds(5);
  // Receives one line per connection event; nullptr means silence.
  std::function<void(const std::string&)> log;
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

  // Slots (threads) of this worker.
  int slots() const;
  // True while a stream to the coordinator is up and welcomed.
  bool connected() const;

 private:
  class Impl;
  explicit Worker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_WORKER_H_
