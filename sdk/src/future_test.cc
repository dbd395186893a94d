// Futures, wait(), as_completed() and batch results, driven by plain threads
// (no coordinator): the SDK's concurrency code on its own, so that the
// ThreadSanitizer build checks it.
#include "pfor/future.h"

#include <atomic>
#include <thread>

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
  auto core =
      std::make_shared<FutureCore>("count_primes", [cancellable](uint64_t) {
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
  cores[3]->Cancel();            // ...nor, as in Python, a cancellation
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
    absl::SleepFor(absl::Milliseconds(5));
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
