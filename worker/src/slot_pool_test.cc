#include "slot_pool.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernel_call.h"

namespace pfor::worker {
namespace {

using ::testing::HasSubstr;

// Collects outcomes from the pool threads.
class Outcomes {
 public:
  void Add(ChunkOutcome outcome) {
    {
      std::lock_guard lock(mu_);
      outcomes_.push_back(std::move(outcome));
    }
    added_.notify_all();
  }
  // Waits (up to 10 s) until there are `count` outcomes.
  std::vector<ChunkOutcome> Await(size_t count) {
    std::unique_lock lock(mu_);
    added_.wait_for(lock, std::chrono::seconds(10),
                    [&] { return outcomes_.size() >= count; });
    return outcomes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable added_;
  std::vector<ChunkOutcome> outcomes_;  // guarded by mu_
};

std::shared_ptr<JobContext> Job(uint64_t id, const KernelDef* kernel) {
  auto job = std::make_shared<JobContext>();
  job->id = id;
  job->kernel = kernel;
  job->kernel_name = kernel != nullptr ? kernel->name : "missing";
  job->begin = 0;
  job->end = 1'000'000;
  return job;
}

const KernelDef kLength = {
    .name = "length",
    .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
      return chunk.end - chunk.begin;
    }};

// Runs until cancelled.
const KernelDef kSpin = {
    .name = "spin",
    .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
      while (!chunk.cancelled()) absl::SleepFor(absl::Microseconds(100));
      return absl::CancelledError("cancelled");
    }};

TEST(SlotPoolTest, RunsEveryChunkOnce) {
  Outcomes outcomes;
  SlotPool executor(4, NewInProcessRunner(),
                    [&](ChunkOutcome o) { outcomes.Add(std::move(o)); });
  auto job = Job(1, &kLength);
  for (int64_t i = 0; i < 1000; ++i)
    executor.Submit({job, i * 10, i * 10 + i % 7 + 1, 1});
  std::vector<ChunkOutcome> done = outcomes.Await(1000);
  ASSERT_EQ(done.size(), 1000u);
  std::set<int64_t> begins;
  int64_t total = 0;
  for (const ChunkOutcome& o : done) {
    ASSERT_TRUE(o.value.ok());
    begins.insert(o.begin);
    total += o.value->int_value();
  }
  EXPECT_EQ(begins.size(), 1000u);
  int64_t expected = 0;
  for (int64_t i = 0; i < 1000; ++i) expected += i % 7 + 1;
  EXPECT_EQ(total, expected);
  EXPECT_EQ(executor.Load(), 0);
}

TEST(SlotPoolTest, CancelJobDropsQueuedChunksAndStopsRunningOnes) {
  Outcomes outcomes;
  SlotPool executor(2, NewInProcessRunner(),
                    [&](ChunkOutcome o) { outcomes.Add(std::move(o)); });
  auto spin = Job(7, &kSpin);
  for (int64_t i = 0; i < 5; ++i) executor.Submit({spin, i, i + 1, 1});
  while (executor.Running() < 2) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(executor.Load(), 5);
  EXPECT_EQ(executor.CancelJob(7), 3);
  std::vector<ChunkOutcome> done = outcomes.Await(2);
  ASSERT_EQ(done.size(), 2u);
  for (const ChunkOutcome& o : done)
    EXPECT_EQ(o.value.status().code(), absl::StatusCode::kCancelled);
  // Only the two running chunks produced outcomes.
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(outcomes.Await(2).size(), 2u);
  EXPECT_EQ(executor.Load(), 0);
}

TEST(SlotPoolTest, CancelAttemptLeavesOtherChunksRunning) {
  Outcomes outcomes;
  SlotPool executor(2, NewInProcessRunner(),
                    [&](ChunkOutcome o) { outcomes.Add(std::move(o)); });
  auto spin = Job(3, &kSpin);
  executor.Submit({spin, 0, 1, 1});
  executor.Submit({spin, 1, 2, 1});
  while (executor.Running() < 2) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(executor.CancelAttempt(3, 1, 1), 0);
  std::vector<ChunkOutcome> done = outcomes.Await(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].begin, 1);
  EXPECT_EQ(executor.Running(), 1);
  executor.CancelAll();
  EXPECT_EQ(outcomes.Await(2).size(), 2u);
}

TEST(SlotPoolTest, TurnsExceptionsIntoFailedChunks) {
  const KernelDef throws = {
      .name = "throws",
      .run = [](const ChunkContext&) -> absl::StatusOr<Value> {
        throw std::runtime_error("disk on fire");
      }};
  Outcomes outcomes;
  SlotPool executor(1, NewInProcessRunner(),
                    [&](ChunkOutcome o) { outcomes.Add(std::move(o)); });
  executor.Submit({Job(1, &throws), 0, 1, 2});
  std::vector<ChunkOutcome> done = outcomes.Await(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].attempt, 2);
  EXPECT_THAT(std::string(done[0].value.status().message()),
              HasSubstr("kernel throws threw: disk on fire"));
}

TEST(SlotPoolTest, FailsChunksOfAMissingKernel) {
  Outcomes outcomes;
  SlotPool executor(1, NewInProcessRunner(),
                    [&](ChunkOutcome o) { outcomes.Add(std::move(o)); });
  executor.Submit({Job(1, nullptr), 0, 1, 1});
  std::vector<ChunkOutcome> done = outcomes.Await(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_THAT(std::string(done[0].value.status().message()),
              HasSubstr("no kernel named missing"));
}

TEST(SlotPoolTest, TakeQueuedReturnsOnlyUnstartedChunks) {
  Outcomes outcomes;
  SlotPool executor(1, NewInProcessRunner(),
                    [&](ChunkOutcome o) { outcomes.Add(std::move(o)); });
  auto spin = Job(1, &kSpin);
  for (int64_t i = 0; i < 4; ++i) executor.Submit({spin, i, i + 1, 1});
  while (executor.Running() < 1) absl::SleepFor(absl::Milliseconds(1));
  std::vector<ChunkTask> queued = executor.TakeQueued();
  ASSERT_EQ(queued.size(), 3u);
  EXPECT_EQ(queued[0].begin, 1);
  EXPECT_EQ(executor.Load(), 1);
  executor.CancelAll();
  EXPECT_EQ(outcomes.Await(1).size(), 1u);
}

}  // namespace
}  // namespace pfor::worker
