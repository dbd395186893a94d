#include "pfor/executor.h"

#include "absl/strings/str_cat.h"
#include "batch_stop.h"
#include "follower.h"

namespace pfor {
namespace {

// Why an input range cannot run, worded for the SDK's caller; OK when it
// can.
absl::Status CheckInput(size_t position, const Range& range) {
  int64_t size;
  if (range.end <= range.begin ||
      __builtin_sub_overflow(range.end, range.begin, &size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task ", position, " has the range [", range.begin, ", ", range.end,
        "), ",
        range.end == range.begin  ? "which is empty"
        : range.end < range.begin ? "which ends before it begins"
                                  : "which holds more than 2^63-1 indices",
        "; give each input a range {begin, end} with begin < end"));
  }
  return absl::OkStatus();
}

// Records the task results an event of a batch carries.
template <typename Target>
void AddTaskResults(const Target& batch, const JobEvent& event) {
  for (const TaskRun& run : event.tasks) {
    batch.results->AddRun(batch.positions, run.first_task, *run.results);
  }
}

// Applies one event of the job behind `core` to it.
void Apply(internal::FutureCore& core, const absl::StatusOr<JobEvent>& event) {
  if (!event.ok()) {
    core.Finish(event.status());
    return;
  }
  // Events may come before Submit has returned the job's id.
  core.SetJob(event->job);
  if (event->missing) {
    core.Finish(absl::NotFoundError(
        absl::StrCat("job ", event->job, " is not known to the coordinator")));
    return;
  }
  switch (event->state) {
    case JobState::kRunning:
      core.MarkRunning();
      break;
    case JobState::kSucceeded:
      // A batch's value is its number of tasks; its results went to the
      // batch as they came.
      if (event->status != nullptr && event->status->value.has_value()) {
        core.Finish(*event->status->value);
      } else {
        core.Finish(event->progress.indices_total);
      }
      break;
    case JobState::kFailed:
      core.Finish(absl::UnknownError(absl::StrCat(
          "job ", event->job, " (", core.name(),
          ") failed: ", event->status != nullptr ? event->status->error : "")));
      break;
    case JobState::kCancelled:
      core.MarkCancelled(absl::StrCat(
          "job ", event->job, " (", core.name(), ") was cancelled: ",
          event->status != nullptr ? event->status->error : ""));
      break;
    case JobState::kQueued:
      break;
  }
}

}  // namespace

Executor::Executor(Client& client, ExecutorOptions options)
    : client_(client), options_(std::move(options)) {}

Executor::~Executor() { shutdown(/*wait=*/true); }

JobSpec Executor::Spec(const std::string& kernel, Range range,
                       std::map<std::string, ParamValue> params) const {
  JobSpec spec;
  spec.kernel = kernel;
  spec.begin = range.begin;
  spec.end = range.end;
  spec.params = std::move(params);
  spec.chunks = options_.chunks;
  spec.max_attempts = options_.max_attempts;
  spec.chunk_timeout = options_.chunk_timeout;
  spec.executor = options_.executor;
  return spec;
}

std::shared_ptr<internal::FutureCore> Executor::Submit(
    JobSpec spec, std::shared_ptr<const BatchTarget> batch) {
  const std::string name =
      spec.executor == ExecutorKind::kCommand ? "command" : spec.kernel;
  internal::Follower& follower = internal::FollowerOf(client_);
  auto core = std::make_shared<internal::FutureCore>(
      name,
      [&client = client_](uint64_t job, bool running_too) {
        absl::StatusOr<JobStatus> status =
            client.Cancel(job, /*only_if_queued=*/!running_too);
        if (!status.ok()) return status.status();
        return status->state == JobState::kCancelled
                   ? absl::OkStatus()
                   : absl::FailedPreconditionError(absl::StrCat(
                         "job ", job, " is ", JobStateName(status->state)));
      },
      [&follower](std::function<void()> callback) {
        follower.Post(std::move(callback));
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
  Track(core);
  absl::StatusOr<JobStatus> submitted = follower.Submit(
      std::make_shared<const JobSpec>(std::move(spec)),
      [core, batch](const absl::StatusOr<JobEvent>& event) {
        if (batch != nullptr && event.ok()) AddTaskResults(*batch, *event);
        Apply(*core, event);
        const bool ended =
            !event.ok() || event->missing || IsFinal(event->state);
        if (batch != nullptr && ended) {
          batch->results->End(core->result().status(), batch->positions);
        }
      });
  if (!submitted.ok()) {
    core->Finish(submitted.status());
    if (batch != nullptr) {
      batch->results->End(submitted.status(), batch->positions);
    }
    return core;
  }
  core->SetJob(submitted->id);
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
  // A bad input is that input's problem alone: it fails in its place and
  // the others go.
  size_t kept = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (absl::Status bad = CheckInput(positions[i], tasks[i].range);
        !bad.ok()) {
      into->Add(positions[i], std::move(bad));
      continue;
    }
    if (kept != i) {
      tasks[kept] = std::move(tasks[i]);
      positions[kept] = positions[i];
    }
    ++kept;
  }
  tasks.resize(kept);
  positions.resize(kept);
  // Nothing to send, or a fail-fast call already failed.
  if (tasks.empty() || (into->first_failure().has_value() &&
                        into->completed() == into->size())) {
    auto core = std::make_shared<internal::FutureCore>(
        kernel, [](uint64_t, bool) { return absl::OkStatus(); });
    core->Finish(int64_t{0});
    into->End(absl::CancelledError("the call had already failed"), positions);
    return core;
  }
  JobSpec spec =
      Spec(kernel, {0, static_cast<int64_t>(tasks.size())}, std::move(params));
  spec.tasks = std::move(tasks);
  spec.max_parallel = max_parallel;
  return Submit(std::move(spec),
                std::make_shared<const BatchTarget>(
                    BatchTarget{std::move(into), std::move(positions)}));
}

std::vector<absl::StatusOr<Value>> Executor::MapValues(
    const std::string& kernel, const std::vector<Range>& inputs,
    std::map<std::string, ParamValue> params, absl::Duration timeout) {
  std::vector<Task> tasks;
  tasks.reserve(inputs.size());
  for (const Range& input : inputs) tasks.push_back({input, {}});
  auto results =
      std::make_shared<internal::BatchCore>(tasks.size(), options_.fail_fast);
  std::vector<size_t> positions(tasks.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = i;
  std::shared_ptr<internal::FutureCore> job =
      SubmitBatchInto(kernel, std::move(tasks), std::move(params),
                      /*max_parallel=*/0, results, std::move(positions));
  if (options_.fail_fast) {
    internal::StopJobsOnFailure(client_, *results, {job});
  }
  BatchResults batch(results, job);
  std::vector<absl::StatusOr<Value>> out = batch.AllInOrder(timeout);
  // Python cancels the calls that had not started; here nothing could
  // receive the results of those still running either.
  if (results->completed() < results->size()) job->Cancel(/*running_too=*/true);
  return out;
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
    // The coordinator cancels only the jobs none of whose chunks started.
    for (const auto& core : pending) core->Cancel(/*running_too=*/false);
  }
  if (wait && !internal::OnCallbackThread()) {
    for (const auto& core : pending) {
      core->Wait(absl::InfiniteDuration()).IgnoreError();
    }
  }
}

}  // namespace pfor
