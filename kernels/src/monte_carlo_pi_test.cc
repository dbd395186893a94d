#include "monte_carlo_pi.h"

#include <cstdint>
#include <numbers>

#include "gtest/gtest.h"
#include "kernel_test_util.h"

namespace pfor {
namespace {

using kernel_test::ExpectSameForEveryCut;
using kernel_test::ExpectStopsPromptly;
using kernel_test::RunJob;
using kernel_test::RunOptions;

RunOptions Seed(int64_t seed) { return {.params = {{"seed", seed}}}; }

int64_t Inside(int64_t begin, int64_t end, const RunOptions& options) {
  absl::StatusOr<Value> value =
      RunJob(MonteCarloPiKernel(), begin, end, options);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? std::get<int64_t>(*value) : -1;
}

TEST(MonteCarloPiTest, EstimatesPiWithinOneHundredth) {
  constexpr int64_t kPoints = 1'000'000;
  for (int64_t seed : {0, 1, 42}) {
    const double estimate = 4.0 * Inside(0, kPoints, Seed(seed)) / kPoints;
    EXPECT_NEAR(estimate, std::numbers::pi, 0.01) << "seed " << seed;
  }
}

TEST(MonteCarloPiTest, UsesSeedZeroByDefault) {
  EXPECT_EQ(Inside(0, 10'000, {}), Inside(0, 10'000, Seed(0)));
}

TEST(MonteCarloPiTest, GivesTheSameResultForEveryChunking) {
  ExpectSameForEveryCut(MonteCarloPiKernel(), -5000, 100'000, 40, Seed(3));
  ExpectSameForEveryCut(MonteCarloPiKernel(), 0, 6, 5, Seed(3));
}

TEST(MonteCarloPiTest, RepeatsForASeedAndDiffersAcrossSeeds) {
  EXPECT_EQ(Inside(0, 100'000, Seed(5)), Inside(0, 100'000, Seed(5)));
  EXPECT_NE(Inside(0, 100'000, Seed(5)), Inside(0, 100'000, Seed(6)));
  EXPECT_NE(Inside(0, 100'000, Seed(-1)), Inside(0, 100'000, Seed(0)));
  int differing = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    differing += MonteCarloPointInside(1, i) != MonteCarloPointInside(2, i);
  }
  // Two independent streams disagree on 2 * (pi/4) * (1 - pi/4) ~ 34% of
  // points.
  EXPECT_GT(differing, 250);
  EXPECT_LT(differing, 420);
}

TEST(MonteCarloPiTest, DrawsSensiblyAtTheEndsOfTheInt64Range) {
  // Expect about 785 of 1000 inside.
  const int64_t low = Inside(INT64_MIN, INT64_MIN + 1000, Seed(0));
  const int64_t high = Inside(INT64_MAX - 1000, INT64_MAX, Seed(INT64_MIN));
  EXPECT_GT(low, 700);
  EXPECT_LT(low, 870);
  EXPECT_GT(high, 700);
  EXPECT_LT(high, 870);
}

TEST(MonteCarloPiTest, FoldsUnderEveryReduction) {
  RunOptions options = Seed(0);
  options.reduction = Reduction::kMin;
  EXPECT_EQ(Inside(0, 1000, options), 0);
  options.reduction = Reduction::kMax;
  EXPECT_EQ(Inside(0, 1000, options), 1);
  options.reduction = Reduction::kCount;
  EXPECT_EQ(Inside(0, 1000, options), Inside(0, 1000, Seed(0)));
}

TEST(MonteCarloPiTest, StopsPromptlyWhenCancelledMidway) {
  ExpectStopsPromptly(MonteCarloPiKernel(), 0, int64_t{1} << 40, Seed(0));
}

}  // namespace
}  // namespace pfor
