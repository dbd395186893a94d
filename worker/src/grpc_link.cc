#include "grpc_link.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "pfor/common/merging_stream.h"
#include "pfor/common/rpc.h"
#include "pfor/common/wire_buffer.h"
#include "pfor/common/wire_link.h"
#include "pfor/v1/worker_link.grpc.pb.h"

namespace pfor::worker {
namespace {

constexpr int kMaxMessageBytes = 64 << 20;

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

// What a stream writes next: merged messages, or a heartbeat (an empty
// message, which the merging stream would otherwise not write).
struct Outgoing {
  WorkerMessage message;
  bool heartbeat = false;

  void Merge(Outgoing&& other) {
    message.Merge(std::move(other.message));
    heartbeat = heartbeat || other.heartbeat;
  }
  bool empty() const { return !heartbeat && message.empty(); }
};

class Dialer;

using Reactor =
    grpc::ClientBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>;

class GrpcLink final
    : public MergingStream<Reactor, Outgoing, v1::WorkerMessage>,
      public WorkerLink {
 public:
  GrpcLink(Dialer* dialer, WorkerLinkHandler* handler)
      : dialer_(dialer), handler_(handler) {}

  // Starts the call with `hello` as its first message. The link keeps itself
  // alive until the stream ends.
  void Start(const std::shared_ptr<GrpcLink>& self, v1::WorkerLink::Stub& stub,
             WorkerMessage hello) {
    self_ = self;
    stub.async()->Connect(&context_, this);
    StartRead(incoming_.get());
    // Writes start from the worker's threads at any time: the hold keeps
    // OnDone away until the read side has ended and no such write is on its
    // way.
    AddHold();
    Send(std::move(hello));
    StartCall();
  }

  // WorkerLink
  void Send(WorkerMessage message) override {
    if (!Enter()) return;
    const bool heartbeat = message.empty();
    if (Queue(Outgoing{std::move(message), heartbeat})) WriteQueued();
    Leave();
  }
  void CloseWrites() override {
    if (!Enter()) return;
    MergingStream::CloseWrites();
    Leave();
  }
  void Cancel() override { context_.TryCancel(); }

  // grpc::ClientBidiReactor
  void OnReadDone(bool ok) override {
    if (ok) {
      absl::StatusOr<CoordinatorMessage> message = FromProto(*incoming_);
      if (message.ok()) {
        handler_->OnMessage(*std::move(message));
        StartRead(&incoming_.Reset());
        return;
      }
      {
        std::lock_guard lock(mu_);
        unreadable_ = absl::InvalidArgumentError(absl::StrCat(
            "the coordinator sent a message this worker cannot read (",
            message.status().message(),
            "); run a worker of the coordinator's version"));
      }
      context_.TryCancel();
    }
    if (gate_.ReadsEnded()) RemoveHold();
  }
  void OnWritesDoneDone(bool) override {}
  void OnDone(const grpc::Status& status) override;

 protected:
  void Encode(Outgoing batch, v1::WorkerMessage& out) override {
    ToProto(batch.message, out);
  }
  void EndWrites() override { StartWritesDone(); }

 private:
  // Brackets writes started from outside gRPC's reactions.
  bool Enter() { return gate_.Enter(); }
  void Leave() {
    if (gate_.Leave()) RemoveHold();
  }

  Dialer* const dialer_;
  WorkerLinkHandler* const handler_;
  grpc::ClientContext context_;
  WireBuffer<v1::CoordinatorMessage> incoming_;
  std::shared_ptr<GrpcLink> self_;

  WriterGate gate_;
  std::mutex mu_;
  absl::Status unreadable_;  // guarded by mu_
};

// The channel and the streams on it.
class Dialer {
 public:
  explicit Dialer(const std::string& address)
      : channel_(Dial(address)), stub_(v1::WorkerLink::NewStub(channel_)) {}

  // Waits for every stream to end (cancelling those still open), then lets
  // the streams and the channel go, on this thread.
  ~Dialer() {
    std::vector<std::shared_ptr<GrpcLink>> open;
    {
      std::lock_guard lock(mu_);
      for (const std::weak_ptr<GrpcLink>& link : open_) {
        if (auto alive = link.lock()) open.push_back(std::move(alive));
      }
    }
    for (const auto& link : open) link->Cancel();
    open.clear();
    std::unique_lock lock(mu_);
    ended_.wait(lock, [this] { return streams_ == 0; });
    finished_.clear();
  }

  std::shared_ptr<WorkerLink> Open(WorkerMessage hello,
                                   WorkerLinkHandler* handler) {
    std::vector<std::shared_ptr<GrpcLink>> finished;
    auto link = std::make_shared<GrpcLink>(this, handler);
    {
      std::lock_guard lock(mu_);
      finished.swap(finished_);
      std::erase_if(open_, [](const std::weak_ptr<GrpcLink>& open) {
        return open.expired();
      });
      open_.push_back(link);
      streams_ += 1;
    }
    // Ended streams go here, on the caller's thread.
    finished.clear();
    link->Start(link, *stub_, std::move(hello));
    return link;
  }

  // The stream's last reaction: it is kept until a worker thread drops it.
  void Ended(std::shared_ptr<GrpcLink> link) {
    std::lock_guard lock(mu_);
    finished_.push_back(std::move(link));
    streams_ -= 1;
    ended_.notify_all();
  }

 private:
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::WorkerLink::Stub> stub_;
  std::mutex mu_;
  std::condition_variable ended_;
  int streams_ = 0;                                  // guarded by mu_
  std::vector<std::weak_ptr<GrpcLink>> open_;        // guarded by mu_
  std::vector<std::shared_ptr<GrpcLink>> finished_;  // guarded by mu_
};

void GrpcLink::OnDone(const grpc::Status& status) {
  absl::Status closed;
  {
    std::lock_guard lock(mu_);
    closed = unreadable_.ok() ? FromGrpcStatus(status) : unreadable_;
  }
  WorkerLinkHandler* const handler = handler_;
  // After this, `this` may go at any moment (on a worker thread): only
  // locals are used.
  dialer_->Ended(std::move(self_));
  handler->OnClosed(closed);
}

}  // namespace

WorkerLinkOpener GrpcLinkOpener(const std::string& address) {
  auto dialer = std::make_shared<Dialer>(address);
  return [dialer](WorkerMessage hello, WorkerLinkHandler* handler) {
    return dialer->Open(std::move(hello), handler);
  };
}

}  // namespace pfor::worker
