#include "pfor/batch.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pfor/common/blocking.h"

namespace pfor {
namespace internal {
namespace {

// A task's error names the caller's position: the worker numbers the task
// within its job ("task 4 over [..) failed (chunk of tasks ...)"), which
// is another number when the call's inputs went to several jobs (a
// Parallel of several kernels) or some never went (inputs refused here).
absl::Status AtPosition(const absl::Status& error, size_t task,
                        size_t position) {
  const std::string prefix = absl::StrCat("task ", task, " ");
  absl::string_view message = error.message();
  if (absl::StartsWith(message, prefix)) {
    if (task == position) return error;
    message.remove_prefix(prefix.size());
    return absl::Status(error.code(),
                        absl::StrCat("task ", position, " ", message));
  }
  return absl::Status(error.code(),
                      absl::StrCat("task ", position, ": ", message));
}

}  // namespace

void BatchCore::SetOnFailure(std::function<void()> on_failure) {
  {
    std::lock_guard lock(mu_);
    on_failure_ = std::move(on_failure);
  }
  AfterAdding();
}

bool BatchCore::SetLocked(size_t index, absl::StatusOr<Value> value) {
  if (index >= results_.size() || results_[index].has_value()) return false;
  const bool failed = !value.ok();
  results_[index] = std::move(value);
  completion_order_.push_back(index);
  if (failed && !first_failure_.has_value()) {
    first_failure_ = index;
    if (fail_fast_) FailFastLocked(index);
  }
  return true;
}

void BatchCore::FailFastLocked(size_t failed) {
  const absl::Status cancelled = absl::CancelledError(absl::StrCat(
      "cancelled: task ", failed,
      " failed first, and the call stops at its first error (fail_fast)"));
  for (size_t i = 0; i < results_.size(); ++i) {
    if (results_[i].has_value()) continue;
    results_[i] = cancelled;
    completion_order_.push_back(i);
  }
}

void BatchCore::AfterAdding() {
  std::function<void()> on_failure;
  {
    std::lock_guard lock(mu_);
    if (failure_reported_ || !first_failure_.has_value() || !on_failure_) {
      return;
    }
    failure_reported_ = true;
    on_failure = on_failure_;
  }
  on_failure();
}

void BatchCore::Add(size_t index, absl::StatusOr<Value> value) {
  {
    std::lock_guard lock(mu_);
    if (!SetLocked(index, std::move(value))) return;
    if (progress_) progress_(completion_order_.size(), results_.size());
  }
  added_.notify_all();
  AfterAdding();
}

void BatchCore::AddRun(const std::vector<size_t>& positions, int64_t first_task,
                       const std::vector<absl::StatusOr<Value>>& results) {
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < results.size(); ++i) {
      const size_t task = static_cast<size_t>(first_task) + i;
      if (task >= positions.size()) break;
      const size_t index = positions[task];
      if (results[i].ok()) {
        SetLocked(index, results[i]);
      } else {
        SetLocked(index, AtPosition(results[i].status(), task, index));
      }
    }
    if (progress_) progress_(completion_order_.size(), results_.size());
  }
  added_.notify_all();
  AfterAdding();
}

void BatchCore::End(const absl::Status& error,
                    const std::vector<size_t>& positions) {
  {
    std::lock_guard lock(mu_);
    for (size_t i : positions) {
      if (i >= results_.size() || results_[i].has_value()) continue;
      SetLocked(i, error.ok() ? absl::InternalError(absl::StrCat(
                                    "task ", i, " ended without a result"))
                              : error);
      if (progress_) progress_(completion_order_.size(), results_.size());
    }
  }
  added_.notify_all();
  AfterAdding();
}

absl::Status BatchCore::WaitFor(size_t index, absl::Time deadline) {
  auto ready = [&] { return results_[index].has_value(); };
  const auto late = [&] {
    return absl::DeadlineExceededError(
        absl::StrCat("task ", index, " had not finished in time"));
  };
  {
    std::lock_guard lock(mu_);
    if (ready()) return absl::OkStatus();
  }
  if (deadline <= absl::Now()) return late();
  if (OnCallbackThread()) {
    return WaitOnCallbackThread(absl::StrCat("the result of task ", index));
  }
  // Taken without the lock: telling a slot pool may deliver results, and
  // so call AddRun, on this thread.
  BlockingScope blocking;
  std::unique_lock lock(mu_);
  if (deadline == absl::InfiniteFuture()) {
    added_.wait(lock, ready);
    return absl::OkStatus();
  }
  if (added_.wait_until(lock, absl::ToChronoTime(deadline), ready)) {
    return absl::OkStatus();
  }
  return late();
}

absl::Status BatchCore::WaitForAll(absl::Time deadline) {
  auto ready = [&] { return completion_order_.size() == results_.size(); };
  {
    std::lock_guard lock(mu_);
    if (ready()) return absl::OkStatus();
  }
  if (deadline <= absl::Now()) {
    return absl::DeadlineExceededError("not every task finished in time");
  }
  if (OnCallbackThread()) return WaitOnCallbackThread("every result");
  BlockingScope blocking;  // without the lock (see WaitFor)
  std::unique_lock lock(mu_);
  if (deadline == absl::InfiniteFuture()) {
    added_.wait(lock, ready);
  } else if (!added_.wait_until(lock, absl::ToChronoTime(deadline), ready)) {
    return absl::DeadlineExceededError("not every task finished in time");
  }
  return absl::OkStatus();
}

std::vector<std::optional<absl::StatusOr<Value>>> BatchCore::Snapshot() {
  std::lock_guard lock(mu_);
  return results_;
}

absl::StatusOr<size_t> BatchCore::WaitForCompleted(size_t n,
                                                   absl::Time deadline) {
  auto ready = [&] { return completion_order_.size() > n; };
  {
    std::lock_guard lock(mu_);
    if (ready()) return completion_order_[n];
  }
  if (deadline <= absl::Now()) {
    return absl::DeadlineExceededError("no more task finished in time");
  }
  if (OnCallbackThread()) {
    return WaitOnCallbackThread("the next result of a batch");
  }
  BlockingScope blocking;  // without the lock (see WaitFor)
  std::unique_lock lock(mu_);
  if (deadline == absl::InfiniteFuture()) {
    added_.wait(lock, ready);
  } else if (!added_.wait_until(lock, absl::ToChronoTime(deadline), ready)) {
    return absl::DeadlineExceededError("no more task finished in time");
  }
  return completion_order_[n];
}

size_t BatchCore::completed() {
  std::lock_guard lock(mu_);
  return completion_order_.size();
}

std::optional<size_t> BatchCore::first_failure() {
  std::lock_guard lock(mu_);
  return first_failure_;
}

absl::StatusOr<Value> BatchCore::ResultOf(size_t index) {
  std::lock_guard lock(mu_);
  return *results_[index];
}

}  // namespace internal

std::vector<absl::StatusOr<Value>> BatchResults::AllInOrder(
    absl::Duration timeout) {
  const absl::Time deadline = timeout == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : absl::Now() + timeout;
  const absl::Status waited = core_->WaitForAll(deadline);
  std::vector<absl::StatusOr<Value>> out;
  out.reserve(core_->size());
  std::vector<std::optional<absl::StatusOr<Value>>> results = core_->Snapshot();
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].has_value()) {
      out.push_back(*std::move(results[i]));
    } else if (waited.code() == absl::StatusCode::kDeadlineExceeded) {
      out.push_back(absl::DeadlineExceededError(absl::StrCat(
          "task ", i, " of job ", job_id(), " had not finished in time")));
    } else {
      out.push_back(waited);
    }
  }
  return out;
}

absl::StatusOr<TaskOutcome> BatchResults::NextInOrder(absl::Time deadline) {
  if (next_in_order_ == core_->size()) {
    return absl::OutOfRangeError("every result was handed out");
  }
  if (absl::Status waited = core_->WaitFor(next_in_order_, deadline);
      !waited.ok()) {
    if (waited.code() != absl::StatusCode::kDeadlineExceeded) return waited;
    return absl::DeadlineExceededError(absl::StrCat(
        "task ", next_in_order_, " of job ", job_id(), " is not done yet"));
  }
  const size_t index = next_in_order_++;
  return TaskOutcome{index, core_->ResultOf(index)};
}

absl::StatusOr<TaskOutcome> BatchResults::NextCompleted(absl::Time deadline) {
  if (next_completed_ == core_->size()) {
    return absl::OutOfRangeError("every result was handed out");
  }
  absl::StatusOr<size_t> index =
      core_->WaitForCompleted(next_completed_, deadline);
  if (!index.ok()) {
    if (index.status().code() != absl::StatusCode::kDeadlineExceeded) {
      return index.status();
    }
    return absl::DeadlineExceededError(
        absl::StrCat("no more task of job ", job_id(), " finished in time"));
  }
  ++next_completed_;
  return TaskOutcome{*index, core_->ResultOf(*index)};
}

absl::Status BatchResults::Wait(absl::Duration timeout) {
  if (absl::Status waited = job_->Wait(timeout); !waited.ok()) return waited;
  return job_->result().status();
}

}  // namespace pfor
