#include "chunk_sizer.h"

#include <cmath>
#include <deque>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;

ChunkSizer Make(const ChunkPolicy& policy, int64_t begin, int64_t end) {
  absl::StatusOr<ChunkSizer> sizer = ChunkSizer::Create(policy, begin, end);
  EXPECT_TRUE(sizer.ok()) << sizer.status();
  return *std::move(sizer);
}

TEST(ChunkSizerTest, FixedChunksHaveTheRequestedSize) {
  ChunkSizer sizer = Make(ChunkPolicy::Fixed(30), 0, 100);
  std::vector<int64_t> ends;
  for (int64_t cursor = 0; cursor < 100;)
    ends.push_back(cursor = sizer.NextEnd(cursor, 4));
  EXPECT_THAT(ends, ::testing::ElementsAre(30, 60, 90, 100));
  EXPECT_EQ(sizer.PlannedChunks(), 4);
}

TEST(ChunkSizerTest, CountCutsNearEqualChunks) {
  ChunkSizer sizer = Make(ChunkPolicy::Count(3), 0, 10);
  std::vector<int64_t> ends;
  for (int64_t cursor = 0; cursor < 10;)
    ends.push_back(cursor = sizer.NextEnd(cursor, 4));
  EXPECT_THAT(ends, ::testing::ElementsAre(3, 6, 10));
}

TEST(ChunkSizerTest, CountWorksAtTheInt64Limits) {
  const int64_t begin = INT64_MAX - 1'000'000'007;
  ChunkSizer sizer = Make(ChunkPolicy::Count(7), begin, INT64_MAX);
  int64_t cursor = begin;
  int chunks = 0;
  while (cursor < INT64_MAX) {
    const int64_t next = sizer.NextEnd(cursor, 1);
    ASSERT_GT(next, cursor);
    cursor = next;
    ++chunks;
  }
  EXPECT_EQ(chunks, 7);
}

TEST(ChunkSizerTest, AutoStartsWithOneIndexAndGrowsWithMeasuredSpeed) {
  ChunkSizer sizer = Make(ChunkPolicy::Auto(), 0, 1'000'000'000);
  EXPECT_EQ(sizer.NextEnd(0, 2), 1);
  // 1 index in 1 us: 10^6 per second, so 100 ms would be 10^5 indices, but
  // growth is capped at 8x the largest chunk measured.
  sizer.Observe(0, 1, absl::Microseconds(1));
  EXPECT_EQ(sizer.NextEnd(0, 2), 8);
  int64_t size = 8;
  for (int i = 0; i < 10; ++i) {
    sizer.Observe(0, size, absl::Microseconds(size));
    size = sizer.NextEnd(0, 2);
  }
  EXPECT_NEAR(static_cast<double>(size), 100'000, 1'000);
}

TEST(ChunkSizerTest, AutoShrinksTowardTheEnd) {
  ChunkSizer sizer = Make(ChunkPolicy::Auto(), 0, 1'000'000'000);
  for (int i = 0; i < 40; ++i) {
    sizer.Observe(0, 100'000'000, absl::Milliseconds(100));  // 10^9 per second
  }
  // Far from the end: the target, 10^8 indices.
  EXPECT_NEAR(static_cast<double>(sizer.NextEnd(0, 4)), 1e8, 1e6);
  // Near the end: half of an even share of what remains.
  const int64_t cursor = 1'000'000'000 - 200'000'000;
  EXPECT_NEAR(static_cast<double>(sizer.NextEnd(cursor, 4) - cursor), 25e6,
              1e5);
  // At the very end: never below an eighth of the target.
  const int64_t tail = 1'000'000'000 - 20'000'000;
  EXPECT_NEAR(static_cast<double>(sizer.NextEnd(tail, 4) - tail), 12.5e6, 1e5);
}

// Cuts and measures chunks one at a time with `cost(indices)` seconds each;
// returns the chunk sizes.
std::vector<int64_t> Simulate(int64_t total, double (*cost)(int64_t)) {
  ChunkSizer sizer = Make(ChunkPolicy::Auto(), 0, total);
  std::vector<int64_t> sizes;
  for (int64_t cursor = 0; cursor < total;) {
    const int64_t end = sizer.NextEnd(cursor, 1);
    sizes.push_back(end - cursor);
    sizer.Observe(cursor, end - cursor, absl::Seconds(cost(end - cursor)));
    cursor = end;
  }
  return sizes;
}

TEST(ChunkSizerTest, AutoAmortizesALargeFixedCost) {
  // Like count_primes near 2^63: about a second to set up, then cheap.
  const std::vector<int64_t> sizes =
      Simulate(807, [](int64_t n) { return 1.1 + 1e-6 * n; });
  EXPECT_LE(sizes.size(), 8u) << ::testing::PrintToString(sizes);
}

TEST(ChunkSizerTest, AutoKeepsExpensiveIndicesInSmallChunks) {
  // A second per index and no set-up cost: one index is already 10x the
  // target, so chunks stay small after one larger try.
  const std::vector<int64_t> sizes =
      Simulate(20, [](int64_t n) { return 1.0 * n; });
  EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()), 2)
      << ::testing::PrintToString(sizes);
}

TEST(ChunkSizerTest, ExpectsFixedPlusPerIndexTime) {
  ChunkSizer sizer = Make(ChunkPolicy::Auto(), 0, 1'000'000);
  EXPECT_EQ(sizer.Expected(100), absl::ZeroDuration());
  sizer.Observe(0, 10, absl::Milliseconds(20));
  sizer.Observe(0, 110, absl::Milliseconds(120));
  EXPECT_NEAR(absl::ToDoubleSeconds(sizer.Expected(1000)), 1.01, 1e-6);
}

TEST(ChunkSizerTest, RejectsBadPolicies) {
  EXPECT_THAT(
      std::string(
          ChunkSizer::Create(ChunkPolicy::Fixed(-3), 0, 10).status().message()),
      HasSubstr("--chunks fixed:N"));
  EXPECT_EQ(ChunkSizer::Create(ChunkPolicy::Count(0), 0, 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChunkSizer::Create(ChunkPolicy::Auto(absl::Hours(2)), 0, 10)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChunkSizer::Create(ChunkPolicy::Auto(absl::ZeroDuration()), 0, 10)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  ChunkPolicy unknown;
  unknown.kind = static_cast<ChunkPolicy::Kind>(7);
  EXPECT_EQ(ChunkSizer::Create(unknown, 0, 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChunkSizerTest, AutoUsesTheRequestedTarget) {
  // 10^6 indices per second measured: a 10 ms target wants 10^4 indices.
  ChunkSizer sizer =
      Make(ChunkPolicy::Auto(absl::Milliseconds(10)), 0, 1'000'000'000);
  for (int i = 0; i < 16; ++i) sizer.Observe(0, 10'000, absl::Milliseconds(10));
  EXPECT_NEAR(static_cast<double>(sizer.NextEnd(0, 1)), 1e4, 1e2);
}

// A kernel whose cost per index grows along the range (trial division:
// about sqrt(i) per index), with chunks in flight while results come back.
// The sizer must not extrapolate the cheap start to the dear end (before,
// one chunk here took 98 s against a 100 ms target): each chunk is sized
// from what the chunk furthest along cost, and grows at most eightfold
// past it.
TEST(ChunkSizerTest, AutoFollowsACostThatGrowsAlongTheRange) {
  const int64_t end = 100'000'000;
  ChunkSizer sizer = Make(ChunkPolicy::Auto(), 1, end);
  // Seconds to run [b, e): the integral of 2e-9 * sqrt(i).
  auto cost = [](int64_t b, int64_t e) {
    return 2e-9 * (2.0 / 3) *
           (std::pow(static_cast<double>(e), 1.5) -
            std::pow(static_cast<double>(b), 1.5));
  };
  std::deque<std::pair<int64_t, int64_t>> in_flight;
  std::vector<double> times;
  int64_t cursor = 1;
  int chunks = 0;
  while (cursor < end || !in_flight.empty()) {
    // Eight in flight (four slots and their prefetch).
    while (cursor < end && in_flight.size() < 8) {
      const int64_t next = sizer.NextEnd(cursor, 4);
      in_flight.emplace_back(cursor, next);
      cursor = next;
      ++chunks;
    }
    const auto [b, e] = in_flight.front();
    in_flight.pop_front();
    const double seconds = cost(b, e);
    times.push_back(seconds);
    sizer.Observe(b, e - b, absl::Seconds(seconds));
  }
  std::sort(times.begin(), times.end());
  EXPECT_LT(times.back(), 1.5) << "over " << chunks << " chunks";
  // Typically near the target: neither far too long nor needlessly fine.
  const double median = times[times.size() / 2];
  EXPECT_GT(median, 0.05) << chunks << " chunks";
  EXPECT_LT(median, 0.3) << chunks << " chunks";
}

}  // namespace
}  // namespace pfor::coordinator
