#include "pfor/future.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <unordered_set>

#include "pfor/common/blocking.h"
#include "pfor/common/spin.h"

namespace pfor {
namespace {

std::mutex& HandlerMutex() {
  static std::mutex mu;
  return mu;
}

std::function<void(const std::string&)>& Handler() {
  static auto* handler = new std::function<void(const std::string&)>();
  return *handler;
}

void ReportCallbackError(const std::string& message) {
  std::function<void(const std::string&)> handler;
  {
    std::lock_guard lock(HandlerMutex());
    handler = Handler();
  }
  if (handler) {
    handler(message);
  } else {
    std::fprintf(stderr, "pfor: %s\n", message.c_str());
  }
}

thread_local bool t_callback_thread = false;

bool IsDone(internal::FutureCore::State state) {
  return state == internal::FutureCore::State::kFinished ||
         state == internal::FutureCore::State::kCancelled;
}

}  // namespace

void SetCallbackErrorHandler(std::function<void(const std::string&)> handler) {
  std::lock_guard lock(HandlerMutex());
  Handler() = std::move(handler);
}

namespace internal {

void MarkCallbackThread() { t_callback_thread = true; }
bool OnCallbackThread() { return t_callback_thread; }

absl::Status WaitOnCallbackThread(const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat(
      what,
      " would wait on the client's callback thread, where done-callbacks run "
      "one at a time, and a callback must not wait: chain the work with "
      "add_done_callback, or wait on a thread of your own"));
}

FutureCore::FutureCore(std::string name, Canceller cancel, Poster post)
    : name_(std::move(name)),
      cancel_(std::move(cancel)),
      post_(std::move(post)) {}

void FutureCore::SetJob(uint64_t job) {
  std::lock_guard lock(mu_);
  job_ = job;
}

uint64_t FutureCore::job() const {
  std::lock_guard lock(mu_);
  return job_;
}

FutureCore::State FutureCore::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

void FutureCore::MarkRunning() {
  std::lock_guard lock(mu_);
  if (state_ == State::kPending) state_ = State::kRunning;
}

void FutureCore::Finish(absl::StatusOr<Value> result) {
  Done(std::move(result), State::kFinished);
}

void FutureCore::MarkCancelled(const std::string& why) {
  Done(absl::CancelledError(why), State::kCancelled);
}

void FutureCore::Done(absl::StatusOr<Value> result, State state) {
  std::vector<std::pair<uint64_t, Callback>> callbacks;
  std::vector<Callback> user_callbacks;
  {
    std::lock_guard lock(mu_);
    if (IsDone(state_)) return;
    state_ = state;
    result_ = std::move(result);
    callbacks.swap(callbacks_);
    user_callbacks.swap(user_callbacks_);
    done_flag_.store(true);
  }
  done_.notify_all();
  if (callbacks.empty() && user_callbacks.empty()) return;
  const std::shared_ptr<FutureCore> self = shared_from_this();
  for (auto& [id, callback] : callbacks) callback(self);
  for (Callback& callback : user_callbacks) {
    if (post_) {
      post_([self, callback = std::move(callback)] {
        self->RunUserCallback(callback);
      });
    } else {
      RunUserCallback(callback);
    }
  }
}

void FutureCore::RunUserCallback(const Callback& callback) {
  // As Python's Future does: the error is reported, and the next callbacks
  // run all the same.
  std::string what;
  try {
    callback(shared_from_this());
    return;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  ReportCallbackError(absl::StrCat("exception calling callback for job ", job(),
                                   " (", name_, "): ", what));
}

absl::Status FutureCore::Wait(absl::Duration timeout) const {
  if (done_flag_.load()) return absl::OkStatus();
  const auto not_done = [&] {
    return absl::DeadlineExceededError(
        absl::StrCat("job ", job(), " (", name_, ") did not finish within ",
                     absl::FormatDuration(timeout)));
  };
  if (timeout <= absl::ZeroDuration()) return not_done();
  if (OnCallbackThread()) {
    return WaitOnCallbackThread(
        absl::StrCat("result() of job ", job(), " (", name_, ")"));
  }
  // A small job's result often comes within microseconds: spin a little
  // before sleeping (pfor/common/spin.h).
  const auto spin = std::min<std::chrono::microseconds>(
      kSpinBeforeSleep, absl::ToChronoMicroseconds(timeout));
  if (SpinUntil([this] { return done_flag_.load(); }, spin)) {
    return absl::OkStatus();
  }
  BlockingScope blocking;
  std::unique_lock lock(mu_);
  auto done = [&] { return IsDone(state_); };
  if (timeout == absl::InfiniteDuration()) {
    done_.wait(lock, done);
    return absl::OkStatus();
  }
  if (done_.wait_for(lock, absl::ToChronoNanoseconds(timeout), done)) {
    return absl::OkStatus();
  }
  lock.unlock();
  return not_done();
}

absl::StatusOr<Value> FutureCore::result() const {
  std::lock_guard lock(mu_);
  return result_;
}

bool FutureCore::Cancel(bool running_too) {
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kCancelled) return true;
    if (state_ == State::kFinished) return false;
    // The coordinator decides for a job it has not told us about yet; one
    // it said runs is running.
    if (state_ == State::kRunning && !running_too) return false;
  }
  if (absl::Status status = cancel_(job(), running_too); !status.ok()) {
    return state() == State::kCancelled;
  }
  MarkCancelled(absl::StrCat("job ", job(), " (", name_, ") was cancelled"));
  return state() == State::kCancelled;
}

uint64_t FutureCore::AddCallback(Callback callback) {
  {
    std::lock_guard lock(mu_);
    if (!IsDone(state_)) {
      const uint64_t id = next_callback_++;
      callbacks_.emplace_back(id, std::move(callback));
      return id;
    }
  }
  callback(shared_from_this());
  return 0;
}

void FutureCore::RemoveCallback(uint64_t id) {
  if (id == 0) return;
  std::lock_guard lock(mu_);
  std::erase_if(callbacks_,
                [id](const auto& entry) { return entry.first == id; });
}

size_t FutureCore::observers() const {
  std::lock_guard lock(mu_);
  return callbacks_.size();
}

void FutureCore::AddUserCallback(Callback callback) {
  {
    std::lock_guard lock(mu_);
    if (!IsDone(state_)) {
      user_callbacks_.push_back(std::move(callback));
      return;
    }
  }
  RunUserCallback(callback);
}

std::vector<size_t> Distinct(
    const std::vector<std::shared_ptr<FutureCore>>& cores) {
  std::vector<size_t> positions;
  std::unordered_set<const FutureCore*> seen;
  for (size_t i = 0; i < cores.size(); ++i) {
    if (seen.insert(cores[i].get()).second) positions.push_back(i);
  }
  return positions;
}

absl::StatusOr<std::vector<bool>> WaitFor(
    const std::vector<std::shared_ptr<FutureCore>>& cores, ReturnWhen when,
    absl::Duration timeout) {
  struct Shared {
    std::mutex mu;
    std::condition_variable changed;
    size_t done = 0;      // guarded by mu
    bool failed = false;  // guarded by mu
  };
  auto shared = std::make_shared<Shared>();
  auto met = [&] {
    switch (when) {
      case ReturnWhen::kFirstCompleted:
        return shared->done > 0 || cores.empty();
      case ReturnWhen::kFirstException:
        return shared->failed || shared->done == cores.size();
      case ReturnWhen::kAllCompleted:
        break;
    }
    return shared->done == cores.size();
  };
  std::vector<uint64_t> observers;
  observers.reserve(cores.size());
  for (const auto& core : cores) {
    // The observers may run after this call has returned: they hold
    // `shared`. They are removed before it returns all the same, so that a
    // caller polling with short timeouts leaves nothing behind.
    observers.push_back(
        core->AddCallback([shared](const std::shared_ptr<FutureCore>& core) {
          {
            std::lock_guard lock(shared->mu);
            shared->done += 1;
            // As in Python, a cancelled future is no exception.
            shared->failed = shared->failed ||
                             (core->state() == FutureCore::State::kFinished &&
                              !core->result().ok());
          }
          shared->changed.notify_all();
        }));
  }
  absl::Status waited;
  bool must_wait;
  {
    std::lock_guard lock(shared->mu);
    must_wait = !met() && timeout > absl::ZeroDuration();
  }
  if (must_wait && OnCallbackThread()) {
    waited = WaitOnCallbackThread("wait()");
  } else if (must_wait) {
    // Taken without a lock: telling a slot pool may deliver events, and so
    // run the observers above, on this thread.
    BlockingScope blocking;
    std::unique_lock lock(shared->mu);
    if (timeout == absl::InfiniteDuration()) {
      shared->changed.wait(lock, met);
    } else {
      shared->changed.wait_for(lock, absl::ToChronoNanoseconds(timeout), met);
    }
  }
  for (size_t i = 0; i < cores.size(); ++i) {
    cores[i]->RemoveCallback(observers[i]);
  }
  if (!waited.ok()) return waited;
  std::vector<bool> done;
  done.reserve(cores.size());
  for (const auto& core : cores) done.push_back(core->done());
  return done;
}

CompletionQueue::CompletionQueue(std::vector<std::shared_ptr<FutureCore>> cores)
    : shared_(std::make_shared<Shared>()), cores_(std::move(cores)) {
  observers_.reserve(cores_.size());
  for (size_t i = 0; i < cores_.size(); ++i) {
    observers_.push_back(
        cores_[i]->AddCallback([shared = shared_, i](const auto&) {
          {
            std::lock_guard lock(shared->mu);
            shared->completed.push_back(i);
          }
          shared->ready.notify_all();
        }));
  }
}

CompletionQueue::~CompletionQueue() {
  for (size_t i = 0; i < observers_.size(); ++i) {
    cores_[i]->RemoveCallback(observers_[i]);
  }
}

CompletionQueue::CompletionQueue(CompletionQueue&& other) noexcept
    : shared_(std::move(other.shared_)),
      cores_(std::move(other.cores_)),
      observers_(std::move(other.observers_)),
      handed_out_(other.handed_out_) {
  other.cores_.clear();
  other.observers_.clear();
}

absl::StatusOr<size_t> CompletionQueue::Next(absl::Time deadline) {
  if (handed_out_ == cores_.size()) {
    return absl::OutOfRangeError("every future was handed out");
  }
  // Python's words: "2 (of 4) futures unfinished".
  const auto unfinished = [&] {
    return absl::DeadlineExceededError(absl::StrCat(cores_.size() - handed_out_,
                                                    " (of ", cores_.size(),
                                                    ") futures unfinished"));
  };
  auto ready = [&] { return shared_->completed.size() > handed_out_; };
  {
    std::lock_guard lock(shared_->mu);
    if (ready()) return shared_->completed[handed_out_++];
  }
  if (deadline <= absl::Now()) return unfinished();
  if (OnCallbackThread()) return WaitOnCallbackThread("as_completed()");
  // Without a lock (see WaitFor).
  BlockingScope blocking;
  std::unique_lock lock(shared_->mu);
  if (deadline == absl::InfiniteFuture()) {
    shared_->ready.wait(lock, ready);
  } else if (!shared_->ready.wait_until(lock, absl::ToChronoTime(deadline),
                                        ready)) {
    return unfinished();
  }
  return shared_->completed[handed_out_++];
}

namespace {

const char* Kind(const Value& value) {
  return std::holds_alternative<int64_t>(value) ? "an integer" : "a float";
}

}  // namespace

template <>
absl::StatusOr<int64_t> ValueAs<int64_t>(const Value& value,
                                         const std::string& name) {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  return absl::InvalidArgumentError(
      absl::StrCat(name, " returned ", Kind(value),
                   "; ask for Future<double> (or Future<pfor::Value>)"));
}

template <>
absl::StatusOr<double> ValueAs<double>(const Value& value,
                                       const std::string& name) {
  if (std::holds_alternative<int64_t>(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name,
                     " returned an integer; ask for Future<int64_t> (or "
                     "Future<pfor::Value>)"));
  }
  return ToDouble(value);
}

template <>
absl::StatusOr<Value> ValueAs<Value>(const Value& value, const std::string&) {
  return value;
}

}  // namespace internal
}  // namespace pfor
