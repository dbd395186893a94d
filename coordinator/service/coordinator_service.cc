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
// Who may see a job is told without its task results.
constexpr TaskPage kNoTasks{.count = 0};

grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// A stream refused before it starts: it ends at once with `status`.
template <typename Reactor>
class RefusedStream final : public Reactor {
 public:
  explicit RefusedStream(const absl::Status& status) {
    this->Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

// Stamps a job with the token that submits it, and refuses a command job
// from a token without the commands role.
absl::StatusOr<std::shared_ptr<const JobSpec>> Admit(const Caller& caller,
                                                     JobSpec spec) {
  if (spec.executor == ExecutorKind::kCommand && !caller.Has(kCommandsRole)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "token ", caller.name,
        " lacks the commands role, which command jobs need; ask for a "
        "token with it, or run a kernel"));
  }
  spec.submitted_by = caller.name;
  return std::make_shared<const JobSpec>(std::move(spec));
}

// Whose share of the slots a job is counted in: its token's, else its
// client's (without tokens, a connection: its peer address and port).
std::string Submitter(const grpc::ServerContextBase& context,
                      const Caller& caller) {
  return caller.name.empty() ? context.peer() : "token:" + caller.name;
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
  SessionStream(SchedulerHost* host, Authenticator* auth, Caller caller,
                std::string stream_key, std::string submitter)
      : host_(host),
        auth_(auth),
        caller_(std::move(caller)),
        stream_key_(std::move(stream_key)),
        submitter_(std::move(submitter)) {}

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
      // Another token's job reads as missing to a non-admin.
      host_->Follow(this, follow.job_id(),
                    follow.has_progress_interval()
                        ? std::max(absl::ZeroDuration(),
                                   FromProto(follow.progress_interval()))
                        : absl::ZeroDuration(),
                    caller_.Has(kAdminRole) ? nullptr : &caller_.name);
    }
    StartRead(&incoming_.Reset());
  }

  void OnDone() override {
    host_->EndSession(this);
    auth_->CloseStream(stream_key_);
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
    absl::StatusOr<std::shared_ptr<const JobSpec>> admitted =
        spec.ok() ? Admit(caller_, *std::move(spec)) : spec.status();
    if (!admitted.ok()) {
      host_->Answer(this, call.call_id(), admitted.status(), false);
      return;
    }
    std::weak_ptr<SessionStream> self = shared_from_this();
    host_->Submit(*std::move(admitted), submitter_,
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
  Authenticator* const auth_;
  const Caller caller_;
  const std::string stream_key_;
  const std::string submitter_;
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
  WatchStream(SchedulerHost* host, Authenticator* auth, std::string stream_key,
              uint64_t job, absl::Duration interval)
      : host_(host),
        auth_(auth),
        stream_key_(std::move(stream_key)),
        job_(job),
        interval_(interval) {}

  void Start() {
    self_ = shared_from_this();
    host_->AddSession(self_);
    host_->Follow(this, job_, interval_);
  }

  void OnDone() override {
    host_->EndSession(this);
    auth_->CloseStream(stream_key_);
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
  Authenticator* const auth_;
  const std::string stream_key_;
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
  absl::StatusOr<Caller> caller = auth_->Check(*context, kSubmitRole);
  if (!caller.ok()) return Reply(context, caller.status());
  absl::StatusOr<JobSpec> spec = FromProto(request->spec());
  if (!spec.ok()) return Reply(context, spec.status());
  absl::StatusOr<std::shared_ptr<const JobSpec>> admitted =
      Admit(*caller, *std::move(spec));
  if (!admitted.ok()) return Reply(context, admitted.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  host_->Submit(*std::move(admitted), Submitter(*context, *caller),
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
  absl::StatusOr<Caller> caller = auth_->Check(*context, kSubmitRole);
  if (!caller.ok()) return Reply(context, caller.status());
  TaskPage tasks{.first = request->first_task()};
  if (request->has_max_tasks()) tasks.count = request->max_tasks();
  absl::StatusOr<JobStatus> job =
      Visible(*caller, request->job_id(), /*with_recent_chunks=*/true, tasks);
  if (job.ok()) ToProtoWithoutTasks(*job, *response);
  return Reply(context, job.status());
}

grpc::ServerWriteReactor<v1::Job>* CoordinatorService::WatchJob(
    grpc::CallbackServerContext* context, const v1::WatchJobRequest* request) {
  using Refused = RefusedStream<grpc::ServerWriteReactor<v1::Job>>;
  absl::StatusOr<Caller> caller = auth_->Check(*context, kSubmitRole);
  if (!caller.ok()) return new Refused(caller.status());
  if (absl::StatusOr<JobStatus> job =
          Visible(*caller, request->job_id(), false, kNoTasks);
      job.status().code() == absl::StatusCode::kPermissionDenied) {
    return new Refused(job.status());
  }
  absl::StatusOr<std::string> key = auth_->OpenStream(*context, *caller);
  if (!key.ok()) return new Refused(key.status());
  absl::Duration interval = kDefaultWatchInterval;
  if (request->has_interval()) {
    // Zero asks for every change; the outbox passes progress only with a
    // positive interval.
    interval = std::clamp(FromProto(request->interval()), absl::Nanoseconds(1),
                          kMaxWatchInterval);
  }
  auto stream = std::make_shared<WatchStream>(host_, auth_, *std::move(key),
                                              request->job_id(), interval);
  stream->Start();
  return stream.get();
}

grpc::ServerUnaryReactor* CoordinatorService::CancelJob(
    grpc::CallbackServerContext* context, const v1::CancelJobRequest* request,
    v1::Job* response) {
  absl::StatusOr<Caller> caller = auth_->Check(*context, kSubmitRole);
  if (!caller.ok()) return Reply(context, caller.status());
  if (absl::StatusOr<JobStatus> visible =
          Visible(*caller, request->job_id(), false, kNoTasks);
      !visible.ok()) {
    return Reply(context, visible.status());
  }
  absl::StatusOr<JobStatus> job =
      host_->Cancel(request->job_id(), request->only_if_queued());
  if (job.ok()) *response = ToProtoWithoutTasks(*job);
  return Reply(context, job.status());
}

grpc::ServerUnaryReactor* CoordinatorService::ListJobs(
    grpc::CallbackServerContext* context, const v1::ListJobsRequest* request,
    v1::ListJobsResponse* response) {
  absl::StatusOr<Caller> caller = auth_->Check(*context, kSubmitRole);
  if (!caller.ok()) return Reply(context, caller.status());
  absl::StatusOr<std::vector<JobStatus>> jobs =
      host_->ListJobs(request->limit());
  if (jobs.ok()) {
    // A token sees its own jobs among the newest; an admin sees all.
    for (const JobStatus& job : *jobs) {
      if (caller->Owns(job.spec->submitted_by)) {
        *response->add_jobs() = ToProtoWithoutTasks(job);
      }
    }
  }
  return Reply(context, jobs.status());
}

grpc::ServerUnaryReactor* CoordinatorService::ListWorkers(
    grpc::CallbackServerContext* context, const v1::ListWorkersRequest*,
    v1::ListWorkersResponse* response) {
  absl::StatusOr<Caller> caller = auth_->Check(*context, kSubmitRole);
  if (!caller.ok()) return Reply(context, caller.status());
  for (const WorkerStatus& worker : host_->ListWorkers()) {
    *response->add_workers() = ToProto(worker);
  }
  return Reply(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* CoordinatorService::ListKernels(
    grpc::CallbackServerContext* context, const v1::ListKernelsRequest*,
    v1::ListKernelsResponse* response) {
  absl::StatusOr<Caller> caller = auth_->Check(*context, kSubmitRole);
  if (!caller.ok()) return Reply(context, caller.status());
  for (const KernelInfo& kernel : host_->ListKernels()) {
    *response->add_kernels() = ToProto(kernel);
  }
  return Reply(context, absl::OkStatus());
}

grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionEvents>*
CoordinatorService::Session(grpc::CallbackServerContext* context) {
  using Refused = RefusedStream<
      grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionEvents>>;
  absl::StatusOr<Caller> caller = auth_->Check(*context, kSubmitRole);
  if (!caller.ok()) return new Refused(caller.status());
  absl::StatusOr<std::string> key = auth_->OpenStream(*context, *caller);
  if (!key.ok()) return new Refused(key.status());
  std::string submitter = Submitter(*context, *caller);
  auto stream = std::make_shared<SessionStream>(
      host_, auth_, *std::move(caller), *std::move(key), std::move(submitter));
  stream->Start();
  return stream.get();
}

absl::StatusOr<JobStatus> CoordinatorService::Visible(const Caller& caller,
                                                      uint64_t job,
                                                      bool with_recent_chunks,
                                                      TaskPage tasks) {
  absl::StatusOr<JobStatus> status = host_->Get(job, with_recent_chunks, tasks);
  if (!status.ok() || caller.Owns(status->spec->submitted_by)) return status;
  return absl::PermissionDeniedError(
      absl::StrCat("job ", job, " belongs to token ",
                   status->spec->submitted_by, "; token ", caller.name,
                   " may see and cancel only its own jobs (an admin token "
                   "may touch any)"));
}

}  // namespace pfor::coordinator
