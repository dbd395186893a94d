#include "job_views.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "worker_registry.h"

namespace pfor::coordinator {
namespace {

TEST(RateMeterTest, MeasuresIndicesPerSecondOverTheLastFiveSeconds) {
  RateMeter meter;
  const absl::Time start = absl::FromUnixSeconds(1000);
  // 1,000 indices every 10 ms for 10 s: 100,000 per second.
  absl::Time now = start;
  for (int i = 0; i < 1000; ++i) {
    now += absl::Milliseconds(10);
    meter.Add(now, start, 1000);
  }
  EXPECT_NEAR(meter.rate(), 100'000, 2'500);
  // Early on, the window is the time since the start.
  RateMeter early;
  early.Add(start + absl::Seconds(1), start, 500);
  EXPECT_DOUBLE_EQ(early.rate(), 500);
  // Old work leaves the window.
  meter.Add(now + absl::Seconds(60), start, 1);
  EXPECT_NEAR(meter.rate(), 0.2, 1e-9);
}

TEST(RecentAttemptsTest, KeepsTheNewestOldestFirst) {
  WorkerRegistry workers;
  RecentAttempts recent;
  for (int i = 0; i < 100; ++i) {
    recent.Add({.begin = i, .end = i + 1, .attempt = 1, .worker = 0});
  }
  const std::vector<ChunkAttempt> view = recent.View(workers);
  ASSERT_EQ(view.size(), RecentAttempts::kKept);
  EXPECT_EQ(view.front().begin, 100 - static_cast<int>(RecentAttempts::kKept));
  EXPECT_EQ(view.back().begin, 99);
}

}  // namespace
}  // namespace pfor::coordinator
