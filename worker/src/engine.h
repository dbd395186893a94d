// The worker's engine: its executors (one slot pool each) and its link to
// the coordinator, whatever carries it (pfor/common/link.h): it opens a
// link, announces its slots and kernels, asks for chunks by credits, runs
// what it is sent and sends the results back as they finish. When the link
// closes it cancels what it holds (the coordinator has requeued it) and
// opens another after a backoff.
//
// Calls into the link are never made under the engine's lock: a link within
// the process may call back on the same thread (Send -> the coordinator
// assigns a chunk -> OnMessage). Messages go out in the order they were
// made: whichever thread finds nothing on its way sends what is queued,
// merged, while the others only queue.
#ifndef PFOR_WORKER_ENGINE_H_
#define PFOR_WORKER_ENGINE_H_

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pfor/common/clock.h"
#include "pfor/common/histogram.h"
#include "pfor/common/link.h"
#include "pfor/common/log.h"
#include "pfor/kernel.h"
#include "pfor/worker/worker.h"
#include "prefetch.h"
#include "slot_pool.h"

namespace pfor::worker {

struct EngineOptions {
  // Shown in listings.
  std::string name;
  // The worker's pfor version, announced in the hello.
  std::string version;
  // Per executor (indexed by ExecutorKind): its slots and its runner; an
  // executor without slots has no runner.
  std::array<int, kExecutorKinds> slots{};
  std::array<std::unique_ptr<ChunkRunner>, kExecutorKinds> runners;
  // Chunks asked for beyond each executor's slots; -1 means adaptive (see
  // prefetch.h), covering `prefetch_target` of work.
  int prefetch = -1;
  absl::Duration prefetch_target = absl::Milliseconds(2);
  // The kernels announced and run; must outlive the engine.
  const KernelRegistry* kernels = nullptr;
  // The kernels that also run in helper processes; empty means all.
  std::vector<std::string> helper_kernels;
  // Opens links to the coordinator. Destroyed with the engine, on the thread
  // that destroys it.
  WorkerLinkOpener opener;
  absl::Duration reconnect_min = absl::Milliseconds(100);
  absl::Duration reconnect_max = absl::Seconds(5);
  // Receives one line per connection event, with its level; nullptr means
  // silence.
  std::function<void(LogLevel, const std::string&)> log;
  // Times chunks; nullptr means the system's clock. Must outlive the
  // engine.
  Clock* clock = nullptr;
};

// Thread-safe.
class Engine final : public WorkerLinkHandler {
 public:
  // Starts the slots and opens the first link; does not wait for it. The
  // options are taken as they are (Worker::Start checks them).
  explicit Engine(EngineOptions options);
  // Stops at once (see Stop), then joins the slots.
  ~Engine() override;

  // Takes no more chunks, gives queued ones back, lets running ones finish
  // for up to `grace` and reports them, closes the link and waits (up to a
  // few seconds) for the coordinator to end it, then stops. Blocks.
  void Drain(absl::Duration grace);
  // Ends the link and cancels running chunks. Blocks until the link has
  // closed. Idempotent.
  void Stop();

  int slots() const;
  // True while a link is open and welcomed.
  bool connected() const;
  // Slots, busy slots, helper restarts and kernel times, for /metrics.
  WorkerStats Stats() const;

  // WorkerLinkHandler
  void OnMessage(CoordinatorMessage message) override;
  void OnClosed(const absl::Status& status) override;

 private:
  void OnResult(int kind, const ChunkTask& task, ChunkResult result);
  // A job's first chunk started on a slot: the coordinator hears it.
  void OnStarted(const ChunkTask& task);
  // A slot was lent (a chunk waits in the SDK): asks for its chunks.
  void AskForMore();
  void Supervise();
  Hello MakeHello() const;
  void Log(LogLevel level, const std::string& line) const;

  // Adds credits to `message`: per executor, what brings queued + running +
  // asked up to what it wants (more while chunks wait in the SDK).
  void AskLocked(WorkerMessage& message);
  // Sends what is queued unless another thread is at it (it sends it).
  // Unlocks `lock` around each Send.
  void FlushLocked(std::unique_lock<std::mutex>& lock);
  // Calls `call` on the link without the lock (the supervisor only: it
  // alone replaces the link).
  void CallLinkLocked(std::unique_lock<std::mutex>& lock,
                      void (WorkerLink::*call)());

  // The runners move into the pools at construction.
  EngineOptions options_;
  const KernelRegistry& kernels_;
  Clock& clock_;
  std::thread supervisor_;

  mutable std::mutex mu_;
  // The link closed, or Stop or Drain asked something of the supervisor.
  std::condition_variable changed_;
  // A flush ended, for the threads (flush_waiters_) waiting for one.
  std::condition_variable flushed_;
  int flush_waiters_ = 0;  // guarded by mu_
  // The current link, dropped by the supervisor only, once it has closed
  // and no thread is sending on it.
  std::shared_ptr<WorkerLink> link_;  // guarded by mu_
  // Counts the links opened; chunks remember theirs.
  uint64_t link_count_ = 0;  // guarded by mu_
  // Between opening a link and its OnClosed.
  bool link_open_ = false;     // guarded by mu_
  bool closed_ = true;         // guarded by mu_
  bool welcomed_ = false;      // guarded by mu_
  absl::Status close_status_;  // guarded by mu_
  // What goes next, merged; and a thread is sending.
  WorkerMessage outbox_;                                  // guarded by mu_
  bool heartbeat_due_ = false;                            // guarded by mu_
  bool flushing_ = false;                                 // guarded by mu_
  absl::Time last_send_;                                  // guarded by mu_
  absl::Duration heartbeat_interval_ = absl::Seconds(1);  // guarded by mu_
  bool close_writes_requested_ = false;                   // guarded by mu_
  bool draining_ = false;                                 // guarded by mu_
  bool stopping_ = false;                                 // guarded by mu_
  bool stopped_ = false;                                  // guarded by mu_
  absl::flat_hash_map<uint64_t, std::shared_ptr<const JobContext>> jobs_;
  // Per executor: chunks queued or running (or finished, unreported), and
  // chunks asked for and not yet received.
  std::array<int, kExecutorKinds> load_{};   // guarded by mu_
  std::array<int, kExecutorKinds> asked_{};  // guarded by mu_
  std::array<std::optional<Prefetch>, kExecutorKinds> prefetch_;
  // Chunks of one message on their way to a pool; kept for its capacity.
  std::array<std::vector<ChunkTask>, kExecutorKinds> arriving_;
  // Kernel time of every chunk run.
  DurationHistogram kernel_time_;  // guarded by mu_

  // Last, so that the slots stop first.
  std::array<std::unique_ptr<SlotPool>, kExecutorKinds> pools_;
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_ENGINE_H_
