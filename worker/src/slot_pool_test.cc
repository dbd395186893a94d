#include "slot_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernel_call.h"

namespace pfor::worker {
namespace {

using ::testing::HasSubstr;

constexpr auto kPatience = std::chrono::seconds(10);

// Collects results from the pool threads.
class Results {
 public:
  void Add(ChunkResult result) {
    {
      std::lock_guard lock(mu_);
      results_.push_back(std::move(result));
    }
    added_.notify_all();
  }
  // Waits (up to 10 s) until there are `count` results.
  std::vector<ChunkResult> Await(size_t count) {
    std::unique_lock lock(mu_);
    added_.wait_for(lock, kPatience, [&] { return results_.size() >= count; });
    return results_;
  }
  std::vector<ChunkResult> Now() {
    std::lock_guard lock(mu_);
    return results_;
  }

 private:
  std::mutex mu_;
  std::condition_variable added_;
  std::vector<ChunkResult> results_;  // guarded by mu_
};

// Counts kernel calls that have started, for tests to wait on.
class Started {
 public:
  void Add() {
    {
      std::lock_guard lock(mu_);
      ++count_;
    }
    changed_.notify_all();
  }
  // Waits (up to 10 s) until `count` calls have started.
  bool Await(int count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience, [&] { return count_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int count_ = 0;  // guarded by mu_
};

std::shared_ptr<const JobContext> Job(uint64_t id, const KernelDef* kernel) {
  auto definition = std::make_shared<JobDefinition>();
  definition->job = id;
  definition->kernel = kernel != nullptr ? kernel->name : "missing";
  definition->range = {0, 1'000'000};
  auto job = std::make_shared<JobContext>();
  job->definition = std::move(definition);
  job->kernel = kernel;
  return job;
}

SlotPool::ResultCallback Into(Results& results) {
  return [&results](const ChunkTask&, ChunkResult result) {
    results.Add(std::move(result));
  };
}

const KernelDef kLength = {
    .name = "length",
    .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
      return chunk.end - chunk.begin;
    }};

// Runs until cancelled, telling `started` when it starts.
KernelDef Spin(Started& started) {
  return {
      .name = "spin",
      .run = [&started](const ChunkContext& chunk) -> absl::StatusOr<Value> {
        started.Add();
        while (!chunk.cancelled()) absl::SleepFor(absl::Microseconds(100));
        return absl::CancelledError("cancelled");
      }};
}

int64_t IntOf(const ChunkResult& result) {
  return std::get<int64_t>(std::get<Value>(*result.output));
}

TEST(SlotPoolTest, RunsEveryChunkOnce) {
  Results results;
  SlotPool pool(4, NewInProcessRunner(), Into(results));
  auto job = Job(1, &kLength);
  for (int64_t i = 0; i < 1000; ++i) {
    pool.Submit({job, i * 10, i * 10 + i % 7 + 1, 1});
  }
  std::vector<ChunkResult> done = results.Await(1000);
  ASSERT_EQ(done.size(), 1000u);
  std::set<int64_t> begins;
  int64_t total = 0;
  for (const ChunkResult& result : done) {
    ASSERT_TRUE(result.output.ok()) << result.output.status();
    EXPECT_EQ(result.attempt.job, 1u);
    begins.insert(result.attempt.begin);
    total += IntOf(result);
  }
  EXPECT_EQ(begins.size(), 1000u);
  int64_t expected = 0;
  for (int64_t i = 0; i < 1000; ++i) expected += i % 7 + 1;
  EXPECT_EQ(total, expected);
  EXPECT_TRUE(pool.AwaitReported(absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(pool.Load(), 0);
}

TEST(SlotPoolTest, SubmitsManyChunksAtOnce) {
  Results results;
  SlotPool pool(3, NewInProcessRunner(), Into(results));
  auto job = Job(1, &kLength);
  std::vector<ChunkTask> tasks;
  for (int64_t i = 0; i < 30; ++i) tasks.push_back({job, i, i + 2, 1});
  pool.Submit(tasks);
  EXPECT_TRUE(tasks.empty());
  EXPECT_EQ(results.Await(30).size(), 30u);
}

TEST(SlotPoolTest, CancelJobDropsQueuedChunksAndStopsRunningOnes) {
  Results results;
  Started started;
  const KernelDef spin_kernel = Spin(started);
  auto pool =
      std::make_unique<SlotPool>(2, NewInProcessRunner(), Into(results));
  auto spin = Job(7, &spin_kernel);
  for (int64_t i = 0; i < 5; ++i) pool->Submit({spin, i, i + 1, 1});
  ASSERT_TRUE(started.Await(2));
  EXPECT_EQ(pool->Load(), 5);
  EXPECT_EQ(pool->CancelJob(7), 3);
  std::vector<ChunkResult> done = results.Await(2);
  ASSERT_EQ(done.size(), 2u);
  for (const ChunkResult& result : done) {
    EXPECT_EQ(result.output.status().code(), absl::StatusCode::kCancelled);
  }
  EXPECT_TRUE(pool->AwaitReported(absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(pool->Load(), 0);
  // The slots are joined: any result the dropped chunks made is in by now.
  pool.reset();
  EXPECT_EQ(results.Now().size(), 2u);
}

TEST(SlotPoolTest, CancelAttemptLeavesOtherChunksRunning) {
  Results results;
  Started started;
  const KernelDef spin_kernel = Spin(started);
  SlotPool pool(2, NewInProcessRunner(), Into(results));
  auto spin = Job(3, &spin_kernel);
  pool.Submit({spin, 0, 1, 1});
  pool.Submit({spin, 1, 2, 1});
  ASSERT_TRUE(started.Await(2));
  EXPECT_EQ(pool.CancelAttempt({3, 1, 1}), 0);
  std::vector<ChunkResult> done = results.Await(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].attempt.begin, 1);
  EXPECT_EQ(pool.Running(), 1);
  EXPECT_EQ(pool.CancelAll(), 0);
  EXPECT_EQ(results.Await(2).size(), 2u);
}

// A chunk whose kernel waits in the SDK (a BlockingScope) lends its slot:
// the chunk it waits for runs on a one-slot pool, and no more than one
// chunk runs beside the waiting one.
TEST(SlotPoolTest, WaitingChunkLendsItsSlot) {
  Results results;
  std::mutex mu;
  std::condition_variable changed;
  bool inner_done = false;  // guarded by mu
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  const KernelDef waits = {
      .name = "waits",
      .run = [&](const ChunkContext& chunk) -> absl::StatusOr<Value> {
        if (chunk.begin == 0) {  // the outer chunk waits for the inner one
          BlockingScope blocking;
          std::unique_lock lock(mu);
          if (!changed.wait_for(lock, kPatience, [&] { return inner_done; })) {
            return absl::DeadlineExceededError("the inner chunk never ran");
          }
          return int64_t{0};
        }
        const int now = running.fetch_add(1) + 1;
        most_running = std::max(most_running.load(), now);
        absl::SleepFor(absl::Milliseconds(5));
        running.fetch_sub(1);
        {
          std::lock_guard lock(mu);
          inner_done = chunk.begin == 1 || inner_done;
        }
        changed.notify_all();
        return int64_t{1};
      }};
  int lent = 0;
  SlotPoolHooks hooks;
  hooks.on_lent = [&] { ++lent; };
  SlotPool pool(1, NewInProcessRunner(), Into(results), Clock::Real(),
                std::move(hooks));
  auto job = Job(1, &waits);
  pool.Submit({job, 0, 1, 1});
  for (int64_t i = 1; i < 4; ++i) pool.Submit({job, i, i + 1, 1});
  std::vector<ChunkResult> done = results.Await(4);
  ASSERT_EQ(done.size(), 4u);
  for (const ChunkResult& result : done) {
    EXPECT_TRUE(result.output.ok()) << result.output.status();
  }
  EXPECT_EQ(lent, 1);
  EXPECT_EQ(most_running.load(), 1);
  EXPECT_EQ(pool.Blocked(), 0);
}

// on_start comes once per job, before its first chunk runs.
TEST(SlotPoolTest, ReportsTheFirstStartOfEachJob) {
  Results results;
  std::mutex mu;
  std::vector<uint64_t> started;  // guarded by mu
  SlotPoolHooks hooks;
  hooks.on_start = [&](const ChunkTask& task) {
    std::lock_guard lock(mu);
    started.push_back(task.job->id());
  };
  SlotPool pool(2, NewInProcessRunner(), Into(results), Clock::Real(),
                std::move(hooks));
  auto first = Job(1, &kLength);
  auto second = Job(2, &kLength);
  for (int64_t i = 0; i < 20; ++i) {
    pool.Submit({i % 2 == 0 ? first : second, i, i + 1, 1});
  }
  EXPECT_EQ(results.Await(20).size(), 20u);
  std::lock_guard lock(mu);
  EXPECT_THAT(started, ::testing::UnorderedElementsAre(1u, 2u));
}

TEST(SlotPoolTest, TurnsExceptionsIntoFailedChunks) {
  const KernelDef throws = {
      .name = "throws",
      .run = [](const ChunkContext&) -> absl::StatusOr<Value> {
        throw std::runtime_error("disk on fire");
      }};
  Results results;
  SlotPool pool(1, NewInProcessRunner(), Into(results));
  pool.Submit({Job(1, &throws), 0, 1, 2});
  std::vector<ChunkResult> done = results.Await(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].attempt.attempt, 2);
  EXPECT_THAT(std::string(done[0].output.status().message()),
              HasSubstr("kernel throws threw: disk on fire"));
}

TEST(SlotPoolTest, FailsChunksOfAMissingKernel) {
  Results results;
  SlotPool pool(1, NewInProcessRunner(), Into(results));
  pool.Submit({Job(1, nullptr), 0, 1, 1});
  std::vector<ChunkResult> done = results.Await(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_THAT(std::string(done[0].output.status().message()),
              HasSubstr("no kernel named missing"));
}

TEST(SlotPoolTest, TakeQueuedReturnsOnlyUnstartedChunks) {
  Results results;
  Started started;
  const KernelDef spin_kernel = Spin(started);
  SlotPool pool(1, NewInProcessRunner(), Into(results));
  auto spin = Job(1, &spin_kernel);
  for (int64_t i = 0; i < 4; ++i) pool.Submit({spin, i, i + 1, 1});
  ASSERT_TRUE(started.Await(1));
  std::vector<ChunkTask> queued = pool.TakeQueued();
  ASSERT_EQ(queued.size(), 3u);
  EXPECT_EQ(queued[0].begin, 1);
  EXPECT_EQ(pool.Load(), 1);
  EXPECT_EQ(pool.Unreported(), 1);
  pool.CancelAll();
  EXPECT_EQ(results.Await(1).size(), 1u);
  EXPECT_TRUE(pool.AwaitReported(absl::Now() + absl::Seconds(10)));
}

TEST(SlotPoolTest, AwaitReportedGivesUpAtTheDeadline) {
  Results results;
  Started started;
  const KernelDef spin_kernel = Spin(started);
  SlotPool pool(1, NewInProcessRunner(), Into(results));
  pool.Submit({Job(1, &spin_kernel), 0, 1, 1});
  ASSERT_TRUE(started.Await(1));
  EXPECT_FALSE(pool.AwaitReported(absl::Now() + absl::Milliseconds(20)));
  pool.CancelAll();
  EXPECT_TRUE(pool.AwaitReported(absl::Now() + absl::Seconds(10)));
}

// A runner that moves a fake clock instead of taking time.
class ClockRunner final : public ChunkRunner {
 public:
  explicit ClockRunner(FakeClock& clock) : clock_(clock) {}
  absl::StatusOr<ChunkOutput> Run(int, const ChunkTask& task,
                                  const std::atomic<bool>&) override {
    clock_.Advance(absl::Milliseconds(task.end - task.begin));
    return ChunkOutput(Value(int64_t{0}));
  }

 private:
  FakeClock& clock_;
};

TEST(SlotPoolTest, TimesChunksWithItsClock) {
  FakeClock clock;
  Results results;
  SlotPool pool(1, std::make_unique<ClockRunner>(clock), Into(results), clock);
  pool.Submit({Job(1, &kLength), 0, 250, 1});
  std::vector<ChunkResult> done = results.Await(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].kernel_time, absl::Milliseconds(250));
}

}  // namespace
}  // namespace pfor::worker
