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

// Collects the results of one call (a map, a Parallel, a SubmitBatch) as
// the follower delivers them, from one batch job or several (one per
// kernel): each job's task i goes to a position of the call's own.
class BatchCore {
 public:
  // With `fail_fast`, the first error ends the call: every position still
  // without a result becomes CANCELLED at once (SetOnFailure stops the
  // jobs).
  explicit BatchCore(size_t tasks, bool fail_fast = false)
      : results_(tasks), fail_fast_(fail_fast) {}

  // Called with (results in, tasks) after each new result, under the lock:
  // a waiter sees the last result only once its call has returned. Set
  // before any result arrives; it must be quick.
  using Progress = std::function<void(size_t, size_t)>;
  void SetProgress(Progress progress) { progress_ = std::move(progress); }
  // Runs `on_failure` once, when the first error is recorded (at once when
  // it already was), on the thread that records it and without the lock.
  // Fail-fast calls set it to stop their jobs; it must not block.
  void SetOnFailure(std::function<void()> on_failure);

  // Records one position's result (the first one for a position wins).
  void Add(size_t index, absl::StatusOr<Value> value);
  // Records consecutive results of a job's tasks: the job's task
  // `first_task + i` is position `positions[first_task + i]` here. An
  // error is worded with the position ("task 9 over [0, 10) failed ..."),
  // not the job's own task number.
  void AddRun(const std::vector<size_t>& positions, int64_t first_task,
              const std::vector<absl::StatusOr<Value>>& results);
  // A job feeding `positions` ended: those without a result get `error`
  // (or, when it is OK, an INTERNAL "no result" error).
  void End(const absl::Status& error, const std::vector<size_t>& positions);
  // Results so far.
  size_t completed();
  // The position of the first error, once there is one.
  std::optional<size_t> first_failure();

  size_t size() const { return results_.size(); }
  // Blocks until position `index` has a result (ResultOf gives it): OK;
  // DEADLINE_EXCEEDED when `deadline` passes first; FAILED_PRECONDITION,
  // at once, on the client's callback thread.
  absl::Status WaitFor(size_t index, absl::Time deadline);
  // Blocks until every position has a result; errors as for WaitFor.
  absl::Status WaitForAll(absl::Time deadline);
  // Every position's result so far.
  std::vector<std::optional<absl::StatusOr<Value>>> Snapshot();
  // Blocks until the `n`-th result (0-based, in completion order) is in;
  // returns its position. Errors as for WaitFor.
  absl::StatusOr<size_t> WaitForCompleted(size_t n, absl::Time deadline);
  // The result of a position that has one.
  absl::StatusOr<Value> ResultOf(size_t index);

 private:
  // Records `value` at `index` if it has none; true when recorded.
  bool SetLocked(size_t index, absl::StatusOr<Value> value);
  // After the first error with fail_fast: every other position is
  // cancelled.
  void FailFastLocked(size_t failed);
  // Calls the failure hook if a failure was recorded since.
  void AfterAdding();

  std::mutex mu_;
  std::condition_variable added_;
  std::vector<std::optional<absl::StatusOr<Value>>> results_;  // mu_
  std::vector<size_t> completion_order_;                       // mu_
  const bool fail_fast_;
  std::optional<size_t> first_failure_;  // guarded by mu_
  std::function<void()> on_failure_;     // guarded by mu_
  bool failure_reported_ = false;        // guarded by mu_
  Progress progress_;
};

// The value of a result as a T, named by its position for errors.
template <typename T>
absl::StatusOr<T> TaskValueAs(size_t index,
                              const absl::StatusOr<Value>& value) {
  if (!value.ok()) return value.status();
  return ValueAs<T>(*value, absl::StrCat("task ", index));
}

}  // namespace internal

class BatchResults {
 public:
  BatchResults(std::shared_ptr<internal::BatchCore> core,
               std::shared_ptr<internal::FutureCore> job)
      : core_(std::move(core)), job_(std::move(job)) {}

  size_t size() const { return core_->size(); }
  uint64_t job_id() const { return job_->job(); }

  // Every result in task order, blocking until all are in or `timeout`
  // passes (tasks not done then: DEADLINE_EXCEEDED; the job goes on).
  std::vector<absl::StatusOr<Value>> AllInOrder(
      absl::Duration timeout = absl::InfiniteDuration());
  // The next result in task order (like joblib's return_as="generator");
  // OUT_OF_RANGE after the last, DEADLINE_EXCEEDED when `deadline` passes
  // (the same result comes on the next call).
  absl::StatusOr<TaskOutcome> NextInOrder(
      absl::Time deadline = absl::InfiniteFuture());
  // The next result to complete (return_as="generator_unordered").
  absl::StatusOr<TaskOutcome> NextCompleted(
      absl::Time deadline = absl::InfiniteFuture());
  // Cancels the batch's job if none of its chunks has started; false when
  // it runs or has ended (see Future::cancel).
  bool cancel() { return job_->Cancel(/*running_too=*/false); }
  // Stops the batch's job, started or not: tasks without a result become
  // CANCELLED. False when it had already ended.
  bool terminate() { return job_->Cancel(/*running_too=*/true); }
  // Blocks until the job has ended; OK when it succeeded.
  absl::Status Wait(absl::Duration timeout = absl::InfiniteDuration());

  // Where the results are kept (for Executor::map).
  const std::shared_ptr<internal::BatchCore>& core() const { return core_; }

 private:
  std::shared_ptr<internal::BatchCore> core_;
  std::shared_ptr<internal::FutureCore> job_;
  size_t next_in_order_ = 0;
  size_t next_completed_ = 0;
};

}  // namespace pfor

#endif  // PFOR_BATCH_H_
