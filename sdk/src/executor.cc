#include "pfor/executor.h"

#include "absl/strings/str_cat.h"
#include "client_internal.h"
#include "follower.h"
#include "pfor/common/wire.h"

namespace pfor {
namespace {

bool Ended(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

// Records the task results an event of a batch carries: those of a chunk
// that completed, or all of them in the final state.
template <typename Target>
void AddTaskResults(const Target& batch, const v1::JobEvent& event) {
  auto add = [&](const v1::TaskResult& result) {
    const auto index = static_cast<size_t>(result.index());
    if (index >= batch.positions.size()) return;
    batch.results->Add(batch.positions[index], internal::TaskValue(result));
  };
  for (const v1::TaskResult& result : event.tasks()) add(result);
  for (const v1::TaskResult& result : event.job().result().tasks().results()) {
    add(result);
  }
}

// Applies one event of the job behind `core` to it.
void Apply(internal::FutureCore& core,
           const absl::StatusOr<v1::JobEvent>& event) {
  if (!event.ok()) {
    core.Finish(event.status());
    return;
  }
  if (event->missing()) {
    core.Finish(absl::NotFoundError(absl::StrCat(
        "job ", event->job_id(), " is not known to the coordinator")));
    return;
  }
  if (!event->has_job()) return;
  const v1::Job& job = event->job();
  switch (job.state()) {
    case v1::JOB_STATE_RUNNING:
      core.MarkRunning();
      break;
    case v1::JOB_STATE_SUCCEEDED:
      if (job.result().has_tasks()) {
        core.Finish(static_cast<int64_t>(job.result().tasks().results_size()));
      } else {
        core.Finish(FromProto(job.result()));
      }
      break;
    case v1::JOB_STATE_FAILED:
      core.Finish(absl::UnknownError(absl::StrCat(
          "job ", job.id(), " (", core.name(), ") failed: ", job.error())));
      break;
    case v1::JOB_STATE_CANCELLED:
      core.MarkCancelled(absl::StrCat("job ", job.id(), " (", core.name(),
                                      ") was cancelled: ", job.error()));
      break;
    default:
      break;
  }
}

}  // namespace

Executor::Executor(Client& client, ExecutorOptions options)
    : client_(client), options_(std::move(options)) {}

Executor::~Executor() { shutdown(/*wait=*/true); }

JobRequest Executor::Request(const std::string& kernel, Range range,
                             std::map<std::string, ParamValue> params) const {
  JobRequest request;
  request.kernel = kernel;
  request.begin = range.begin;
  request.end = range.end;
  request.params = std::move(params);
  request.chunks = options_.chunks;
  request.max_attempts = options_.max_attempts;
  request.chunk_timeout = options_.chunk_timeout;
  request.executor = options_.executor;
  return request;
}

std::shared_ptr<internal::FutureCore> Executor::Submit(
    JobRequest request, std::shared_ptr<const BatchTarget> batch) {
  const std::string name =
      request.executor == ExecutorKind::kCommand ? "command" : request.kernel;
  auto core = std::make_shared<internal::FutureCore>(
      name, [&client = client_](uint64_t job) {
        absl::StatusOr<JobStatus> status = client.Cancel(job);
        if (!status.ok()) return status.status();
        return status->state == JobState::kCancelled
                   ? absl::OkStatus()
                   : absl::FailedPreconditionError("the job had ended");
      });
  {
    std::lock_guard lock(pending_->mu);
    if (pending_->shut_down) {
      const absl::Status refused = absl::FailedPreconditionError(
          "the executor is shut down; submit to another one");
      core->Finish(refused);
      if (batch != nullptr) batch->results->End(refused, batch->positions);
      return core;
    }
  }
  absl::StatusOr<JobStatus> submitted = client_.Submit(request);
  if (!submitted.ok()) {
    core->Finish(submitted.status());
    if (batch != nullptr) {
      batch->results->End(submitted.status(), batch->positions);
    }
    return core;
  }
  core->SetJob(submitted->id);
  Track(core);
  internal::FollowerOf(client_).Follow(
      submitted->id, [core, batch](const absl::StatusOr<v1::JobEvent>& event) {
        if (batch != nullptr && event.ok()) AddTaskResults(*batch, *event);
        Apply(*core, event);
        const bool ended = !event.ok() || event->missing() ||
                           (event->has_job() && Ended(event->job().state()));
        if (batch != nullptr && ended) {
          batch->results->End(core->result().status(), batch->positions);
        }
      });
  return core;
}

BatchResults Executor::SubmitBatch(const std::string& kernel,
                                   std::vector<Task> tasks,
                                   std::map<std::string, ParamValue> params,
                                   int max_parallel) {
  auto results = std::make_shared<internal::BatchCore>(tasks.size());
  std::vector<size_t> positions(tasks.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = i;
  std::shared_ptr<internal::FutureCore> job =
      SubmitBatchInto(kernel, std::move(tasks), std::move(params), max_parallel,
                      results, std::move(positions));
  return BatchResults(results, job);
}

std::shared_ptr<internal::FutureCore> Executor::SubmitBatchInto(
    const std::string& kernel, std::vector<Task> tasks,
    std::map<std::string, ParamValue> params, int max_parallel,
    std::shared_ptr<internal::BatchCore> into, std::vector<size_t> positions) {
  if (tasks.empty()) {
    auto core = std::make_shared<internal::FutureCore>(
        kernel, [](uint64_t) { return absl::OkStatus(); });
    core->Finish(int64_t{0});
    return core;
  }
  JobRequest request = Request(kernel, {0, static_cast<int64_t>(tasks.size())},
                               std::move(params));
  request.tasks = std::move(tasks);
  request.max_parallel = max_parallel;
  return Submit(std::move(request),
                std::make_shared<const BatchTarget>(
                    BatchTarget{std::move(into), std::move(positions)}));
}

void Executor::Track(std::shared_ptr<internal::FutureCore> core) {
  {
    std::lock_guard lock(pending_->mu);
    pending_->cores.insert(core);
  }
  core->AddCallback(
      [pending = pending_](const std::shared_ptr<internal::FutureCore>& done) {
        std::lock_guard lock(pending->mu);
        pending->cores.erase(done);
      });
}

void Executor::shutdown(bool wait, bool cancel_futures) {
  std::vector<std::shared_ptr<internal::FutureCore>> pending;
  {
    std::lock_guard lock(pending_->mu);
    pending_->shut_down = true;
    pending.assign(pending_->cores.begin(), pending_->cores.end());
  }
  if (cancel_futures) {
    for (const auto& core : pending) {
      if (core->state() == internal::FutureCore::State::kPending) {
        core->Cancel();
      }
    }
  }
  if (wait) {
    for (const auto& core : pending) core->Wait(absl::InfiniteDuration());
  }
}

}  // namespace pfor
