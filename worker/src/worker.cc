#include "pfor/worker/worker.h"

#include <unistd.h>

#include <array>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "command_runner.h"
#include "grpcpp/grpcpp.h"
#include "kernel_call.h"
#include "link_session.h"
#include "pfor/common/wire.h"
#include "process_runner.h"
#include "slot_pool.h"

namespace pfor::worker {
namespace {

constexpr int kMaxThreads = 4096;
constexpr int kMaxMessageBytes = 64 << 20;

std::string DefaultName() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

std::shared_ptr<grpc::Channel> Dial(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxMessageBytes);
  arguments.SetMaxSendMessageSize(kMaxMessageBytes);
  // Notice a vanished coordinator even when no chunk is running.
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Our own backoff decides when to redial.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1'000);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   arguments);
}

}  // namespace

class Worker::Impl final : public LinkSession::Handler {
 public:
  explicit Impl(WorkerOptions options)
      : options_(std::move(options)),
        kernels_(options_.kernels != nullptr ? *options_.kernels
                                             : KernelRegistry::Global()),
        stub_(v1::WorkerLink::NewStub(options_.channel != nullptr
                                          ? options_.channel
                                          : Dial(options_.coordinator))),
        slots_{options_.threads, options_.processes, options_.commands} {
    auto report = [this](ChunkOutcome outcome) {
      OnOutcome(std::move(outcome));
    };
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if (slots_[kind] == 0) continue;
      // A prefetch per executor, so a slot never waits on a round trip.
      wanted_[kind] =
          slots_[kind] +
          (options_.prefetch < 0 ? slots_[kind] : options_.prefetch);
      pools_[kind] =
          std::make_unique<SlotPool>(slots_[kind], NewRunner(kind), report);
    }
    supervisor_ = std::thread([this] { Supervise(); });
  }

  ~Impl() override { Stop(); }

  int slots() const { return slots_[0] + slots_[1] + slots_[2]; }

  bool connected() const {
    absl::MutexLock lock(&mu_);
    return welcomed_;
  }

  void Drain(absl::Duration grace) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ || draining_) return;
      draining_ = true;
      v1::WorkerMessage message;
      message.set_draining(true);
      for (auto& pool : pools_) {
        if (pool == nullptr) continue;
        for (const ChunkTask& task : pool->TakeQueued()) {
          v1::ChunkRef* ref = message.add_released();
          ref->set_job_id(task.job->id);
          ref->set_begin(task.begin);
          ref->set_attempt(task.attempt);
        }
      }
      SendLocked(message);
      Log(absl::StrCat("draining: gave back ", message.released_size(),
                       " queued chunks, waiting for ", Running(), " running"));
      const absl::Time deadline = absl::Now() + grace;
      // Every started chunk reported, not just finished: a result sent
      // after CloseWrites would be lost.
      auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        int unreported = 0;
        ForEachPool([&](SlotPool& pool) { unreported += pool.Unreported(); });
        return unreported == 0 || session_ == nullptr;
      };
      while (!idle() && absl::Now() < deadline) {
        mu_.AwaitWithDeadline(
            absl::Condition(&idle),
            std::min(deadline, absl::Now() + absl::Milliseconds(20)));
      }
      if (session_ != nullptr) session_->CloseWrites();
      // The coordinator ends the stream once it has read everything.
      auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return session_ == nullptr;
      };
      mu_.AwaitWithTimeout(absl::Condition(&closed), absl::Seconds(2));
    }
    Stop();
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        mu_.Await(absl::Condition(&stopped_));
        return;
      }
      stopping_ = true;
      if (session_ != nullptr) session_->Cancel();
    }
    supervisor_.join();
    ForEachPool([](SlotPool& pool) { pool.CancelAll(); });
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }

  // LinkSession::Handler
  void OnMessage(const v1::CoordinatorMessage& message) override {
    absl::MutexLock lock(&mu_);
    if (message.has_welcome()) {
      welcomed_ = true;
      heartbeat_interval_ =
          std::max(absl::Milliseconds(50),
                   FromProto(message.welcome().heartbeat_interval()));
      Log(absl::StrCat("connected as worker ", message.welcome().worker_id(),
                       " with ", slots_[0], " threads, ", slots_[1],
                       " processes and ", slots_[2], " command slots"));
    }
    for (const v1::JobDefinition& definition : message.jobs())
      AddJobLocked(definition);
    v1::WorkerMessage released;
    for (const v1::ChunkAssignment& chunk : message.chunks()) {
      const v1::ChunkRef& ref = chunk.chunk();
      // Sent before the coordinator read that this worker drains: give it
      // back untouched.
      if (draining_) {
        *released.add_released() = ref;
        continue;
      }
      auto job = jobs_.find(ref.job_id());
      // The coordinator always defines a job before its first chunk, and
      // sends chunks only to executors the worker announced.
      const int kind = job == jobs_.end()
                           ? -1
                           : ExecutorIndex(job->second->definition.executor());
      if (kind < 0 || pools_[kind] == nullptr) {
        ReportLocked(
            {ref.job_id(), ref.begin(), ref.attempt(),
             absl::InternalError("this worker was sent a chunk it cannot run"),
             absl::ZeroDuration()});
        continue;
      }
      asked_[kind] = std::max(0, asked_[kind] - 1);
      pools_[kind]->Submit({job->second,
                            ref.begin(),
                            chunk.end(),
                            ref.attempt(),
                            chunk.index(),
                            {chunk.tasks().begin(), chunk.tasks().end()}});
    }
    if (released.released_size() > 0) SendLocked(released);
    for (uint64_t job : message.ended_jobs()) {
      ForEachPool([job](SlotPool& pool) { pool.CancelJob(job); });
      jobs_.erase(job);
    }
    for (const v1::ChunkRef& ref : message.cancelled_chunks()) {
      ForEachPool([&ref](SlotPool& pool) {
        pool.CancelAttempt(ref.job_id(), ref.begin(), ref.attempt());
      });
    }
    v1::WorkerMessage credits;
    AddCreditsLocked(credits);
    if (credits.credits_size() > 0) SendLocked(credits);
  }

  void OnClosed(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    close_status_ = status;
    // Kept, so that the last session goes with the worker, on its thread:
    // destroyed on a gRPC thread after the stub, it could drop the channel's
    // last reference there, which gRPC 1.51 does not survive.
    ended_session_ = std::move(session_);
  }

 private:
  void Log(const std::string& line) {
    if (options_.log) options_.log(line);
  }

  std::unique_ptr<ChunkRunner> NewRunner(int kind) const {
    switch (kind) {
      case 1:
        return NewProcessRunner(
            {.helper_path = options_.helper_path.empty() ? DefaultHelperPath()
                                                         : options_.helper_path,
             .plugins = options_.plugins,
             .memory_limit_bytes = options_.helper_memory_limit_bytes});
      case 2:
        return NewCommandRunner();
      default:
        return NewInProcessRunner();
    }
  }

  template <typename F>
  void ForEachPool(F f) {
    for (auto& pool : pools_) {
      if (pool != nullptr) f(*pool);
    }
  }

  bool RunsInHelper(const std::string& kernel) const {
    const std::vector<std::string>& names = options_.helper_kernels;
    return names.empty() ||
           std::find(names.begin(), names.end(), kernel) != names.end();
  }

  int Running() const {
    int running = 0;
    for (const auto& pool : pools_) running += pool ? pool->Running() : 0;
    return running;
  }

  void AddJobLocked(const v1::JobDefinition& definition)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto job = std::make_shared<JobContext>();
    job->id = definition.job_id();
    job->definition = definition;
    if (definition.has_chunk_timeout()) {
      job->chunk_timeout = FromProto(definition.chunk_timeout());
    }
    job->kernel_name = definition.kernel();
    job->kernel = kernels_.Find(definition.kernel());
    absl::StatusOr<std::map<std::string, ParamValue>> params =
        FromProto(definition.params());
    if (params.ok()) job->params = Params(*std::move(params));
    job->reduction = FromProto(definition.reduction());
    job->begin = definition.begin();
    job->end = definition.end();
    jobs_[job->id] = std::move(job);
  }

  void OnOutcome(ChunkOutcome outcome) {
    absl::MutexLock lock(&mu_);
    ReportLocked(std::move(outcome));
  }

  void ReportLocked(ChunkOutcome outcome) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // Without a stream the coordinator has requeued the chunk already.
    if (session_ == nullptr) return;
    v1::WorkerMessage message;
    v1::ChunkResult* result = message.add_results();
    result->mutable_chunk()->set_job_id(outcome.job);
    result->mutable_chunk()->set_begin(outcome.begin);
    result->mutable_chunk()->set_attempt(outcome.attempt);
    *result->mutable_duration() = ToProto(outcome.kernel_time);
    if (outcome.value.ok()) {
      *result->mutable_value() = *std::move(outcome.value);
    } else {
      result->set_error(std::string(outcome.value.status().message()));
    }
    AddCreditsLocked(message);
    SendLocked(message);
  }

  // Asks, per executor, for what brings queued + running + asked up to
  // slots + prefetch.
  void AddCreditsLocked(v1::WorkerMessage& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (draining_ || session_ == nullptr) return;
    AskLocked(message);
  }

  void AskLocked(v1::WorkerMessage& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if (pools_[kind] == nullptr) continue;
      const int missing = wanted_[kind] - pools_[kind]->Load() - asked_[kind];
      if (missing <= 0) continue;
      asked_[kind] += missing;
      v1::ExecutorSlots* credits = message.add_credits();
      credits->set_kind(ExecutorAt(kind));
      credits->set_slots(missing);
    }
  }

  void SendLocked(const v1::WorkerMessage& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (session_ == nullptr) return;
    session_->Send(message);
    last_send_ = absl::Now();
  }

  // Dials, heartbeats while connected, and redials with backoff.
  void Supervise() {
    std::mt19937 rng(std::random_device{}());
    absl::Duration backoff = options_.reconnect_min;
    absl::MutexLock lock(&mu_);
    while (!stopping_ && !draining_) {
      v1::WorkerMessage hello;
      v1::Hello* h = hello.mutable_hello();
      h->set_name(options_.name);
      for (int kind = 0; kind < kExecutorKinds; ++kind) {
        if (slots_[kind] == 0) continue;
        v1::ExecutorSlots* executor = h->add_executors();
        executor->set_kind(ExecutorAt(kind));
        executor->set_slots(slots_[kind]);
      }
      h->set_version(PFOR_VERSION);
      for (const KernelDef* kernel : kernels_.List()) {
        v1::KernelInfo* info = h->add_kernels();
        info->set_name(kernel->name);
        info->set_help(kernel->help);
        *info->mutable_params() = ToProto(kernel->params);
        info->add_executors(v1::EXECUTOR_KIND_THREADS);
        if (RunsInHelper(kernel->name)) {
          info->add_executors(v1::EXECUTOR_KIND_PROCESSES);
        }
      }
      welcomed_ = false;
      asked_.fill(0);
      AskLocked(hello);
      session_ = LinkSession::Open(*stub_, std::move(hello), this);
      last_send_ = absl::Now();

      // Heartbeats until the stream ends.
      auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return session_ == nullptr;
      };
      while (!mu_.AwaitWithTimeout(absl::Condition(&closed),
                                   heartbeat_interval_ / 2)) {
        if (absl::Now() - last_send_ >= heartbeat_interval_)
          SendLocked(v1::WorkerMessage());
      }
      // Whatever is held was requeued by the coordinator.
      ForEachPool([](SlotPool& pool) { pool.CancelAll(); });
      jobs_.clear();
      if (stopping_ || draining_) break;
      if (welcomed_) {
        backoff = options_.reconnect_min;
        Log(absl::StrCat("lost the coordinator (",
                         close_status_.error_message(), "); redialing"));
      } else if (backoff == options_.reconnect_min) {
        Log(absl::StrCat("cannot reach the coordinator (",
                         close_status_.error_message(),
                         "); retrying with backoff up to ",
                         absl::FormatDuration(options_.reconnect_max)));
      }
      welcomed_ = false;
      // Full jitter spreads the redials of many workers.
      const absl::Duration wait =
          backoff * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || draining_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&stop), wait);
      backoff = std::min(backoff * 2, options_.reconnect_max);
    }
  }

  const WorkerOptions options_;
  const KernelRegistry& kernels_;
  std::unique_ptr<v1::WorkerLink::Stub> stub_;
  // Per executor (threads, processes, command): slots, and chunks wanted.
  const std::array<int, kExecutorKinds> slots_;
  std::array<int, kExecutorKinds> wanted_{};
  std::array<std::unique_ptr<SlotPool>, kExecutorKinds> pools_;
  std::thread supervisor_;

  mutable absl::Mutex mu_;
  std::shared_ptr<LinkSession> session_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<LinkSession> ended_session_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::shared_ptr<const JobContext>> jobs_
      ABSL_GUARDED_BY(mu_);
  std::array<int, kExecutorKinds> asked_ ABSL_GUARDED_BY(mu_){};
  bool welcomed_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_) = absl::Seconds(1);
  absl::Time last_send_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  grpc::Status close_status_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<Worker>> Worker::Start(WorkerOptions options) {
  if (options.channel == nullptr && options.coordinator.empty()) {
    return absl::InvalidArgumentError(
        "no coordinator address; pass --coordinator HOST:PORT or set "
        "PFOR_COORDINATOR");
  }
  const int cores =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (options.threads == 0) options.threads = cores;
  if (options.processes == 0) options.processes = cores;
  if (options.processes == -1) options.processes = 0;
  for (const auto& [flag, slots] : {std::pair{"--threads", options.threads},
                                    {"--processes", options.processes},
                                    {"--command-slots", options.commands}}) {
    if (slots < 0 || slots > kMaxThreads) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " ", slots, " is out of range; pass 0 to ", kMaxThreads));
    }
  }
  if (options.threads + options.processes + options.commands == 0) {
    return absl::InvalidArgumentError("the worker has no slots at all");
  }
  if (options.name.empty()) options.name = DefaultName();
  if (options.reconnect_min <= absl::ZeroDuration() ||
      options.reconnect_max < options.reconnect_min) {
    return absl::InvalidArgumentError(
        "reconnect backoff must be positive and min <= max");
  }
  return std::unique_ptr<Worker>(
      new Worker(std::make_unique<Impl>(std::move(options))));
}

Worker::Worker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Worker::~Worker() = default;
void Worker::Drain(absl::Duration grace) { impl_->Drain(grace); }
void Worker::Stop() { impl_->Stop(); }
int Worker::slots() const { return impl_->slots(); }
bool Worker::connected() const { return impl_->connected(); }

}  // namespace pfor::worker
