// Jobs, their status and their events, workers and kernels, between their
// C++ form (pfor/job.h, pfor/cluster.h, pfor/common/session.h) and the wire
// (proto/pfor/v1/job.proto, kernel.proto, coordinator.proto).
//
// Decoding checks only what the wire can get wrong (unknown enum numbers,
// malformed values and parameters) and says so with INVALID_ARGUMENT naming
// the field; whether a job makes sense is the scheduler's to check.
#ifndef PFOR_COMMON_WIRE_JOB_H_
#define PFOR_COMMON_WIRE_JOB_H_

#include "absl/status/statusor.h"
#include "pfor/cluster.h"
#include "pfor/common/session.h"
#include "pfor/job.h"
#include "pfor/v1/coordinator.pb.h"
#include "pfor/v1/job.pb.h"
#include "pfor/v1/kernel.pb.h"

namespace pfor {

// Command::Output and CommandSpec::Output share their numbers; a number no
// output has is INVALID_ARGUMENT.
v1::CommandSpec ToProto(const Command& command);
absl::StatusOr<Command> FromProto(const v1::CommandSpec& command);

void ToProto(const Task& task, v1::Task& out);
v1::Task ToProto(const Task& task);
absl::StatusOr<Task> FromProto(const v1::Task& task);

// An infinite chunk timeout travels as unset. On decoding, the unspecified
// executor is threads, the unspecified reduction sum, an auto policy
// without target (or no policy) aims for 100 ms, and an unset chunk timeout
// is infinite. INVALID_ARGUMENT ("job spec: ...") for unknown enum numbers
// and empty parameter values, naming the field, task or parameter.
void ToProto(const JobSpec& spec, v1::JobSpec& out);
v1::JobSpec ToProto(const JobSpec& spec);
absl::StatusOr<JobSpec> FromProto(const v1::JobSpec& spec);

v1::JobProgress ToProto(const JobProgress& progress);
JobProgress FromProto(const v1::JobProgress& progress);

// A task's result as clients see it: its value (exact sums rounded to a
// double), or its error's message (UNKNOWN on decoding; a malformed value
// becomes that task's INVALID_ARGUMENT).
void ToProto(int64_t index, const TaskResult& result, v1::TaskResult& out);
v1::TaskResult ToProto(int64_t index, const TaskResult& result);
TaskResult FromProto(const v1::TaskResult& result);

// Float sums travel rounded (clients see doubles). The spec is left out
// when `status.spec` is null, and times at InfinitePast (never) are left
// unset. Task results are numbered from `first_task`. INVALID_ARGUMENT
// names the job for a malformed spec or result, or task results out of task
// order.
v1::Job ToProto(const JobStatus& status);
// The same without a batch's tasks in the spec: what a client gets back
// after a submit, in listings and in events (it has the tasks, and they may
// be a million).
void ToProtoWithoutTasks(const JobStatus& status, v1::Job& out);
v1::Job ToProtoWithoutTasks(const JobStatus& status);
absl::StatusOr<JobStatus> FromProto(const v1::Job& job);

// Task runs travel as numbered TaskResults (rounded, as above); decoding
// makes one run of each stretch of consecutive numbers.
void ToProto(const JobEvent& event, v1::JobEvent& out);
v1::JobEvent ToProto(const JobEvent& event);
absl::StatusOr<JobEvent> FromProto(const v1::JobEvent& event);

v1::KernelInfo ToProto(const KernelInfo& kernel);
// INVALID_ARGUMENT naming the kernel for a malformed parameter list.
// Executors this build does not know are left out (a newer worker's).
absl::StatusOr<KernelInfo> FromProto(const v1::KernelInfo& kernel);

v1::WorkerInfo ToProto(const WorkerStatus& worker);
WorkerStatus FromProto(const v1::WorkerInfo& worker);

}  // namespace pfor

#endif  // PFOR_COMMON_WIRE_JOB_H_
