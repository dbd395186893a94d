#include "integrate_named.h"

#include <xmmintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>

#include "gtest/gtest.h"
#include "integrate_simd.h"
#include "pfor/exact_sum.h"
#include "pfor/value.h"

namespace pfor {
namespace {

using integrate_internal::BlockGrid;
using integrate_internal::Grid;
using integrate_internal::PointX;
using integrate_internal::SumPointByPoint;
using integrate_simd::Integrand;
using integrate_simd::kBlockSize;
using integrate_simd::KernelsFor;
using integrate_simd::SupportedTargets;
using integrate_simd::Target;
using integrate_simd::TargetName;

constexpr Integrand kIntegrands[] = {Integrand::kCos, Integrand::kSin,
                                     Integrand::kExp, Integrand::kSquare,
                                     Integrand::kFourOverOnePlusSquare};

// Runs the rest of the scope on `target`.
class ForcedTarget {
 public:
  explicit ForcedTarget(Target target) {
    integrate_simd::SetTargetForTest(target);
  }
  ~ForcedTarget() { integrate_simd::SetTargetForTest(std::nullopt); }
};

struct Job {
  Integrand integrand;
  double a;
  double b;
  uint64_t n;
  double h() const { return (b - a) / static_cast<double>(n); }
};

ExactSum Sum(const Value& value) {
  EXPECT_TRUE(std::holds_alternative<ExactSum>(value));
  return std::holds_alternative<ExactSum>(value) ? std::get<ExactSum>(value)
                                                 : ExactSum();
}

// Offsets [first, last) of `job` through IntegrateNamed.
ExactSum Integrate(const Job& job, uint64_t first, uint64_t last,
                   Reduction reduction = Reduction::kSum) {
  const ChunkContext chunk{.begin = static_cast<int64_t>(first),
                           .end = static_cast<int64_t>(last),
                           .job_begin = 0,
                           .job_end = static_cast<int64_t>(job.n),
                           .reduction = reduction};
  absl::StatusOr<Value> value =
      IntegrateNamed(chunk, job.integrand, job.a, job.h());
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? Sum(*value) : ExactSum();
}

// The same, one point at a time by the definition in integrate_named.h.
ExactSum IntegrateByDefinition(const Job& job, uint64_t first, uint64_t last,
                               Target target) {
  IndexFold fold(Reduction::kSum);
  const integrate_simd::Kernels& kernels = KernelsFor(target);
  for (uint64_t begin = first; begin < last;) {
    const uint64_t block = begin / kBlockSize;
    const uint64_t end = std::min(last, (block + 1) * kBlockSize);
    const Grid grid =
        BlockGrid(kernels, job.integrand, job.a, job.h(), job.n, block);
    SumPointByPoint(kernels, job.integrand, job.a, job.h(), grid, begin, end,
                    fold);
    begin = end;
  }
  absl::StatusOr<Value> value = fold.Finish();
  return value.ok() ? Sum(*value) : ExactSum();
}

TEST(IntegrateNamedTest, NamesTheFiveIntegrands) {
  EXPECT_EQ(NamedIntegrand("cos"), Integrand::kCos);
  EXPECT_EQ(NamedIntegrand("sin"), Integrand::kSin);
  EXPECT_EQ(NamedIntegrand("exp"), Integrand::kExp);
  EXPECT_EQ(NamedIntegrand("x^2"), Integrand::kSquare);
  EXPECT_EQ(NamedIntegrand("4/(1+x^2)"), Integrand::kFourOverOnePlusSquare);
  EXPECT_EQ(NamedIntegrand("x*x"), std::nullopt);
  EXPECT_EQ(NamedIntegrand("cos(x)"), std::nullopt);
}

TEST(IntegrateNamedTest, VectorSumsEqualThePointByPointDefinition) {
  std::mt19937_64 random(3);
  std::uniform_real_distribution<double> bound(-40, 40);
  for (Integrand integrand : kIntegrands) {
    for (int trial = 0; trial < 6; ++trial) {
      const Job job = {.integrand = integrand,
                       .a = bound(random),
                       .b = bound(random),
                       .n = 100'000 + 7919 * static_cast<uint64_t>(trial)};
      std::uniform_int_distribution<uint64_t> offset(0, job.n);
      uint64_t first = offset(random);
      uint64_t last = offset(random);
      if (first > last) std::swap(first, last);
      if (first == last) continue;
      for (Target target : SupportedTargets()) {
        SCOPED_TRACE(testing::Message()
                     << TargetName(target) << " [" << job.a << ", " << job.b
                     << "] points [" << first << ", " << last << ")");
        const ForcedTarget forced(target);
        EXPECT_TRUE(Integrate(job, first, last) ==
                    IntegrateByDefinition(job, first, last, target));
      }
    }
  }
}

TEST(IntegrateNamedTest, GridsHoldEveryPointOfTheirBlock) {
  // Values off the grid would go point by point (correct, but slow): the
  // bounds must cover every point, at both ends of the range and across 0.
  // (exp below about -670 has no grid: see KeepsTinyValuesExact.)
  const Job jobs[] = {
      {Integrand::kSquare, -3, 5, 1'000'000},
      {Integrand::kSquare, 5, -3, 999'983},
      {Integrand::kSquare, -1e100, 1e100, 10'000'000},
      {Integrand::kExp, -600, 705, 1'000'000},
      {Integrand::kExp, 709, -600, 10'000'000},
      {Integrand::kExp, 0, 1, 4096},
      {Integrand::kCos, -1e6, 1e6, 1'000'000},
      {Integrand::kSin, 0, 3.14, 3},
      {Integrand::kFourOverOnePlusSquare, -1, 1, 1'000'000},
  };
  for (const Job& job : jobs) {
    SCOPED_TRACE(testing::Message() << "[" << job.a << ", " << job.b << "]");
    for (Target target : SupportedTargets()) {
      const integrate_simd::Kernels& kernels = KernelsFor(target);
      const uint64_t blocks = (job.n + kBlockSize - 1) / kBlockSize;
      // The first and last few blocks, and a sample between them.
      for (uint64_t block = 0; block < blocks;
           block += (block < 3 || block + 4 > blocks) ? 1 : 97) {
        const Grid grid =
            BlockGrid(kernels, job.integrand, job.a, job.h(), job.n, block);
        ASSERT_TRUE(grid.exists) << "block " << block;
        // scaled_h = h / unit with 2^51 unit in (B |h|, 2 B |h|].
        EXPECT_EQ(grid.scaled_h * grid.unit, job.h());
        const uint64_t end = std::min(job.n, (block + 1) * kBlockSize);
        const integrate_simd::BlockSum sum =
            kernels.sum_block({.integrand = job.integrand,
                               .a = job.a,
                               .h = job.h(),
                               .scaled_h = grid.scaled_h,
                               .begin = block * kBlockSize,
                               .end = end});
        EXPECT_TRUE(sum.in_range) << TargetName(target) << " block " << block;
      }
    }
  }
}

TEST(IntegrateNamedTest, GridsAreWithinAFactorOfTwoOfTheBound) {
  const integrate_simd::Kernels& kernels = KernelsFor(Target::kSse2);
  // cos: B = 1, so B |h| = |h| = 1/8 and 2^51 unit = 1/4.
  const Grid cos = BlockGrid(kernels, Integrand::kCos, 0, 0.125, 8, 0);
  EXPECT_EQ(cos.unit, std::ldexp(1.0, -53));
  // 4/(1+x^2) backwards: B = 4, B |h| = 0.1 and 2^51 unit = 1/8.
  const Grid pi =
      BlockGrid(kernels, Integrand::kFourOverOnePlusSquare, 1, -0.025, 40, 0);
  EXPECT_EQ(pi.unit, std::ldexp(1.0, -54));
  EXPECT_LT(pi.scaled_h, 0);
  // x^2 on [0, 10] in 2^16 points: the first block ends at x = 0.312,
  // B |h| = 0.0976 * 10 / 2^16 = 1.49e-5, just below 2^-16.
  const Grid square =
      BlockGrid(kernels, Integrand::kSquare, 0, 10.0 / 65536, 65536, 0);
  EXPECT_EQ(square.unit, std::ldexp(1.0, -16 - 51));
}

TEST(IntegrateNamedTest, KeepsOverflowingValuesExactAndUnrounded) {
  // exp(800) overflows: those blocks have no grid and their points add inf.
  const Job job = {.integrand = Integrand::kExp, .a = 0, .b = 800, .n = 10000};
  const ExactSum whole = Integrate(job, 0, job.n);
  EXPECT_EQ(whole.Round(), std::numeric_limits<double>::infinity());
  ExactSum cut = Integrate(job, 0, 4321);
  cut.Add(Integrate(job, 4321, job.n));
  EXPECT_TRUE(cut == whole);
  // Below the overflow, values are finite and on their grids.
  EXPECT_TRUE(std::isfinite(Integrate(job, 0, 8800).Round()));
}

TEST(IntegrateNamedTest, KeepsTinyValuesExact) {
  // e^-700 * 2^51 / h overflows: no grid, every point adds fl(f_k * h).
  const Job job = {
      .integrand = Integrand::kExp, .a = -745, .b = -700, .n = 5000};
  const integrate_simd::Kernels& kernels = KernelsFor(Target::kSse2);
  EXPECT_FALSE(
      BlockGrid(kernels, job.integrand, job.a, job.h(), job.n, 2).exists);
  ExactSum expected;
  for (uint64_t k = 0; k < job.n; ++k) {
    double f = PointX(job.a, job.h(), k);
    kernels.evaluate(job.integrand, &f, 1);
    expected.Add(f * job.h());
  }
  EXPECT_TRUE(Integrate(job, 0, job.n) == expected);
}

TEST(IntegrateNamedTest, GivesTheSameBitsWhenFlushToZeroIsOn) {
  // Values around 1e-310 are subnormal: flush-to-zero would lose them.
  const Job job = {
      .integrand = Integrand::kExp, .a = -745, .b = -700, .n = 100'000};
  const ExactSum ieee = Integrate(job, 0, job.n);
  EXPECT_GT(ieee.Round(), 0);
  const unsigned saved = _mm_getcsr();
  const unsigned ftz_daz = saved | 0x8040;
  _mm_setcsr(ftz_daz);
  const ExactSum flushed = Integrate(job, 0, job.n);
  const unsigned after = _mm_getcsr();
  _mm_setcsr(saved);
  EXPECT_TRUE(flushed == ieee);
  EXPECT_EQ(after & 0xffc0, ftz_daz & 0xffc0) << "the kernel restores MXCSR";
}

TEST(IntegrateNamedTest, FoldsUnroundedValuesForMinMaxAndCount) {
  const Job job = {.integrand = Integrand::kCos, .a = 0, .b = 1, .n = 10};
  const ChunkContext chunk{
      .begin = 0, .end = 10, .job_begin = 0, .job_end = 10};
  auto run = [&](Reduction reduction) {
    ChunkContext with = chunk;
    with.reduction = reduction;
    absl::StatusOr<Value> value =
        IntegrateNamed(with, job.integrand, job.a, job.h());
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : Value{};
  };
  double first = PointX(job.a, job.h(), 0);
  double last = PointX(job.a, job.h(), 9);
  KernelsFor(integrate_simd::BestTarget()).evaluate(Integrand::kCos, &first, 1);
  KernelsFor(integrate_simd::BestTarget()).evaluate(Integrand::kCos, &last, 1);
  EXPECT_EQ(std::get<double>(run(Reduction::kMax)), first * job.h());
  EXPECT_EQ(std::get<double>(run(Reduction::kMin)), last * job.h());
  EXPECT_EQ(std::get<int64_t>(run(Reduction::kCount)), 10);
}

}  // namespace
}  // namespace pfor
