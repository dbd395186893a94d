// Conversions between pfor's C++ vocabulary and its wire (protobuf) form:
// values, parameters, enums, times. Jobs are in wire_job.h, the worker link
// in wire_link.h. Used at the edges of every part; nothing here blocks or
// keeps state, and nothing here needs gRPC (pfor/common/rpc.h holds what
// does).
//
// Decoding never trusts its input: what a peer may get wrong comes back as
// INVALID_ARGUMENT naming the field, never as a crash.
#ifndef PFOR_COMMON_WIRE_H_
#define PFOR_COMMON_WIRE_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "pfor/job.h"
#include "pfor/params.h"
#include "pfor/v1/job.pb.h"
#include "pfor/v1/kernel.pb.h"
#include "pfor/value.h"

namespace pfor {

// Executors: EXECUTOR_KIND_UNSPECIFIED means threads; a number no kind has
// is INVALID_ARGUMENT.
v1::ExecutorKind ToProto(ExecutorKind executor);
absl::StatusOr<ExecutorKind> FromProto(v1::ExecutorKind executor);

// Reductions: REDUCTION_UNSPECIFIED means sum; a number no reduction has is
// INVALID_ARGUMENT.
v1::Reduction ToProto(Reduction reduction);
absl::StatusOr<Reduction> FromProto(v1::Reduction reduction);

// Job states: JOB_STATE_UNSPECIFIED (and unknown numbers) mean queued.
v1::JobState ToProto(JobState state);
JobState FromProto(v1::JobState state);

// The encoders of what streams carry by the thousand write into a message
// (ToProto(x, out)), which may live on an arena (pfor/common/wire_buffer.h);
// the forms that return one are for the rest.
void ToProto(const Value& value, v1::Value& out);
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
