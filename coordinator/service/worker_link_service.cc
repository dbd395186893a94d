#include "worker_link_service.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "pfor/common/merging_stream.h"
#include "pfor/common/rpc.h"
#include "pfor/common/wire_buffer.h"
#include "pfor/common/wire_link.h"

namespace pfor::coordinator {
namespace {

// One worker's stream: the first message joins the worker, later ones are
// its reports.
class WorkerSession final
    : public MergingStream<
          grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>,
          CoordinatorMessage, v1::CoordinatorMessage>,
      public WorkerOutbox,
      public std::enable_shared_from_this<WorkerSession> {
 public:
  WorkerSession(SchedulerHost* host, std::string peer)
      : host_(host), peer_(std::move(peer)) {}

  void Start() {
    self_ = shared_from_this();
    StartRead(incoming_.get());
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The worker closed its side or the connection broke.
      Leave("its stream closed");
      End(grpc::Status::OK);
      return;
    }
    absl::StatusOr<WorkerMessage> message = FromProto(*incoming_);
    if (!message.ok()) {
      Leave(std::string(message.status().message()));
      End(ToGrpcStatus(message.status()));
      return;
    }
    if (worker_ == 0) {
      absl::StatusOr<WorkerId> joined =
          host_->Join(*std::move(message), peer_, shared_from_this());
      if (!joined.ok()) {
        End(ToGrpcStatus(joined.status()));
        return;
      }
      worker_ = *joined;
    } else if (message->hello) {
      Leave("it sent a second hello");
      End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "a worker link carries one hello, its first message"));
      return;
    } else {
      host_->Report(worker_, *std::move(message));
    }
    StartRead(&incoming_.Reset());
  }

  void OnDone() override {
    Leave("its stream ended");
    Abandon();
    std::shared_ptr<WorkerSession> self = std::move(self_);
  }

  // WorkerOutbox
  void Queue(CoordinatorMessage message) override {
    MergingStream::Queue(std::move(message));
  }
  void Close(const std::string& reason) override {
    std::lock_guard lock(mu_);
    if (!finish_status_) {
      finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, reason);
    }
  }
  void Flush() override {
    bool close;
    {
      std::lock_guard lock(mu_);
      close = finish_status_.has_value();
    }
    if (close) {
      CloseWrites();
    } else {
      WriteQueued();
    }
  }

 private:
  void Encode(CoordinatorMessage message,
              v1::CoordinatorMessage& out) override {
    ToProto(message, out);
  }

  void EndWrites() override {
    std::lock_guard lock(mu_);
    Finish(finish_status_.value_or(grpc::Status::OK));
  }

  // Ends the call once what is queued has been written.
  void End(const grpc::Status& status) {
    {
      std::lock_guard lock(mu_);
      if (!finish_status_) finish_status_ = status;
    }
    CloseWrites();
  }

  // Reports the worker lost once, whichever way the stream ends first.
  // Only gRPC's reactions call it, one at a time.
  void Leave(const std::string& reason) {
    if (worker_ == 0 || left_) return;
    left_ = true;
    host_->Leave(worker_, absl::StrCat("worker link ended: ", reason));
  }

  SchedulerHost* const host_;
  const std::string peer_;
  WireBuffer<v1::WorkerMessage> incoming_;
  std::shared_ptr<WorkerSession> self_;
  // Set by the first read, before anything else reads them.
  WorkerId worker_ = 0;
  bool left_ = false;
  std::mutex mu_;
  std::optional<grpc::Status> finish_status_;  // guarded by mu_
};

}  // namespace

grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>*
WorkerLinkService::Connect(grpc::CallbackServerContext* context) {
  auto session = std::make_shared<WorkerSession>(host_, context->peer());
  session->Start();
  return session.get();
}

}  // namespace pfor::coordinator
