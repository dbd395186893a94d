#include "pfor/future.h"

#include <algorithm>

#include "pfor/common/spin.h"

namespace pfor::internal {

FutureCore::FutureCore(std::string name,
                       std::function<absl::Status(uint64_t)> cancel,
                       Poster post)
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
  std::vector<Callback> callbacks;
  std::vector<Callback> user_callbacks;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kFinished || state_ == State::kCancelled) return;
    state_ = state;
    result_ = std::move(result);
    callbacks.swap(callbacks_);
    user_callbacks.swap(user_callbacks_);
    done_flag_.store(true);
  }
  done_.notify_all();
  if (callbacks.empty() && user_callbacks.empty()) return;
  const std::shared_ptr<FutureCore> self = shared_from_this();
  for (Callback& callback : callbacks) callback(self);
  for (Callback& callback : user_callbacks) {
    if (post_) {
      post_([self, callback = std::move(callback)] { callback(self); });
    } else {
      callback(self);
    }
  }
}

bool FutureCore::Wait(absl::Duration timeout) const {
  // A small job's result often comes within microseconds: spin a little
  // before sleeping (pfor/common/spin.h).
  const auto spin = std::min<std::chrono::microseconds>(
      kSpinBeforeSleep, absl::ToChronoMicroseconds(timeout));
  if (SpinUntil([this] { return done_flag_.load(); }, spin)) return true;
  std::unique_lock lock(mu_);
  auto done = [&] {
    return state_ == State::kFinished || state_ == State::kCancelled;
  };
  if (timeout == absl::InfiniteDuration()) {
    done_.wait(lock, done);
    return true;
  }
  return done_.wait_for(lock, absl::ToChronoNanoseconds(timeout), done);
}

absl::StatusOr<Value> FutureCore::result() const {
  std::lock_guard lock(mu_);
  return result_;
}

bool FutureCore::Cancel() {
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kCancelled) return true;
    if (state_ == State::kFinished) return false;
  }
  if (absl::Status status = cancel_(job()); !status.ok()) return false;
  MarkCancelled(absl::StrCat("job ", job(), " (", name_, ") was cancelled"));
  return state() == State::kCancelled;
}

void FutureCore::AddCallback(Callback callback) {
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kFinished && state_ != State::kCancelled) {
      callbacks_.push_back(std::move(callback));
      return;
    }
  }
  callback(shared_from_this());
}

void FutureCore::AddUserCallback(Callback callback) {
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kFinished && state_ != State::kCancelled) {
      user_callbacks_.push_back(std::move(callback));
      return;
    }
  }
  callback(shared_from_this());
}

std::vector<bool> WaitFor(const std::vector<std::shared_ptr<FutureCore>>& cores,
                          ReturnWhen when, absl::Duration timeout) {
  struct Shared {
    std::mutex mu;
    std::condition_variable changed;
    size_t done = 0;      // guarded by mu
    bool failed = false;  // guarded by mu
  };
  auto shared = std::make_shared<Shared>();
  for (const auto& core : cores) {
    // The callbacks may outlive this call: they hold `shared`.
    core->AddCallback([shared](const std::shared_ptr<FutureCore>& core) {
      {
        std::lock_guard lock(shared->mu);
        shared->done += 1;
        // As in Python, a cancelled future is no exception.
        shared->failed =
            shared->failed || (core->state() == FutureCore::State::kFinished &&
                               !core->result().ok());
      }
      shared->changed.notify_all();
    });
  }
  {
    std::unique_lock lock(shared->mu);
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
    if (timeout == absl::InfiniteDuration()) {
      shared->changed.wait(lock, met);
    } else {
      shared->changed.wait_for(lock, absl::ToChronoNanoseconds(timeout), met);
    }
  }
  std::vector<bool> done;
  for (const auto& core : cores) {
    const FutureCore::State state = core->state();
    done.push_back(state == FutureCore::State::kFinished ||
                   state == FutureCore::State::kCancelled);
  }
  return done;
}

CompletionQueue::CompletionQueue(
    const std::vector<std::shared_ptr<FutureCore>>& cores)
    : shared_(std::make_shared<Shared>()), total_(cores.size()) {
  for (size_t i = 0; i < cores.size(); ++i) {
    cores[i]->AddCallback([shared = shared_, i](const auto&) {
      {
        std::lock_guard lock(shared->mu);
        shared->completed.push_back(i);
      }
      shared->ready.notify_all();
    });
  }
}

absl::StatusOr<size_t> CompletionQueue::Next(absl::Time deadline) {
  if (handed_out_ == total_) {
    return absl::OutOfRangeError("every future was handed out");
  }
  std::unique_lock lock(shared_->mu);
  auto ready = [&] { return shared_->completed.size() > handed_out_; };
  if (deadline == absl::InfiniteFuture()) {
    shared_->ready.wait(lock, ready);
  } else if (!shared_->ready.wait_until(lock, absl::ToChronoTime(deadline),
                                        ready)) {
    return absl::DeadlineExceededError(
        absl::StrCat(total_ - handed_out_, " of ", total_,
                     " futures did not complete in time"));
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

}  // namespace pfor::internal
