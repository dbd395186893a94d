#include "follower.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"

namespace pfor::internal {
namespace {

bool Ends(const v1::JobEvent& event) {
  if (event.missing()) return true;
  if (!event.has_job()) return false;
  const v1::JobState state = event.job().state();
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

}  // namespace

// The stream: one read in flight, job ids written in batches. Keeps itself
// alive until gRPC is done with it.
class Follower::Stream final
    : public grpc::ClientBidiReactor<v1::FollowJobsRequest, v1::JobEvents> {
 public:
  static std::shared_ptr<Stream> Open(v1::Coordinator::Stub& stub,
                                      Follower* follower) {
    std::shared_ptr<Stream> stream(new Stream(follower));
    stream->self_ = stream;
    stub.async()->FollowJobs(&stream->context_, stream.get());
    stream->StartRead(&stream->incoming_);
    // Ids are written from other threads at any time.
    stream->AddHold();
    stream->StartCall();
    return stream;
  }

  void Add(uint64_t job) {
    std::lock_guard lock(mu_);
    if (reads_done_) return;
    pending_.add_job_ids(job);
    MaybeWriteLocked();
  }

  void Cancel() { context_.TryCancel(); }

  void WaitDone() { done_.WaitForNotification(); }

  void OnReadDone(bool ok) override {
    if (ok) {
      for (v1::JobEvent& event : *incoming_.mutable_events()) {
        follower_->Post(std::move(event));
      }
      StartRead(&incoming_);
      return;
    }
    {
      std::lock_guard lock(mu_);
      reads_done_ = true;
    }
    RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (ok) MaybeWriteLocked();
  }

  void OnDone(const grpc::Status& status) override {
    follower_->Post(absl::UnavailableError(absl::StrCat(
        "lost the coordinator while following jobs (", status.error_message(),
        "); `pfor status JOB` tells a job's fate")));
    done_.Notify();
    std::shared_ptr<Stream> self = std::move(self_);
  }

 private:
  explicit Stream(Follower* follower) : follower_(follower) {}

  void MaybeWriteLocked() {
    if (writing_ || reads_done_ || pending_.job_ids().empty()) return;
    writing_message_ = std::move(pending_);
    pending_.Clear();
    writing_ = true;
    StartWrite(&writing_message_);
  }

  Follower* const follower_;
  grpc::ClientContext context_;
  v1::JobEvents incoming_;
  std::shared_ptr<Stream> self_;
  absl::Notification done_;
  std::mutex mu_;
  v1::FollowJobsRequest pending_;          // guarded by mu_
  v1::FollowJobsRequest writing_message_;  // guarded by mu_
  bool writing_ = false;                   // guarded by mu_
  bool reads_done_ = false;                // guarded by mu_
};

Follower::Follower(v1::Coordinator::Stub& stub)
    : stub_(stub), dispatcher_([this] { Dispatch(); }) {}

Follower::~Follower() {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    stream = stream_;
  }
  if (stream != nullptr) {
    stream->Cancel();
    stream->WaitDone();
  }
  posted_.notify_all();
  dispatcher_.join();
}

void Follower::Follow(uint64_t job, Handler handler) {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      queue_.push_back({absl::CancelledError("the client is closing")});
      handlers_[job] = std::move(handler);
      posted_.notify_all();
      return;
    }
    // Registered before the id goes out, so no event can miss it.
    handlers_[job] = std::move(handler);
    if (stream_ == nullptr) stream_ = Stream::Open(stub_, this);
    stream = stream_;
  }
  stream->Add(job);
}

void Follower::Post(absl::StatusOr<v1::JobEvent> item) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(item)});
  }
  posted_.notify_all();
}

void Follower::Dispatch() {
  while (true) {
    Item item;
    std::vector<Handler> orphans;
    Handler handler;
    {
      std::unique_lock lock(mu_);
      posted_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        // Stopping with nothing left to deliver: the rest never ends.
        for (auto& [job, orphan] : handlers_)
          orphans.push_back(std::move(orphan));
        handlers_.clear();
        lock.unlock();
        for (Handler& orphan : orphans) {
          orphan(
              absl::CancelledError("the client closed before the job ended"));
        }
        return;
      }
      item = std::move(queue_.front());
      queue_.pop_front();
      if (!item.event.ok()) {
        // The stream ended: every job still followed hears why; the next
        // Follow opens a new stream.
        for (auto& [job, orphan] : handlers_)
          orphans.push_back(std::move(orphan));
        handlers_.clear();
        stream_ = nullptr;
      } else {
        auto it = handlers_.find(item.event->job_id());
        if (it == handlers_.end()) continue;
        if (Ends(*item.event)) {
          handler = std::move(it->second);
          handlers_.erase(it);
        } else {
          handler = it->second;
        }
      }
    }
    for (Handler& orphan : orphans) orphan(item.event.status());
    if (handler) handler(item.event);
  }
}

}  // namespace pfor::internal
