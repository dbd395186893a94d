#include "coordinator_service.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "job_result.h"
#include "merging_stream.h"
#include "pfor/common/rpc.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

constexpr absl::Duration kDefaultWatchInterval = absl::Milliseconds(200);
constexpr int kDefaultListLimit = 100;

grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

bool IsFinal(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

// Streams one job's state: the newest state is held back until `interval`
// has passed since the last write (the host's tick flushes it), except the
// final state, which goes out at once and ends the stream.
class JobStream final : public grpc::ServerWriteReactor<v1::Job>,
                        public JobWatcher {
 public:
  JobStream(SchedulerHost* host, JobId job, absl::Duration interval)
      : host_(host), job_(job), interval_(interval) {}

  // Registers with the host; ends the stream when the job is unknown.
  void Start() {
    absl::Status status = host_->AddWatcher(job_, this);
    if (!status.ok()) {
      absl::MutexLock lock(&mu_);
      finished_ = true;
      Finish(ToGrpcStatus(status));
    }
  }

  void Update(const v1::Job& job) override {
    absl::MutexLock lock(&mu_);
    if (finished_ || final_sent_) return;
    newest_ = job;
    has_newest_ = true;
    if (IsFinal(job.state()) || absl::Now() - last_write_ >= interval_)
      WriteLocked();
  }

  void Flush(absl::Time now) override {
    absl::MutexLock lock(&mu_);
    if (has_newest_ && now - last_write_ >= interval_) WriteLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok || final_sent_) {
      FinishLocked(ok ? grpc::Status::OK
                      : grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                     "watch stream broke"));
      return;
    }
    if (has_newest_ && IsFinal(newest_.state())) WriteLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    host_->RemoveWatcher(job_, this);
    delete this;
  }

 private:
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || final_sent_) return;
    writing_message_ = std::move(newest_);
    has_newest_ = false;
    final_sent_ = IsFinal(writing_message_.state());
    writing_ = true;
    last_write_ = absl::Now();
    StartWrite(&writing_message_);
  }

  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_) return;
    finished_ = true;
    Finish(status);
  }

  SchedulerHost* const host_;
  const JobId job_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  v1::Job newest_ ABSL_GUARDED_BY(mu_);
  bool has_newest_ ABSL_GUARDED_BY(mu_) = false;
  v1::Job writing_message_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool final_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_write_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// Follows the jobs a client names over one stream: an event when a job's
// state changes (RUNNING, then its final state with the result) and, for
// batches, the task results of each chunk as it completes. Events queue while
// a write is in flight and go out together in the next.
class JobFollower final
    : public MergingStream<v1::FollowJobsRequest, v1::JobEvents>,
      public JobWatcher {
 public:
  explicit JobFollower(SchedulerHost* host) : host_(host) {
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      FinishLocked(grpc::Status::OK);
      return;
    }
    for (uint64_t job : incoming_.job_ids()) {
      {
        absl::MutexLock lock(&mu_);
        if (!followed_.insert(job).second) continue;
      }
      // Sends the job's current state through Update.
      if (host_->AddWatcher(job, this).ok()) continue;
      absl::MutexLock lock(&mu_);
      followed_.erase(job);
      if (v1::JobEvent* event = NewEventLocked(job)) {
        event->set_missing(true);
        WriteLocked();
      }
    }
    StartRead(&incoming_);
  }

  void Update(const v1::Job& job) override {
    absl::MutexLock lock(&mu_);
    v1::JobState& last = last_state_[job.id()];
    if (last == job.state()) return;  // progress only
    last = job.state();
    v1::JobEvent* event = NewEventLocked(job.id());
    if (event == nullptr) return;
    *event->mutable_job() = job;
    // The client has a batch's tasks; they would double a large event.
    event->mutable_job()->mutable_spec()->clear_tasks();
    WriteLocked();
  }

  void OnChunkDone(const ChunkDone& chunk) override {
    if (!chunk.value.has_tasks()) return;
    absl::MutexLock lock(&mu_);
    v1::JobEvent* event = NewEventLocked(chunk.job);
    if (event == nullptr) return;
    v1::Value rounded = JobResult::Rounded(chunk.value);
    for (v1::TaskResult& result : *rounded.mutable_tasks()->mutable_results()) {
      *event->add_tasks() = std::move(result);
    }
    WriteLocked();
  }

  void OnDone() override {
    absl::flat_hash_set<uint64_t> followed;
    {
      absl::MutexLock lock(&mu_);
      followed.swap(followed_);
    }
    for (uint64_t job : followed) host_->RemoveWatcher(job, this);
    delete this;
  }

 private:
  // A new event of `job` in the next message; null once finishing.
  v1::JobEvent* NewEventLocked(uint64_t job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::JobEvents* pending = PendingLocked();
    if (pending == nullptr) return nullptr;
    v1::JobEvent* event = pending->add_events();
    event->set_job_id(job);
    return event;
  }

  SchedulerHost* const host_;
  v1::FollowJobsRequest incoming_;
  absl::flat_hash_set<uint64_t> followed_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, v1::JobState> last_state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerBidiReactor<v1::FollowJobsRequest, v1::JobEvents>*
CoordinatorService::FollowJobs(grpc::CallbackServerContext*) {
  return new JobFollower(host_);
}

grpc::ServerUnaryReactor* CoordinatorService::SubmitJob(
    grpc::CallbackServerContext* context, const v1::SubmitJobRequest* request,
    v1::SubmitJobResponse* response) {
  absl::StatusOr<v1::Job> job =
      host_->Apply([&](Scheduler& scheduler, absl::Time now) {
        return scheduler.SubmitJob(request->spec(), now);
      });
  if (job.ok()) *response->mutable_job() = *std::move(job);
  return Reply(context, job.status());
}

grpc::ServerUnaryReactor* CoordinatorService::GetJob(
    grpc::CallbackServerContext* context, const v1::GetJobRequest* request,
    v1::Job* response) {
  absl::StatusOr<v1::Job> job =
      host_->Apply([&](Scheduler& scheduler, absl::Time) {
        return scheduler.GetJob(request->job_id(), /*with_recent_chunks=*/true);
      });
  if (job.ok()) *response = *std::move(job);
  return Reply(context, job.status());
}

grpc::ServerWriteReactor<v1::Job>* CoordinatorService::WatchJob(
    grpc::CallbackServerContext*, const v1::WatchJobRequest* request) {
  absl::Duration interval = kDefaultWatchInterval;
  if (request->has_interval()) {
    interval = std::clamp(FromProto(request->interval()), absl::ZeroDuration(),
                          absl::Seconds(60));
  }
  auto* stream = new JobStream(host_, request->job_id(), interval);
  stream->Start();
  return stream;
}

grpc::ServerUnaryReactor* CoordinatorService::CancelJob(
    grpc::CallbackServerContext* context, const v1::CancelJobRequest* request,
    v1::Job* response) {
  absl::StatusOr<v1::Job> job =
      host_->Apply([&](Scheduler& scheduler, absl::Time now) {
        return scheduler.CancelJob(request->job_id(), now);
      });
  if (job.ok()) *response = *std::move(job);
  return Reply(context, job.status());
}

grpc::ServerUnaryReactor* CoordinatorService::ListJobs(
    grpc::CallbackServerContext* context, const v1::ListJobsRequest* request,
    v1::ListJobsResponse* response) {
  if (request->limit() < 0) {
    return Reply(context,
                 absl::InvalidArgumentError("list limit must not be negative"));
  }
  const int limit =
      request->limit() == 0 ? kDefaultListLimit : request->limit();
  std::vector<v1::Job> jobs =
      host_->Apply([&](Scheduler& scheduler, absl::Time) {
        return scheduler.ListJobs(limit);
      });
  for (v1::Job& job : jobs) *response->add_jobs() = std::move(job);
  return Reply(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* CoordinatorService::ListWorkers(
    grpc::CallbackServerContext* context, const v1::ListWorkersRequest*,
    v1::ListWorkersResponse* response) {
  std::vector<v1::WorkerInfo> workers =
      host_->Apply([&](Scheduler& scheduler, absl::Time now) {
        return scheduler.ListWorkers(now);
      });
  for (v1::WorkerInfo& worker : workers)
    *response->add_workers() = std::move(worker);
  return Reply(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* CoordinatorService::ListKernels(
    grpc::CallbackServerContext* context, const v1::ListKernelsRequest*,
    v1::ListKernelsResponse* response) {
  std::vector<v1::KernelInfo> kernels =
      host_->Apply([&](Scheduler& scheduler, absl::Time) {
        return scheduler.ListKernels();
      });
  for (v1::KernelInfo& kernel : kernels)
    *response->add_kernels() = std::move(kernel);
  return Reply(context, absl::OkStatus());
}

}  // namespace pfor::coordinator
