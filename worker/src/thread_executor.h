// Runs chunks on a fixed pool of threads, one chunk per thread at a time.
//
// Chunks wait in a FIFO queue. Cancelling a job drops its queued chunks and
// raises the cancel flag of its running ones; kernels poll the flag. Each
// chunk that runs produces exactly one outcome; dropped chunks produce none.
// Thread-safe. Uses std::mutex, which ThreadSanitizer sees (Debian's Abseil
// is not instrumented).
#ifndef PFOR_WORKER_THREAD_EXECUTOR_H_
#define PFOR_WORKER_THREAD_EXECUTOR_H_

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
#include "pfor/kernel.h"

namespace pfor::worker {

// What every chunk of one job shares.
struct JobContext {
  uint64_t id = 0;
  // nullptr when this worker lacks the kernel: its chunks fail.
  const KernelDef* kernel = nullptr;
  std::string kernel_name;
  Params params;
  Reduction reduction = Reduction::kSum;
  int64_t begin = 0;
  int64_t end = 0;
};

struct ChunkTask {
  std::shared_ptr<const JobContext> job;
  int64_t begin = 0;
  int64_t end = 0;
  int32_t attempt = 0;
};

struct ChunkOutcome {
  uint64_t job = 0;
  int64_t begin = 0;
  int32_t attempt = 0;
  absl::StatusOr<Value> value;
  absl::Duration kernel_time;
};

class ThreadExecutor {
 public:
  // Starts `threads` threads. `on_outcome` is called on a pool thread after
  // each chunk that ran, once its slot is free; it may call the executor but
  // should not block for long.
  ThreadExecutor(int threads, std::function<void(ChunkOutcome)> on_outcome);
  // Cancels everything and joins the threads.
  ~ThreadExecutor();

  void Submit(ChunkTask task);
  // Drops the job's queued chunks and cancels its running ones. Returns how
  // many queued chunks were dropped.
  int CancelJob(uint64_t job);
  // Drops or cancels one attempt. Returns 1 when it was queued (dropped).
  int CancelAttempt(uint64_t job, int64_t begin, int32_t attempt);
  // Drops every queued chunk and cancels every running one (the link to the
  // coordinator broke: all of it was requeued there).
  void CancelAll();
  // Removes and returns the queued chunks (the worker is draining).
  std::vector<ChunkTask> TakeQueued();

  // Chunks queued or running.
  int Load() const;
  int Running() const;
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  struct Slot {
    std::optional<ChunkTask> task;  // guarded by mu_
    std::atomic<bool> cancel{false};
  };

  void Loop(Slot& slot);
  static ChunkOutcome Run(const ChunkTask& task,
                          const std::atomic<bool>& cancel);

  std::function<void(ChunkOutcome)> on_outcome_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::deque<ChunkTask> queue_;  // guarded by mu_
  int running_ = 0;              // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_THREAD_EXECUTOR_H_
