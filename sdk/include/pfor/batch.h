// The results of a batch job (many calls of one kernel, one job), handed
// out as they arrive: in task order, or in the order tasks complete. Made by
// Executor::SubmitBatch (and so by Executor::map and Parallel). Thread-safe;
// a copy shares the same results.
#ifndef PFOR_BATCH_H_
#define PFOR_BATCH_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/future.h"
#include "pfor/value.h"

namespace pfor {

struct TaskOutcome {
  // The task's position in the batch.
  size_t index = 0;
  // Its value, or why it failed (the kernel's error, or the job's).
  absl::StatusOr<Value> value = absl::UnknownError("");
};

namespace internal {

// Collects a batch's results as the follower delivers them.
class BatchCore {
 public:
  explicit BatchCore(size_t tasks) : results_(tasks) {}

  // Called with (results in, tasks) after each new result, under the lock:
  // a waiter sees the last result only once its call has returned. Set
  // before any result arrives; it must be quick.
  using Progress = std::function<void(size_t, size_t)>;
  void SetProgress(Progress progress) { progress_ = std::move(progress); }

  // Records one task's result (the first one for a task wins).
  void Add(size_t index, absl::StatusOr<Value> value);
  // Records consecutive results of a job's tasks: the job's task
  // `first_task + i` is position `positions[first_task + i]` here.
  void AddRun(const std::vector<size_t>& positions, int64_t first_task,
              const std::vector<absl::StatusOr<Value>>& results);
  // A job feeding the tasks at `positions` ended: those without a result
  // get `error` (or, when it is OK, an INTERNAL "no result" error).
  void End(const absl::Status& error, const std::vector<size_t>& positions);
  // Results so far.
  size_t completed();

  size_t size() const { return results_.size(); }
  // Blocks until task `index` has a result or `deadline` passes.
  std::optional<absl::StatusOr<Value>> WaitFor(size_t index,
                                               absl::Time deadline);
  // Blocks until the `n`-th result (0-based, in completion order) is in or
  // `deadline` passes; returns its task index.
  std::optional<size_t> WaitForCompleted(size_t n, absl::Time deadline);
  absl::StatusOr<Value> ResultOf(size_t index);

 private:
  std::mutex mu_;
  std::condition_variable added_;
  std::vector<std::optional<absl::StatusOr<Value>>> results_;  // mu_
  std::vector<size_t> completion_order_;                       // mu_
  Progress progress_;
};

}  // namespace internal

class BatchResults {
 public:
  BatchResults(std::shared_ptr<internal::BatchCore> core,
               std::shared_ptr<internal::FutureCore> job)
      : core_(std::move(core)), job_(std::move(job)) {}

  size_t size() const { return core_->size(); }
  uint64_t job_id() const { return job_->job(); }

  // Every result in task order, blocking until all are in or `timeout`
  // passes (tasks still running then: DEADLINE_EXCEEDED).
  std::vector<absl::StatusOr<Value>> AllInOrder(
      absl::Duration timeout = absl::InfiniteDuration());
  // The next result in task order (like joblib's return_as="generator");
  // OUT_OF_RANGE after the last, DEADLINE_EXCEEDED when `deadline` passes.
  absl::StatusOr<TaskOutcome> NextInOrder(
      absl::Time deadline = absl::InfiniteFuture());
  // The next result to complete (return_as="generator_unordered").
  absl::StatusOr<TaskOutcome> NextCompleted(
      absl::Time deadline = absl::InfiniteFuture());
  // Cancels the batch's job; false when it had already ended.
  bool cancel() { return job_->Cancel(); }
  // Blocks until the job has ended; OK when it succeeded.
  absl::Status Wait(absl::Duration timeout = absl::InfiniteDuration());

 private:
  std::shared_ptr<internal::BatchCore> core_;
  std::shared_ptr<internal::FutureCore> job_;
  size_t next_in_order_ = 0;
  size_t next_completed_ = 0;
};

}  // namespace pfor

#endif  // PFOR_BATCH_H_
