#include "grpc_calls.h"

#include <iterator>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "pfor/common/grpc_credentials.h"
#include "pfor/common/merging_stream.h"
#include "pfor/common/rpc.h"
#include "pfor/common/wire.h"
#include "pfor/common/wire_buffer.h"
#include "pfor/common/wire_job.h"
#include "pfor/v1/coordinator.grpc.pb.h"

namespace pfor::internal {
namespace {

constexpr int kMaxMessageBytes = 64 << 20;

// What a session has queued to send: submits and follows.
struct SessionCalls {
  struct Submit {
    uint64_t call = 0;
    std::shared_ptr<const JobSpec> spec;
    bool follow = false;
  };
  struct Follow {
    uint64_t job = 0;
    absl::Duration progress_interval;
  };
  std::vector<Submit> submits;
  std::vector<Follow> follows;

  void Merge(SessionCalls&& other) {
    submits.insert(submits.end(),
                   std::make_move_iterator(other.submits.begin()),
                   std::make_move_iterator(other.submits.end()));
    follows.insert(follows.end(), other.follows.begin(), other.follows.end());
  }
  bool empty() const { return submits.empty() && follows.empty(); }
};

class GrpcSession final
    : public MergingStream<
          grpc::ClientBidiReactor<v1::SessionRequest, v1::SessionEvents>,
          SessionCalls, v1::SessionRequest>,
      public Session {
 public:
  explicit GrpcSession(SessionHandler* handler) : handler_(handler) {}

  void Open(v1::Coordinator::Stub& stub, const std::string& token) {
    AddCallMetadata(context_, token);
    stub.async()->Session(&context_, this);
    StartRead(incoming_.get());
    // Calls are written from any thread at any time; the hold keeps OnDone
    // away until the read side has ended.
    AddHold();
    StartCall();
  }

  // Session
  void Submit(uint64_t call, std::shared_ptr<const JobSpec> spec,
              bool follow) override {
    SessionCalls calls;
    calls.submits.push_back({call, std::move(spec), follow});
    Write(std::move(calls));
  }
  void Follow(uint64_t job, absl::Duration progress_interval) override {
    SessionCalls calls;
    calls.follows.push_back({job, progress_interval});
    Write(std::move(calls));
  }
  void Close() override { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      if (gate_.ReadsEnded()) RemoveHold();
      return;
    }
    for (const v1::SubmitAnswer& answer : incoming_->submitted()) {
      if (answer.has_job()) {
        handler_->OnSubmitted(answer.call_id(), FromProto(answer.job()));
      } else {
        handler_->OnSubmitted(
            answer.call_id(),
            absl::Status(static_cast<absl::StatusCode>(answer.error_code()),
                         answer.error_message()));
      }
    }
    if (incoming_->events_size() > 0) {
      std::vector<JobEvent> events;
      events.reserve(incoming_->events_size());
      for (const v1::JobEvent& event : incoming_->events()) {
        absl::StatusOr<JobEvent> decoded = FromProto(event);
        if (decoded.ok()) events.push_back(*std::move(decoded));
      }
      handler_->OnEvents(std::move(events));
    }
    StartRead(&incoming_.Reset());
  }

  void OnDone(const grpc::Status& status) override {
    Abandon();
    handler_->OnClosed(FromGrpcStatus(status));
  }

 private:
  // Writes come from the client's threads, outside gRPC's reactions.
  void Write(SessionCalls calls) {
    if (!gate_.Enter()) return;
    if (Queue(std::move(calls))) WriteQueued();
    if (gate_.Leave()) RemoveHold();
  }

  void Encode(SessionCalls calls, v1::SessionRequest& out) override {
    for (SessionCalls::Submit& submit : calls.submits) {
      v1::SubmitCall* call = out.add_submit();
      call->set_call_id(submit.call);
      ToProto(*submit.spec, *call->mutable_spec());
      call->set_follow(submit.follow);
    }
    for (const SessionCalls::Follow& follow : calls.follows) {
      v1::FollowCall* call = out.add_follow();
      call->set_job_id(follow.job);
      if (follow.progress_interval > absl::ZeroDuration()) {
        *call->mutable_progress_interval() = ToProto(follow.progress_interval);
      }
    }
  }
  // Clients never half-close a session; they cancel it.
  void EndWrites() override {}

  SessionHandler* const handler_;
  grpc::ClientContext context_;
  WireBuffer<v1::SessionEvents> incoming_;
  WriterGate gate_;
};

class GrpcCalls final : public CoordinatorCalls {
 public:
  GrpcCalls(std::string address, absl::Duration timeout,
            Credentials credentials,
            std::shared_ptr<grpc::ChannelCredentials> channel_credentials)
      : address_(std::move(address)),
        timeout_(timeout),
        credentials_(std::move(credentials)) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(kMaxMessageBytes);
    arguments.SetMaxSendMessageSize(kMaxMessageBytes);
    stub_ = v1::Coordinator::NewStub(
        grpc::CreateCustomChannel(address_, channel_credentials, arguments));
  }

  absl::StatusOr<JobStatus> Submit(const JobSpec& spec) override {
    v1::SubmitJobRequest request;
    *request.mutable_spec() = ToProto(spec);
    absl::StatusOr<v1::SubmitJobResponse> response =
        Call<v1::SubmitJobResponse>(&v1::Coordinator::Stub::SubmitJob, request);
    if (!response.ok()) return response.status();
    return FromProto(response->job());
  }

  absl::StatusOr<JobStatus> Get(uint64_t job, bool with_recent_chunks,
                                TaskPage tasks) override {
    v1::GetJobRequest request;
    request.set_job_id(job);
    request.set_first_task(tasks.first);
    request.set_max_tasks(tasks.count);
    (void)with_recent_chunks;  // GetJob always includes them
    absl::StatusOr<v1::Job> response =
        Call<v1::Job>(&v1::Coordinator::Stub::GetJob, request);
    if (!response.ok()) return response.status();
    return FromProto(*response);
  }

  absl::StatusOr<JobStatus> Cancel(uint64_t job, bool only_if_queued) override {
    v1::CancelJobRequest request;
    request.set_job_id(job);
    request.set_only_if_queued(only_if_queued);
    absl::StatusOr<v1::Job> response =
        Call<v1::Job>(&v1::Coordinator::Stub::CancelJob, request);
    if (!response.ok()) return response.status();
    return FromProto(*response);
  }

  absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit) override {
    v1::ListJobsRequest request;
    request.set_limit(limit);
    absl::StatusOr<v1::ListJobsResponse> response =
        Call<v1::ListJobsResponse>(&v1::Coordinator::Stub::ListJobs, request);
    if (!response.ok()) return response.status();
    std::vector<JobStatus> jobs;
    for (const v1::Job& job : response->jobs()) {
      absl::StatusOr<JobStatus> decoded = FromProto(job);
      if (!decoded.ok()) return decoded.status();
      jobs.push_back(*std::move(decoded));
    }
    return jobs;
  }

  absl::StatusOr<std::vector<WorkerStatus>> ListWorkers() override {
    absl::StatusOr<v1::ListWorkersResponse> response =
        Call<v1::ListWorkersResponse>(&v1::Coordinator::Stub::ListWorkers,
                                      v1::ListWorkersRequest());
    if (!response.ok()) return response.status();
    std::vector<WorkerStatus> workers;
    for (const v1::WorkerInfo& worker : response->workers()) {
      workers.push_back(FromProto(worker));
    }
    return workers;
  }

  absl::StatusOr<std::vector<KernelInfo>> ListKernels() override {
    absl::StatusOr<v1::ListKernelsResponse> response =
        Call<v1::ListKernelsResponse>(&v1::Coordinator::Stub::ListKernels,
                                      v1::ListKernelsRequest());
    if (!response.ok()) return response.status();
    std::vector<KernelInfo> kernels;
    for (const v1::KernelInfo& kernel : response->kernels()) {
      absl::StatusOr<KernelInfo> decoded = FromProto(kernel);
      if (!decoded.ok()) return decoded.status();
      kernels.push_back(*std::move(decoded));
    }
    return kernels;
  }

  std::shared_ptr<Session> OpenSession(SessionHandler* handler) override {
    auto session = std::make_shared<GrpcSession>(handler);
    session->Open(*stub_, credentials_.token);
    return session;
  }

 private:
  // One unary call with the client's deadline; transport errors become
  // messages that say what to do.
  template <typename Response, typename Method, typename Request>
  absl::StatusOr<Response> Call(Method method, const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    AddCallMetadata(context, credentials_.token);
    Response response;
    const grpc::Status status =
        ((*stub_).*method)(&context, request, &response);
    if (status.ok()) return response;
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      return absl::UnavailableError(
          DescribeUnavailable(status, address_, credentials_.tls));
    }
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
        absl::StrContains(status.error_message(), "larger than max")) {
      return absl::ResourceExhaustedError(absl::StrCat(
          status.error_message(),
          "; the coordinator's --max-message-size bounds every message: "
          "split the job into smaller ones"));
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the coordinator at ", address_, " did not answer within ",
          absl::FormatDuration(timeout_),
          "; check that pfor-coordinator runs there and can be reached, or "
          "pass a longer --timeout"));
    }
    return FromGrpcStatus(status);
  }

  const std::string address_;
  const absl::Duration timeout_;
  const Credentials credentials_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CoordinatorCalls>> NewGrpcCalls(
    const std::string& address, absl::Duration timeout,
    const Credentials& credentials) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> channel =
      MakeChannelCredentials(credentials.tls);
  if (!channel.ok()) return channel.status();
  return std::make_unique<GrpcCalls>(address, timeout, credentials,
                                     *std::move(channel));
}

}  // namespace pfor::internal
