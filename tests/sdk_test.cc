// The SDK end to end: Executor, futures, wait, as_completed, map, Parallel
// and parallel_reduce, each against an embedded cluster and against real
// pfor-coordinator and pfor-worker daemons on 127.0.0.1, with exact answers.

#include <atomic>
#include <cmath>
#include <numbers>
#include <set>
#include <thread>

#include "absl/algorithm/container.h"
#include "absl/synchronization/notification.h"
#include "cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/client.h"
#include "pfor/executor.h"
#include "pfor/parallel.h"
#include "pfor/parallel_for.h"

namespace pfor::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kPrimesBelow10To7 = 664579;

// Primes in [begin, end), counted the slow way.
int64_t PrimesIn(int64_t begin, int64_t end) {
  int64_t count = 0;
  for (int64_t n = std::max<int64_t>(begin, 2); n < end; ++n) {
    bool prime = true;
    for (int64_t d = 2; d * d <= n; ++d) {
      if (n % d == 0) {
        prime = false;
        break;
      }
    }
    count += prime;
  }
  return count;
}

std::map<std::string, ParamValue> Cos(double a, double b) {
  return {{"a", a}, {"b", b}, {"integrand", std::string("cos")}};
}

std::map<std::string, ParamValue> Fault(const std::string& mode, int64_t at) {
  return {{"mode", mode}, {"at", at}};
}

// Long enough to still run when the test acts on it: 100 s of sleep.
constexpr Range kLong = {0, 100'000};
std::map<std::string, ParamValue> SleepMs() { return {{"us", int64_t{1000}}}; }

enum class Mode { kEmbedded, kRemote };

class SdkTest : public ::testing::TestWithParam<Mode> {
 protected:
  static void SetUpTestSuite() {
    remote_ = new Cluster();
    ASSERT_TRUE(remote_->StartCoordinator().ok());
    ASSERT_TRUE(remote_->StartWorker(2, {"--processes", "2"}).ok());
    ASSERT_TRUE(remote_->WaitForWorkers(1).ok());
  }
  static void TearDownTestSuite() {
    delete remote_;
    remote_ = nullptr;
  }

  void SetUp() override {
    ClientOptions options;
    if (GetParam() == Mode::kRemote) {
      options.coordinator = remote_->address();
    } else {
      options.embedded_threads = 2;
      // The tests fail chunks on purpose with the fault kernel.
      options.embedded_test_kernels = true;
    }
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  static Cluster* remote_;
  std::unique_ptr<Client> client_;
};

Cluster* SdkTest::remote_ = nullptr;

TEST_P(SdkTest, SubmitReturnsTheTypedResult) {
  Executor executor(*client_);
  Future<int64_t> primes =
      executor.submit<int64_t>("count_primes", {1, 10'000'000});
  EXPECT_GT(primes.job_id(), 0u);
  EXPECT_EQ(*primes.result(), kPrimesBelow10To7);
  EXPECT_TRUE(primes.done());
  EXPECT_FALSE(primes.running());
  EXPECT_FALSE(primes.cancelled());
  EXPECT_TRUE(primes.exception().ok());

  Future<double> integral = executor.submit<double>(
      "integrate", {0, 1'000'000}, Cos(0, std::numbers::pi / 2));
  EXPECT_NEAR(*integral.result(), 1.0, 1e-9);
}

TEST_P(SdkTest, WrongResultTypeIsAClearError) {
  Executor executor(*client_);
  const absl::StatusOr<double> result =
      executor.submit<double>("count_primes", {1, 1000}).result();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("count_primes returned an integer; ask for "
                        "Future<int64_t>"));
}

TEST_P(SdkTest, RejectedJobFailsItsFuture) {
  Executor executor(*client_);
  const absl::StatusOr<int64_t> result =
      executor.submit<int64_t>("count_primes", {10, 5}).result();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("range end 5 is before begin 10"));
}

TEST_P(SdkTest, RemoteFailureCarriesMessageChunkAndAttempts) {
  Executor executor(*client_, {.max_attempts = 2});
  Future<int64_t> future =
      executor.submit<int64_t>("fault", {0, 1000}, Fault("throw", 500));
  const absl::Status error = future.exception();
  EXPECT_EQ(error.code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(std::string(error.message()),
              HasSubstr("kernel fault: mode throw at index 500 as asked"));
  EXPECT_THAT(std::string(error.message()), HasSubstr("failed 2 times"));
  EXPECT_THAT(std::string(error.message()), HasSubstr("chunk ["));
  EXPECT_TRUE(future.done());
}

TEST_P(SdkTest, ResultTimesOutThenTerminateStopsTheJob) {
  Executor executor(*client_);
  Future<int64_t> future = executor.submit<int64_t>("sleep", kLong, SleepMs());
  EXPECT_EQ(future.result(absl::Milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(future.done());
  // It runs: cancel() leaves it alone, as Python's does; terminate() stops
  // it.
  EXPECT_FALSE(future.cancel());
  EXPECT_TRUE(future.terminate());
  EXPECT_TRUE(future.cancelled());
  EXPECT_EQ(future.result().status().code(), absl::StatusCode::kCancelled);
  absl::StatusOr<JobStatus> job = client_->Get(future.job_id());
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_FALSE(future.cancel() && !future.cancelled());
}

TEST_P(SdkTest, DoneCallbackSeesTheResult) {
  Executor executor(*client_);
  std::atomic<int64_t> seen{-1};
  absl::Notification called;
  Future<int64_t> future =
      executor.submit<int64_t>("count_primes", {1, 1'000'000});
  future.add_done_callback([&](const Future<int64_t>& done) {
    seen = *done.result();
    called.Notify();
  });
  ASSERT_TRUE(called.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_EQ(seen.load(), 78498);
}

TEST_P(SdkTest, AsCompletedYieldsEveryFutureOnce) {
  Executor executor(*client_);
  std::vector<Future<int64_t>> futures;
  for (int64_t begin = 1; begin < 10'000'000; begin += 1'000'000) {
    futures.push_back(executor.submit<int64_t>(
        "count_primes",
        {begin, std::min<int64_t>(begin + 1'000'000, 10'000'000)}));
  }
  int64_t total = 0;
  std::set<uint64_t> jobs;
  for (const absl::StatusOr<Future<int64_t>>& next : as_completed(futures)) {
    ASSERT_TRUE(next.ok()) << next.status();
    total += *next->result();
    jobs.insert(next->job_id());
  }
  EXPECT_EQ(total, kPrimesBelow10To7);
  EXPECT_EQ(jobs.size(), futures.size());
}

TEST_P(SdkTest, WaitFirstCompletedReturnsTheShortJob) {
  Executor executor(*client_);
  std::vector<Future<int64_t>> futures = {
      executor.submit<int64_t>("sleep", kLong, SleepMs()),
      executor.submit<int64_t>("count_primes", {1, 1000})};
  DoneAndNotDone<int64_t> split =
      wait(futures, ReturnWhen::kFirstCompleted, absl::Seconds(60));
  ASSERT_EQ(split.done.size(), 1u);
  EXPECT_EQ(*split.done[0].result(), 168);
  ASSERT_EQ(split.not_done.size(), 1u);
  EXPECT_TRUE(split.not_done[0].terminate());
}

TEST_P(SdkTest, WaitFirstExceptionReturnsAtTheFailure) {
  Executor executor(*client_, {.max_attempts = 1});
  std::vector<Future<int64_t>> futures = {
      executor.submit<int64_t>("sleep", kLong, SleepMs()),
      executor.submit<int64_t>("fault", {0, 100}, Fault("error", 3))};
  DoneAndNotDone<int64_t> split =
      wait(futures, ReturnWhen::kFirstException, absl::Seconds(60));
  ASSERT_EQ(split.done.size(), 1u);
  EXPECT_THAT(std::string(split.done[0].exception().message()),
              HasSubstr("mode error at index 3"));
  ASSERT_EQ(split.not_done.size(), 1u);
  EXPECT_TRUE(split.not_done[0].terminate());
}

TEST_P(SdkTest, MapKeepsInputOrder) {
  Executor executor(*client_);
  std::vector<Range> inputs;
  for (int64_t begin = 0; begin < 100'000; begin += 1000) {
    inputs.push_back({begin, begin + 1000});
  }
  std::reverse(inputs.begin(), inputs.end());
  std::vector<absl::StatusOr<int64_t>> counts =
      executor.map<int64_t>("count_primes", inputs);
  ASSERT_EQ(counts.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(counts[i].ok()) << counts[i].status();
    EXPECT_EQ(*counts[i], PrimesIn(inputs[i].begin, inputs[i].end)) << i;
  }
}

// A batch's status comes with a page of its task results, never all of
// them (a batch may have millions): the first 1000 unless asked otherwise.
TEST_P(SdkTest, GetGivesABatchsTaskResultsAPageAtATime) {
  Executor executor(*client_);
  std::vector<Task> tasks;
  for (int64_t i = 0; i < 2500; ++i) tasks.push_back({.range = {i, i + 1}});
  BatchResults batch =
      executor.SubmitBatch("count_primes", std::move(tasks), {}, 0);
  ASSERT_TRUE(batch.Wait(absl::Seconds(60)).ok());
  absl::StatusOr<JobStatus> first = client_->Get(batch.job_id());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->task_count, 2500);
  EXPECT_EQ(first->first_task, 0);
  EXPECT_EQ(first->task_results.size(), 1000u);
  absl::StatusOr<JobStatus> last =
      client_->Get(batch.job_id(), {.first = 2490, .count = 100});
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->first_task, 2490);
  ASSERT_EQ(last->task_results.size(), 10u);
  for (int64_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(last->task_results[i].ok());
    EXPECT_EQ(std::get<int64_t>(*last->task_results[i]),
              PrimesIn(2490 + i, 2491 + i))
        << i;
  }
  // Listings come without task results.
  absl::StatusOr<JobStatus> too_many =
      client_->Get(batch.job_id(), {.count = 1'000'000});
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::vector<JobStatus>> listed = client_->ListJobs(5);
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const JobStatus& job : *listed) EXPECT_TRUE(job.task_results.empty());
}

TEST_P(SdkTest, MapReportsEachFailingInputInPlace) {
  Executor executor(*client_, {.fail_fast = false});
  std::vector<absl::StatusOr<int64_t>> results = executor.map<int64_t>(
      "fault", {{0, 100}, {100, 200}, {200, 300}}, Fault("error", 150));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(*results[0], 100);
  EXPECT_EQ(*results[2], 100);
  EXPECT_EQ(results[1].status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(std::string(results[1].status().message()),
              HasSubstr("task 1 over [100, 200) failed"));
  EXPECT_THAT(std::string(results[1].status().message()),
              HasSubstr("mode error at index 150"));
}

TEST_P(SdkTest, ShutdownWaitsAndThenRefusesWork) {
  Future<int64_t> before;
  {
    Executor executor(*client_);
    before = executor.submit<int64_t>("count_primes", {1, 1'000'000});
    executor.shutdown();
    EXPECT_TRUE(before.done());
    const absl::StatusOr<int64_t> after =
        executor.submit<int64_t>("count_primes", {1, 10}).result();
    EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(*before.result(), 78498);
}

TEST_P(SdkTest, LeavingTheScopeWaitsForEveryFuture) {
  std::vector<Future<int64_t>> futures;
  {
    Executor executor(*client_);
    for (int i = 0; i < 5; ++i) {
      futures.push_back(executor.submit<int64_t>("sleep", {0, 20}, SleepMs()));
    }
  }  // like leaving Python's `with ThreadPoolExecutor() as executor:`
  for (const Future<int64_t>& future : futures) {
    EXPECT_TRUE(future.done());
    EXPECT_EQ(*future.result(), 20);
  }
}

TEST_P(SdkTest, ShutdownCancelsFuturesNotYetRunning) {
  Executor executor(*client_);
  // 8 chunks of 12.5 s: two run and two wait on the worker (its prefetch),
  // which leaves no slot for the next job for a while.
  JobSpec hog{.kernel = "sleep", .begin = 0, .end = 100'000};
  hog.params = SleepMs();
  hog.chunks = ChunkPolicy::Count(8);
  Future<int64_t> running = executor.submit<int64_t>(hog);
  ASSERT_TRUE(PollUntil([&] { return running.running(); }, absl::Seconds(30)));
  Future<int64_t> queued = executor.submit<int64_t>("sleep", kLong, SleepMs());
  // The coordinator has seen the job and found no free slot for it.
  ASSERT_TRUE(PollUntil(
      [&] {
        absl::StatusOr<JobStatus> job = client_->Get(queued.job_id());
        return job.ok() && job->state == JobState::kQueued &&
               !job->waiting_reason.empty();
      },
      absl::Seconds(30)));
  ASSERT_FALSE(queued.running());

  executor.shutdown(/*wait=*/false, /*cancel_futures=*/true);
  EXPECT_TRUE(queued.cancelled());
  EXPECT_FALSE(running.done());  // running futures go on, as in Python
  EXPECT_FALSE(running.cancel());
  EXPECT_TRUE(running.terminate());
  EXPECT_EQ(running.result().status().code(), absl::StatusCode::kCancelled);
}

TEST_P(SdkTest, SubmitsFromManyThreads) {
  Executor executor(*client_);
  std::vector<std::thread> threads;
  std::vector<std::vector<Future<int64_t>>> futures(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const int64_t begin = (t * 25 + i) * 10'000;
        futures[t].push_back(
            executor.submit<int64_t>("count_primes", {begin, begin + 10'000}));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  int64_t total = 0;
  for (const auto& mine : futures) {
    for (const Future<int64_t>& future : mine) {
      absl::StatusOr<int64_t> count = future.result();
      ASSERT_TRUE(count.ok()) << count.status();
      total += *count;
    }
  }
  EXPECT_EQ(total, 78498);  // primes below 10^6
}

// Integrates cos over [0, pi/2] in `pieces` delayed calls.
std::vector<DelayedCall> CosPieces(int pieces) {
  std::vector<DelayedCall> calls;
  const double width = std::numbers::pi / 2 / pieces;
  for (int i = 0; i < pieces; ++i) {
    calls.push_back(
        delayed("integrate")({0, 100'000}, Cos(i * width, (i + 1) * width)));
  }
  return calls;
}

TEST_P(SdkTest, ParallelListIsInInputOrderOnBothBackends) {
  for (Backend backend : {Backend::kThreads, Backend::kProcesses}) {
    SCOPED_TRACE(backend == Backend::kThreads ? "threads" : "processes");
    const int pieces = 16;
    ParallelResults results = Parallel(
        *client_, {.n_jobs = -1, .backend = backend})(CosPieces(pieces));
    std::vector<absl::StatusOr<double>> values = results.list<double>();
    ASSERT_EQ(values.size(), static_cast<size_t>(pieces));
    double total = 0;
    const double width = std::numbers::pi / 2 / pieces;
    for (int i = 0; i < pieces; ++i) {
      ASSERT_TRUE(values[i].ok()) << values[i].status();
      EXPECT_NEAR(*values[i], std::sin((i + 1) * width) - std::sin(i * width),
                  1e-10)
          << i;
      total += *values[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-9);
  }
}

TEST_P(SdkTest, ParallelGeneratorsHandOutEveryResultOnce) {
  for (ReturnAs order : {ReturnAs::kGenerator, ReturnAs::kGeneratorUnordered}) {
    std::vector<DelayedCall> calls;
    for (int64_t i = 0; i < 50; ++i) {
      calls.push_back(delayed("count_primes")({i * 1000, (i + 1) * 1000}));
    }
    ParallelResults results = Parallel(
        *client_, {.n_jobs = 2, .batch_size = 3, .return_as = order})(calls);
    std::set<size_t> seen;
    size_t expected_next = 0;
    while (true) {
      absl::StatusOr<std::pair<size_t, absl::StatusOr<int64_t>>> next =
          results.next<int64_t>();
      if (!next.ok()) {
        EXPECT_EQ(next.status().code(), absl::StatusCode::kOutOfRange);
        break;
      }
      const auto& [index, count] = *next;
      if (order == ReturnAs::kGenerator) {
        EXPECT_EQ(index, expected_next++);
      }
      EXPECT_TRUE(seen.insert(index).second);
      ASSERT_TRUE(count.ok()) << count.status();
      EXPECT_EQ(*count, PrimesIn(index * 1000, (index + 1) * 1000));
    }
    EXPECT_EQ(seen.size(), calls.size());
  }
}

TEST_P(SdkTest, ParallelVerboseReportsProgressOnStderr) {
  std::vector<DelayedCall> calls;
  for (int64_t i = 0; i < 20; ++i) {
    calls.push_back(delayed("count_primes")({i * 100, (i + 1) * 100}));
  }
  ::testing::internal::CaptureStderr();
  std::vector<absl::StatusOr<int64_t>> counts =
      Parallel(*client_, {.n_jobs = 2, .verbose = 1})(calls).list<int64_t>();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(counts.size(), 20u);
  EXPECT_THAT(err, HasSubstr("[Parallel(n_jobs=2)]: Done 20 out of 20 | "
                             "elapsed: "));
  EXPECT_THAT(err, HasSubstr("s finished\n"));
}

TEST_P(SdkTest, ParallelGeneratorStreamsResultsAndCancelsWhenDropped) {
  // The quick task completes while the slow one still runs: the generator
  // hands it out at once, though the Parallel that made it is gone.
  std::vector<DelayedCall> calls = {delayed("sleep")(kLong, SleepMs()),
                                    delayed("count_primes")({0, 1000})};
  uint64_t slow_job = 0;
  {
    ParallelResults results =
        Parallel(*client_, {.return_as = ReturnAs::kGeneratorUnordered})(calls);
    const absl::Time start = absl::Now();
    absl::StatusOr<std::pair<size_t, absl::StatusOr<int64_t>>> first =
        results.next<int64_t>();
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->first, 1u);
    EXPECT_EQ(*first->second, 168);
    EXPECT_LT(absl::Now() - start, absl::Seconds(30));
    absl::StatusOr<std::vector<JobStatus>> jobs = client_->ListJobs(10);
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    for (const JobStatus& job : *jobs) {
      if (job.spec->kernel == "sleep" && job.state == JobState::kRunning) {
        slow_job = job.id;
      }
    }
    ASSERT_NE(slow_job, 0u);
  }  // dropping the results cancels the slow job
  absl::StatusOr<JobStatus> slow = client_->Get(slow_job);
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_EQ(slow->state, JobState::kCancelled);
}

TEST_P(SdkTest, ParallelMixesKernelsAndKeepsOrder) {
  std::vector<DelayedCall> calls = {
      delayed("count_primes")({0, 100}),
      delayed("integrate")({0, 100'000}, Cos(0, std::numbers::pi / 2)),
      delayed("count_primes")({100, 1000})};
  std::vector<absl::StatusOr<Value>> values =
      Parallel(*client_)(calls).list<Value>();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(*values[0]), 25);
  EXPECT_NEAR(std::get<double>(*values[1]), 1.0, 1e-9);
  EXPECT_EQ(std::get<int64_t>(*values[2]), 143);
}

TEST_P(SdkTest, ParallelRejectsBadOptions) {
  for (ParallelOptions options :
       {ParallelOptions{.n_jobs = 0}, ParallelOptions{.batch_size = -5}}) {
    std::vector<absl::StatusOr<int64_t>> values =
        Parallel(*client_, options)({delayed("noop")({0, 10})}).list<int64_t>();
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(values[0].status().code(), absl::StatusCode::kInvalidArgument);
  }
  std::vector<absl::StatusOr<int64_t>> unknown =
      Parallel(*client_)({delayed("no_such_kernel")({0, 10})}).list<int64_t>();
  EXPECT_THAT(std::string(unknown[0].status().message()),
              HasSubstr("no_such_kernel"));
}

TEST_P(SdkTest, ParallelReduceAndParallelFor) {
  EXPECT_EQ(
      *parallel_reduce<int64_t>(*client_, "count_primes", {1, 10'000'000}),
      kPrimesBelow10To7);
  // count folds how many indices have a non-zero value: here, the primes.
  EXPECT_EQ(*parallel_reduce<int64_t>(*client_, "count_primes", {1, 100}, {},
                                      Reduction::kCount),
            25);
  EXPECT_TRUE(parallel_for(*client_, "noop", {0, 1'000'000}).ok());
  const absl::Status failed =
      parallel_for(*client_, "fault", {0, 100}, Fault("error", 7));
  EXPECT_THAT(std::string(failed.message()),
              HasSubstr("mode error at index 7"));
}

// The coordinator is killed while futures follow its jobs and comes back
// with its journal: the futures and a batch complete with exact results.
TEST(SdkReconnect, FuturesSurviveACoordinatorRestart) {
  TempDir state;
  ASSERT_FALSE(state.path().empty());
  Cluster cluster;
  ASSERT_TRUE(cluster.StartCoordinator({"--state-dir", state.path()}).ok());
  const int port = cluster.port();
  ASSERT_TRUE(cluster.StartWorker(2).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect({.coordinator = cluster.address()});
  ASSERT_TRUE(client.ok()) << client.status();

  Executor executor(**client);
  // About 2 s of sleeping on two slots, in 40 chunks.
  JobSpec sleeper{.kernel = "sleep", .begin = 0, .end = 4000};
  sleeper.params = SleepMs();
  sleeper.chunks = ChunkPolicy::Count(40);
  Future<int64_t> future = executor.submit<int64_t>(sleeper);
  std::vector<Task> tasks;
  for (int64_t i = 0; i < 10; ++i) {
    tasks.push_back({{i * 100, (i + 1) * 100}, SleepMs()});
  }
  BatchResults batch = executor.SubmitBatch("sleep", tasks, {}, 0);
  ASSERT_TRUE(PollUntil([&] { return future.running(); }, absl::Seconds(30)));

  cluster.coordinator().Kill();
  // An outage, not a wait for anything: the client must ride it out.
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(
      cluster.StartCoordinator({"--state-dir", state.path()}, port).ok());

  absl::StatusOr<int64_t> slept = future.result(absl::Seconds(60));
  ASSERT_TRUE(slept.ok()) << slept.status();
  EXPECT_EQ(*slept, 4000);  // every index once
  std::vector<absl::StatusOr<Value>> each = batch.AllInOrder(absl::Seconds(60));
  ASSERT_EQ(each.size(), tasks.size());
  for (const absl::StatusOr<Value>& value : each) {
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(std::get<int64_t>(*value), 100);
  }
}

TEST(SdkReconnect, FuturesFailOnceTheCoordinatorStaysAway) {
  Cluster cluster;
  ASSERT_TRUE(cluster.StartCoordinator().ok());
  ASSERT_TRUE(cluster.StartWorker(1).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect({.coordinator = cluster.address(),
                       .reconnect_timeout = absl::Seconds(1)});
  ASSERT_TRUE(client.ok()) << client.status();
  Executor executor(**client);
  Future<int64_t> future = executor.submit<int64_t>("sleep", kLong, SleepMs());
  ASSERT_TRUE(PollUntil([&] { return future.running(); }, absl::Seconds(30)));

  cluster.coordinator().Kill();
  const absl::Time killed = absl::Now();
  const absl::Status error = future.exception(absl::Seconds(30));
  EXPECT_EQ(error.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(error.message()), HasSubstr("no answer for 1s"));
  EXPECT_THAT(std::string(error.message()), HasSubstr("pfor status JOB"));
  EXPECT_LT(absl::Now() - killed, absl::Seconds(10));
}

INSTANTIATE_TEST_SUITE_P(Sdk, SdkTest,
                         ::testing::Values(Mode::kEmbedded, Mode::kRemote),
                         [](const auto& info) {
                           return info.param == Mode::kEmbedded ? "Embedded"
                                                                : "Remote";
                         });

}  // namespace
}  // namespace pfor::testing
