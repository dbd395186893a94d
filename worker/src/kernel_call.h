// Calling a kernel: the one place where exceptions from user code are caught.
// Used by the in-process runner and by the helper processes.
#ifndef PFOR_WORKER_KERNEL_CALL_H_
#define PFOR_WORKER_KERNEL_CALL_H_

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "pfor/kernel.h"
#include "pfor/v1/job.pb.h"
#include "slot_pool.h"

namespace pfor::worker {

// Runs `task`'s kernel over its chunk and returns the chunk's value in its
// wire form. For a batch job, runs each of the chunk's tasks in turn with its
// own range and parameters: a task that fails is a failed TaskResult, not a
// failed chunk. FAILED_PRECONDITION when this worker lacks the kernel;
// INTERNAL with the what() text when the kernel throws; CANCELLED when
// `cancel` turned true.
absl::StatusOr<v1::Value> RunChunk(const ChunkTask& task,
                                   const std::atomic<bool>& cancel);

// The threads executor: kernels run on the slot's own thread.
std::unique_ptr<ChunkRunner> NewInProcessRunner();

}  // namespace pfor::worker

#endif  // PFOR_WORKER_KERNEL_CALL_H_
