// integrate's promise for the named integrands: the same bits whatever the
// chunking, the number of threads, retries, and the instruction set of the
// machine; and an answer within a stated tolerance of a high-precision
// reference.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <numbers>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "integrate.h"
#include "integrate_simd.h"
#include "kernel_test_util.h"
#include "pfor/exact_sum.h"
#include "pfor/value.h"

namespace pfor {
namespace {

using integrate_simd::SupportedTargets;
using integrate_simd::Target;
using integrate_simd::TargetName;
using kernel_test::RandomCuts;
using kernel_test::RunChunk;
using kernel_test::RunCut;
using kernel_test::RunJob;
using kernel_test::RunOptions;

struct Case {
  std::string integrand;
  double a;
  double b;
};

// Each named integrand, forwards and backwards, across 0 where it matters.
const Case kCases[] = {
    {"cos", 0, std::numbers::pi / 2},
    {"cos", 3, -2},
    {"sin", -1, 7},
    {"exp", 0, 1},
    {"exp", 2, -30},
    {"x^2", 0, 1},
    {"x^2", 5, -3},
    {"4/(1+x^2)", 0, 1},
    {"4/(1+x^2)", -2, 1},
};

RunOptions Over(const Case& c) {
  return {.params = {{"a", c.a}, {"b", c.b}, {"integrand", c.integrand}}};
}

// Runs the rest of the scope on `target`.
class ForcedTarget {
 public:
  explicit ForcedTarget(Target target) {
    integrate_simd::SetTargetForTest(target);
  }
  ~ForcedTarget() { integrate_simd::SetTargetForTest(std::nullopt); }
};

// Cut points of pfor's chunk policies over [0, n).
std::vector<int64_t> Fixed(int64_t n, int64_t size) {
  std::vector<int64_t> cuts;
  for (int64_t cut = size; cut < n; cut += size) cuts.push_back(cut);
  return cuts;
}

std::vector<int64_t> Count(int64_t n, int64_t chunks) {
  std::vector<int64_t> cuts;
  for (int64_t i = 1; i < chunks; ++i) cuts.push_back(n * i / chunks);
  return cuts;
}

// As auto cuts them: one index first, then 8 times more per chunk up to a
// share of what is left, shrinking toward the end (guided), down to 1.
std::vector<int64_t> AutoLike(int64_t n) {
  std::vector<int64_t> cuts;
  int64_t size = 1;
  for (int64_t cursor = 0;;) {
    size = std::max<int64_t>(1, std::min(size, (n - cursor) / 4));
    cursor += size;
    if (cursor >= n) break;
    cuts.push_back(cursor);
    size *= 8;
  }
  return cuts;
}

std::string Bits(const absl::StatusOr<Value>& value) {
  if (!value.ok()) return value.status().ToString();
  const ExactSum::Parts parts = std::get<ExactSum>(*value).ToParts();
  std::string text =
      absl::StrCat(FormatValue(*value), " parts from ", parts.offset, ":");
  for (int64_t limb : parts.limbs) absl::StrAppend(&text, " ", limb);
  return text;
}

constexpr int64_t kPoints = 2'100'000;

TEST(IntegrateReproducibilityTest, GivesTheSameBitsForEveryChunkPolicy) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> policies = {
      {"fixed:1000", Fixed(kPoints, 1000)},
      {"fixed:999983", Fixed(kPoints, 999983)},
      {"count:7", Count(kPoints, 7)},
      {"auto", AutoLike(kPoints)},
      {"uneven", RandomCuts(0, kPoints, 50, 17)},
      {"uneven, tiny chunks", RandomCuts(0, 20000, 5000, 18)},
  };
  const KernelDef kernel = IntegrateKernel();
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message()
                 << c.integrand << " on [" << c.a << ", " << c.b << "]");
    const std::string whole = Bits(RunJob(kernel, 0, kPoints, Over(c)));
    for (const auto& [name, cuts] : policies) {
      SCOPED_TRACE(name);
      EXPECT_EQ(Bits(RunCut(kernel, 0, kPoints, cuts, Over(c))), whole);
    }
  }
}

TEST(IntegrateReproducibilityTest, GivesTheSameBitsOnEveryTarget) {
  const KernelDef kernel = IntegrateKernel();
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message()
                 << c.integrand << " on [" << c.a << ", " << c.b << "]");
    std::optional<std::string> first;
    for (Target target : SupportedTargets()) {
      SCOPED_TRACE(TargetName(target));
      const ForcedTarget forced(target);
      const std::string whole = Bits(RunJob(kernel, 0, kPoints, Over(c)));
      if (!first) first = whole;
      EXPECT_EQ(whole, *first) << "differs from sse2";
      EXPECT_EQ(
          Bits(RunCut(kernel, 0, kPoints, Fixed(kPoints, 999983), Over(c))),
          *first);
      EXPECT_EQ(Bits(RunCut(kernel, 0, kPoints, Count(kPoints, 7), Over(c))),
                *first);
    }
  }
}

TEST(IntegrateReproducibilityTest, MixesTargetsWithinOneJob) {
  // One cluster of SSE2, AVX2 and AVX-512 workers: chunk i runs on target
  // i mod 3, and the retried chunk on another one.
  const KernelDef kernel = IntegrateKernel();
  const std::vector<Target> targets = SupportedTargets();
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.integrand);
    const std::string whole = Bits(RunJob(kernel, 0, kPoints, Over(c)));
    std::vector<int64_t> bounds = {0};
    for (int64_t cut : Count(kPoints, 7)) bounds.push_back(cut);
    bounds.push_back(kPoints);
    absl::StatusOr<Value> sum;
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
      absl::StatusOr<Value> chunk;
      {
        const ForcedTarget forced(targets[i % targets.size()]);
        chunk = RunChunk(kernel, 0, kPoints, bounds[i], bounds[i + 1], Over(c));
      }
      {
        const ForcedTarget forced(targets[(i + 1) % targets.size()]);
        EXPECT_EQ(Bits(RunChunk(kernel, 0, kPoints, bounds[i], bounds[i + 1],
                                Over(c))),
                  Bits(chunk))
            << "retry of chunk " << i;
      }
      ASSERT_TRUE(chunk.ok()) << chunk.status();
      sum = i == 0 ? chunk : Combine(Reduction::kSum, *sum, *chunk);
    }
    EXPECT_EQ(Bits(sum), whole);
  }
}

TEST(IntegrateReproducibilityTest, GivesTheSameBitsForAnyNumberOfThreads) {
  // Chunks taken by threads as they come free, and their values combined in
  // the order they finish, as an executor does.
  const KernelDef kernel = IntegrateKernel();
  const std::vector<int64_t> cuts = RandomCuts(0, kPoints, 40, 23);
  std::vector<int64_t> bounds = {0};
  bounds.insert(bounds.end(), cuts.begin(), cuts.end());
  bounds.push_back(kPoints);
  for (const Case& c : {kCases[0], kCases[4], kCases[6], kCases[8]}) {
    SCOPED_TRACE(c.integrand);
    const std::string whole = Bits(RunJob(kernel, 0, kPoints, Over(c)));
    for (int threads : {1, 2, 3, 8}) {
      SCOPED_TRACE(testing::Message() << threads << " threads");
      std::atomic<size_t> next{0};
      std::mutex mu;
      std::optional<Value> sum;
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          for (size_t i; (i = next++) + 1 < bounds.size();) {
            absl::StatusOr<Value> chunk =
                RunChunk(kernel, 0, kPoints, bounds[i], bounds[i + 1], Over(c));
            std::lock_guard<std::mutex> lock(mu);
            if (!chunk.ok()) {
              ADD_FAILURE() << chunk.status();
            } else if (!sum) {
              sum = *chunk;
            } else {
              sum = *Combine(Reduction::kSum, *sum, *chunk);
            }
          }
        });
      }
      for (std::thread& thread : pool) thread.join();
      ASSERT_TRUE(sum.has_value());
      EXPECT_EQ(Bits(*sum), whole);
    }
  }
}

// The midpoint sum h * sum f(a + (k + 1/2) h) in long double (64-bit
// significands) with the exact midpoints, each term split into two doubles
// and added exactly: within about 2^-63 of the true midpoint sum.
struct Reference {
  double sum;
  // h * sum (|f(x_k)| + |x_k f'(x_k)|): how large the values and their
  // sensitivity to x are, the scale of the rounding errors.
  double scale;
};

Reference MidpointReference(const Case& c, int64_t n) {
  const long double a = c.a;
  const long double h = (static_cast<long double>(c.b) - a) / n;
  ExactSum sum;
  long double scale = 0;
  for (int64_t k = 0; k < n; ++k) {
    const long double x = a + (k + 0.5L) * h;
    long double f;
    long double slope;
    if (c.integrand == "cos") {
      f = cosl(x);
      slope = -sinl(x);
    } else if (c.integrand == "sin") {
      f = sinl(x);
      slope = cosl(x);
    } else if (c.integrand == "exp") {
      f = slope = expl(x);
    } else if (c.integrand == "x^2") {
      f = x * x;
      slope = 2 * x;
    } else {
      f = 4 / (1 + x * x);
      slope = -8 * x / ((1 + x * x) * (1 + x * x));
    }
    const long double term = f * h;
    const double high = static_cast<double>(term);
    sum.Add(high);
    sum.Add(static_cast<double>(term - high));
    scale += (fabsl(f) + fabsl(x * slope)) * fabsl(h);
  }
  return {sum.Round(), static_cast<double>(scale)};
}

TEST(IntegrateReproducibilityTest, AgreesWithAHighPrecisionReference) {
  // Each point's value is off by at most: the rounding of x (|x f'(x)|
  // times 2^-52), SLEEF's error (3.5 ULP for cos and sin, 1 for exp), the
  // product with h (half an ULP), and the grid (2 ULP of the block's largest
  // value). The tolerance, 8 * 2^-52 of `scale`, holds them all; the errors
  // seen are far smaller, as rounding errors mostly cancel.
  const KernelDef kernel = IntegrateKernel();
  constexpr int64_t kReferencePoints = 300'000;
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message()
                 << c.integrand << " on [" << c.a << ", " << c.b << "]");
    const Reference reference = MidpointReference(c, kReferencePoints);
    absl::StatusOr<Value> value = RunJob(kernel, 0, kReferencePoints, Over(c));
    ASSERT_TRUE(value.ok()) << value.status();
    const double error = std::fabs(ToDouble(*value) - reference.sum);
    EXPECT_LE(error, 8 * 0x1p-52 * reference.scale)
        << "pfor " << ToDouble(*value) << ", reference " << reference.sum;
    std::printf("%s on [%g, %g]: error %.2g, %.3f of the tolerance\n",
                c.integrand.c_str(), c.a, c.b, error,
                error / (8 * 0x1p-52 * reference.scale));
  }
}

}  // namespace
}  // namespace pfor
