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
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
  // Asks the coordinator to cancel `job`: only while none of its chunks has
  // started, or, with `running_too`, whatever it is doing. OK when the job
  // is cancelled; an error when it had started (and not `running_too`) or
  // ended, or the call failed.
  using Canceller = std::function<absl::Status(uint64_t job, bool running_too)>;

  // `name` names the work in error messages (a kernel, "command"); `post`
  // runs the user's done-callbacks (nullptr: on the thread that completes
  // the future).
  FutureCore(std::string name, Canceller cancel, Poster post = nullptr);

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
  bool done() const { return done_flag_.load(); }
  // Blocks until the future is done or `timeout` passed. OK when done;
  // DEADLINE_EXCEEDED when the timeout passed first; FAILED_PRECONDITION,
  // at once, on the client's callback thread (a callback must not wait).
  absl::Status Wait(absl::Duration timeout) const;
  // The result once done: the value, the job's error, or CANCELLED.
  absl::StatusOr<Value> result() const;
  // Cancels the job unless one of its chunks has started (Python's
  // cancel()), or, with `running_too`, unless it has ended. True when the
  // future is cancelled.
  bool Cancel(bool running_too);
  // Runs `callback(this future)` once the future is done: on the thread
  // that completes it, or at once, on this thread, when it already is. For
  // the SDK's own observers (waiters, executors): quick, never blocking,
  // never throwing. Returns an id for RemoveCallback, or 0 when the
  // callback already ran. (The callback gets the future rather than
  // capturing it: a future that never completes must not own itself.)
  using Callback = std::function<void(const std::shared_ptr<FutureCore>&)>;
  uint64_t AddCallback(Callback callback);
  // Drops an observer that has not run (a waiter that gave up); harmless
  // once it has.
  void RemoveCallback(uint64_t id);
  // Observers still waiting for the future.
  size_t observers() const;
  // The same for a user's callback, which may block or call back into the
  // client: it runs on the client's callback thread (or at once, on this
  // thread, when the future is already done, as in Python). An exception
  // it throws is reported (SetCallbackErrorHandler) and goes no further.
  void AddUserCallback(Callback callback);

 private:
  void Done(absl::StatusOr<Value> result, State state);
  void RunUserCallback(const Callback& callback);

  const std::string name_;
  const Canceller cancel_;
  const Poster post_;
  // Set with state_ once the future is done, for waiters that spin first.
  std::atomic<bool> done_flag_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable done_;
  uint64_t job_ = 0;               // guarded by mu_
  State state_ = State::kPending;  // guarded by mu_
  absl::StatusOr<Value> result_ = absl::UnknownError("not done");  // by mu_
  uint64_t next_callback_ = 1;                                     // by mu_
  std::vector<std::pair<uint64_t, Callback>> callbacks_;           // by mu_
  std::vector<Callback> user_callbacks_;                           // by mu_
};

// The calling thread runs the client's done-callbacks (the follower's
// thread marks itself); SDK calls that would wait there fail instead.
void MarkCallbackThread();
bool OnCallbackThread();
// FAILED_PRECONDITION for `what` (such as "result() of job 7 (noop)") asked
// to wait on the callback thread.
absl::Status WaitOnCallbackThread(const std::string& what);

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
  // On the client's callback thread (in a done-callback) it never waits:
  // FAILED_PRECONDITION when the future is not done yet.
  absl::StatusOr<T> result(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    if (absl::Status waited = core_->Wait(timeout); !waited.ok()) {
      return waited;
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
  bool done() const { return core_->done(); }
  // True while one of the job's chunks runs on a worker (chunks merely
  // queued on a worker do not count) and the job has not ended.
  bool running() const {
    return core_->state() == internal::FutureCore::State::kRunning;
  }
  bool cancelled() const {
    return core_->state() == internal::FutureCore::State::kCancelled;
  }
  // Python's cancel(): cancels the job if none of its chunks has started;
  // true when the future is then (or was already) cancelled, false when the
  // job runs or has finished. Running work is left alone: terminate()
  // stops it.
  bool cancel() const { return core_->Cancel(/*running_too=*/false); }
  // Stops the job whether or not it has started: its queued chunks are
  // dropped and its running ones cancelled. True when the future is then
  // (or was already) cancelled, false when the job had finished.
  bool terminate() const { return core_->Cancel(/*running_too=*/true); }
  // Calls `callback(future)` once the future is done, on the client's
  // callback thread, one callback at a time (or at once, on this thread,
  // when the future is already done). An exception the callback throws is
  // reported (a line on stderr, or SetCallbackErrorHandler's handler) and
  // the next callbacks run, as in Python. A callback must not wait: SDK
  // calls that would (result() of a future not done, wait(), a Parallel
  // list, ...) fail with FAILED_PRECONDITION there.
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

// What becomes of an exception thrown by a done-callback: `handler` gets a
// line such as "exception calling callback for job 12 (count_primes):
// doh!" on the thread that ran the callback. The default (and nullptr)
// writes it to stderr, prefixed "pfor: ", as Python logs it. Thread-safe.
void SetCallbackErrorHandler(std::function<void(const std::string&)> handler);

enum class ReturnWhen { kFirstCompleted, kFirstException, kAllCompleted };

template <typename T>
struct DoneAndNotDone {
  std::vector<Future<T>> done;
  std::vector<Future<T>> not_done;
};

namespace internal {
// Positions of `cores` with each future's first occurrence only: Python
// takes futures as a set.
std::vector<size_t> Distinct(
    const std::vector<std::shared_ptr<FutureCore>>& cores);

// Waits until `when` is met or `timeout` passed; returns, for each of
// `cores` (distinct), whether it is done. Leaves no observer behind.
// FAILED_PRECONDITION on the callback thread when it would wait.
absl::StatusOr<std::vector<bool>> WaitFor(
    const std::vector<std::shared_ptr<FutureCore>>& cores, ReturnWhen when,
    absl::Duration timeout);

// Hands out futures in the order they complete. Its observers go with it.
class CompletionQueue {
 public:
  // `cores` must be distinct.
  explicit CompletionQueue(std::vector<std::shared_ptr<FutureCore>> cores);
  ~CompletionQueue();
  CompletionQueue(CompletionQueue&& other) noexcept;
  CompletionQueue& operator=(CompletionQueue&&) = delete;
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  // The index of the next future to complete; DEADLINE_EXCEEDED when none
  // did by `deadline`; OUT_OF_RANGE once all were handed out;
  // FAILED_PRECONDITION on the callback thread when it would wait.
  absl::StatusOr<size_t> Next(absl::Time deadline);

 private:
  struct Shared {
    std::mutex mu;
    std::condition_variable ready;
    std::vector<size_t> completed;  // guarded by mu
  };
  std::shared_ptr<Shared> shared_;
  std::vector<std::shared_ptr<FutureCore>> cores_;
  std::vector<uint64_t> observers_;
  size_t handed_out_ = 0;
};
}  // namespace internal

// Waits like concurrent.futures.wait: until the first future completes,
// the first fails (or all complete), or all complete, or `timeout` passes.
// Returns the futures split into done and not done, each in input order,
// each future once however often it was passed. On the client's callback
// thread it does not wait: every future not done is in not_done.
template <typename T>
DoneAndNotDone<T> wait(const std::vector<Future<T>>& futures,
                       ReturnWhen when = ReturnWhen::kAllCompleted,
                       absl::Duration timeout = absl::InfiniteDuration()) {
  std::vector<std::shared_ptr<internal::FutureCore>> all;
  for (const Future<T>& future : futures) all.push_back(future.core());
  std::vector<std::shared_ptr<internal::FutureCore>> cores;
  std::vector<size_t> positions = internal::Distinct(all);
  for (size_t i : positions) cores.push_back(all[i]);
  absl::StatusOr<std::vector<bool>> done =
      internal::WaitFor(cores, when, timeout);
  DoneAndNotDone<T> out;
  for (size_t i = 0; i < positions.size(); ++i) {
    const bool is_done = done.ok() ? (*done)[i] : cores[i]->done();
    (is_done ? out.done : out.not_done).push_back(futures[positions[i]]);
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
// Each future comes once, however often it was passed; after `timeout`
// (from the call) the iteration yields DEADLINE_EXCEEDED once and stops.
// On the client's callback thread, where it must not wait, it yields
// FAILED_PRECONDITION instead of waiting.
template <typename T>
class AsCompleted {
 public:
  AsCompleted(std::vector<Future<T>> futures, absl::Duration timeout)
      : futures_(Distinct(std::move(futures))),
        queue_(Cores(futures_)),
        deadline_(timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                      : absl::Now() + timeout) {
  }

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
  static std::vector<Future<T>> Distinct(std::vector<Future<T>> futures) {
    std::vector<Future<T>> out;
    for (size_t i : internal::Distinct(Cores(futures))) {
      out.push_back(std::move(futures[i]));
    }
    return out;
  }
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
