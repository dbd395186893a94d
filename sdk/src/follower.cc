#include "follower.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "pfor/future.h"

namespace pfor::internal {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxBackoff = absl::Seconds(1);

bool IsLast(const JobEvent& event) {
  return event.missing || IsFinal(event.state);
}

}  // namespace

struct Follower::Answer {
  std::mutex mu;
  std::condition_variable ready;
  std::optional<absl::StatusOr<JobStatus>> job;  // guarded by mu

  void Set(absl::StatusOr<JobStatus> value) {
    {
      std::lock_guard lock(mu);
      if (job.has_value()) return;
      job = std::move(value);
    }
    ready.notify_all();
  }
};

Follower::Follower(CoordinatorCalls& calls, std::string coordinator,
                   absl::Duration reconnect_timeout,
                   absl::Duration call_timeout)
    : calls_(calls),
      coordinator_(std::move(coordinator)),
      reconnect_timeout_(reconnect_timeout),
      call_timeout_(call_timeout),
      backoff_(kFirstBackoff, kMaxBackoff),
      thread_([this] { Run(); }) {}

Follower::~Follower() { Close(); }

void Follower::Close() {
  std::call_once(closed_, [this] { CloseOnce(); });
}

void Follower::CloseOnce() {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    session = std::move(session_);
  }
  changed_.notify_all();
  if (session != nullptr) session->Close();
  thread_.join();
  std::vector<std::shared_ptr<const Handler>> orphans;
  std::vector<std::shared_ptr<Session>> ended;
  {
    std::unique_lock lock(mu_);
    // Every session's OnClosed has come before it goes.
    changed_.wait(lock, [this] { return open_sessions_ == 0; });
    FailAllLocked(
        absl::CancelledError("the client closed before the job ended"),
        orphans);
    ended.swap(ended_);
  }
  const absl::StatusOr<JobEvent> closing =
      absl::CancelledError("the client closed before the job ended");
  for (const auto& handler : orphans) (*handler)(closing);
}

std::shared_ptr<Session> Follower::SessionLocked() {
  if (session_ == nullptr && !reconnect_pending_ && !stopping_) {
    // Until it says something, a new session may lead nowhere.
    if (lost_since_ == absl::InfiniteFuture()) lost_since_ = absl::Now();
    session_ = calls_.OpenSession(this);
    open_sessions_ += 1;
  }
  return session_;
}

absl::StatusOr<JobStatus> Follower::Submit(std::shared_ptr<const JobSpec> spec,
                                           Handler handler) {
  auto answer = std::make_shared<Answer>();
  uint64_t call;
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return absl::CancelledError("the client is closing");
    call = next_call_++;
    session = SessionLocked();
    calls_pending_[call] = {answer, spec, std::move(handler),
                            session != nullptr};
  }
  changed_.notify_all();  // the run loop times the wait for an answer
  // Without the lock: a session in this process answers at once, on this
  // thread.
  if (session != nullptr) session->Submit(call, std::move(spec), true);
  std::unique_lock lock(answer->mu);
  if (!answer->ready.wait_for(lock, absl::ToChronoNanoseconds(call_timeout_),
                              [&] { return answer->job.has_value(); })) {
    lock.unlock();
    std::lock_guard follower_lock(mu_);
    calls_pending_.erase(call);
    return absl::DeadlineExceededError(
        absl::StrCat("the coordinator did not answer a submit within ",
                     absl::FormatDuration(call_timeout_),
                     "; `pfor jobs` shows whether it accepted the job"));
  }
  return *std::move(answer->job);
}

void Follower::Follow(uint64_t job, Handler handler,
                      absl::Duration progress_interval, absl::Time submitted) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      handler(absl::CancelledError("the client is closing"));
      return;
    }
    jobs_[job] = {std::make_shared<const Handler>(std::move(handler)),
                  progress_interval, submitted};
    session = SessionLocked();
  }
  changed_.notify_all();  // the run loop times the wait for an answer
  // While a reconnect waits, the new session will follow the job.
  if (session != nullptr) session->Follow(job, progress_interval);
}

void Follower::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  changed_.notify_all();
}

void Follower::OnSubmitted(uint64_t call, absl::StatusOr<JobStatus> job) {
  std::shared_ptr<Answer> answer;
  {
    std::lock_guard lock(mu_);
    lost_since_ = absl::InfiniteFuture();
    heard_ = true;
    backoff_.Reset();
    auto it = calls_pending_.find(call);
    if (it == calls_pending_.end()) return;  // the caller gave up waiting
    answer = std::move(it->second.answer);
    // Registered before this returns: the session delivers the job's events
    // only after its answer.
    if (job.ok()) {
      jobs_[job->id] = {
          std::make_shared<const Handler>(std::move(it->second.handler)),
          absl::ZeroDuration(), job->submit_time};
    }
    calls_pending_.erase(it);
  }
  answer->Set(std::move(job));
}

void Follower::OnEvents(std::vector<JobEvent> events) {
  for (const JobEvent& event : events) {
    std::shared_ptr<const Handler> handler;
    absl::Status impostor;
    {
      std::lock_guard lock(mu_);
      lost_since_ = absl::InfiniteFuture();
      heard_ = true;
      auto it = jobs_.find(event.job);
      if (it == jobs_.end()) continue;
      handler = it->second.handler;
      const absl::Time submitted = it->second.submitted;
      if (event.status != nullptr && submitted != absl::InfinitePast() &&
          event.status->submit_time != submitted) {
        impostor = absl::DataLossError(absl::StrCat(
            "job ", event.job,
            " on the coordinator is not the job this client submitted (that "
            "one was submitted at ",
            absl::FormatTime(submitted), ", this one at ",
            absl::FormatTime(event.status->submit_time),
            "): the coordinator lost its state; submit the job again"));
      }
      if (!impostor.ok() || IsLast(event)) jobs_.erase(it);
    }
    if (!impostor.ok()) {
      (*handler)(impostor);
    } else {
      (*handler)(event);
    }
  }
}

void Follower::OnClosed(const absl::Status& status) {
  std::lock_guard lock(mu_);
  open_sessions_ -= 1;
  // Dropped on this follower's thread, never here.
  if (session_ != nullptr) {
    ended_.push_back(std::move(session_));
  }
  if (!stopping_) {
    reconnect_pending_ = true;
    last_error_ = status;
  }
  // Under the lock: the destructor, waiting for the last session to close,
  // may destroy changed_ as soon as it can lock mu_.
  changed_.notify_all();
}

void Follower::FailAllLocked(
    const absl::Status& error,
    std::vector<std::shared_ptr<const Handler>>& failed) {
  for (auto& [job, followed] : jobs_) failed.push_back(followed.handler);
  jobs_.clear();
  for (auto& [call, pending] : calls_pending_) pending.answer->Set(error);
  calls_pending_.clear();
}

void Follower::Reconnect(std::unique_lock<std::mutex>& lock) {
  if (jobs_.empty() && calls_pending_.empty()) {
    // Nothing to follow: the next Submit or Follow opens a session.
    reconnect_pending_ = false;
    lost_since_ = absl::InfiniteFuture();
    return;
  }
  const absl::Time now = absl::Now();
  if (lost_since_ == absl::InfiniteFuture()) lost_since_ = now;
  if (now - lost_since_ >= reconnect_timeout_) {
    GiveUp(lock);
    return;
  }
  const absl::Time retry = now + backoff_.Next();
  changed_.wait_until(lock, absl::ToChronoTime(retry),
                      [this] { return stopping_; });
  if (stopping_) return;
  // Submits sent on the lost session may or may not have been accepted:
  // they fail, saying how to find out. Those not sent yet go now.
  std::vector<std::pair<uint64_t, std::shared_ptr<const JobSpec>>> resend;
  for (auto it = calls_pending_.begin(); it != calls_pending_.end();) {
    if (it->second.sent) {
      it->second.answer->Set(absl::UnavailableError(
          absl::StrCat("lost the coordinator before it answered a submit (",
                       last_error_.message(),
                       "); `pfor jobs` shows whether it accepted the job")));
      calls_pending_.erase(it++);
    } else {
      it->second.sent = true;
      resend.emplace_back(it->first, it->second.spec);
      ++it;
    }
  }
  std::vector<std::pair<uint64_t, absl::Duration>> follows;
  for (const auto& [job, followed] : jobs_) {
    follows.emplace_back(job, followed.progress_interval);
  }
  reconnect_pending_ = false;
  std::shared_ptr<Session> session = SessionLocked();
  lock.unlock();
  for (auto& [call, spec] : resend) session->Submit(call, spec, true);
  for (const auto& [job, interval] : follows) session->Follow(job, interval);
  lock.lock();
}

void Follower::GiveUp(std::unique_lock<std::mutex>& lock) {
  const std::string waited = absl::FormatDuration(reconnect_timeout_);
  const std::string why =
      last_error_.ok() ? "" : absl::StrCat(" (", last_error_.message(), ")");
  const absl::Status error = absl::UnavailableError(
      heard_ ? absl::StrCat("lost the coordinator at ", coordinator_,
                            " while following jobs", why, "; no answer for ",
                            waited,
                            "; `pfor status JOB` tells a job's fate once it "
                            "is back (a longer --timeout waits longer)")
             : absl::StrCat("cannot reach the coordinator at ", coordinator_,
                            why, "; no answer for ", waited,
                            " while following jobs; start pfor-coordinator "
                            "there, pass --coordinator HOST:PORT, or a longer "
                            "--timeout"));
  std::vector<std::shared_ptr<const Handler>> failed;
  FailAllLocked(error, failed);
  reconnect_pending_ = false;
  lost_since_ = absl::InfiniteFuture();
  backoff_.Reset();
  // Kept until its OnClosed, which finds nothing left to follow. Closed
  // before the handlers hear: one of them may end the client, whose
  // destructor closes the session it finds.
  std::shared_ptr<Session> session = session_;
  lock.unlock();
  if (session != nullptr) session->Close();
  session.reset();
  for (const auto& handler : failed) (*handler)(error);
  lock.lock();
}

void Follower::Run() {
  // User callbacks run here: the SDK's waits refuse to wait on this thread.
  MarkCallbackThread();
  std::unique_lock lock(mu_);
  while (true) {
    if (!stopping_ && tasks_.empty() && ended_.empty() && !reconnect_pending_) {
      // A session that is open but has not been heard from gets the
      // reconnect timeout, like one that ended. Every wake re-reads that.
      const bool waiting = session_ != nullptr &&
                           lost_since_ != absl::InfiniteFuture() &&
                           (!jobs_.empty() || !calls_pending_.empty());
      if (!waiting) {
        changed_.wait(lock);
      } else if (const absl::Time give_up = lost_since_ + reconnect_timeout_;
                 absl::Now() < give_up) {
        changed_.wait_until(lock, absl::ToChronoTime(give_up));
      } else {
        GiveUp(lock);
      }
      continue;
    }
    if (!ended_.empty()) {
      std::vector<std::shared_ptr<Session>> ended;
      ended.swap(ended_);
      lock.unlock();
      ended.clear();
      lock.lock();
      continue;
    }
    if (!tasks_.empty()) {
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (reconnect_pending_) Reconnect(lock);
  }
}

}  // namespace pfor::internal
