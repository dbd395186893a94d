// The SDK behaves like concurrent.futures and joblib where Python programs
// rely on them. Most cases are ported from CPython's
// Lib/test/test_concurrent_futures/ and joblib's joblib/test/
// test_parallel.py; each names the Python test it mirrors (docs/sdk.md
// keeps the table of them, with the differences on purpose). They run on
// an embedded cluster of two slots: the same coordinator and worker code as
// the daemons, with this program's own kernels.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/client.h"
#include "pfor/executor.h"
#include "pfor/kernel.h"
#include "pfor/parallel.h"

namespace pfor::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The client the nested kernel calls back into (set by the fixture).
std::atomic<Client*> g_client{nullptr};

// joblib's nested_loop: each index runs a Parallel of its own, of four
// prime counts, and sums them (the primes below 1000 per index).
PFOR_KERNEL(
    {.name = "nested_primes",
     .help = "Per index: a nested Parallel counting primes below 1000.",
     .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
       int64_t total = 0;
       for (int64_t i = chunk.begin; i < chunk.end; ++i) {
         std::vector<DelayedCall> calls;
         for (int64_t k = 0; k < 4; ++k) {
           calls.push_back(delayed("count_primes")({k * 250, (k + 1) * 250}));
         }
         Client* client = g_client.load();
         if (client == nullptr) {
           return absl::FailedPreconditionError("no client");
         }
         for (absl::StatusOr<int64_t>& count :
              Parallel(*client, {.n_jobs = 2, .batch_size = 1})(calls)
                  .list<int64_t>()) {
           if (!count.ok()) return count.status();
           total += *count;
         }
       }
       return Value(total);
     }});

constexpr int64_t kPrimesBelow1000 = 168;
// Long enough to still run when a test acts on it: 100 s of sleep.
constexpr Range kLong = {0, 100'000};
std::map<std::string, ParamValue> SleepMs() { return {{"us", int64_t{1000}}}; }
std::map<std::string, ParamValue> Fault(const std::string& mode, int64_t at) {
  return {{"mode", mode}, {"at", at}};
}
// Bounds every wait that a regression could turn into a hang.
constexpr absl::Duration kPatience = absl::Seconds(60);

// A one-shot notification on std::mutex: TSan cannot see the ordering
// absl::Notification gives with Debian's Abseil (decision 4).
class Signal {
 public:
  // Notifies under the lock: the waiter may destroy the Signal as soon as
  // it wakes.
  void Notify() {
    std::lock_guard lock(mu_);
    notified_ = true;
    notified_cv_.notify_all();
  }
  bool WaitFor(absl::Duration timeout) {
    std::unique_lock lock(mu_);
    return notified_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                 [this] { return notified_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable notified_cv_;
  bool notified_ = false;
};

class SdkSemanticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientOptions options;
    options.embedded_threads = 2;
    // The tests fail tasks on purpose with the fault kernel.
    options.embedded_test_kernels = true;
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    g_client = client_.get();
  }
  void TearDown() override { g_client = nullptr; }

  // The newest job of `kernel`, or 0.
  uint64_t NewestJob(const std::string& kernel) {
    absl::StatusOr<std::vector<JobStatus>> jobs = client_->ListJobs(100);
    if (!jobs.ok()) return 0;
    for (const JobStatus& job : *jobs) {
      if (job.spec->kernel == kernel) return job.id;
    }
    return 0;
  }
  ::testing::AssertionResult JobEndsAs(uint64_t job, JobState state) {
    absl::StatusOr<JobStatus> status;
    if (PollUntil(
            [&] {
              status = client_->Get(job);
              return status.ok() && status->state == state;
            },
            kPatience)) {
      return ::testing::AssertionSuccess();
    }
    if (!status.ok()) {
      return ::testing::AssertionFailure()
             << "job " << job << ": " << status.status();
    }
    return ::testing::AssertionFailure()
           << "job " << job << " is " << JobStateName(status->state)
           << (status->error.empty() ? "" : ": ") << status->error;
  }

  std::unique_ptr<Client> client_;
};

// --- concurrent.futures: futures and callbacks ------------------------------

// test_future.py FutureTests.test_done_callback_with_result,
// test_done_callback_with_exception and test_done_callback_with_cancel.
TEST_F(SdkSemanticsTest, DoneCallbacksSeeResultErrorAndCancellation) {
  Executor executor(*client_, {.max_attempts = 1});
  std::atomic<int64_t> result{-1};
  std::atomic<bool> failed{false};
  std::atomic<bool> cancelled{false};
  Signal one, two, three;
  executor.submit<int64_t>("count_primes", {0, 1000})
      .add_done_callback([&](const Future<int64_t>& f) {
        result = *f.result();
        one.Notify();
      });
  executor.submit<int64_t>("fault", {0, 10}, Fault("error", 3))
      .add_done_callback([&](const Future<int64_t>& f) {
        failed = !f.exception().ok();
        two.Notify();
      });
  // Queued behind two long jobs that hold both slots: cancel() takes it.
  Future<int64_t> hog1 = executor.submit<int64_t>("sleep", kLong, SleepMs());
  Future<int64_t> hog2 = executor.submit<int64_t>("sleep", kLong, SleepMs());
  ASSERT_TRUE(
      PollUntil([&] { return hog1.running() && hog2.running(); }, kPatience));
  Future<int64_t> queued = executor.submit<int64_t>("sleep", kLong, SleepMs());
  queued.add_done_callback([&](const Future<int64_t>& f) {
    cancelled = f.cancelled();
    three.Notify();
  });
  EXPECT_TRUE(queued.cancel());
  ASSERT_TRUE(one.WaitFor(kPatience));
  ASSERT_TRUE(two.WaitFor(kPatience));
  ASSERT_TRUE(three.WaitFor(kPatience));
  EXPECT_EQ(result.load(), kPrimesBelow1000);
  EXPECT_TRUE(failed.load());
  EXPECT_TRUE(cancelled.load());
  EXPECT_TRUE(hog1.terminate());
  EXPECT_TRUE(hog2.terminate());
}

// test_future.py FutureTests.test_done_callback_raises: the error is
// reported and the next callback runs; the process goes on.
TEST_F(SdkSemanticsTest, ThrowingDoneCallbackIsReportedAndTheNextOneRuns) {
  std::mutex mu;
  std::vector<std::string> reported;
  SetCallbackErrorHandler([&](const std::string& line) {
    std::lock_guard lock(mu);
    reported.push_back(line);
  });
  Executor executor(*client_);
  Future<int64_t> future =
      executor.submit<int64_t>("sleep", {0, 20}, SleepMs());
  Signal second;
  future.add_done_callback(
      [](const Future<int64_t>&) { throw std::runtime_error("doh!"); });
  future.add_done_callback([&](const Future<int64_t>&) { second.Notify(); });
  ASSERT_TRUE(second.WaitFor(kPatience));
  // On a future already done it runs at once, and still throws nothing.
  future.add_done_callback(
      [](const Future<int64_t>&) { throw std::runtime_error("doh again!"); });
  SetCallbackErrorHandler(nullptr);
  std::lock_guard lock(mu);
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_THAT(reported[0], HasSubstr("exception calling callback for job "));
  EXPECT_THAT(reported[0], HasSubstr("doh!"));
  EXPECT_THAT(reported[1], HasSubstr("doh again!"));
}

// test_future.py FutureTests.test_cancel and test_running on real jobs:
// running() is true only once a chunk runs (not while it waits in a
// worker's queue), cancel() takes only jobs not started, terminate() stops
// a running one.
TEST_F(SdkSemanticsTest, RunningMeansRunningAndCancelSparesIt) {
  Executor executor(*client_);
  std::vector<Future<int64_t>> futures;
  for (int i = 0; i < 6; ++i) {
    JobSpec job{.kernel = "sleep", .begin = kLong.begin, .end = kLong.end};
    job.params = SleepMs();
    job.chunks = ChunkPolicy::Count(1);
    futures.push_back(executor.submit<int64_t>(job));
  }
  auto running = [&] {
    return absl::c_count_if(futures, [](const auto& f) { return f.running(); });
  };
  ASSERT_TRUE(PollUntil([&] { return running() == 2; }, kPatience));
  // The worker holds more chunks than it has slots (its prefetch): still
  // two run, whatever the moment.
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(running(), 2);
  int cancelled = 0;
  for (const Future<int64_t>& future : futures) {
    if (!future.running()) {
      EXPECT_TRUE(future.cancel());
      ++cancelled;
    } else {
      EXPECT_FALSE(future.cancel());
    }
  }
  EXPECT_EQ(cancelled, 4);
  for (const Future<int64_t>& future : futures) {
    if (future.cancelled()) continue;
    EXPECT_TRUE(future.running());
    EXPECT_TRUE(future.terminate());
    EXPECT_EQ(future.result(kPatience).status().code(),
              absl::StatusCode::kCancelled);
  }
}

// A done-callback runs on the client's callback thread, where waiting on
// the SDK would wait forever: those calls fail at once instead.
TEST_F(SdkSemanticsTest, BlockingOnTheSdkInsideACallbackFailsClearly) {
  Executor executor(*client_);
  Future<int64_t> never = executor.submit<int64_t>("sleep", kLong, SleepMs());
  Future<int64_t> quick = executor.submit<int64_t>("count_primes", {0, 1000});
  Signal called;
  absl::Status result_status, list_status;
  quick.add_done_callback([&](const Future<int64_t>&) {
    result_status = never.result().status();
    std::vector<absl::StatusOr<int64_t>> listed =
        Parallel(*client_)({delayed("count_primes")({0, 10})}).list<int64_t>();
    list_status = listed[0].status();
    called.Notify();
  });
  ASSERT_TRUE(called.WaitFor(kPatience));
  EXPECT_EQ(result_status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(result_status.message()),
              HasSubstr("a callback must not wait"));
  EXPECT_EQ(list_status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(never.terminate());
}

// --- concurrent.futures: wait and as_completed -------------------------------

// test_wait.py WaitTests.test_first_completed, test_first_exception and
// test_all_completed, test_timeout, test_20369.
TEST_F(SdkSemanticsTest, WaitSplitsDoneFromNotDone) {
  Executor executor(*client_, {.max_attempts = 1});
  Future<int64_t> quick = executor.submit<int64_t>("count_primes", {0, 1000});
  Future<int64_t> slow = executor.submit<int64_t>("sleep", kLong, SleepMs());
  DoneAndNotDone<int64_t> first =
      wait<int64_t>({quick, slow}, ReturnWhen::kFirstCompleted, kPatience);
  ASSERT_EQ(first.done.size(), 1u);
  EXPECT_EQ(first.done[0].job_id(), quick.job_id());

  Future<int64_t> failing =
      executor.submit<int64_t>("fault", {0, 10}, Fault("error", 3));
  DoneAndNotDone<int64_t> exception = wait<int64_t>(
      {quick, failing, slow}, ReturnWhen::kFirstException, kPatience);
  EXPECT_EQ(exception.done.size(), 2u);
  ASSERT_EQ(exception.not_done.size(), 1u);
  EXPECT_EQ(exception.not_done[0].job_id(), slow.job_id());

  DoneAndNotDone<int64_t> timed_out =
      wait<int64_t>({quick, failing, slow, slow}, ReturnWhen::kAllCompleted,
                    absl::Milliseconds(50));
  EXPECT_EQ(timed_out.done.size(), 2u);
  EXPECT_EQ(timed_out.not_done.size(), 1u);  // slow, once

  DoneAndNotDone<int64_t> twice = wait<int64_t>({quick, quick});
  EXPECT_EQ(twice.done.size(), 1u);
  EXPECT_TRUE(twice.not_done.empty());
  EXPECT_TRUE(slow.terminate());
}

// test_as_completed.py AsCompletedTests.test_no_timeout,
// test_future_times_out and test_duplicate_futures.
TEST_F(SdkSemanticsTest, AsCompletedYieldsEachFutureOnceUntilItsTimeout) {
  Executor executor(*client_);
  Future<int64_t> a = executor.submit<int64_t>("count_primes", {0, 1000});
  Future<int64_t> b = executor.submit<int64_t>("count_primes", {1000, 2000});
  int64_t total = 0;
  int yielded = 0;
  for (const absl::StatusOr<Future<int64_t>>& next :
       as_completed<int64_t>({a, b, a, b, a})) {
    ASSERT_TRUE(next.ok()) << next.status();
    total += *next->result();
    ++yielded;
  }
  EXPECT_EQ(yielded, 2);
  EXPECT_EQ(total, kPrimesBelow1000 + 135);

  Future<int64_t> slow = executor.submit<int64_t>("sleep", kLong, SleepMs());
  for (absl::Duration timeout :
       {absl::ZeroDuration(), absl::Milliseconds(100)}) {
    std::set<uint64_t> completed;
    absl::Status error;
    for (const absl::StatusOr<Future<int64_t>>& next :
         as_completed<int64_t>({a, b, slow}, timeout)) {
      if (next.ok()) {
        completed.insert(next->job_id());
      } else {
        error = next.status();
      }
    }
    EXPECT_EQ(completed, (std::set<uint64_t>{a.job_id(), b.job_id()}));
    EXPECT_EQ(error.code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_EQ(error.message(), "1 (of 3) futures unfinished");
  }
  EXPECT_TRUE(slow.terminate());
}

// --- concurrent.futures: map -----------------------------------------------

// executor.py ExecutorTest.test_map and test_map_exception.
TEST_F(SdkSemanticsTest, MapKeepsOrderAndStopsAtTheFirstError) {
  Executor executor(*client_, {.max_attempts = 1});
  std::vector<Range> inputs;
  for (int64_t i = 0; i < 10; ++i) inputs.push_back({i * 100, (i + 1) * 100});
  std::vector<absl::StatusOr<int64_t>> counts =
      executor.map<int64_t>("count_primes", inputs);
  int64_t total = 0;
  for (const absl::StatusOr<int64_t>& count : counts) {
    ASSERT_TRUE(count.ok()) << count.status();
    total += *count;
  }
  EXPECT_EQ(total, kPrimesBelow1000);

  // The input holding index 250 fails; the first error stops the call.
  std::vector<absl::StatusOr<int64_t>> results = executor.map<int64_t>(
      "fault", {{0, 100}, {100, 200}, {200, 300}, {300, 400}},
      Fault("error", 250));
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[2].status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(std::string(results[2].status().message()),
              HasSubstr("task 2 over [200, 300) failed"));
  for (size_t i : {0, 1, 3}) {
    EXPECT_TRUE(results[i].ok() ||
                results[i].status().code() == absl::StatusCode::kCancelled)
        << i << ": " << results[i].status();
  }
}

// executor.py ExecutorTest.test_map_timeout: the results in by the timeout,
// then DEADLINE_EXCEEDED; and, as Python cancels the calls not started, the
// batch stops: nothing is left running that nobody can stop.
TEST_F(SdkSemanticsTest, MapTimeoutStopsTheRemainingWork) {
  Executor executor(*client_, {.chunks = ChunkPolicy::Fixed(1)});
  std::vector<absl::StatusOr<int64_t>> results = executor.map<int64_t>(
      "sleep", {{0, 1}, {0, 1}, kLong}, SleepMs(), absl::Seconds(2));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(*results[0], 1);  // sleep's value: the indices it slept
  EXPECT_EQ(*results[1], 1);
  EXPECT_EQ(results[2].status().code(), absl::StatusCode::kDeadlineExceeded);
  const uint64_t job = NewestJob("sleep");
  ASSERT_NE(job, 0u);
  EXPECT_TRUE(JobEndsAs(job, JobState::kCancelled));
  // shutdown(cancel_futures) does not wait for it either.
  const absl::Time start = absl::Now();
  executor.shutdown(/*wait=*/true, /*cancel_futures=*/true);
  EXPECT_LT(absl::Now() - start, kPatience);
}

// An empty or reversed range is that input's error alone, worded for the
// SDK (not the command line's --range), numbered by the input's position.
TEST_F(SdkSemanticsTest, BadInputFailsAloneInItsPlace) {
  Executor executor(*client_, {.fail_fast = false});
  std::vector<absl::StatusOr<int64_t>> results = executor.map<int64_t>(
      "count_primes", {{0, 100}, {5, 5}, {100, 1000}, {10, 0}});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(*results[0], 25);
  EXPECT_EQ(*results[2], 143);
  for (size_t i : {1, 3}) {
    EXPECT_EQ(results[i].status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(results[i].status().message());
    EXPECT_THAT(message, HasSubstr(absl::StrCat("task ", i, " has the range")));
    EXPECT_THAT(message, HasSubstr("begin < end"));
    EXPECT_THAT(message, Not(HasSubstr("--range")));
  }
}

// In a Parallel of several kernels, an error names the caller's position,
// not the task's place in its kernel's batch.
TEST_F(SdkSemanticsTest, ErrorsAreNumberedByTheCallersPosition) {
  std::vector<DelayedCall> calls;
  for (int64_t i = 0; i < 10; ++i) {
    if (i % 2 == 0) {
      calls.push_back(delayed("count_primes")({0, 100}));
    } else {
      calls.push_back(delayed("fault")({i * 10, (i + 1) * 10},
                                       Fault(i == 9 ? "error" : "none", 95)));
    }
  }
  std::vector<absl::StatusOr<int64_t>> results =
      Parallel(*client_, {.fail_fast = false})(calls).list<int64_t>();
  ASSERT_EQ(results.size(), 10u);
  for (size_t i = 0; i < 9; ++i) EXPECT_TRUE(results[i].ok()) << i;
  EXPECT_THAT(std::string(results[9].status().message()),
              HasSubstr("task 9 over [90, 100) failed"));
}

// --- concurrent.futures: shutdown
// ---------------------------------------------

// test_shutdown.py ExecutorShutdownTest.test_run_after_shutdown and
// test_hang_issue12364.
TEST_F(SdkSemanticsTest, ShutdownWaitsForEveryFutureThenRefusesWork) {
  Executor executor(*client_);
  std::vector<Future<int64_t>> futures;
  for (int i = 0; i < 50; ++i) {
    futures.push_back(executor.submit<int64_t>("sleep", {0, 5}, SleepMs()));
  }
  executor.shutdown();
  for (const Future<int64_t>& future : futures) {
    EXPECT_TRUE(future.done());
    EXPECT_TRUE(future.result().ok()) << future.result().status();
  }
  EXPECT_EQ(executor.submit<int64_t>("noop", {0, 1}).result().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// test_shutdown.py ExecutorShutdownTest.test_cancel_futures: with few
// slots most of 50 queued futures are cancelled, the others finish.
TEST_F(SdkSemanticsTest, ShutdownCancelFuturesCancelsWhatHasNotStarted) {
  Executor executor(*client_);
  std::vector<Future<int64_t>> futures;
  for (int i = 0; i < 50; ++i) {
    futures.push_back(executor.submit<int64_t>("sleep", {0, 100}, SleepMs()));
  }
  // (Python's threads start the first call at once; here a worker does.)
  ASSERT_TRUE(PollUntil(
      [&] { return futures[0].running() || futures[0].done(); }, kPatience));
  executor.shutdown(/*wait=*/true, /*cancel_futures=*/true);
  int cancelled = 0;
  for (const Future<int64_t>& future : futures) {
    EXPECT_TRUE(future.done());
    if (future.cancelled()) {
      ++cancelled;
    } else {
      EXPECT_TRUE(future.exception().ok()) << future.exception();
    }
  }
  EXPECT_GT(cancelled, 20);
  EXPECT_LT(cancelled, 50);
}

// test_shutdown.py ExecutorShutdownTest.test_hang_gh94440: a future
// cancelled right after its submit does not hold up shutdown(wait=true).
TEST_F(SdkSemanticsTest, ShutdownAfterACancelledSubmitReturns) {
  Executor executor(*client_);
  ASSERT_TRUE(executor.submit<int64_t>("noop", {0, 1}).result().ok());
  executor.submit<int64_t>("noop", {0, 1}).cancel();
  executor.shutdown(/*wait=*/true);
}

// --- joblib ----------------------------------------------------------------

std::vector<DelayedCall> PrimeCalls(int64_t n) {
  std::vector<DelayedCall> calls;
  for (int64_t i = 0; i < n; ++i) {
    calls.push_back(delayed("count_primes")({i * 100, (i + 1) * 100}));
  }
  return calls;
}

std::vector<int64_t> Expected(int64_t n) {
  std::vector<int64_t> counts;
  for (int64_t i = 0; i < n; ++i) {
    int64_t count = 0;
    for (int64_t k = std::max<int64_t>(i * 100, 2); k < (i + 1) * 100; ++k) {
      bool prime = true;
      for (int64_t d = 2; d * d <= k; ++d) prime = prime && k % d != 0;
      count += prime;
    }
    counts.push_back(count);
  }
  return counts;
}

std::vector<int64_t> Values(const std::vector<absl::StatusOr<int64_t>>& all) {
  std::vector<int64_t> out;
  for (const absl::StatusOr<int64_t>& one : all) {
    out.push_back(one.ok() ? *one : -1);
  }
  return out;
}

// test_parallel.py test_simple_parallel and test_parallel_kwargs: every
// meaning of n_jobs, both backends, verbose or not.
TEST_F(SdkSemanticsTest, JoblibSimpleParallel) {
  for (Backend backend : {Backend::kThreads, Backend::kProcesses}) {
    for (int n_jobs : {1, 2, -1, -2}) {
      SCOPED_TRACE(absl::StrCat("n_jobs ", n_jobs));
      ::testing::internal::CaptureStderr();
      std::vector<absl::StatusOr<int64_t>> counts =
          Parallel(*client_,
                   {.n_jobs = n_jobs, .backend = backend, .verbose = 1})(
              PrimeCalls(5))
              .list<int64_t>();
      ::testing::internal::GetCapturedStderr();
      EXPECT_EQ(Values(counts), Expected(5));
    }
  }
}

// test_parallel.py test_dispatch_race_condition: many shapes of n_jobs and
// batch_size, every result in its place.
TEST_F(SdkSemanticsTest, JoblibDispatchRaceCondition) {
  struct Case {
    int64_t tasks;
    int n_jobs;
    int64_t batch_size;
  };
  for (const Case& c : std::vector<Case>{{2, 2, 0},
                                         {10, 2, 0},
                                         {517, 2, 0},
                                         {10, 4, 0},
                                         {200, 12, 0},
                                         {25, 12, 1},
                                         {250, 12, 1},
                                         {250, 12, 7}}) {
    SCOPED_TRACE(absl::StrCat(c.tasks, " tasks, n_jobs ", c.n_jobs,
                              ", batch_size ", c.batch_size));
    EXPECT_EQ(Values(Parallel(*client_,
                              {.n_jobs = c.n_jobs, .batch_size = c.batch_size})(
                         PrimeCalls(c.tasks))
                         .list<int64_t>()),
              Expected(c.tasks));
  }
}

// test_parallel.py test_parallel_as_context_manager: one Parallel called
// several times gives the same results each time.
TEST_F(SdkSemanticsTest, JoblibParallelIsReusable) {
  Parallel parallel(*client_, {.n_jobs = 2});
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(Values(parallel(PrimeCalls(10)).list<int64_t>()), Expected(10));
  }
}

// test_parallel.py test_parallel_timeout_success and
// test_parallel_timeout_fail.
TEST_F(SdkSemanticsTest, JoblibTimeout) {
  std::vector<DelayedCall> quick(10, delayed("sleep")({0, 1}, SleepMs()));
  EXPECT_EQ(
      Parallel(*client_, {.n_jobs = 2, .timeout = absl::Seconds(30)})(quick)
          .list<int64_t>()
          .size(),
      10u);

  std::vector<DelayedCall> slow(10, delayed("sleep")({0, 10'000}, SleepMs()));
  std::vector<absl::StatusOr<int64_t>> results =
      Parallel(*client_, {.n_jobs = 2, .timeout = absl::Milliseconds(10)})(slow)
          .list<int64_t>();
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(results[0].status().message()),
              HasSubstr("ParallelOptions::timeout"));
  EXPECT_TRUE(JobEndsAs(NewestJob("sleep"), JobState::kCancelled));
}

// test_parallel.py test_error_capture, test_exception_dispatch and
// test_abort_backend: the first error ends the call at once; the calls
// still queued never run.
TEST_F(SdkSemanticsTest, JoblibFirstErrorAbortsTheCall) {
  std::vector<DelayedCall> calls = {
      delayed("fault")({0, 10}, Fault("error", 0))};
  for (int i = 0; i < 100; ++i) {
    calls.push_back(delayed("sleep")({0, 10'000}, SleepMs()));
  }
  const absl::Time start = absl::Now();
  std::vector<absl::StatusOr<int64_t>> results =
      Parallel(*client_, {.n_jobs = 2, .batch_size = 1})(calls).list<int64_t>();
  EXPECT_LT(absl::Now() - start, kPatience);
  EXPECT_THAT(std::string(results[0].status().message()),
              HasSubstr("mode error at index 0"));
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].status().code(), absl::StatusCode::kCancelled) << i;
  }
  // The sleep calls go out as a second batch, unless the error came first:
  // then they are never sent.
  if (const uint64_t sleep = NewestJob("sleep"); sleep != 0) {
    EXPECT_TRUE(JobEndsAs(sleep, JobState::kCancelled));
  }
}

// test_parallel.py test_nested_loop: a kernel that runs a Parallel of its
// own, while the outer calls fill every slot.
TEST_F(SdkSemanticsTest, JoblibNestedLoop) {
  std::vector<DelayedCall> calls(4, delayed("nested_primes")({0, 2}));
  std::vector<absl::StatusOr<int64_t>> results =
      Parallel(*client_,
               {.n_jobs = 2, .batch_size = 1, .timeout = kPatience})(calls)
          .list<int64_t>();
  for (const absl::StatusOr<int64_t>& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, 2 * kPrimesBelow1000);
  }
}

// test_parallel.py test_nested_loop_with_exception_with_loky: an error
// beside nested loops still surfaces.
TEST_F(SdkSemanticsTest, JoblibNestedLoopWithException) {
  std::vector<absl::StatusOr<int64_t>> results =
      Parallel(*client_, {.n_jobs = 2, .timeout = kPatience})(
          {delayed("nested_primes")({0, 1}),
           delayed("fault")({0, 10}, Fault("error", 5))})
          .list<int64_t>();
  EXPECT_THAT(std::string(results[1].status().message()),
              HasSubstr("mode error at index 5"));
}

// test_parallel.py test_invalid_njobs and test_invalid_batch_size.
TEST_F(SdkSemanticsTest, JoblibInvalidOptions) {
  std::vector<absl::StatusOr<int64_t>> n_jobs =
      Parallel(*client_, {.n_jobs = 0})(PrimeCalls(1)).list<int64_t>();
  EXPECT_EQ(n_jobs[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(n_jobs[0].status().message()),
              HasSubstr("n_jobs = 0"));
  std::vector<absl::StatusOr<int64_t>> batch =
      Parallel(*client_, {.batch_size = -1})(PrimeCalls(1)).list<int64_t>();
  EXPECT_EQ(batch[0].status().code(), absl::StatusCode::kInvalidArgument);
}

// test_parallel.py test_parallel_return_generator_order and
// test_multiple_generator_call_separated.
TEST_F(SdkSemanticsTest, JoblibGeneratorsKeepOrder) {
  ParallelResults first =
      Parallel(*client_, {.n_jobs = 2, .return_as = ReturnAs::kGenerator})(
          PrimeCalls(10));
  ParallelResults second =
      Parallel(*client_, {.n_jobs = 2, .return_as = ReturnAs::kGenerator})(
          PrimeCalls(20));
  const std::vector<int64_t> expected = Expected(20);
  for (ParallelResults* results : {&first, &second}) {
    for (size_t i = 0; i < results->size(); ++i) {
      auto next = results->next<int64_t>(kPatience);
      ASSERT_TRUE(next.ok()) << next.status();
      EXPECT_EQ(next->first, i);
      EXPECT_EQ(*next->second, expected[i]);
    }
    EXPECT_EQ(results->next<int64_t>().status().code(),
              absl::StatusCode::kOutOfRange);
  }
}

// test_parallel.py test_parallel_unordered_generator_returns_fastest_first,
// and a generator's next() with a timeout: DEADLINE_EXCEEDED, nothing
// handed out, the same result on the next call.
TEST_F(SdkSemanticsTest, JoblibUnorderedGeneratorReturnsFastestFirst) {
  ParallelResults results =
      Parallel(*client_, {.n_jobs = 2,
                          .batch_size = 1,
                          .return_as = ReturnAs::kGeneratorUnordered})(
          {delayed("sleep")({0, 2000}, SleepMs()),
           delayed("count_primes")({0, 1000})});
  auto first = results.next<int64_t>(kPatience);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->first, 1u);
  EXPECT_EQ(*first->second, kPrimesBelow1000);
  EXPECT_EQ(results.next<int64_t>(absl::Milliseconds(10)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  auto second = results.next<int64_t>(kPatience);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->first, 0u);
}

// test_parallel.py test_deadlock_with_generator: a generator dropped after
// two results stops its jobs.
TEST_F(SdkSemanticsTest, JoblibDroppedGeneratorStopsItsJobs) {
  std::vector<DelayedCall> calls = {delayed("count_primes")({0, 10}),
                                    delayed("count_primes")({0, 10})};
  for (int i = 0; i < 8; ++i)
    calls.push_back(delayed("sleep")(kLong, SleepMs()));
  {
    ParallelResults results =
        Parallel(*client_, {.n_jobs = 2,
                            .batch_size = 1,
                            .return_as = ReturnAs::kGenerator})(calls);
    ASSERT_TRUE(results.next<int64_t>(kPatience).ok());
    ASSERT_TRUE(results.next<int64_t>(kPatience).ok());
  }
  EXPECT_TRUE(JobEndsAs(NewestJob("sleep"), JobState::kCancelled));
}

}  // namespace
}  // namespace pfor::testing
