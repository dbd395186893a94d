// The slots of one executor: a FIFO queue of chunks and one thread per slot
// that hands each chunk to the executor's ChunkRunner (a kernel call in this
// process, a helper process, an external command).
//
// A slot that finishes a chunk takes the next queued one at once, without
// sleeping. Cancelling a job drops its queued chunks and raises the cancel
// flag of its running ones; runners poll the flag. Each chunk that runs
// produces exactly one result; dropped chunks produce none.
//
// A chunk whose kernel waits in the SDK of this process (a nested
// Parallel, a future's result: pfor/common/blocking.h) lends its slot
// while it waits: a stand-in thread runs queued chunks meanwhile, so that
// the chunks it waits for can run even when every slot waits. Chunks never
// run more than `slots` at a time beside those waiting.
//
// Thread-safe. Uses std::mutex, which ThreadSanitizer sees (Debian's Abseil
// is not instrumented).
#ifndef PFOR_WORKER_SLOT_POOL_H_
#define PFOR_WORKER_SLOT_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/common/blocking.h"
#include "pfor/common/clock.h"
#include "pfor/common/link.h"
#include "pfor/kernel.h"

namespace pfor::worker {

// What every chunk of one job shares, built once per job from its
// definition (MakeJobContext in kernel_call.h). Immutable.
struct JobContext {
  // The definition as the coordinator sent it (kernel, parameters,
  // reduction, range, command, timeout); shared, never copied.
  std::shared_ptr<const JobDefinition> definition;
  // nullptr when this process lacks the kernel: its chunks fail.
  const KernelDef* kernel = nullptr;
  // The job's parameters checked against this process's own declaration of
  // the kernel, with its defaults filled in, once per job; or why they do
  // not fit (then its chunks fail with that, rather than the kernel reading
  // a parameter that is not there). A batch's tasks with parameters of their
  // own are checked again with those laid over. Unset without a kernel.
  std::optional<absl::StatusOr<Params>> params;
  // Which link of the worker the job came on (the engine's count; 0
  // elsewhere): results of an older link's chunks are not sent on a newer.
  uint64_t link = 0;
  // Set when the job's first chunk starts here (SlotPoolHooks::on_start).
  mutable std::atomic<bool> start_reported{false};

  uint64_t id() const { return definition->job; }
  const std::string& kernel_name() const { return definition->kernel; }
  absl::Duration chunk_timeout() const { return definition->chunk_timeout; }
};

struct ChunkTask {
  std::shared_ptr<const JobContext> job;
  int64_t begin = 0;
  int64_t end = 0;
  int32_t attempt = 0;
  // The chunk's number in the job, from 0.
  int64_t index = 0;
  // For a batch job: the chunk's tasks are (*tasks)[first_task + i] for i in
  // [0, end - begin) (begin and end are task numbers). Shared with the
  // assignment (and in process with the job's spec), never copied.
  std::shared_ptr<const std::vector<Task>> tasks = nullptr;
  size_t first_task = 0;

  AttemptRef ref() const { return {job->id(), begin, attempt}; }
};

// Runs one chunk. Called on the slot's own thread, `slot` in [0, slots), one
// chunk per slot at a time; different slots call concurrently. (A stand-in
// for a slot lent while its chunk waits in the SDK runs chunks as slot
// `slots` or above; only chunks run in this process can wait there.)
class ChunkRunner {
 public:
  virtual ~ChunkRunner() = default;
  // Returns the chunk's output (a value, or a batch's task results) or why
  // it failed; polls `cancel` and returns CANCELLED soon after it turns
  // true.
  virtual absl::StatusOr<ChunkOutput> Run(int slot, const ChunkTask& task,
                                          const std::atomic<bool>& cancel) = 0;
  // Helper processes started again after one died or was killed; 0 for
  // runners without helpers. Any thread.
  virtual int64_t helper_restarts() const { return 0; }
};

// What a pool tells its owner besides results. Each is called on a slot
// thread without the pool's lock; each may call the pool but should not
// block for long.
struct SlotPoolHooks {
  // Before the first chunk of a job (of one JobContext) runs.
  std::function<void(const ChunkTask&)> on_start;
  // A running chunk began to wait in the SDK: Blocked() went up, and the
  // pool can run one more chunk.
  std::function<void()> on_lent;
};

class SlotPool {
 public:
  // Called on a slot thread after each chunk that ran, once its slot is
  // free (so that the call can ask for the next chunk), with the chunk and
  // its result. It may call the pool but should not block for long.
  using ResultCallback = std::function<void(const ChunkTask&, ChunkResult)>;

  // Starts `slots` threads running chunks with `runner`. Kernel time is read
  // from `clock`, which must outlive the pool.
  SlotPool(int slots, std::unique_ptr<ChunkRunner> runner,
           ResultCallback on_result, Clock& clock = Clock::Real(),
           SlotPoolHooks hooks = {});
  // Cancels everything and joins the threads (the runner goes after them).
  ~SlotPool();

  void Submit(ChunkTask task);
  // Queues every task of `tasks` at once (one wake-up), leaving it empty.
  void Submit(std::vector<ChunkTask>& tasks);
  // Drops the job's queued chunks and cancels its running ones. Returns how
  // many queued chunks were dropped.
  int CancelJob(uint64_t job);
  // Drops or cancels one attempt. Returns 1 when it was queued (dropped).
  int CancelAttempt(const AttemptRef& attempt);
  // Drops every queued chunk and cancels every running one (the link to the
  // coordinator broke: all of it was requeued there). Returns how many
  // queued chunks were dropped.
  int CancelAll();
  // Removes and returns the queued chunks (the worker is draining).
  std::vector<ChunkTask> TakeQueued();

  // Chunks queued or running.
  int Load() const;
  int Running() const;
  // Running chunks that wait in the SDK, their slots lent meanwhile.
  int Blocked() const;
  // Chunks running, or finished with their result not reported yet: zero
  // once every started chunk has been reported.
  int Unreported() const;
  // Blocks until Unreported() is zero or `deadline` passes; true when it is
  // zero.
  bool AwaitReported(absl::Time deadline);
  int slots() const { return slots_count_; }
  const ChunkRunner& runner() const { return *runner_; }

 private:
  // One thread's state: a slot's, or a stand-in's. It hears its thread's
  // waits in the SDK.
  struct Slot final : BlockingObserver {
    explicit Slot(SlotPool* pool) : pool(pool) {}
    void WillBlock() override { pool->Lend(*this); }
    void Unblocked() override { pool->Reclaim(*this); }

    SlotPool* const pool;
    const ChunkTask* task = nullptr;  // guarded by pool->mu_
    bool blocked = false;             // guarded by pool->mu_
    std::atomic<bool> cancel{false};
  };

  void Loop(int index);
  // Starts one more thread (a stand-in); mu_ held.
  void StartThreadLocked();
  // True when another chunk may start: fewer than `slots` run without
  // waiting in the SDK. mu_ held.
  bool HasCapacityLocked() const { return running_ - blocked_ < slots_count_; }
  void Lend(Slot& slot);
  void Reclaim(Slot& slot);

  const int slots_count_;
  std::unique_ptr<ChunkRunner> runner_;
  ResultCallback on_result_;
  Clock& clock_;
  const SlotPoolHooks hooks_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable reported_;
  std::deque<ChunkTask> queue_;  // guarded by mu_
  // Mirrors !queue_.empty() || stopping_, for the spinning slot to watch.
  std::atomic<bool> has_work_{false};
  // One idle slot spins a little before it sleeps (pfor/common/spin.h);
  // while it does, a single new chunk needs no wake-up.
  bool spinner_ = false;  // guarded by mu_
  std::atomic<bool> spinning_{false};
  int running_ = 0;  // guarded by mu_
  // Running chunks waiting in the SDK.
  int blocked_ = 0;  // guarded by mu_
  // Threads waiting for a chunk.
  int idle_ = 0;  // guarded by mu_
  // Chunks started whose result has not been reported yet.
  int unreported_ = 0;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  // One per thread: the slots', then the stand-ins' started since.
  std::vector<std::unique_ptr<Slot>> slots_;  // guarded by mu_
  std::vector<std::thread> threads_;          // guarded by mu_
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_SLOT_POOL_H_
