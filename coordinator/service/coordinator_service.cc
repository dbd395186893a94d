#include "coordinator_service.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "pfor/common/merging_stream.h"
#include "pfor/common/rpc.h"
#include "pfor/common/wire.h"
#include "pfor/common/wire_buffer.h"
#include "pfor/common/wire_job.h"

namespace pfor::coordinator {
namespace {

constexpr absl::Duration kDefaultWatchInterval = absl::Milliseconds(200);
constexpr absl::Duration kMaxWatchInterval = absl::Seconds(60);

grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The session stream: submits and follows come in; answers and the events
// of followed jobs go out, coalesced while a message is on its way.
class SessionStream final
    : public MergingStream<
          grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionEvents>,
          SessionOutbox::Batch, v1::SessionEvents>,
      public SessionSink,
      public std::enable_shared_from_this<SessionStream> {
 public:
  explicit SessionStream(SchedulerHost* host) : host_(host) {}

  void Start() {
    self_ = shared_from_this();
    host_->AddSession(self_);
    StartRead(incoming_.get());
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client is done: what is queued still goes, then the call ends.
      host_->EndSession(this);
      CloseWrites();
      return;
    }
    for (const v1::SubmitCall& call : incoming_->submit()) Submit(call);
    for (const v1::FollowCall& follow : incoming_->follow()) {
      host_->Follow(this, follow.job_id(),
                    follow.has_progress_interval()
                        ? std::max(absl::ZeroDuration(),
                                   FromProto(follow.progress_interval()))
                        : absl::ZeroDuration());
    }
    StartRead(&incoming_.Reset());
  }

  void OnDone() override {
    host_->EndSession(this);
    Abandon();
    // The last reference may be a flush in flight; it ends this stream.
    std::shared_ptr<SessionStream> self = std::move(self_);
  }

  // SessionSink
  void Flush() override {
    if (TakeOutbox([this](SessionOutbox::Batch batch) {
          return Queue(std::move(batch));
        })) {
      WriteQueued();
    }
  }
  void Close(const absl::Status& status) override {
    {
      std::lock_guard lock(mu_);
      finish_status_ = status;
    }
    CloseWrites();
  }

 private:
  void Submit(const v1::SubmitCall& call) {
    absl::StatusOr<JobSpec> spec = FromProto(call.spec());
    if (!spec.ok()) {
      host_->Answer(this, call.call_id(), spec.status(), false);
      return;
    }
    std::weak_ptr<SessionStream> self = shared_from_this();
    host_->Submit(std::make_shared<const JobSpec>(*std::move(spec)),
                  [host = host_, self, id = call.call_id(),
                   follow = call.follow()](absl::StatusOr<JobStatus> job) {
                    if (auto stream = self.lock()) {
                      host->Answer(stream.get(), id, std::move(job), follow);
                    }
                  });
  }

  void Encode(SessionOutbox::Batch batch, v1::SessionEvents& out) override {
    for (SessionOutbox::Answer& answer : batch.answers) {
      v1::SubmitAnswer* encoded = out.add_submitted();
      encoded->set_call_id(answer.call);
      if (answer.job.ok()) {
        ToProtoWithoutTasks(*answer.job, *encoded->mutable_job());
      } else {
        encoded->set_error_code(static_cast<int>(answer.job.status().code()));
        encoded->set_error_message(std::string(answer.job.status().message()));
      }
    }
    for (const JobEvent& event : batch.events) {
      ToProto(event, *out.add_events());
    }
  }

  void EndWrites() override {
    std::lock_guard lock(mu_);
    Finish(ToGrpcStatus(finish_status_));
  }

  SchedulerHost* const host_;
  WireBuffer<v1::SessionRequest> incoming_;
  std::shared_ptr<SessionStream> self_;
  std::mutex mu_;
  absl::Status finish_status_;  // guarded by mu_
};

// WatchJob: one job's status, at most every interval, ending with its final
// state (or NOT_FOUND).
class WatchStream final
    : public MergingStream<grpc::ServerWriteReactor<v1::Job>,
                           SessionOutbox::Batch, v1::Job>,
      public SessionSink,
      public std::enable_shared_from_this<WatchStream> {
 public:
  WatchStream(SchedulerHost* host, uint64_t job, absl::Duration interval)
      : host_(host), job_(job), interval_(interval) {}

  void Start() {
    self_ = shared_from_this();
    host_->AddSession(self_);
    host_->Follow(this, job_, interval_);
  }

  void OnDone() override {
    host_->EndSession(this);
    Abandon();
    std::shared_ptr<WatchStream> self = std::move(self_);
  }

  // SessionSink
  void Flush() override {
    bool missing = false;
    bool last = false;
    TakeOutbox([&](SessionOutbox::Batch batch) {
      for (const JobEvent& event : batch.events) {
        missing = missing || event.missing;
        last = last || IsFinal(event.state);
      }
      return missing || Queue(std::move(batch));
    });
    if (missing) {
      Close(absl::NotFoundError(
          absl::StrCat("job ", job_,
                       " does not exist or is no longer kept; pfor jobs "
                       "lists the jobs")));
      return;
    }
    WriteQueued();
    if (last) CloseWrites();
  }
  void Close(const absl::Status& status) override {
    {
      std::lock_guard lock(mu_);
      finish_status_ = status;
    }
    CloseWrites();
  }

 private:
  // Only the writing thread encodes, so `status_` needs no lock.
  void Encode(SessionOutbox::Batch batch, v1::Job& out) override {
    for (JobEvent& event : batch.events) {
      if (event.status != nullptr) status_ = *event.status;
      status_.state = event.state;
      status_.progress = event.progress;
    }
    ToProtoWithoutTasks(status_, out);
  }

  void EndWrites() override {
    std::lock_guard lock(mu_);
    Finish(ToGrpcStatus(finish_status_));
  }

  SchedulerHost* const host_;
  const uint64_t job_;
  const absl::Duration interval_;
  std::shared_ptr<WatchStream> self_;
  JobStatus status_;
  std::mutex mu_;
  absl::Status finish_status_;  // guarded by mu_
};

}  // namespace

grpc::ServerUnaryReactor* CoordinatorService::SubmitJob(
    grpc::CallbackServerContext* context, const v1::SubmitJobRequest* request,
    v1::SubmitJobResponse* response) {
  absl::StatusOr<JobSpec> spec = FromProto(request->spec());
  if (!spec.ok()) return Reply(context, spec.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  host_->Submit(std::make_shared<const JobSpec>(*std::move(spec)),
                [reactor, response](absl::StatusOr<JobStatus> job) {
                  if (job.ok()) {
                    *response->mutable_job() = ToProtoWithoutTasks(*job);
                  }
                  reactor->Finish(ToGrpcStatus(job.status()));
                });
  return reactor;
}

grpc::ServerUnaryReactor* CoordinatorService::GetJob(
    grpc::CallbackServerContext* context, const v1::GetJobRequest* request,
    v1::Job* response) {
  absl::StatusOr<JobStatus> job =
      host_->Get(request->job_id(), /*with_recent_chunks=*/true);
  if (job.ok()) *response = ToProto(*job);
  return Reply(context, job.status());
}

grpc::ServerWriteReactor<v1::Job>* CoordinatorService::WatchJob(
    grpc::CallbackServerContext*, const v1::WatchJobRequest* request) {
  absl::Duration interval = kDefaultWatchInterval;
  if (request->has_interval()) {
    // Zero asks for every change; the outbox passes progress only with a
    // positive interval.
    interval = std::clamp(FromProto(request->interval()), absl::Nanoseconds(1),
                          kMaxWatchInterval);
  }
  auto stream =
      std::make_shared<WatchStream>(host_, request->job_id(), interval);
  stream->Start();
  return stream.get();
}

grpc::ServerUnaryReactor* CoordinatorService::CancelJob(
    grpc::CallbackServerContext* context, const v1::CancelJobRequest* request,
    v1::Job* response) {
  absl::StatusOr<JobStatus> job =
      host_->Cancel(request->job_id(), request->only_if_queued());
  if (job.ok()) *response = ToProtoWithoutTasks(*job);
  return Reply(context, job.status());
}

grpc::ServerUnaryReactor* CoordinatorService::ListJobs(
    grpc::CallbackServerContext* context, const v1::ListJobsRequest* request,
    v1::ListJobsResponse* response) {
  absl::StatusOr<std::vector<JobStatus>> jobs =
      host_->ListJobs(request->limit());
  if (jobs.ok()) {
    for (const JobStatus& job : *jobs) {
      *response->add_jobs() = ToProtoWithoutTasks(job);
    }
  }
  return Reply(context, jobs.status());
}

grpc::ServerUnaryReactor* CoordinatorService::ListWorkers(
    grpc::CallbackServerContext* context, const v1::ListWorkersRequest*,
    v1::ListWorkersResponse* response) {
  for (const WorkerStatus& worker : host_->ListWorkers()) {
    *response->add_workers() = ToProto(worker);
  }
  return Reply(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* CoordinatorService::ListKernels(
    grpc::CallbackServerContext* context, const v1::ListKernelsRequest*,
    v1::ListKernelsResponse* response) {
  for (const KernelInfo& kernel : host_->ListKernels()) {
    *response->add_kernels() = ToProto(kernel);
  }
  return Reply(context, absl::OkStatus());
}

grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionEvents>*
CoordinatorService::Session(grpc::CallbackServerContext*) {
  auto stream = std::make_shared<SessionStream>(host_);
  stream->Start();
  return stream.get();
}

}  // namespace pfor::coordinator
