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

// What one hello may announce. A worker with more kernels than this is
// not a worker we know of; the bounds keep a peer from parking hundreds
// of megabytes of declarations in the coordinator.
constexpr size_t kMaxHelloBytes = size_t{1} << 20;
constexpr int kMaxKernels = 1000;
constexpr int kMaxParamsPerKernel = 100;

// INVALID_ARGUMENT naming the bound a worker's first message breaks.
absl::Status CheckHelloBounds(const v1::WorkerMessage& first) {
  const auto fix =
      "; a worker announces at most 1000 kernels of at most "
      "100 parameters each, in a hello of at most 1 MiB (load "
      "fewer --plugin libraries)";
  if (const size_t bytes = first.ByteSizeLong(); bytes > kMaxHelloBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the worker's hello has ", bytes, " bytes", fix));
  }
  const v1::Hello& hello = first.hello();
  if (hello.kernels_size() > kMaxKernels) {
    return absl::InvalidArgumentError(
        absl::StrCat("the worker's hello announces ", hello.kernels_size(),
                     " kernels", fix));
  }
  for (const v1::KernelInfo& kernel : hello.kernels()) {
    if (kernel.params_size() > kMaxParamsPerKernel) {
      return absl::InvalidArgumentError(
          absl::StrCat("the worker's hello declares kernel ", kernel.name(),
                       " with ", kernel.params_size(), " parameters", fix));
    }
  }
  return absl::OkStatus();
}

// One worker's stream: the first message joins the worker, later ones are
// its reports.
class WorkerSession final
    : public MergingStream<
          grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>,
          CoordinatorMessage, v1::CoordinatorMessage>,
      public WorkerOutbox,
      public std::enable_shared_from_this<WorkerSession> {
 public:
  WorkerSession(SchedulerHost* host, Authenticator* auth,
                const grpc::CallbackServerContext* context)
      : host_(host), auth_(auth), context_(context), peer_(context->peer()) {}

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
    // The hello's bounds first: decoding an oversized one would cost what
    // the bounds are there to save.
    if (absl::Status bounded =
            worker_ == 0 ? CheckHelloBounds(*incoming_) : absl::OkStatus();
        !bounded.ok()) {
      End(ToGrpcStatus(bounded));
      return;
    }
    absl::StatusOr<WorkerMessage> message = FromProto(*incoming_);
    if (!message.ok()) {
      Leave(std::string(message.status().message()));
      End(ToGrpcStatus(message.status()));
      return;
    }
    if (worker_ == 0) {
      absl::StatusOr<Caller> caller = auth_->CheckWorker(
          *context_, message->hello ? message->hello->version : "");
      if (!caller.ok()) {
        End(ToGrpcStatus(caller.status()));
        return;
      }
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
  Authenticator* const auth_;
  // Valid until OnDone.
  const grpc::CallbackServerContext* const context_;
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
  auto session = std::make_shared<WorkerSession>(host_, auth_, context);
  session->Start();
  return session.get();
}

}  // namespace pfor::coordinator
