#include "follower.h"

#include <algorithm>

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
        follower_->Post({std::move(event)});
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
    follower_->Post({absl::UnavailableError(absl::StrCat(
                         "lost the coordinator while following jobs (",
                         status.error_message(),
                         "); `pfor status JOB` tells a job's fate")),
                     this});
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

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxBackoff = absl::Seconds(1);

Follower::Follower(v1::Coordinator::Stub& stub,
                   absl::Duration reconnect_timeout)
    : stub_(stub),
      reconnect_timeout_(reconnect_timeout),
      backoff_(kFirstBackoff),
      dispatcher_([this] { Dispatch(); }) {}

Follower::~Follower() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  posted_.notify_all();
  // The dispatcher fails the jobs still followed and opens no more streams.
  dispatcher_.join();
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(mu_);
    open_ = nullptr;
    streams.swap(streams_);
  }
  for (const std::shared_ptr<Stream>& stream : streams) {
    stream->Cancel();
    stream->WaitDone();
  }
}

void Follower::Follow(uint64_t job, Handler handler) {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    // Registered before the id goes out, so no event can miss it.
    handlers_[job] = std::move(handler);
    if (stopping_) {
      queue_.push_back({absl::CancelledError("the client is closing")});
      posted_.notify_all();
      return;
    }
    // While reconnecting, the new stream will follow every registered job.
    if (reconnecting_) return;
    if (open_ == nullptr) {
      open_ = Stream::Open(stub_, this);
      streams_.push_back(open_);
    }
    stream = open_;
  }
  // A stream past its end ignores Add; its end follows the job again.
  stream->Add(job);
}

void Follower::Post(Item item) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(item));
  }
  posted_.notify_all();
}

std::vector<Follower::Handler> Follower::Reconnect(
    std::unique_lock<std::mutex>& lock, const Stream* ended) {
  // Waits for the stream's last reaction, then drops it, here.
  auto it = std::find_if(streams_.begin(), streams_.end(),
                         [&](const auto& s) { return s.get() == ended; });
  if (it != streams_.end()) {
    std::shared_ptr<Stream> stream = std::move(*it);
    streams_.erase(it);
    lock.unlock();
    stream->WaitDone();
    stream.reset();
    lock.lock();
  }
  if (open_.get() == ended) open_ = nullptr;
  if (open_ != nullptr || stopping_) return {};
  std::vector<Handler> failed;
  if (handlers_.empty()) return failed;  // the next Follow opens a stream
  const absl::Time now = absl::Now();
  if (lost_since_ == absl::InfiniteFuture()) lost_since_ = now;
  if (now - lost_since_ >= reconnect_timeout_) {
    for (auto& [job, handler] : handlers_) failed.push_back(std::move(handler));
    handlers_.clear();
    lost_since_ = absl::InfiniteFuture();
    backoff_ = kFirstBackoff;
    return failed;
  }
  reconnecting_ = true;
  const absl::Time retry = now + backoff_;
  backoff_ = std::min(2 * backoff_, kMaxBackoff);
  posted_.wait_until(lock, absl::ToChronoTime(retry),
                     [this] { return stopping_; });
  reconnecting_ = false;
  if (stopping_) return failed;
  open_ = Stream::Open(stub_, this);
  streams_.push_back(open_);
  for (const auto& [job, handler] : handlers_) open_->Add(job);
  return failed;
}

void Follower::Dispatch() {
  while (true) {
    Item item;
    std::vector<Handler> failed;
    Handler handler;
    {
      std::unique_lock lock(mu_);
      posted_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        // Stopping with nothing left to deliver: the rest never ends.
        for (auto& [job, orphan] : handlers_)
          failed.push_back(std::move(orphan));
        handlers_.clear();
        lock.unlock();
        for (Handler& orphan : failed) {
          orphan(
              absl::CancelledError("the client closed before the job ended"));
        }
        return;
      }
      item = std::move(queue_.front());
      queue_.pop_front();
      if (!item.event.ok()) {
        if (item.ended != nullptr) {
          failed = Reconnect(lock, item.ended);
          if (!failed.empty()) {
            item.event = absl::UnavailableError(absl::StrCat(
                item.event.status().message(), "; no coordinator for ",
                absl::FormatDuration(reconnect_timeout_)));
          }
        } else {  // Follow after the client began closing
          for (auto& [job, orphan] : handlers_)
            failed.push_back(std::move(orphan));
          handlers_.clear();
        }
      } else {
        lost_since_ = absl::InfiniteFuture();
        backoff_ = kFirstBackoff;
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
    for (Handler& orphan : failed) orphan(item.event.status());
    if (handler) handler(item.event);
  }
}

}  // namespace pfor::internal
