#include "job_result.h"

#include "absl/strings/str_cat.h"
#include "wire.h"

namespace pfor::coordinator {
namespace {

// Clients get plain numbers: exact sums are rounded once, here.
v1::Value Rounded(const Value& value) {
  if (const auto* sum = std::get_if<ExactSum>(&value)) {
    v1::Value out;
    out.set_float_value(sum->Round());
    return out;
  }
  return pfor::ToProto(value);
}

}  // namespace

absl::Status JobResult::Add(int64_t begin, int64_t end, const Value& value) {
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
      *chunk->mutable_value() = Rounded(collected.value);
    }
    return out;
  }
  return value_ ? Rounded(*value_) : v1::Value();
}

}  // namespace pfor::coordinator
