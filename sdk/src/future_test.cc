// Futures, wait(), as_completed() and batch results, driven by plain threads
// (no coordinator): the SDK's concurrency code on its own, so that the
// ThreadSanitizer build checks it.
#include "pfor/future.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/batch.h"

namespace pfor {
namespace {

using internal::FutureCore;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A future whose cancel() succeeds while `cancellable` is true.
std::shared_ptr<FutureCore> Core(std::atomic<bool>* cancellable = nullptr) {
  auto core = std::make_shared<FutureCore>(
      "count_primes", [cancellable](uint64_t, bool) {
        return cancellable != nullptr && cancellable->load()
                   ? absl::OkStatus()
                   : absl::FailedPreconditionError("the job had ended");
      });
  core->SetJob(7);
  return core;
}

TEST(FutureTest, ResultIsTheFirstOutcome) {
  auto core = Core();
  Future<int64_t> future(core);
  EXPECT_FALSE(future.done());
  EXPECT_FALSE(future.running());
  core->MarkRunning();
  EXPECT_TRUE(future.running());
  core->Finish(int64_t{664579});
  core->Finish(int64_t{1});  // ignored: a future completes once
  core->MarkCancelled("late");
  EXPECT_TRUE(future.done());
  EXPECT_FALSE(future.cancelled());
  EXPECT_EQ(*future.result(), 664579);
  EXPECT_TRUE(future.exception().ok());
  EXPECT_FALSE(future.cancel());
}

TEST(FutureTest, ResultTimesOutWhilePending) {
  Future<int64_t> future(Core());
  const absl::StatusOr<int64_t> result = future.result(absl::Milliseconds(20));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("job 7 (count_primes) did not finish within 20ms"));
}

TEST(FutureTest, WrongResultTypeIsAClearError) {
  auto core = Core();
  core->Finish(0.5);
  const absl::StatusOr<int64_t> as_int = Future<int64_t>(core).result();
  EXPECT_EQ(as_int.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(as_int.status().message()),
              HasSubstr("count_primes returned a float; ask for "
                        "Future<double>"));
  EXPECT_EQ(*Future<double>(core).result(), 0.5);
  EXPECT_EQ(std::get<double>(*Future<Value>(core).result()), 0.5);

  auto integer = Core();
  integer->Finish(int64_t{3});
  EXPECT_THAT(std::string(Future<double>(integer).result().status().message()),
              HasSubstr("returned an integer; ask for Future<int64_t>"));
}

TEST(FutureTest, ErrorReachesResultAndException) {
  auto core = Core();
  core->Finish(absl::UnknownError("chunk [0, 10) failed: boom"));
  Future<int64_t> future(core);
  EXPECT_EQ(future.result().status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(std::string(future.exception().message()), HasSubstr("boom"));
}

TEST(FutureTest, CancelAsksTheCoordinatorOnce) {
  std::atomic<bool> cancellable{true};
  auto core = Core(&cancellable);
  Future<int64_t> future(core);
  EXPECT_TRUE(future.cancel());
  EXPECT_TRUE(future.cancelled());
  EXPECT_TRUE(future.done());
  EXPECT_EQ(future.result().status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(future.cancel());  // already cancelled, as in Python

  cancellable = false;  // the coordinator says the job had ended
  Future<int64_t> ended(Core(&cancellable));
  EXPECT_FALSE(ended.cancel());
  EXPECT_FALSE(ended.cancelled());
}

TEST(FutureTest, CallbacksRunOnceWhenDoneOrAtOnce) {
  auto core = Core();
  Future<int64_t> future(core);
  std::vector<int64_t> seen;
  future.add_done_callback(
      [&](const Future<int64_t>& f) { seen.push_back(*f.result()); });
  EXPECT_TRUE(seen.empty());
  core->Finish(int64_t{5});
  core->Finish(int64_t{6});
  future.add_done_callback(
      [&](const Future<int64_t>& f) { seen.push_back(*f.result() + 1); });
  EXPECT_THAT(seen, ElementsAre(5, 6));
}

std::vector<Future<int64_t>> Futures(
    const std::vector<std::shared_ptr<FutureCore>>& cores) {
  std::vector<Future<int64_t>> futures;
  for (const auto& core : cores) futures.emplace_back(core);
  return futures;
}

TEST(WaitTest, FirstCompletedReturnsOnceOneIs) {
  std::vector<std::shared_ptr<FutureCore>> cores = {Core(), Core(), Core()};
  std::thread finisher([&] {
    absl::SleepFor(absl::Milliseconds(10));
    cores[1]->Finish(int64_t{1});
  });
  DoneAndNotDone<int64_t> split =
      wait(Futures(cores), ReturnWhen::kFirstCompleted);
  finisher.join();
  ASSERT_EQ(split.done.size(), 1u);
  EXPECT_EQ(split.done[0].core(), cores[1]);
  EXPECT_EQ(split.not_done.size(), 2u);
}

TEST(WaitTest, FirstExceptionReturnsAtTheFirstFailure) {
  std::atomic<bool> cancellable{true};
  std::vector<std::shared_ptr<FutureCore>> cores = {Core(), Core(), Core(),
                                                    Core(&cancellable)};
  cores[0]->Finish(int64_t{1});  // a success does not end the wait...
  cores[3]->Cancel(false);       // ...nor, as in Python, a cancellation
  std::thread finisher([&] {
    absl::SleepFor(absl::Milliseconds(10));
    cores[2]->Finish(absl::UnknownError("boom"));
  });
  DoneAndNotDone<int64_t> split =
      wait(Futures(cores), ReturnWhen::kFirstException);
  finisher.join();
  EXPECT_EQ(split.done.size(), 3u);
  ASSERT_EQ(split.not_done.size(), 1u);
  EXPECT_EQ(split.not_done[0].core(), cores[1]);
}

TEST(WaitTest, AllCompletedStopsAtTheTimeout) {
  std::vector<std::shared_ptr<FutureCore>> cores = {Core(), Core()};
  cores[0]->Finish(int64_t{1});
  DoneAndNotDone<int64_t> split =
      wait(Futures(cores), ReturnWhen::kAllCompleted, absl::Milliseconds(20));
  EXPECT_EQ(split.done.size(), 1u);
  EXPECT_EQ(split.not_done.size(), 1u);
  EXPECT_EQ(wait(Futures({})).done.size(), 0u);
}

TEST(AsCompletedTest, YieldsInCompletionOrder) {
  std::vector<std::shared_ptr<FutureCore>> cores = {Core(), Core(), Core()};
  cores[2]->Finish(int64_t{2});
  std::thread finisher([&] {
    // Once as_completed watches them (however loaded the machine).
    while (cores[1]->observers() == 0) std::this_thread::yield();
    cores[0]->Finish(int64_t{0});
    absl::SleepFor(absl::Milliseconds(5));
    cores[1]->Finish(int64_t{1});
  });
  std::vector<int64_t> order;
  for (const absl::StatusOr<Future<int64_t>>& next :
       as_completed(Futures(cores))) {
    ASSERT_TRUE(next.ok()) << next.status();
    order.push_back(*next->result());
  }
  finisher.join();
  EXPECT_THAT(order, ElementsAre(2, 0, 1));
}

TEST(AsCompletedTest, TimeoutEndsTheIterationWithOneError) {
  std::vector<std::shared_ptr<FutureCore>> cores = {Core(), Core()};
  cores[1]->Finish(int64_t{1});
  std::vector<absl::StatusCode> codes;
  for (const absl::StatusOr<Future<int64_t>>& next :
       as_completed(Futures(cores), absl::Milliseconds(20))) {
    codes.push_back(next.status().code());
  }
  EXPECT_THAT(codes, ElementsAre(absl::StatusCode::kOk,
                                 absl::StatusCode::kDeadlineExceeded));
}

// Many threads completing, cancelling, waiting on and watching the same
// futures: each future completes once, every callback runs once, every
// waiter sees every future done.
TEST(FutureTest, IsSafeToShareBetweenThreads) {
  constexpr int kFutures = 200;
  std::atomic<bool> cancellable{true};
  std::vector<std::shared_ptr<FutureCore>> cores;
  for (int i = 0; i < kFutures; ++i) cores.push_back(Core(&cancellable));
  std::atomic<int> callbacks{0};
  for (const auto& core : cores) {
    Future<int64_t>(core).add_done_callback(
        [&](const Future<int64_t>&) { callbacks.fetch_add(1); });
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kFutures; i += 4) {
        if (i % 10 == 0) {
          Future<int64_t>(cores[i]).cancel();
        } else {
          cores[i]->MarkRunning();
          cores[i]->Finish(int64_t{i});
        }
      }
    });
  }
  std::atomic<int> yielded{0};
  std::thread watcher([&] {
    for (const auto& next : as_completed(Futures(cores))) {
      if (next.ok()) yielded.fetch_add(1);
    }
  });
  const DoneAndNotDone<int64_t> split = wait(Futures(cores));
  for (std::thread& thread : threads) thread.join();
  watcher.join();
  EXPECT_EQ(split.done.size(), static_cast<size_t>(kFutures));
  EXPECT_EQ(yielded.load(), kFutures);
  EXPECT_EQ(callbacks.load(), kFutures);
  for (int i = 0; i < kFutures; ++i) {
    const absl::StatusOr<int64_t> result = Future<int64_t>(cores[i]).result();
    if (i % 10 == 0) {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
    } else {
      EXPECT_EQ(*result, i);
    }
  }
}

// Ported from CPython's Lib/test/test_concurrent_futures/test_future.py
// (FutureTests.test_cancel): pending and already cancelled futures cancel;
// running and finished ones do not.
TEST(FutureTest, CancelLeavesRunningAndFinishedFutures) {
  std::atomic<bool> cancellable{true};
  auto pending = Core(&cancellable);
  auto running = Core(&cancellable);
  running->MarkRunning();
  auto cancelled = Core(&cancellable);
  ASSERT_TRUE(Future<int64_t>(cancelled).cancel());
  auto failed = Core(&cancellable);
  failed->Finish(absl::UnknownError("oserror"));
  auto finished = Core(&cancellable);
  finished->Finish(int64_t{5});

  EXPECT_TRUE(Future<int64_t>(pending).cancel());
  EXPECT_TRUE(Future<int64_t>(pending).cancelled());
  EXPECT_FALSE(Future<int64_t>(running).cancel());
  EXPECT_TRUE(Future<int64_t>(running).running());
  EXPECT_TRUE(Future<int64_t>(cancelled).cancel());
  EXPECT_FALSE(Future<int64_t>(failed).cancel());
  EXPECT_FALSE(Future<int64_t>(finished).cancel());
  EXPECT_EQ(*Future<int64_t>(finished).result(), 5);
  // terminate() stops the running one.
  EXPECT_TRUE(Future<int64_t>(running).terminate());
  EXPECT_TRUE(Future<int64_t>(running).cancelled());
  EXPECT_FALSE(Future<int64_t>(finished).terminate());
}

// Ported from test_future.py: test_done, test_running, test_cancelled,
// test_result_with_timeout and test_exception_with_timeout, over the five
// states of a future.
TEST(FutureTest, StatesAnswerAsInPython) {
  std::atomic<bool> cancellable{true};
  auto pending = Core();
  auto running = Core();
  running->MarkRunning();
  auto cancelled = Core(&cancellable);
  Future<int64_t>(cancelled).cancel();
  auto failed = Core();
  failed->Finish(absl::UnknownError("oserror"));
  auto succeeded = Core();
  succeeded->Finish(int64_t{42});
  struct Expected {
    std::shared_ptr<FutureCore> core;
    bool done, running, cancelled;
    absl::StatusCode result;
  };
  for (const Expected& e : std::vector<Expected>{
           {pending, false, false, false, absl::StatusCode::kDeadlineExceeded},
           {running, false, true, false, absl::StatusCode::kDeadlineExceeded},
           {cancelled, true, false, true, absl::StatusCode::kCancelled},
           {failed, true, false, false, absl::StatusCode::kUnknown},
           {succeeded, true, false, false, absl::StatusCode::kOk}}) {
    Future<int64_t> future(e.core);
    EXPECT_EQ(future.done(), e.done);
    EXPECT_EQ(future.running(), e.running);
    EXPECT_EQ(future.cancelled(), e.cancelled);
    EXPECT_EQ(future.result(absl::ZeroDuration()).status().code(), e.result);
    EXPECT_EQ(future.exception(absl::ZeroDuration()).code(), e.result);
  }
  EXPECT_EQ(*Future<int64_t>(succeeded).result(absl::ZeroDuration()), 42);
}

// Ported from test_future.py (test_done_callback_raises): a callback that
// throws is reported, and the callbacks after it still run.
TEST(FutureTest, ThrowingCallbackIsReportedAndTheNextOnesRun) {
  std::vector<std::string> reported;
  SetCallbackErrorHandler(
      [&](const std::string& line) { reported.push_back(line); });
  auto core = Core();
  Future<int64_t> future(core);
  bool raising_was_called = false;
  bool fn_was_called = false;
  future.add_done_callback([&](const Future<int64_t>&) {
    raising_was_called = true;
    throw std::runtime_error("doh!");
  });
  future.add_done_callback(
      [&](const Future<int64_t>&) { fn_was_called = true; });
  core->Finish(int64_t{5});
  EXPECT_TRUE(raising_was_called);
  EXPECT_TRUE(fn_was_called);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_THAT(reported[0], HasSubstr("exception calling callback for job 7"));
  EXPECT_THAT(reported[0], HasSubstr("doh!"));
  SetCallbackErrorHandler(nullptr);
}

// Ported from test_future.py (test_done_callback_raises_already_succeeded):
// on a future already done the callback runs at once, and what it throws is
// reported (on stderr by default), not thrown out of add_done_callback.
TEST(FutureTest, ThrowingCallbackOnADoneFutureIsReportedOnStderr) {
  auto core = Core();
  core->Finish(int64_t{5});
  ::testing::internal::CaptureStderr();
  Future<int64_t>(core).add_done_callback(
      [](const Future<int64_t>&) { throw std::runtime_error("doh!"); });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("exception calling callback for"));
  EXPECT_THAT(err, HasSubstr("doh!"));
}

// Ported from test_as_completed.py (test_duplicate_futures): a future
// passed several times comes once.
TEST(AsCompletedTest, DuplicateFuturesComeOnce) {
  auto core = Core();
  std::thread finisher([&] {
    absl::SleepFor(absl::Milliseconds(5));
    core->Finish(int64_t{1});
  });
  int completed = 0;
  for (const absl::StatusOr<Future<int64_t>>& next :
       as_completed(Futures({core, core, core}))) {
    ASSERT_TRUE(next.ok()) << next.status();
    ++completed;
  }
  finisher.join();
  EXPECT_EQ(completed, 1);
}

// Ported from test_wait.py (test_20369): wait([f, f]) lists f once.
TEST(WaitTest, DuplicateFuturesAreListedOnce) {
  auto core = Core();
  core->Finish(int64_t{2});
  DoneAndNotDone<int64_t> split = wait(Futures({core, core}));
  EXPECT_EQ(split.done.size(), 1u);
  EXPECT_TRUE(split.not_done.empty());
}

// Ported from test_as_completed.py (test_correct_timeout_exception_msg).
TEST(AsCompletedTest, TimeoutSaysHowManyAreUnfinished) {
  std::atomic<bool> cancellable{true};
  auto cancelled = Core(&cancellable);
  Future<int64_t>(cancelled).cancel();
  auto running = Core();
  running->MarkRunning();
  auto succeeded = Core();
  succeeded->Finish(int64_t{42});
  std::vector<absl::Status> errors;
  for (const absl::StatusOr<Future<int64_t>>& next :
       as_completed(Futures({cancelled, Core(), running, succeeded}),
                    absl::ZeroDuration())) {
    if (!next.ok()) errors.push_back(next.status());
  }
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message(), "2 (of 4) futures unfinished");
}

// Polling with short timeouts leaves nothing behind on the futures: each
// call removes the observers it added.
TEST(WaitTest, PollingLeavesNoObserversBehind) {
  auto core = Core();
  for (int i = 0; i < 1000; ++i) {
    wait(Futures({core}), ReturnWhen::kAllCompleted, absl::Microseconds(1));
    for (const auto& next :
         as_completed(Futures({core}), absl::Microseconds(1))) {
      EXPECT_FALSE(next.ok());
    }
  }
  EXPECT_EQ(core->observers(), 0u);
}

// On the thread that runs done-callbacks, the SDK's waits fail at once
// instead of waiting for what may never come.
TEST(FutureTest, WaitingOnTheCallbackThreadFailsAtOnce) {
  auto core = Core();
  auto batch = std::make_shared<internal::BatchCore>(1);
  std::vector<absl::StatusCode> codes;
  std::thread callback_thread([&] {
    internal::MarkCallbackThread();
    Future<int64_t> future(core);
    codes.push_back(future.result().status().code());
    codes.push_back(
        wait(Futures({core}), ReturnWhen::kAllCompleted).done.empty()
            ? absl::StatusCode::kFailedPrecondition
            : absl::StatusCode::kOk);
    for (const auto& next : as_completed(Futures({core}))) {
      codes.push_back(next.status().code());
    }
    codes.push_back(batch->WaitFor(0, absl::InfiniteFuture()).code());
  });
  callback_thread.join();
  EXPECT_THAT(codes, ElementsAre(absl::StatusCode::kFailedPrecondition,
                                 absl::StatusCode::kFailedPrecondition,
                                 absl::StatusCode::kFailedPrecondition,
                                 absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(Future<int64_t>(core)
                              .result(absl::ZeroDuration())
                              .status()
                              .message()),
              HasSubstr("did not finish"));
}

TEST(BatchResultsTest, FailFastCancelsTheRestAndStopsOnce) {
  auto core = std::make_shared<internal::BatchCore>(4, /*fail_fast=*/true);
  int stops = 0;
  core->SetOnFailure([&] { ++stops; });
  core->Add(0, Value(int64_t{1}));
  EXPECT_EQ(stops, 0);
  // The job's task 1 is the caller's position 3.
  core->AddRun({2, 3}, 1, {absl::UnknownError("task 1 over [5, 6) failed")});
  EXPECT_EQ(stops, 1);
  EXPECT_EQ(core->first_failure(), 3u);
  EXPECT_EQ(core->ResultOf(3).status().message(), "task 3 over [5, 6) failed");
  EXPECT_EQ(core->ResultOf(1).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(core->ResultOf(2).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(std::get<int64_t>(*core->ResultOf(0)), 1);
  core->Add(2, absl::UnknownError("a second error"));
  EXPECT_EQ(stops, 1);
  EXPECT_EQ(core->completed(), 4u);
}

TEST(BatchResultsTest, HandsOutInOrderAndInCompletionOrder) {
  auto core = std::make_shared<internal::BatchCore>(3);
  std::vector<size_t> progress;
  core->SetProgress([&](size_t done, size_t total) {
    progress.push_back(done * 10 + total);
  });
  auto job = Core();
  BatchResults in_order(core, job);
  BatchResults unordered(core, job);
  core->Add(2, Value(int64_t{20}));
  EXPECT_EQ(in_order.NextInOrder(absl::Now() + absl::Milliseconds(10))
                .status()
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  absl::StatusOr<TaskOutcome> first = unordered.NextCompleted();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->index, 2u);
  std::thread producer([&] {
    core->Add(0, Value(int64_t{0}));
    core->Add(0, Value(int64_t{99}));  // the first result of a task wins
    // The job ended: task 1 never reported.
    core->End(absl::UnknownError("job 7 failed"), {0, 1, 2});
    job->Finish(absl::UnknownError("job 7 failed"));
  });
  std::vector<absl::StatusOr<Value>> all = in_order.AllInOrder();
  producer.join();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(*all[0]), 0);
  EXPECT_EQ(all[1].status().message(), "job 7 failed");
  EXPECT_EQ(std::get<int64_t>(*all[2]), 20);
  EXPECT_EQ(unordered.NextCompleted()->index, 0u);
  EXPECT_EQ(unordered.NextCompleted()->index, 1u);
  EXPECT_EQ(unordered.NextCompleted().status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(in_order.Wait().code(), absl::StatusCode::kUnknown);
  // One call per new result (none for the duplicate), with (done, total).
  EXPECT_THAT(progress, ElementsAre(13, 23, 33));
}

}  // namespace
}  // namespace pfor
