// Conversions between pfor's C++ types and their wire (protobuf) form. Used
// at the edges of every part; nothing here blocks or keeps state, and
// nothing here needs gRPC (pfor/common/rpc.h holds what does).
#ifndef PFOR_COMMON_WIRE_H_
#define PFOR_COMMON_WIRE_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "pfor/params.h"
#include "pfor/v1/job.pb.h"
#include "pfor/v1/kernel.pb.h"
#include "pfor/value.h"

namespace pfor {

// Executors, numbered for per-executor arrays: threads 0, processes 1,
// command 2. EXECUTOR_KIND_UNSPECIFIED means threads.
inline constexpr int kExecutorKinds = 3;
int ExecutorIndex(v1::ExecutorKind kind);
v1::ExecutorKind ExecutorAt(int index);
// "threads", "processes" or "command".
const char* ExecutorName(v1::ExecutorKind kind);

// Reductions: REDUCTION_UNSPECIFIED means sum.
Reduction FromProto(v1::Reduction reduction);
v1::Reduction ToProto(Reduction reduction);

v1::Value ToProto(const Value& value);
// INVALID_ARGUMENT for an empty value, a chunk list, or a malformed exact sum.
absl::StatusOr<Value> FromProto(const v1::Value& value);

v1::ParamValue ToProto(const ParamValue& value);
// INVALID_ARGUMENT for an empty value.
absl::StatusOr<ParamValue> FromProto(const v1::ParamValue& value);

google::protobuf::RepeatedPtrField<v1::ParamSpec> ToProto(
    const std::vector<ParamSpec>& specs);
absl::StatusOr<std::vector<ParamSpec>> FromProto(
    const google::protobuf::RepeatedPtrField<v1::ParamSpec>& specs);

absl::StatusOr<std::map<std::string, ParamValue>> FromProto(
    const google::protobuf::Map<std::string, v1::ParamValue>& params);
void ToProto(const std::map<std::string, ParamValue>& params,
             google::protobuf::Map<std::string, v1::ParamValue>& out);

// Durations and times beyond what the protobuf well-known types allow
// (+-10,000 years; years 1 to 9999), infinite ones included, are clamped to
// the nearest representable value. Sub-nanosecond parts are truncated.
google::protobuf::Duration ToProto(absl::Duration duration);
absl::Duration FromProto(const google::protobuf::Duration& duration);
google::protobuf::Timestamp ToProto(absl::Time time);
absl::Time FromProto(const google::protobuf::Timestamp& time);

}  // namespace pfor

#endif  // PFOR_COMMON_WIRE_H_
