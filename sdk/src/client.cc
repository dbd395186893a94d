#include "pfor/client.h"

#include <cstdlib>
#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client_internal.h"
#include "follower.h"
#include "grpcpp/grpcpp.h"
#include "local_cluster.h"
#include "pfor/common/rpc.h"
#include "pfor/common/wire.h"
#include "pfor/v1/coordinator.grpc.pb.h"

namespace pfor {
namespace {

constexpr int kMaxMessageBytes = 64 << 20;

JobState FromProto(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_RUNNING:
      return JobState::kRunning;
    case v1::JOB_STATE_SUCCEEDED:
      return JobState::kSucceeded;
    case v1::JOB_STATE_FAILED:
      return JobState::kFailed;
    case v1::JOB_STATE_CANCELLED:
      return JobState::kCancelled;
    default:
      return JobState::kQueued;
  }
}

v1::JobSpec ToSpec(const JobRequest& request) {
  v1::JobSpec spec;
  spec.set_kernel(request.kernel);
  spec.set_begin(request.begin);
  spec.set_end(request.end);
  ToProto(request.params, *spec.mutable_params());
  switch (request.chunks.kind) {
    case ChunkPolicy::Kind::kFixed:
      spec.mutable_chunking()->set_fixed_size(request.chunks.value);
      break;
    case ChunkPolicy::Kind::kCount:
      spec.mutable_chunking()->set_chunk_count(request.chunks.value);
      break;
    case ChunkPolicy::Kind::kAuto:
      *spec.mutable_chunking()->mutable_auto_size()->mutable_target() =
          ToProto(request.chunks.target);
      break;
  }
  spec.set_reduction(ToProto(request.reduction));
  spec.set_executor(
      request.executor == ExecutorKind::kProcesses ? v1::EXECUTOR_KIND_PROCESSES
      : request.executor == ExecutorKind::kCommand ? v1::EXECUTOR_KIND_COMMAND
                                                   : v1::EXECUTOR_KIND_THREADS);
  for (const Task& task : request.tasks) {
    v1::Task* out = spec.add_tasks();
    out->set_begin(task.range.begin);
    out->set_end(task.range.end);
    ToProto(task.params, *out->mutable_params());
  }
  spec.set_max_parallel(request.max_parallel);
  if (request.executor == ExecutorKind::kCommand) {
    v1::CommandSpec* command = spec.mutable_command();
    for (const std::string& arg : request.command.argv) command->add_argv(arg);
    command->set_shell(request.command.shell);
    command->set_output(static_cast<v1::CommandSpec::Output>(
        static_cast<int>(request.command.output)));
  }
  spec.set_name(request.name);
  spec.mutable_retry()->set_max_attempts(request.max_attempts);
  if (request.chunk_timeout != absl::InfiniteDuration()) {
    *spec.mutable_retry()->mutable_chunk_timeout() =
        ToProto(request.chunk_timeout);
  }
  return spec;
}

JobRequest FromSpec(const v1::JobSpec& spec) {
  JobRequest request;
  request.kernel = spec.kernel();
  request.begin = spec.begin();
  request.end = spec.end();
  if (auto params = pfor::FromProto(spec.params()); params.ok())
    request.params = *params;
  switch (spec.chunking().policy_case()) {
    case v1::ChunkPolicy::kFixedSize:
      request.chunks = ChunkPolicy::Fixed(spec.chunking().fixed_size());
      break;
    case v1::ChunkPolicy::kChunkCount:
      request.chunks = ChunkPolicy::Count(spec.chunking().chunk_count());
      break;
    default:
      if (spec.chunking().auto_size().has_target()) {
        request.chunks = ChunkPolicy::Auto(
            pfor::FromProto(spec.chunking().auto_size().target()));
      }
  }
  request.reduction = pfor::FromProto(spec.reduction());
  switch (spec.executor()) {
    case v1::EXECUTOR_KIND_PROCESSES:
      request.executor = ExecutorKind::kProcesses;
      break;
    case v1::EXECUTOR_KIND_COMMAND:
      request.executor = ExecutorKind::kCommand;
      break;
    default:
      request.executor = ExecutorKind::kThreads;
  }
  request.command.argv.assign(spec.command().argv().begin(),
                              spec.command().argv().end());
  request.command.shell = spec.command().shell();
  request.command.output =
      static_cast<Command::Output>(static_cast<int>(spec.command().output()));
  for (const v1::Task& task : spec.tasks()) {
    Task out{{task.begin(), task.end()}, {}};
    if (auto params = pfor::FromProto(task.params()); params.ok()) {
      out.params = *std::move(params);
    }
    request.tasks.push_back(std::move(out));
  }
  request.max_parallel = spec.max_parallel();
  request.name = spec.name();
  request.max_attempts = spec.retry().max_attempts();
  if (spec.retry().has_chunk_timeout()) {
    request.chunk_timeout = pfor::FromProto(spec.retry().chunk_timeout());
  }
  return request;
}

absl::Time TimeOrPast(bool present, const google::protobuf::Timestamp& time) {
  return present ? pfor::FromProto(time) : absl::InfinitePast();
}

}  // namespace

namespace internal {

absl::StatusOr<Value> TaskValue(const v1::TaskResult& result) {
  if (!result.error().empty()) return absl::UnknownError(result.error());
  return pfor::FromProto(result.value());
}

JobStatus FromJob(const v1::Job& job) {
  JobStatus status;
  status.id = job.id();
  status.request = FromSpec(job.spec());
  status.state = FromProto(job.state());
  status.indices_total = job.progress().indices_total();
  status.indices_done = job.progress().indices_done();
  status.chunks_done = job.progress().chunks_done();
  status.chunks_in_flight = job.progress().chunks_in_flight();
  status.attempts_failed = job.progress().attempts_failed();
  status.chunks_requeued = job.progress().chunks_requeued();
  status.rate = job.progress().rate();
  if (job.result().has_tasks()) {
    for (const v1::TaskResult& result : job.result().tasks().results()) {
      status.task_results.push_back(TaskValue(result));
    }
  } else if (job.result().has_chunks()) {
    for (const v1::ChunkValue& chunk : job.result().chunks().values()) {
      if (auto value = pfor::FromProto(chunk.value()); value.ok()) {
        status.chunk_values.push_back({chunk.begin(), chunk.end(), *value});
      }
    }
  } else if (job.has_result()) {
    if (auto value = pfor::FromProto(job.result()); value.ok())
      status.value = *value;
  }
  status.error = job.error();
  status.waiting_reason = job.waiting_reason();
  status.submit_time = TimeOrPast(job.has_submit_time(), job.submit_time());
  status.start_time = TimeOrPast(job.has_start_time(), job.start_time());
  status.end_time = TimeOrPast(job.has_end_time(), job.end_time());
  for (const v1::ChunkRecord& record : job.recent_chunks()) {
    status.recent_chunks.push_back(
        {record.begin(), record.end(), record.attempt(), record.worker(),
         pfor::FromProto(record.duration()), record.error()});
  }
  return status;
}

}  // namespace internal

namespace {

// Follows WatchJob with the callback API; the waiting thread takes the
// states from a queue.
class JobWatch final : public grpc::ClientReadReactor<v1::Job> {
 public:
  JobWatch(v1::Coordinator::Stub& stub, uint64_t job, absl::Duration interval) {
    request_.set_job_id(job);
    *request_.mutable_interval() = ToProto(interval);
    stub.async()->WatchJob(&context_, &request_, this);
    StartRead(&incoming_);
    StartCall();
  }

  // The next state, or the stream's final status once it has ended.
  std::variant<v1::Job, grpc::Status> Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](JobWatch* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
          return !self->states_.empty() || self->done_;
        },
        this));
    if (!states_.empty()) {
      v1::Job job = std::move(states_.front());
      states_.pop_front();
      return job;
    }
    return status_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows with the status
    {
      absl::MutexLock lock(&mu_);
      states_.push_back(incoming_);
    }
    StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  // Blocks until the stream has ended, after cancelling it.
  ~JobWatch() override {
    context_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

 private:
  grpc::ClientContext context_;
  v1::WatchJobRequest request_;
  v1::Job incoming_;
  absl::Mutex mu_;
  std::deque<v1::Job> states_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

class Client::Impl {
 public:
  Impl(std::string target, std::unique_ptr<LocalCluster> cluster,
       std::shared_ptr<grpc::Channel> channel, const ClientOptions& options)
      : target_(std::move(target)),
        cluster_(std::move(cluster)),
        stub_(v1::Coordinator::NewStub(std::move(channel))),
        timeout_(options.timeout),
        reconnect_timeout_(options.reconnect_timeout) {}

  bool embedded() const { return cluster_ != nullptr; }
  const std::string& target() const { return target_; }

  // Runs one unary call with the client's deadline; turns transport errors
  // into messages that say what to do.
  template <typename Request, typename Response, typename Method>
  absl::StatusOr<Response> Call(Method method, const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    Response response;
    grpc::Status status = ((*stub_).*method)(&context, request, &response);
    if (!status.ok()) return Explain(status);
    return response;
  }

  absl::Status Explain(const grpc::Status& status) const {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE && !embedded()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot reach the coordinator at ", target_, " (",
          status.error_message(),
          "); start pfor-coordinator there, or pass --coordinator HOST:PORT"));
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the coordinator at ", target_, " did not answer within ",
          absl::FormatDuration(timeout_)));
    }
    return FromGrpcStatus(status);
  }

  v1::Coordinator::Stub& stub() { return *stub_; }

  internal::Follower& follower() {
    std::lock_guard lock(follower_mu_);
    if (follower_ == nullptr) {
      follower_ =
          std::make_unique<internal::Follower>(*stub_, reconnect_timeout_);
    }
    return *follower_;
  }

 private:
  std::string target_;
  // Declared before the stub, so the stub goes first.
  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  absl::Duration timeout_;
  absl::Duration reconnect_timeout_;
  std::mutex follower_mu_;
  // Declared last so it goes first: it uses the stub.
  std::unique_ptr<internal::Follower> follower_;
};

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("client timeout must be positive");
  }
  if (options.reconnect_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "reconnect timeout must not be negative; 0 fails futures at once "
        "when the coordinator is lost");
  }
  std::string address = options.coordinator;
  if (address.empty()) {
    const char* env = std::getenv("PFOR_COORDINATOR");
    if (env != nullptr) address = env;
  }
  if (address.empty()) {
    absl::StatusOr<std::unique_ptr<LocalCluster>> cluster =
        LocalCluster::Start(options.embedded_threads);
    if (!cluster.ok()) return cluster.status();
    std::shared_ptr<grpc::Channel> channel = (*cluster)->channel();
    return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(
        "embedded", *std::move(cluster), channel, options)));
  }
  if (address.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("coordinator address '", address,
                     "' has no port; pass HOST:PORT, such as 127.0.0.1:7070"));
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxMessageBytes);
  arguments.SetMaxSendMessageSize(kMaxMessageBytes);
  auto channel = grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), arguments);
  return std::unique_ptr<Client>(
      new Client(std::make_unique<Impl>(address, nullptr, channel, options)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

namespace internal {
Follower& FollowerOf(Client& client) { return client.impl_->follower(); }
}  // namespace internal
Client::~Client() = default;

bool Client::embedded() const { return impl_->embedded(); }
std::string Client::target() const { return impl_->target(); }

absl::StatusOr<JobStatus> Client::Submit(const JobRequest& request) {
  v1::SubmitJobRequest call;
  *call.mutable_spec() = ToSpec(request);
  auto response = impl_->Call<v1::SubmitJobRequest, v1::SubmitJobResponse>(
      &v1::Coordinator::Stub::SubmitJob, call);
  if (!response.ok()) return response.status();
  return internal::FromJob(response->job());
}

absl::StatusOr<JobStatus> Client::Get(uint64_t job) {
  v1::GetJobRequest call;
  call.set_job_id(job);
  auto response = impl_->Call<v1::GetJobRequest, v1::Job>(
      &v1::Coordinator::Stub::GetJob, call);
  if (!response.ok()) return response.status();
  return internal::FromJob(*response);
}

absl::StatusOr<JobStatus> Client::Cancel(uint64_t job) {
  v1::CancelJobRequest call;
  call.set_job_id(job);
  auto response = impl_->Call<v1::CancelJobRequest, v1::Job>(
      &v1::Coordinator::Stub::CancelJob, call);
  if (!response.ok()) return response.status();
  return internal::FromJob(*response);
}

absl::StatusOr<JobStatus> Client::Wait(
    uint64_t job, const std::function<void(const JobStatus&)>& on_update,
    absl::Duration interval) {
  // A coordinator with a journal comes back with its jobs after a restart:
  // keep watching through outages up to this long.
  constexpr absl::Duration kOutageLimit = absl::Seconds(60);
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Time outage_start = absl::InfiniteFuture();
  std::optional<JobStatus> last;
  while (true) {
    grpc::Status status;
    {
      JobWatch watch(impl_->stub(), job, interval);
      while (true) {
        std::variant<v1::Job, grpc::Status> next = watch.Next();
        if (auto* state = std::get_if<v1::Job>(&next)) {
          outage_start = absl::InfiniteFuture();
          backoff = absl::Milliseconds(100);
          last = internal::FromJob(*state);
          if (on_update) on_update(*last);
          continue;
        }
        status = std::get<grpc::Status>(next);
        break;
      }
    }
    if (last && last->finished()) return *last;
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
        impl_->embedded()) {
      if (!status.ok()) return impl_->Explain(status);
      return absl::UnavailableError(
          absl::StrCat("the coordinator ended the watch of job ", job,
                       " before it finished"));
    }
    const absl::Time now = absl::Now();
    outage_start = std::min(outage_start, now);
    if (now - outage_start > kOutageLimit) return impl_->Explain(status);
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

absl::StatusOr<JobStatus> Client::Run(
    const JobRequest& request,
    const std::function<void(const JobStatus&)>& on_update) {
  absl::StatusOr<JobStatus> submitted = Submit(request);
  if (!submitted.ok()) return submitted.status();
  return Wait(submitted->id, on_update);
}

absl::StatusOr<std::vector<JobStatus>> Client::ListJobs(int limit) {
  v1::ListJobsRequest call;
  call.set_limit(limit);
  auto response = impl_->Call<v1::ListJobsRequest, v1::ListJobsResponse>(
      &v1::Coordinator::Stub::ListJobs, call);
  if (!response.ok()) return response.status();
  std::vector<JobStatus> jobs;
  for (const v1::Job& job : response->jobs())
    jobs.push_back(internal::FromJob(job));
  return jobs;
}

absl::StatusOr<std::vector<WorkerStatus>> Client::ListWorkers() {
  auto response = impl_->Call<v1::ListWorkersRequest, v1::ListWorkersResponse>(
      &v1::Coordinator::Stub::ListWorkers, v1::ListWorkersRequest());
  if (!response.ok()) return response.status();
  std::vector<WorkerStatus> workers;
  for (const v1::WorkerInfo& info : response->workers()) {
    WorkerStatus worker;
    worker.id = info.id();
    worker.name = info.name();
    worker.peer = info.peer();
    worker.slots = info.slots();
    for (const v1::ExecutorSlots& executor : info.executors()) {
      int& slots =
          executor.kind() == v1::EXECUTOR_KIND_PROCESSES ? worker.process_slots
          : executor.kind() == v1::EXECUTOR_KIND_COMMAND ? worker.command_slots
                                                         : worker.thread_slots;
      slots += executor.slots();
    }
    worker.chunks_in_flight = info.chunks_in_flight();
    worker.chunks_done = info.chunks_done();
    worker.connected_time = pfor::FromProto(info.connected_time());
    worker.since_last_message = pfor::FromProto(info.since_last_message());
    worker.kernels.assign(info.kernels().begin(), info.kernels().end());
    worker.draining = info.draining();
    worker.credits = info.credits();
    workers.push_back(std::move(worker));
  }
  return workers;
}

absl::StatusOr<std::vector<KernelInfo>> Client::ListKernels() {
  auto response = impl_->Call<v1::ListKernelsRequest, v1::ListKernelsResponse>(
      &v1::Coordinator::Stub::ListKernels, v1::ListKernelsRequest());
  if (!response.ok()) return response.status();
  std::vector<KernelInfo> kernels;
  for (const v1::KernelInfo& info : response->kernels()) {
    absl::StatusOr<std::vector<ParamSpec>> params =
        pfor::FromProto(info.params());
    if (!params.ok()) return params.status();
    kernels.push_back({info.name(), info.help(), *std::move(params)});
  }
  return kernels;
}

}  // namespace pfor
