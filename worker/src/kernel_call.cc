#include "kernel_call.h"

#include <exception>
#include <new>

#include "absl/strings/str_cat.h"

namespace pfor::worker {
namespace {

class InProcessRunner final : public ChunkRunner {
 public:
  absl::StatusOr<Value> Run(int, const ChunkTask& task,
                            const std::atomic<bool>& cancel) override {
    return CallKernel(task, cancel);
  }
};

}  // namespace

absl::StatusOr<Value> CallKernel(const ChunkTask& task,
                                 const std::atomic<bool>& cancel) {
  const JobContext& job = *task.job;
  if (job.kernel == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("this worker has no kernel named ", job.kernel_name));
  }
  const ChunkContext context{task.begin,    task.end,    job.begin, job.end,
                             job.reduction, &job.params, &cancel};
  try {
    return job.kernel->run(context);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat("kernel ", job.kernel_name, " ran out of memory"));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("kernel ", job.kernel_name, " threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("kernel ", job.kernel_name,
                     " threw an exception that is not a std::exception"));
  }
}

std::unique_ptr<ChunkRunner> NewInProcessRunner() {
  return std::make_unique<InProcessRunner>();
}

}  // namespace pfor::worker
