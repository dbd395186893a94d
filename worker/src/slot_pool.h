// The slots of one executor: a FIFO queue of chunks and one thread per slot
// that hands each chunk to the executor's ChunkRunner (a kernel call in this
// process, a helper process, an external command).
//
// Cancelling a job drops its queued chunks and raises the cancel flag of its
// running ones; runners poll the flag. Each chunk that runs produces exactly
// one outcome; dropped chunks produce none. Thread-safe. Uses std::mutex,
// which ThreadSanitizer sees (Debian's Abseil is not instrumented).
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
#include "pfor/kernel.h"
#include "pfor/v1/worker_link.pb.h"

namespace pfor::worker {

// What every chunk of one job shares.
struct JobContext {
  uint64_t id = 0;
  // The definition as the coordinator sent it (kernel, parameters,
  // reduction, range, command, timeout).
  v1::JobDefinition definition;
  // nullptr when this worker lacks the kernel: its chunks fail.
  const KernelDef* kernel = nullptr;
  std::string kernel_name;
  Params params;
  Reduction reduction = Reduction::kSum;
  int64_t begin = 0;
  int64_t end = 0;
  // An attempt running longer is stopped; infinite when the job sets none.
  absl::Duration chunk_timeout = absl::InfiniteDuration();
};

struct ChunkTask {
  std::shared_ptr<const JobContext> job;
  int64_t begin = 0;
  int64_t end = 0;
  int32_t attempt = 0;
  // The chunk's number in the job, from 0.
  int64_t index = 0;
  // For a batch job: the chunk's tasks, the calls of the kernel it makes
  // (begin and end are then task numbers).
  std::vector<v1::Task> tasks = {};
};

struct ChunkOutcome {
  uint64_t job = 0;
  int64_t begin = 0;
  int32_t attempt = 0;
  // The chunk's value as it goes on the wire.
  absl::StatusOr<v1::Value> value;
  absl::Duration kernel_time;
};

// Runs one chunk. Called on the slot's own thread, `slot` in [0, slots), one
// chunk per slot at a time; different slots call concurrently.
class ChunkRunner {
 public:
  virtual ~ChunkRunner() = default;
  // Returns the chunk's value or why it failed; polls `cancel` and returns
  // CANCELLED soon after it turns true.
  virtual absl::StatusOr<v1::Value> Run(int slot, const ChunkTask& task,
                                        const std::atomic<bool>& cancel) = 0;
};

class SlotPool {
 public:
  // Starts `slots` threads running chunks with `runner`. `on_outcome` is
  // called on a slot thread after each chunk that ran, once its slot is
  // free; it may call the pool but should not block for long.
  SlotPool(int slots, std::unique_ptr<ChunkRunner> runner,
           std::function<void(ChunkOutcome)> on_outcome);
  // Cancels everything and joins the threads (the runner goes after them).
  ~SlotPool();

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
  // Chunks running, or finished with their outcome not reported yet: zero
  // once every started chunk has been reported.
  int Unreported() const;
  int slots() const { return static_cast<int>(threads_.size()); }

 private:
  struct Slot {
    std::optional<ChunkTask> task;  // guarded by mu_
    std::atomic<bool> cancel{false};
  };

  void Loop(int index);
  ChunkOutcome Run(int index);

  std::unique_ptr<ChunkRunner> runner_;
  std::function<void(ChunkOutcome)> on_outcome_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::deque<ChunkTask> queue_;  // guarded by mu_
  int running_ = 0;              // guarded by mu_
  // Chunks started whose outcome has not been reported yet.
  int unreported_ = 0;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_SLOT_POOL_H_
