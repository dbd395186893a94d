#include "kernel_call.h"

#include <exception>
#include <new>

#include "absl/strings/str_cat.h"
#include "pfor/common/wire.h"

namespace pfor::worker {
namespace {

class InProcessRunner final : public ChunkRunner {
 public:
  absl::StatusOr<v1::Value> Run(int, const ChunkTask& task,
                                const std::atomic<bool>& cancel) override {
    return RunChunk(task, cancel);
  }
};

// User kernels are the only source of exceptions.
absl::StatusOr<Value> Call(const JobContext& job, const ChunkContext& context) {
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

// One task of a batch: the kernel over the task's own range, with the job's
// parameters overlaid by the task's, checked like a job's.
absl::StatusOr<Value> RunTask(const JobContext& job, const v1::Task& task,
                              const std::atomic<bool>& cancel) {
  absl::StatusOr<std::map<std::string, ParamValue>> given =
      FromProto(job.definition.params());
  absl::StatusOr<std::map<std::string, ParamValue>> overlay =
      FromProto(task.params());
  if (!given.ok()) return given.status();
  if (!overlay.ok()) return overlay.status();
  for (auto& [name, value] : *overlay) (*given)[name] = std::move(value);
  absl::StatusOr<Params> params =
      ValidateParams(job.kernel_name, job.kernel->params, *given);
  if (!params.ok()) return params.status();
  const ChunkContext context{task.begin(), task.end(),    task.begin(),
                             task.end(),   job.reduction, &*params,
                             &cancel};
  return Call(job, context);
}

}  // namespace

absl::StatusOr<v1::Value> RunChunk(const ChunkTask& task,
                                   const std::atomic<bool>& cancel) {
  const JobContext& job = *task.job;
  if (job.kernel == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("this worker has no kernel named ", job.kernel_name));
  }
  if (task.tasks.empty()) {
    const ChunkContext context{task.begin,    task.end,    job.begin, job.end,
                               job.reduction, &job.params, &cancel};
    absl::StatusOr<Value> value = Call(job, context);
    if (!value.ok()) return value.status();
    return ToProto(*value);
  }
  v1::Value out;
  v1::TaskResults* results = out.mutable_tasks();
  for (size_t i = 0; i < task.tasks.size(); ++i) {
    if (cancel.load(std::memory_order_relaxed)) {
      return absl::CancelledError("the chunk was cancelled");
    }
    v1::TaskResult* result = results->add_results();
    const int64_t index = task.begin + static_cast<int64_t>(i);
    result->set_index(index);
    absl::StatusOr<Value> value = RunTask(job, task.tasks[i], cancel);
    if (value.ok()) {
      *result->mutable_value() = ToProto(*value);
    } else if (value.status().code() == absl::StatusCode::kCancelled) {
      return value.status();
    } else {
      // Where it failed, for the caller who only sees this task.
      result->set_error(
          absl::StrCat("task ", index, " over [", task.tasks[i].begin(), ", ",
                       task.tasks[i].end(), ") failed (chunk of tasks [",
                       task.begin, ", ", task.end, "), attempt ", task.attempt,
                       "): ", value.status().message()));
    }
  }
  return out;
}

std::unique_ptr<ChunkRunner> NewInProcessRunner() {
  return std::make_unique<InProcessRunner>();
}

}  // namespace pfor::worker
