#include "pfor/batch.h"

#include "absl/strings/str_cat.h"

namespace pfor {
namespace internal {

void BatchCore::Add(size_t index, absl::StatusOr<Value> value) {
  {
    std::lock_guard lock(mu_);
    if (index >= results_.size() || results_[index].has_value()) return;
    results_[index] = std::move(value);
    completion_order_.push_back(index);
    if (progress_) progress_(completion_order_.size(), results_.size());
  }
  added_.notify_all();
}

void BatchCore::AddRun(const std::vector<size_t>& positions, int64_t first_task,
                       const std::vector<absl::StatusOr<Value>>& results) {
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < results.size(); ++i) {
      const size_t task = static_cast<size_t>(first_task) + i;
      if (task >= positions.size()) break;
      const size_t index = positions[task];
      if (index >= results_.size() || results_[index].has_value()) continue;
      results_[index] = results[i];
      completion_order_.push_back(index);
    }
    if (progress_) progress_(completion_order_.size(), results_.size());
  }
  added_.notify_all();
}

void BatchCore::End(const absl::Status& error,
                    const std::vector<size_t>& positions) {
  {
    std::lock_guard lock(mu_);
    for (size_t i : positions) {
      if (i >= results_.size() || results_[i].has_value()) continue;
      results_[i] = error.ok() ? absl::InternalError(absl::StrCat(
                                     "task ", i, " ended without a result"))
                               : error;
      completion_order_.push_back(i);
      if (progress_) progress_(completion_order_.size(), results_.size());
    }
  }
  added_.notify_all();
}

std::optional<absl::StatusOr<Value>> BatchCore::WaitFor(size_t index,
                                                        absl::Time deadline) {
  std::unique_lock lock(mu_);
  auto ready = [&] { return results_[index].has_value(); };
  if (deadline == absl::InfiniteFuture()) {
    added_.wait(lock, ready);
  } else if (!added_.wait_until(lock, absl::ToChronoTime(deadline), ready)) {
    return std::nullopt;
  }
  return *results_[index];
}

std::optional<size_t> BatchCore::WaitForCompleted(size_t n,
                                                  absl::Time deadline) {
  std::unique_lock lock(mu_);
  auto ready = [&] { return completion_order_.size() > n; };
  if (deadline == absl::InfiniteFuture()) {
    added_.wait(lock, ready);
  } else if (!added_.wait_until(lock, absl::ToChronoTime(deadline), ready)) {
    return std::nullopt;
  }
  return completion_order_[n];
}

size_t BatchCore::completed() {
  std::lock_guard lock(mu_);
  return completion_order_.size();
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
  std::vector<absl::StatusOr<Value>> out;
  for (size_t i = 0; i < core_->size(); ++i) {
    std::optional<absl::StatusOr<Value>> value = core_->WaitFor(i, deadline);
    out.push_back(value.has_value() ? *std::move(value)
                                    : absl::DeadlineExceededError(absl::StrCat(
                                          "task ", i, " of job ", job_id(),
                                          " had not finished in time")));
  }
  return out;
}

absl::StatusOr<TaskOutcome> BatchResults::NextInOrder(absl::Time deadline) {
  if (next_in_order_ == core_->size()) {
    return absl::OutOfRangeError("every result was handed out");
  }
  std::optional<absl::StatusOr<Value>> value =
      core_->WaitFor(next_in_order_, deadline);
  if (!value.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "task ", next_in_order_, " of job ", job_id(), " is not done yet"));
  }
  return TaskOutcome{next_in_order_++, *std::move(value)};
}

absl::StatusOr<TaskOutcome> BatchResults::NextCompleted(absl::Time deadline) {
  if (next_completed_ == core_->size()) {
    return absl::OutOfRangeError("every result was handed out");
  }
  std::optional<size_t> index =
      core_->WaitForCompleted(next_completed_, deadline);
  if (!index.has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("no more task of job ", job_id(), " finished in time"));
  }
  ++next_completed_;
  return TaskOutcome{*index, core_->ResultOf(*index)};
}

absl::Status BatchResults::Wait(absl::Duration timeout) {
  if (!job_->Wait(timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("job ", job_id(), " did not finish in time"));
  }
  return job_->result().status();
}

}  // namespace pfor
