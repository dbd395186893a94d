#include "worker_link_service.h"

#include "absl/strings/str_cat.h"
#include "merging_stream.h"
#include "pfor/common/rpc.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

constexpr size_t kMaxWorkerName = 256;
constexpr int kMaxKernels = 10000;

// One worker's stream. Reactions decode a message and apply it as one
// scheduler event; outbound messages merge while a write is in flight, so a
// busy link carries many chunks per message.
class WorkerSession final
    : public MergingStream<v1::WorkerMessage, v1::CoordinatorMessage>,
      public WorkerOutbox {
 public:
  WorkerSession(SchedulerHost* host, absl::Duration heartbeat_interval,
                std::string peer)
      : host_(host),
        heartbeat_interval_(heartbeat_interval),
        peer_(std::move(peer)) {
    StartRead(&incoming_);
  }

  void Send(v1::CoordinatorMessage message) override {
    absl::MutexLock lock(&mu_);
    v1::CoordinatorMessage* pending = PendingLocked();
    if (pending == nullptr) return;
    // Every field but the welcome is repeated, so merging concatenates.
    pending->MergeFrom(message);
    WriteLocked();
  }

  void Close(const std::string& reason) override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, reason));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The worker closed its side or the connection broke.
      Leave("stream closed");
      absl::MutexLock lock(&mu_);
      FinishLocked(grpc::Status::OK);
      return;
    }
    if (worker_id_ == 0) {
      if (absl::Status status = Join(); !status.ok()) {
        absl::MutexLock lock(&mu_);
        FinishLocked(ToGrpcStatus(status));
        return;
      }
    } else {
      Apply();
    }
    StartRead(&incoming_);
  }

  void OnDone() override {
    Leave("stream ended");
    delete this;
  }

 private:
  absl::Status Join() {
    if (!incoming_.has_hello()) {
      return absl::InvalidArgumentError(
          "the first message on a worker link must be a hello");
    }
    const v1::Hello& hello = incoming_.hello();
    if (hello.name().size() > kMaxWorkerName ||
        hello.kernels_size() > kMaxKernels) {
      return absl::InvalidArgumentError("worker hello is too large");
    }
    WorkerHello joined;
    joined.name = hello.name().empty() ? peer_ : hello.name();
    joined.peer = peer_;
    for (const v1::ExecutorSlots& executor : hello.executors()) {
      if (!v1::ExecutorKind_IsValid(executor.kind())) continue;
      joined.slots[ExecutorIndex(executor.kind())] += executor.slots();
    }
    joined.kernels.assign(hello.kernels().begin(), hello.kernels().end());
    const WorkerId id = host_->NextWorkerId();
    worker_id_ = id;
    v1::CoordinatorMessage welcome;
    welcome.mutable_welcome()->set_worker_id(id);
    *welcome.mutable_welcome()->mutable_heartbeat_interval() =
        ToProto(heartbeat_interval_);
    Send(std::move(welcome));
    // Registered before joining, so the first assignments find the outbox.
    host_->AddWorker(id, this);
    absl::Status status =
        host_->Apply([&](Scheduler& scheduler, absl::Time now) {
          absl::Status joined_status =
              scheduler.WorkerJoined(id, std::move(joined), now);
          if (joined_status.ok()) GrantCredits(scheduler, id, now);
          return joined_status;
        });
    if (!status.ok()) Leave("bad hello");
    return status;
  }

  void Apply() {
    const WorkerId id = worker_id_;
    host_->Apply([&](Scheduler& scheduler, absl::Time now) {
      scheduler.WorkerSeen(id, now);
      for (const v1::ChunkResult& result : incoming_.results()) {
        const AttemptKey key{result.chunk().job_id(), result.chunk().begin(),
                             result.chunk().attempt()};
        const absl::Duration kernel_time = FromProto(result.duration());
        if (!result.error().empty()) {
          scheduler.ChunkFailed(id, key, result.error(), kernel_time, now);
          continue;
        }
        // Task results are checked against the job when they are added.
        absl::Status well_formed = result.value().has_tasks()
                                       ? absl::OkStatus()
                                       : FromProto(result.value()).status();
        if (well_formed.ok()) {
          scheduler.ChunkSucceeded(id, key, result.value(), kernel_time, now);
        } else {
          scheduler.ChunkFailed(id, key,
                                absl::StrCat("worker sent a malformed value: ",
                                             well_formed.message()),
                                kernel_time, now);
        }
      }
      for (const v1::ChunkRef& released : incoming_.released()) {
        scheduler.ChunkReleased(
            id, {released.job_id(), released.begin(), released.attempt()}, now);
      }
      if (incoming_.draining()) scheduler.WorkerDraining(id, now);
      GrantCredits(scheduler, id, now);
    });
  }

  void GrantCredits(Scheduler& scheduler, WorkerId id, absl::Time now) {
    for (const v1::ExecutorSlots& credits : incoming_.credits()) {
      if (!v1::ExecutorKind_IsValid(credits.kind())) continue;
      scheduler.CreditsGranted(id, credits.kind(), credits.slots(), now);
    }
  }

  // Reports the worker lost once, whichever way the stream ends first.
  void Leave(const std::string& reason) {
    WorkerId id;
    {
      absl::MutexLock lock(&mu_);
      id = left_ ? 0 : worker_id_;
      left_ = true;
    }
    if (id != 0) host_->RemoveWorker(id, reason);
  }

  SchedulerHost* const host_;
  const absl::Duration heartbeat_interval_;
  const std::string peer_;
  v1::WorkerMessage incoming_;

  // Written by the first read only, before anything else reads it.
  WorkerId worker_id_ = 0;
  bool left_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>*
WorkerLinkService::Connect(grpc::CallbackServerContext* context) {
  return new WorkerSession(host_, heartbeat_interval_, context->peer());
}

}  // namespace pfor::coordinator
