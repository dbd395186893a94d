// Calling a kernel: the one place where exceptions from user code are caught.
// Used by the threads executor and by the helper processes.
#ifndef PFOR_WORKER_KERNEL_CALL_H_
#define PFOR_WORKER_KERNEL_CALL_H_

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "pfor/common/link.h"
#include "pfor/kernel.h"
#include "slot_pool.h"

namespace pfor::worker {

// What the chunks of the job `definition` share: its kernel found in
// `kernels` (nullptr when missing) and the job's parameters checked once
// against this kernel's declaration (see JobContext::params). `link` is the
// engine's link count. Never fails: what cannot run fails its chunks.
std::shared_ptr<const JobContext> MakeJobContext(
    std::shared_ptr<const JobDefinition> definition,
    const KernelRegistry& kernels, uint64_t link = 0);

// Runs `task`'s kernel over its chunk and returns the chunk's value. For a
// batch job, runs each of the chunk's tasks in turn with its own range and
// parameters and returns one result per task: a task that fails is a failed
// TaskResult ("task 1 over [100, 200) failed (chunk of tasks [1, 2),
// attempt 1): ..."), not a failed chunk, and a float sum comes rounded to a
// double, as clients see it. FAILED_PRECONDITION when this process lacks the
// kernel or its kernel does not take the job's parameters; INTERNAL with the
// what() text when the kernel throws (reading a parameter it did not
// declare, for one); CANCELLED when `cancel` turned true.
absl::StatusOr<ChunkOutput> RunChunk(const ChunkTask& task,
                                     const std::atomic<bool>& cancel);

// The threads executor: kernels run on the slot's own thread.
std::unique_ptr<ChunkRunner> NewInProcessRunner();

}  // namespace pfor::worker

#endif  // PFOR_WORKER_KERNEL_CALL_H_
