#include "job_result.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pfor::coordinator {
namespace {

using TaskResults = std::vector<TaskResult>;

// Task results the coordinator must rework: exact sums (rounded) and
// values that are not finite (errors).
bool NeedsRework(const TaskResult& result) {
  return result.ok() &&
         (std::holds_alternative<ExactSum>(*result) || HoldsNonFinite(*result));
}

absl::Status NotFinite(const Value& value) {
  return absl::OutOfRangeError(
      absl::StrCat("its value is ", FormatValue(JobResult::Rounded(value)),
                   ", not a finite number"));
}

}  // namespace

Value JobResult::Rounded(const Value& value) {
  if (const auto* sum = std::get_if<ExactSum>(&value)) return sum->Round();
  return value;
}

std::shared_ptr<const ChunkOutput> JobResult::Rounded(
    std::shared_ptr<const ChunkOutput> output) {
  const auto* results = std::get_if<TaskResults>(output.get());
  if (results == nullptr ||
      std::none_of(results->begin(), results->end(), NeedsRework)) {
    return output;
  }
  TaskResults rounded;
  rounded.reserve(results->size());
  for (const TaskResult& result : *results) {
    if (!result.ok()) {
      rounded.push_back(result);
    } else if (Value value = Rounded(*result); HoldsNonFinite(value)) {
      // Errors travel as UNKNOWN with their message, as a kernel's do.
      rounded.emplace_back(absl::UnknownError(
          absl::StrCat("the task's value is ", FormatValue(value),
                       ", not a finite number")));
    } else {
      rounded.emplace_back(std::move(value));
    }
  }
  return std::make_shared<const ChunkOutput>(std::move(rounded));
}

absl::Status JobResult::CheckTasks(int64_t begin, int64_t end,
                                   const ChunkOutput& output) const {
  const auto* results = std::get_if<TaskResults>(&output);
  const size_t count = results == nullptr ? 0 : results->size();
  if (results == nullptr || static_cast<int64_t>(count) != end - begin ||
      begin < 0 || end > tasks_) {
    return absl::InvalidArgumentError(absl::StrCat("the worker sent ", count,
                                                   " task results for tasks [",
                                                   begin, ", ", end, ")"));
  }
  return absl::OkStatus();
}

absl::Status JobResult::Add(int64_t begin, int64_t end,
                            const ChunkOutput& output) {
  if (tasks_ > 0) {
    return AddShared(begin, end, std::make_shared<const ChunkOutput>(output))
        .status();
  }
  const auto* value = std::get_if<Value>(&output);
  if (value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the worker sent task results for chunk [", begin, ", ",
                     end, ") of a job that is not a batch"));
  }
  if (HoldsNonFinite(*value)) return NotFinite(*value);
  if (reduction_ == Reduction::kCollect) {
    // Kept apart, each chunk's value is rounded on its own.
    if (!std::isfinite(ToDouble(*value))) return NotFinite(*value);
    if (static_cast<int64_t>(collected_.size()) >= kMaxCollected) {
      return absl::ResourceExhaustedError(
          absl::StrCat("collect keeps at most ", kMaxCollected,
                       " chunk values; use larger chunks (--chunks count:N) or "
                       "another reduction"));
    }
    collected_.emplace(begin, Collected{end, *value});
    return absl::OkStatus();
  }
  if (!value_) {
    value_ = *value;
    return absl::OkStatus();
  }
  // A running exact sum grows in place: Combine would copy it per chunk.
  auto* sum = std::get_if<ExactSum>(&*value_);
  if (sum != nullptr &&
      (reduction_ == Reduction::kSum || reduction_ == Reduction::kCount)) {
    if (const auto* i = std::get_if<int64_t>(value)) {
      sum->AddInteger(*i);
    } else if (const auto* d = std::get_if<double>(value)) {
      sum->Add(*d);
    } else {
      sum->Add(std::get<ExactSum>(*value));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<Value> combined = Combine(reduction_, *value_, *value);
  if (!combined.ok()) return combined.status();
  value_ = *std::move(combined);
  return absl::OkStatus();
}

absl::StatusOr<TaskRun> JobResult::AddShared(
    int64_t begin, int64_t end, std::shared_ptr<const ChunkOutput> output) {
  if (tasks_ == 0) {
    if (absl::Status status = Add(begin, end, *output); !status.ok()) {
      return status;
    }
    return TaskRun{};
  }
  if (absl::Status status = CheckTasks(begin, end, *output); !status.ok()) {
    return status;
  }
  std::shared_ptr<const ChunkOutput> rounded = Rounded(std::move(output));
  const TaskResults* results = &std::get<TaskResults>(*rounded);
  TaskRun run{begin, std::shared_ptr<const TaskResults>(rounded, results)};
  runs_.push_back(run);
  return run;
}

absl::Status JobResult::CheckFinal() const {
  if (!value_) return absl::OkStatus();
  const Value rounded = Rounded(*value_);
  if (!HoldsNonFinite(rounded)) return absl::OkStatus();
  return absl::OutOfRangeError(absl::StrCat(
      "the job's ", ReductionName(reduction_), " is ", FormatValue(rounded),
      ": the finite values of its chunks add up beyond the largest double"));
}

std::optional<Value> JobResult::value() const {
  if (!value_) return std::nullopt;
  return Rounded(*value_);
}

std::vector<ChunkValue> JobResult::chunk_values() const {
  std::vector<ChunkValue> out;
  out.reserve(collected_.size());
  for (const auto& [begin, collected] : collected_) {
    out.push_back({begin, collected.end, Rounded(collected.value)});
  }
  return out;
}

std::vector<TaskResult> JobResult::task_results() const {
  if (tasks_ == 0) return {};
  std::vector<TaskResult> out(static_cast<size_t>(tasks_));
  for (const TaskRun& run : runs_) {
    std::copy(run.results->begin(), run.results->end(),
              out.begin() + run.first_task);
  }
  return out;
}

}  // namespace pfor::coordinator
