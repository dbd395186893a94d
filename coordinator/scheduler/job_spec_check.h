// What a job spec must be before the scheduler takes it: the checks that
// need nothing but the spec and, for parameters, the kernel's declaration.
// Pure functions; thread-safe.
#ifndef PFOR_COORDINATOR_JOB_SPEC_CHECK_H_
#define PFOR_COORDINATOR_JOB_SPEC_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chunk_sizer.h"
#include "pfor/cluster.h"
#include "pfor/job.h"
#include "pfor/params.h"

namespace pfor::coordinator {

// INVALID_ARGUMENT naming the bad field and the fix: the range, names,
// reduction, executor, command, a batch's tasks, retries, max_parallel,
// parameters' counts, names and sizes. The chunk policy is ChunkSizer's to
// check.
absl::Status ValidateJobSpec(const JobSpec& spec);

// ValidateJobSpec, then the chunk policy against the range (a collect job
// must not plan more chunks than JobResult keeps): the job's ChunkSizer.
absl::StatusOr<ChunkSizer> CheckJob(const JobSpec& spec);

// The job's parameters checked against the kernel's declaration, defaults
// filled in. For a batch, each task's parameters over the job's are checked
// (INVALID_ARGUMENT "task N: ..."), and the job keeps its own as given
// (workers overlay each task's).
absl::StatusOr<Params> CheckParams(const JobSpec& spec,
                                   const KernelInfo& kernel);

// A range as messages show it: [begin, end).
std::string RangeText(int64_t begin, int64_t end);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOB_SPEC_CHECK_H_
