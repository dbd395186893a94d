// Futures, the concurrent.futures way: a Future is a job submitted to a
// coordinator, with result(timeout), done(), running(), cancelled(),
// cancel(), exception() and add_done_callback(); as_completed() and wait()
// watch many at once. Executor (pfor/executor.h) makes them.
//
// Method names follow Python's, so programs port line by line (docs/sdk.md
// maps one to the other). Thread-safe: futures are cheap handles to shared
// state and may be copied and used from any thread.
#ifndef PFOR_FUTURE_H_
#define PFOR_FUTURE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "pfor/value.h"

namespace pfor {

namespace internal {

// The state a future shares with the executor that completes it. Always
// owned by a shared_ptr.
class FutureCore : public std::enable_shared_from_this<FutureCore> {
 public:
  enum class State { kPending, kRunning, kFinished, kCancelled };

  // Runs a user callback elsewhere (on the client's callback thread).
  using Poster = std::function<void(std::function<void()>)>;

  // `cancel(job)` asks the coordinator to cancel the job; `name` names the
  // work in error messages (a kernel, "command"); `post` runs the user's
  // done-callbacks (nullptr: on the thread that completes the future).
  FutureCore(std::string name, std::function<absl::Status(uint64_t)> cancel,
             Poster post = nullptr);

  // --- For the executor. Each transition happens once; later ones are
  // ignored. Finishing runs the observers (AddCallback) on the calling
  // thread and posts the user's callbacks (AddUserCallback).
  void SetJob(uint64_t job);
  void MarkRunning();
  void Finish(absl::StatusOr<Value> result);
  void MarkCancelled(const std::string& why);

  // --- For futures.
  uint64_t job() const;
  const std::string& name() const { return name_; }
  State state() const;
  // Blocks until the future is done or `timeout` passed; true when done.
  bool Wait(absl::Duration timeout) const;
  // The result once done: the value, the job's error, or CANCELLED.
  absl::StatusOr<Value> result() const;
  bool Cancel();
  // Runs `callback(this future)` once the future is done: on the thread
  // that completes it, or at once, on this thread, when it already is. For
  // the SDK's own observers (waiters, executors): quick, never blocking.
  // (The callback gets the future rather than capturing it: a future that
  // never completes must not own itself.)
  using Callback = std::function<void(const std::shared_ptr<FutureCore>&)>;
  void AddCallback(Callback callback);
  // The same for a user's callback, which may block or call back into the
  // client: it runs on the client's callback thread (or at once, on this
  // thread, when the future is already done, as in Python).
  void AddUserCallback(Callback callback);

 private:
  void Done(absl::StatusOr<Value> result, State state);

  const std::string name_;
  const std::function<absl::Status(uint64_t)> cancel_;
  const Poster post_;
  // Set with state_ once the future is done, for waiters that spin first.
  std::atomic<bool> done_flag_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable done_;
  uint64_t job_ = 0;               // guarded by mu_
  State state_ = State::kPending;  // guarded by mu_
  absl::StatusOr<Value> result_ = absl::UnknownError("not done");  // by mu_
  std::vector<Callback> callbacks_;       // guarded by mu_
  std::vector<Callback> user_callbacks_;  // guarded by mu_
};

// The value as a T: an int64_t, a double, or the Value itself.
// INVALID_ARGUMENT names what the kernel returned and the T to ask for.
template <typename T>
absl::StatusOr<T> ValueAs(const Value&, const std::string&) {
  static_assert(sizeof(T) == 0,
                "a Future holds an int64_t, a double or a pfor::Value");
}
template <>
absl::StatusOr<int64_t> ValueAs<int64_t>(const Value& value,
                                         const std::string& name);
template <>
absl::StatusOr<double> ValueAs<double>(const Value& value,
                                       const std::string& name);
template <>
absl::StatusOr<Value> ValueAs<Value>(const Value& value,
                                     const std::string& name);

}  // namespace internal

template <typename T = Value>
class Future {
 public:
  // An invalid future; every call on it crashes. Executors make real ones.
  Future() = default;
  explicit Future(std::shared_ptr<internal::FutureCore> core)
      : core_(std::move(core)) {}

  // The result, blocking up to `timeout`: the kernel's value as a T; the
  // job's error (UNKNOWN, with the kernel's message, the chunk and its
  // attempts), CANCELLED, or DEADLINE_EXCEEDED when the timeout passed first.
  absl::StatusOr<T> result(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    if (!core_->Wait(timeout)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "job ", core_->job(), " (", core_->name(), ") did not finish within ",
          absl::FormatDuration(timeout)));
    }
    absl::StatusOr<Value> value = core_->result();
    if (!value.ok()) return value.status();
    return internal::ValueAs<T>(*value, core_->name());
  }
  // OK when the job succeeded, its error otherwise; blocks like result().
  absl::Status exception(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return result(timeout).status();
  }
  bool done() const {
    const auto state = core_->state();
    return state == internal::FutureCore::State::kFinished ||
           state == internal::FutureCore::State::kCancelled;
  }
  bool running() const {
    return core_->state() == internal::FutureCore::State::kRunning;
  }
  bool cancelled() const {
    return core_->state() == internal::FutureCore::State::kCancelled;
  }
  // Cancels the job, queued or running (unlike Python, a running job can be
  // cancelled: its chunks stop). False when it had already finished.
  bool cancel() const { return core_->Cancel(); }
  // Calls `callback(future)` once the future is done, on the client's
  // callback thread, one callback at a time (or at once, on this thread,
  // when the future is already done).
  void add_done_callback(std::function<void(const Future<T>&)> callback) const {
    core_->AddUserCallback(
        [callback = std::move(callback)](
            const std::shared_ptr<internal::FutureCore>& core) {
          callback(Future<T>(core));
        });
  }
  // The job behind the future (0 until submitted).
  uint64_t job_id() const { return core_->job(); }

  const std::shared_ptr<internal::FutureCore>& core() const { return core_; }

 private:
  std::shared_ptr<internal::FutureCore> core_;
};

enum class ReturnWhen { kFirstCompleted, kFirstException, kAllCompleted };

template <typename T>
struct DoneAndNotDone {
  std::vector<Future<T>> done;
  std::vector<Future<T>> not_done;
};

namespace internal {
// The indices of `cores` done when `when` is met or `timeout` passed.
std::vector<bool> WaitFor(const std::vector<std::shared_ptr<FutureCore>>& cores,
                          ReturnWhen when, absl::Duration timeout);

// Hands out futures in the order they complete.
class CompletionQueue {
 public:
  explicit CompletionQueue(
      const std::vector<std::shared_ptr<FutureCore>>& cores);
  // The index of the next future to complete; DEADLINE_EXCEEDED when none
  // did by `deadline`; OUT_OF_RANGE once all were handed out.
  absl::StatusOr<size_t> Next(absl::Time deadline);

 private:
  struct Shared {
    std::mutex mu;
    std::condition_variable ready;
    std::vector<size_t> completed;  // guarded by mu
  };
  std::shared_ptr<Shared> shared_;
  size_t handed_out_ = 0;
  size_t total_;
};
}  // namespace internal

// Waits like concurrent.futures.wait: until the first future completes,
// the first fails (or all complete), or all complete, or `timeout` passes.
// Returns the futures split into done and not done, each in input order.
template <typename T>
DoneAndNotDone<T> wait(const std::vector<Future<T>>& futures,
                       ReturnWhen when = ReturnWhen::kAllCompleted,
                       absl::Duration timeout = absl::InfiniteDuration()) {
  std::vector<std::shared_ptr<internal::FutureCore>> cores;
  for (const Future<T>& future : futures) cores.push_back(future.core());
  const std::vector<bool> done = internal::WaitFor(cores, when, timeout);
  DoneAndNotDone<T> out;
  for (size_t i = 0; i < futures.size(); ++i) {
    (done[i] ? out.done : out.not_done).push_back(futures[i]);
  }
  return out;
}

// Yields futures as they complete, like concurrent.futures.as_completed:
//
//   for (absl::StatusOr<Future<int64_t>> next : as_completed(futures)) {
//     if (!next.ok()) break;  // the timeout passed
//     ... next->result() ...
//   }
//
// Each future comes once; after `timeout` (from the call) the iteration
// yields DEADLINE_EXCEEDED once and stops.
template <typename T>
class AsCompleted {
 public:
  AsCompleted(std::vector<Future<T>> futures, absl::Duration timeout)
      : futures_(std::move(futures)),
        queue_(Cores(futures_)),
        deadline_(absl::Now() + timeout) {}

  class iterator {
   public:
    using value_type = absl::StatusOr<Future<T>>;
    iterator() = default;
    explicit iterator(AsCompleted* owner) : owner_(owner) { Advance(); }
    const value_type& operator*() const { return current_; }
    const value_type* operator->() const { return &current_; }
    iterator& operator++() {
      if (current_.ok()) {
        Advance();
      } else {
        owner_ = nullptr;  // the timeout ends the iteration
      }
      return *this;
    }
    bool operator==(const iterator& other) const {
      return owner_ == other.owner_;
    }

   private:
    void Advance() {
      absl::StatusOr<size_t> next = owner_->queue_.Next(owner_->deadline_);
      if (next.ok()) {
        current_ = owner_->futures_[*next];
      } else if (next.status().code() == absl::StatusCode::kOutOfRange) {
        owner_ = nullptr;
      } else {
        current_ = next.status();
      }
    }
    AsCompleted* owner_ = nullptr;
    value_type current_ = absl::UnknownError("");
  };

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  static std::vector<std::shared_ptr<internal::FutureCore>> Cores(
      const std::vector<Future<T>>& futures) {
    std::vector<std::shared_ptr<internal::FutureCore>> cores;
    for (const Future<T>& future : futures) cores.push_back(future.core());
    return cores;
  }

  std::vector<Future<T>> futures_;
  internal::CompletionQueue queue_;
  absl::Time deadline_;
};

template <typename T>
AsCompleted<T> as_completed(std::vector<Future<T>> futures,
                            absl::Duration timeout = absl::InfiniteDuration()) {
  return AsCompleted<T>(std::move(futures), timeout);
}

}  // namespace pfor

#endif  // PFOR_FUTURE_H_
