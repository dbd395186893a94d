#include "integrate_simd.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace pfor::integrate_simd {
namespace {

constexpr Integrand kIntegrands[] = {Integrand::kCos, Integrand::kSin,
                                     Integrand::kExp, Integrand::kSquare,
                                     Integrand::kFourOverOnePlusSquare};

std::string Name(Integrand integrand) {
  switch (integrand) {
    case Integrand::kCos:
      return "cos";
    case Integrand::kSin:
      return "sin";
    case Integrand::kExp:
      return "exp";
    case Integrand::kSquare:
      return "x^2";
    case Integrand::kFourOverOnePlusSquare:
      return "4/(1+x^2)";
  }
  return "?";
}

// Inputs where implementations tend to part ways: zeros, subnormals, tiny
// arguments (where SLEEF's scalar cos disagrees with its vector ones), the
// edges of exp's range, multiples of pi/2 (argument reduction), huge
// arguments (the Payne-Hanek path), non-finite values; then random values
// over many magnitudes and random bit patterns.
std::vector<double> TrickyInputs() {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> x = {0.0,
                           -0.0,
                           std::numeric_limits<double>::denorm_min(),
                           -std::numeric_limits<double>::min(),
                           1e-300,
                           -3.5e-16,
                           5.2e-16,
                           1e-8,
                           0.5,
                           1,
                           709.78,
                           709.79,
                           -708.4,
                           -745.1,
                           -746,
                           1e15,
                           -1e22,
                           1e300,
                           std::numeric_limits<double>::max(),
                           kInf,
                           -kInf,
                           std::numeric_limits<double>::quiet_NaN()};
  for (int k = -40; k <= 40; ++k) {
    const double multiple = k * (std::numbers::pi / 2);
    x.push_back(multiple);
    x.push_back(std::nextafter(multiple, kInf));
    x.push_back(std::nextafter(multiple, -kInf));
  }
  std::mt19937_64 random(13);
  for (int exponent = -60; exponent <= 60; exponent += 2) {
    std::uniform_real_distribution<double> within(-std::ldexp(1.0, exponent),
                                                  std::ldexp(1.0, exponent));
    for (int i = 0; i < 500; ++i) x.push_back(within(random));
  }
  std::uniform_real_distribution<double> exp_range(-750, 720);
  for (int i = 0; i < 20000; ++i) x.push_back(exp_range(random));
  for (int i = 0; i < 20000; ++i) x.push_back(std::bit_cast<double>(random()));
  return x;
}

// The bits, with every NaN the same (its payload is not a value).
uint64_t Bits(double value) {
  return std::isnan(value) ? 0x7ff8000000000000
                           : std::bit_cast<uint64_t>(value);
}

TEST(IntegrateSimdTest, SupportsSse2AndListsTargetsNarrowestFirst) {
  const std::vector<Target> targets = SupportedTargets();
  ASSERT_FALSE(targets.empty());
  EXPECT_EQ(targets.front(), Target::kSse2);
  for (size_t i = 1; i < targets.size(); ++i) {
    EXPECT_LT(targets[i - 1], targets[i]);
  }
  EXPECT_EQ(BestTarget(), targets.back());
  // Which targets this run compares, in the test log.
  std::printf("targets compared on this machine:");
  for (Target target : targets) {
    std::printf(" %.*s", static_cast<int>(TargetName(target).size()),
                TargetName(target).data());
  }
  std::printf("\n");
}

TEST(IntegrateSimdTest, ForcesTheBestTargetForTests) {
  for (Target target : SupportedTargets()) {
    SetTargetForTest(target);
    EXPECT_EQ(BestTarget(), target);
  }
  SetTargetForTest(std::nullopt);
  EXPECT_EQ(BestTarget(), SupportedTargets().back());
}

TEST(IntegrateSimdTest, EveryTargetComputesTheSameBits) {
  const std::vector<double> x = TrickyInputs();
  for (Integrand integrand : kIntegrands) {
    SCOPED_TRACE(Name(integrand));
    std::vector<double> reference = x;
    KernelsFor(Target::kSse2)
        .evaluate(integrand, reference.data(), reference.size());
    for (Target target : SupportedTargets()) {
      SCOPED_TRACE(TargetName(target));
      // Odd counts, so that every target also runs its partial vector.
      for (size_t count : {x.size(), size_t{1}, size_t{3}, size_t{7}}) {
        std::vector<double> values(x.begin(), x.begin() + count);
        KernelsFor(target).evaluate(integrand, values.data(), count);
        int differences = 0;
        for (size_t i = 0; i < count; ++i) {
          if (Bits(values[i]) != Bits(reference[i]) && ++differences <= 5) {
            ADD_FAILURE() << "f(" << x[i] << "): " << values[i] << " on "
                          << TargetName(target) << ", " << reference[i]
                          << " on sse2";
          }
        }
        EXPECT_EQ(differences, 0);
      }
    }
  }
}

TEST(IntegrateSimdTest, ComputesWhatTheIntegrandsSay) {
  // SLEEF's cos and sin are within 3.5 ULP, exp within 1 ULP; x^2 and
  // 4/(1+x^2) are correctly rounded operations.
  std::mt19937_64 random(5);
  std::uniform_real_distribution<double> uniform(-20, 20);
  for (Target target : SupportedTargets()) {
    SCOPED_TRACE(TargetName(target));
    for (int i = 0; i < 1000; ++i) {
      const double x = uniform(random);
      double values[5] = {x, x, x, x, x};
      for (int f = 0; f < 5; ++f) {
        KernelsFor(target).evaluate(kIntegrands[f], &values[f], 1);
      }
      EXPECT_NEAR(values[0], std::cos(x), 6e-16);
      EXPECT_NEAR(values[1], std::sin(x), 6e-16);
      EXPECT_NEAR(values[2], std::exp(x), 5e-16 * std::exp(x));
      EXPECT_EQ(values[3], x * x);
      EXPECT_EQ(values[4], 4 / (1 + x * x));
    }
  }
}

// The sum of round(f(x_k) * scaled_h) one point at a time, as the contract
// in integrate_simd.h reads.
BlockSum SumByDefinition(const BlockRun& run) {
  std::vector<double> f;
  for (uint64_t k = run.begin; k < run.end; ++k) {
    f.push_back(run.a + (static_cast<double>(k) + 0.5) * run.h);
  }
  KernelsFor(Target::kSse2).evaluate(run.integrand, f.data(), f.size());
  BlockSum sum = {.units = 0, .in_range = true};
  for (double value : f) {
    const double product = value * run.scaled_h;
    if (!(std::fabs(product) < 0x1p51)) return {.in_range = false};
    sum.units += static_cast<int64_t>(std::nearbyint(product));
  }
  return sum;
}

TEST(IntegrateSimdTest, EveryTargetSumsRunsExactlyByTheDefinition) {
  std::mt19937_64 random(7);
  std::uniform_int_distribution<uint64_t> offset(0, kBlockSize - 1);
  std::uniform_real_distribution<double> bound(-30, 30);
  for (Integrand integrand : kIntegrands) {
    SCOPED_TRACE(Name(integrand));
    for (int trial = 0; trial < 40; ++trial) {
      const uint64_t block = trial < 20 ? trial : (uint64_t{1} << 40) + trial;
      uint64_t begin = block * kBlockSize + offset(random);
      uint64_t end = block * kBlockSize + offset(random) + 1;
      if (trial % 4 == 0) {  // whole blocks too
        begin = block * kBlockSize;
        end = begin + kBlockSize;
      }
      if (begin >= end) std::swap(begin, end);
      if (begin == end) ++end;
      const double a = bound(random);
      const double b = trial % 3 == 0 ? a - 1 : a + 1;
      const double h = (b - a) / 1e7;
      // Values up to about 2^45 units: |f| < 2^20 or so on this interval.
      const BlockRun run = {.integrand = integrand,
                            .a = a,
                            .h = h,
                            .scaled_h = std::ldexp(h, 25) * 1e7,
                            .begin = begin,
                            .end = end};
      const BlockSum expected = SumByDefinition(run);
      if (!expected.in_range) continue;  // exp far out: tested below
      for (Target target : SupportedTargets()) {
        SCOPED_TRACE(TargetName(target));
        const BlockSum sum = KernelsFor(target).sum_block(run);
        EXPECT_TRUE(sum.in_range);
        EXPECT_EQ(sum.units, expected.units)
            << "run [" << begin << ", " << end << ") a=" << a;
      }
    }
  }
}

TEST(IntegrateSimdTest, SumsTheLargestRunWithoutOverflow) {
  // 2^11 values of 2^51 - 1 units: the sum is 2^62 - 2^11.
  const BlockRun run = {.integrand = Integrand::kFourOverOnePlusSquare,
                        .a = 0,
                        .h = 0,  // every x is 0, every value 4
                        .scaled_h = (0x1p51 - 1) / 4,
                        .begin = 0,
                        .end = kBlockSize};
  for (Target target : SupportedTargets()) {
    SCOPED_TRACE(TargetName(target));
    const BlockSum sum = KernelsFor(target).sum_block(run);
    EXPECT_TRUE(sum.in_range);
    EXPECT_EQ(sum.units, (int64_t{1} << 62) - (int64_t{1} << 11));
    BlockRun negative = run;
    negative.scaled_h = -run.scaled_h;
    EXPECT_EQ(KernelsFor(target).sum_block(negative).units,
              -(int64_t{1} << 62) + (int64_t{1} << 11));
  }
}

TEST(IntegrateSimdTest, ReportsValuesOffTheGrid) {
  for (Target target : SupportedTargets()) {
    SCOPED_TRACE(TargetName(target));
    const Kernels& kernels = KernelsFor(target);
    BlockRun run = {.integrand = Integrand::kFourOverOnePlusSquare,
                    .a = 0,
                    .h = 1e-3,
                    .scaled_h = 0x1p49,
                    .begin = 100,
                    .end = 117};
    EXPECT_TRUE(kernels.sum_block(run).in_range);
    run.scaled_h = 0x1p50;  // 4 * 2^50 = 2^52 units near x = 0
    EXPECT_FALSE(kernels.sum_block(run).in_range);
    run.begin = 1000;  // far from 0, 4/(1+x^2) < 2 again
    run.end = 1003;
    EXPECT_TRUE(kernels.sum_block(run).in_range);
    run.integrand = Integrand::kExp;  // exp(1000) is infinite
    run.a = 999;
    run.scaled_h = 1;
    EXPECT_FALSE(kernels.sum_block(run).in_range);
    run.integrand = Integrand::kCos;  // cos(inf) is NaN
    run.a = std::numeric_limits<double>::infinity();
    EXPECT_FALSE(kernels.sum_block(run).in_range);
  }
}

}  // namespace
}  // namespace pfor::integrate_simd
