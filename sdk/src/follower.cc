#include "follower.h"

#include "absl/strings/str_cat.h"
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

// The stream: one read in flight, job ids written in batches. The follower
// owns it and destroys it on its own thread once OnDone has run: destroyed
// on a gRPC thread, it could drop the channel's last reference there, and
// gRPC 1.51 then frees its callback queue twice.
class Follower::Stream final
    : public grpc::ClientBidiReactor<v1::FollowJobsRequest, v1::JobEvents> {
 public:
  static std::shared_ptr<Stream> Open(v1::Coordinator::Stub& stub,
                                      Follower* follower) {
    std::shared_ptr<Stream> stream(new Stream(follower));
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

  void WaitDone() {
    std::unique_lock lock(mu_);
    done_changed_.wait(lock, [this] { return done_; });
  }

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
    // Notified under the lock: WaitDone returns, and the stream may be
    // destroyed, only once this call no longer touches it.
    std::lock_guard lock(mu_);
    done_ = true;
    done_changed_.notify_all();
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
  std::mutex mu_;
  std::condition_variable done_changed_;
  bool done_ = false;                      // guarded by mu_
  v1::FollowJobsRequest pending_;          // guarded by mu_
  v1::FollowJobsRequest writing_message_;  // guarded by mu_
  bool writing_ = false;                   // guarded by mu_
  bool reads_done_ = false;                // guarded by mu_
};

Follower::Follower(v1::Coordinator::Stub& stub)
    : stub_(stub), dispatcher_([this] { Dispatch(); }) {}

Follower::~Follower() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    streams = streams_;
  }
  for (const std::shared_ptr<Stream>& stream : streams) {
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
    if (!stream_open_) {
      streams_.push_back(Stream::Open(stub_, this));
      stream_open_ = true;
    }
    stream = streams_.back();
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
        stream_open_ = false;
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
