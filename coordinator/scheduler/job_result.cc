#include "job_result.h"

#include "absl/strings/str_cat.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

// Clients get plain numbers: exact sums are rounded once, here.
v1::Value RoundedValue(const Value& value) {
  if (const auto* sum = std::get_if<ExactSum>(&value)) {
    v1::Value out;
    out.set_float_value(sum->Round());
    return out;
  }
  return pfor::ToProto(value);
}

}  // namespace

v1::Value JobResult::Rounded(const v1::Value& value) {
  if (value.has_exact_sum()) {
    absl::StatusOr<Value> exact = FromProto(value);
    if (exact.ok()) return RoundedValue(*exact);
  }
  if (!value.has_tasks()) return value;
  v1::Value out = value;
  for (v1::TaskResult& result : *out.mutable_tasks()->mutable_results()) {
    if (result.has_value()) *result.mutable_value() = Rounded(result.value());
  }
  return out;
}

absl::Status JobResult::Add(int64_t begin, int64_t end, const v1::Value& wire) {
  if (!tasks_.empty()) {
    const auto& results = wire.tasks().results();
    if (!wire.has_tasks() || results.size() != end - begin) {
      return absl::InvalidArgumentError(
          absl::StrCat("the worker sent ", results.size(),
                       " task results for tasks [", begin, ", ", end, ")"));
    }
    for (int i = 0; i < results.size(); ++i) {
      if (results[i].index() != begin + i) {
        return absl::InvalidArgumentError("task results out of order");
      }
      tasks_[begin + i] = results[i];
    }
    return absl::OkStatus();
  }
  absl::StatusOr<Value> converted = FromProto(wire);
  if (!converted.ok()) return converted.status();
  const Value& value = *converted;
  if (reduction_ == Reduction::kCollect) {
    if (static_cast<int64_t>(collected_.size()) >= kMaxCollected) {
      return absl::ResourceExhaustedError(
          absl::StrCat("collect keeps at most ", kMaxCollected,
                       " chunk values; use larger chunks (--chunks count:N) or "
                       "another reduction"));
    }
    collected_.emplace(begin, Collected{end, value});
    return absl::OkStatus();
  }
  if (!value_) {
    value_ = value;
    return absl::OkStatus();
  }
  absl::StatusOr<Value> combined = Combine(reduction_, *value_, value);
  if (!combined.ok()) return combined.status();
  value_ = *std::move(combined);
  return absl::OkStatus();
}

v1::Value JobResult::ToProto() const {
  if (reduction_ == Reduction::kCollect) {
    v1::Value out;
    v1::ChunkValues* chunks = out.mutable_chunks();
    for (const auto& [begin, collected] : collected_) {
      v1::ChunkValue* chunk = chunks->add_values();
      chunk->set_begin(begin);
      chunk->set_end(collected.end);
      *chunk->mutable_value() = RoundedValue(collected.value);
    }
    return out;
  }
  if (!tasks_.empty()) {
    v1::Value out;
    for (const v1::TaskResult& result : tasks_) {
      v1::TaskResult* rounded = out.mutable_tasks()->add_results();
      *rounded = result;
      if (result.has_value())
        *rounded->mutable_value() = Rounded(result.value());
    }
    return out;
  }
  return value_ ? RoundedValue(*value_) : v1::Value();
}

}  // namespace pfor::coordinator
