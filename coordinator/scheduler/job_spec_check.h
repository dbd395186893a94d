// What a job spec must be before the scheduler takes it: the checks that
// need nothing but the spec and, for parameters, the kernel's declaration.
#ifndef PFOR_COORDINATOR_JOB_SPEC_CHECK_H_
#define PFOR_COORDINATOR_JOB_SPEC_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pfor/params.h"
#include "pfor/v1/job.pb.h"
#include "pfor/v1/kernel.pb.h"

namespace pfor::coordinator {

// INVALID_ARGUMENT naming the bad field and the fix: the range, names,
// reduction, executor, command, a batch's tasks, retries, parameters' sizes.
absl::Status ValidateJobSpec(const v1::JobSpec& spec);

// The job's parameters checked against the kernel's declaration, defaults
// filled in. For a batch, each task's parameters over the job's are checked,
// and the job keeps its own as given (workers overlay each task's).
absl::StatusOr<Params> CheckParams(const v1::JobSpec& spec,
                                   const v1::KernelInfo& kernel);

// A range as messages show it: [begin, end).
std::string RangeText(int64_t begin, int64_t end);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOB_SPEC_CHECK_H_
