#include "kernel_call.h"

#include <exception>
#include <new>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"

namespace pfor::worker {
namespace {

class InProcessRunner final : public ChunkRunner {
 public:
  absl::StatusOr<ChunkOutput> Run(int, const ChunkTask& task,
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
        absl::StrCat("kernel ", job.kernel_name(), " ran out of memory"));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("kernel ", job.kernel_name(), " threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("kernel ", job.kernel_name(),
                     " threw an exception that is not a std::exception"));
  }
}

// One task of a batch: the kernel over the task's own range, with the job's
// parameters (checked once per job), or with the task's laid over them and
// checked as a job's would be.
absl::StatusOr<Value> RunTask(const JobContext& job, const Task& task,
                              const std::atomic<bool>& cancel) {
  const absl::StatusOr<Params>& job_params = *job.params;
  const Params* params = nullptr;
  absl::StatusOr<Params> own;
  if (task.params.empty()) {
    if (!job_params.ok()) return job_params.status();
    params = &*job_params;
  } else {
    // The job's parameters may be incomplete on their own (every task
    // supplying the rest): then the task's go over them as given.
    std::map<std::string, ParamValue> given =
        job_params.ok() ? job_params->values()
                        : job.definition->params.values();
    for (const auto& [name, value] : task.params) given[name] = value;
    own = ValidateParams(job.kernel_name(), job.kernel->params, given);
    if (!own.ok()) return own.status();
    params = &*own;
  }
  const ChunkContext context{task.range.begin,
                             task.range.end,
                             task.range.begin,
                             task.range.end,
                             job.definition->reduction,
                             params,
                             &cancel};
  return Call(job, context);
}

absl::StatusOr<ChunkOutput> RunBatch(const ChunkTask& chunk,
                                     const std::atomic<bool>& cancel) {
  const JobContext& job = *chunk.job;
  const int64_t count = chunk.end - chunk.begin;
  if (count < 0 || chunk.tasks == nullptr ||
      chunk.first_task + static_cast<size_t>(count) > chunk.tasks->size()) {
    return absl::InternalError(absl::StrCat(
        "job ", job.id(), ": chunk of tasks [", chunk.begin, ", ", chunk.end,
        ") came with ", chunk.tasks == nullptr ? 0 : chunk.tasks->size(),
        " tasks from ", chunk.first_task));
  }
  std::vector<TaskResult> results;
  results.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    if (cancel.load(std::memory_order_relaxed)) {
      return absl::CancelledError("the chunk was cancelled");
    }
    const Task& task =
        (*chunk.tasks)[chunk.first_task + static_cast<size_t>(i)];
    absl::StatusOr<Value> value = RunTask(job, task, cancel);
    if (value.ok()) {
      // Clients see doubles; an exact sum is also far larger on the wire.
      if (const auto* sum = std::get_if<ExactSum>(&*value)) {
        results.push_back(Value(sum->Round()));
      } else {
        results.push_back(*std::move(value));
      }
    } else if (value.status().code() == absl::StatusCode::kCancelled) {
      return value.status();
    } else {
      // Where it failed, for the caller who only sees this task. UNKNOWN,
      // as a failed job's error is: the kernel's message says what it was.
      results.push_back(absl::UnknownError(
          absl::StrCat("task ", chunk.begin + i, " over [", task.range.begin,
                       ", ", task.range.end, ") failed (chunk of tasks [",
                       chunk.begin, ", ", chunk.end, "), attempt ",
                       chunk.attempt, "): ", value.status().message())));
    }
  }
  return ChunkOutput(std::move(results));
}

}  // namespace

std::shared_ptr<const JobContext> MakeJobContext(
    std::shared_ptr<const JobDefinition> definition,
    const KernelRegistry& kernels, uint64_t link) {
  auto job = std::make_shared<JobContext>();
  job->definition = std::move(definition);
  job->link = link;
  const JobDefinition& def = *job->definition;
  if (!def.kernel.empty()) job->kernel = kernels.Find(def.kernel);
  // The coordinator checked the parameters against the kernel as some
  // worker declared it; this process's may differ (another version, a
  // plugin of the same name): only its own declaration says what the kernel
  // will read.
  if (job->kernel != nullptr) {
    job->params =
        ValidateParams(def.kernel, job->kernel->params, def.params.values());
  }
  return job;
}

absl::StatusOr<ChunkOutput> RunChunk(const ChunkTask& task,
                                     const std::atomic<bool>& cancel) {
  const JobContext& job = *task.job;
  if (job.kernel == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("this worker has no kernel named ", job.kernel_name()));
  }
  const JobDefinition& definition = *job.definition;
  if (definition.batch) return RunBatch(task, cancel);
  const absl::StatusOr<Params>& params = *job.params;
  if (!params.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this worker's kernel ", job.kernel_name(),
        " does not take the job's parameters: ", params.status().message()));
  }
  const ChunkContext context{task.begin,
                             task.end,
                             definition.range.begin,
                             definition.range.end,
                             definition.reduction,
                             &*params,
                             &cancel};
  absl::StatusOr<Value> value = Call(job, context);
  if (!value.ok()) return value.status();
  return ChunkOutput(std::in_place_type<Value>, *std::move(value));
}

std::unique_ptr<ChunkRunner> NewInProcessRunner() {
  return std::make_unique<InProcessRunner>();
}

}  // namespace pfor::worker
