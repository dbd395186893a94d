#include "pfor/common/backoff.h"

#include "gtest/gtest.h"

namespace pfor {
namespace {

TEST(BackoffTest, DoublesUpToTheMaximumWithinTheJitter) {
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(1), 0.5, 42);
  absl::Duration expected = absl::Milliseconds(100);
  for (int i = 0; i < 8; ++i) {
    const absl::Duration wait = backoff.Next();
    EXPECT_LE(wait, expected) << "wait " << i;
    EXPECT_GE(wait, expected / 2) << "wait " << i;
    expected = std::min(expected * 2, absl::Seconds(1));
  }
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff(absl::Milliseconds(10), absl::Seconds(10), 0.0, 1);
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(10));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(20));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(40));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(10));
}

TEST(BackoffTest, NoJitterIsExact) {
  Backoff backoff(absl::Milliseconds(300), absl::Milliseconds(500), 0.0, 7);
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(300));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(500));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(500));
}

}  // namespace
}  // namespace pfor
