// The worker link between its C++ form (pfor/common/link.h) and the wire
// (proto/pfor/v1/worker_link.proto, helper.proto).
//
// A worker's results are decoded forgivingly: a malformed chunk value
// becomes a failed result with the reason, so one bad value fails one
// attempt, never the link.
#ifndef PFOR_COMMON_WIRE_LINK_H_
#define PFOR_COMMON_WIRE_LINK_H_

#include "absl/status/statusor.h"
#include "pfor/common/link.h"
#include "pfor/v1/job.pb.h"
#include "pfor/v1/worker_link.pb.h"

namespace pfor {

v1::AttemptRef ToProto(const AttemptRef& attempt);
AttemptRef FromProto(const v1::AttemptRef& attempt);

// A chunk's output as a v1::Value (a batch's as TaskResults numbered from
// `first_task`), and back; INVALID_ARGUMENT for a malformed value, a task
// result numbered otherwise or with neither value nor error. Exact sums stay
// exact (the coordinator combines and journals them). A task's error travels
// as its text and comes back as UNKNOWN.
void ToProto(const ChunkOutput& output, int64_t first_task, v1::Value& out);
v1::Value ToProto(const ChunkOutput& output, int64_t first_task);
absl::StatusOr<ChunkOutput> ChunkOutputFromProto(const v1::Value& value,
                                                 int64_t first_task);

v1::JobDefinition ToProto(const JobDefinition& definition);
absl::StatusOr<JobDefinition> FromProto(const v1::JobDefinition& definition);

// A failed attempt's error travels as its text (UNKNOWN on decoding); a
// batch chunk's task results are numbered from its begin.
void ToProto(const WorkerMessage& message, v1::WorkerMessage& out);
v1::WorkerMessage ToProto(const WorkerMessage& message);
// INVALID_ARGUMENT only for a malformed hello (a kernel's parameter list,
// naming the kernel). Slots and credits of unknown executors are ignored,
// and entries of one executor add up (saturating). A result whose value is
// malformed becomes a failed result ("worker sent a malformed value: ...").
absl::StatusOr<WorkerMessage> FromProto(const v1::WorkerMessage& message);

// A batch chunk carries its own tasks, (*tasks)[first_task ...], copied.
void ToProto(const CoordinatorMessage& message, v1::CoordinatorMessage& out);
v1::CoordinatorMessage ToProto(const CoordinatorMessage& message);
// INVALID_ARGUMENT for a definition or a task the worker cannot read. Each
// definition is decoded into its own shared JobDefinition; a batch chunk
// gets a vector of its tasks alone (first_task 0).
absl::StatusOr<CoordinatorMessage> FromProto(
    const v1::CoordinatorMessage& message);

}  // namespace pfor

#endif  // PFOR_COMMON_WIRE_LINK_H_
