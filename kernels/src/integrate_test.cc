#include "integrate.h"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernel_test_util.h"

namespace pfor {
namespace {

using kernel_test::ExpectSameForEveryCut;
using kernel_test::ExpectStopsPromptly;
using kernel_test::RunChunk;
using kernel_test::RunJob;
using kernel_test::RunOptions;

constexpr int64_t kMillion = 1'000'000;

RunOptions Over(double a, double b, std::string integrand) {
  return {.params = {{"a", a}, {"b", b}, {"integrand", std::move(integrand)}}};
}

double Integral(const RunOptions& options, int64_t n = kMillion) {
  absl::StatusOr<Value> value = RunJob(IntegrateKernel(), 0, n, options);
  EXPECT_TRUE(value.ok()) << value.status();
  if (!value.ok()) return NAN;
  // Floating-point sums are exact sums, never plain doubles.
  EXPECT_TRUE(std::holds_alternative<ExactSum>(*value));
  return ToDouble(*value);
}

TEST(IntegrateTest, IntegratesCosineOverAQuarterPeriodToOne) {
  EXPECT_NEAR(Integral(Over(0, std::numbers::pi / 2, "cos")), 1, 1e-9);
}

TEST(IntegrateTest, IntegratesCosineByDefault) {
  EXPECT_NEAR(Integral({.params = {{"a", 0.0}, {"b", std::numbers::pi / 2}}}),
              1, 1e-9);
}

TEST(IntegrateTest, IntegratesFourOverOnePlusXSquaredToPi) {
  EXPECT_NEAR(Integral(Over(0, 1, "4/(1+x^2)")), std::numbers::pi, 1e-10);
}

TEST(IntegrateTest, IntegratesEveryNamedIntegrand) {
  EXPECT_NEAR(Integral(Over(0, 3, "x^2")), 9, 1e-9);
  EXPECT_NEAR(Integral(Over(0, std::numbers::pi, "sin")), 2, 1e-9);
  EXPECT_NEAR(Integral(Over(0, 1, "exp")), std::numbers::e - 1, 1e-9);
}

TEST(IntegrateTest, IntegratesExpressions) {
  EXPECT_NEAR(Integral(Over(0, 2, "x^3")), 4, 1e-9);
  EXPECT_NEAR(Integral(Over(1, 4, "sqrt(x) + 1/x")), 14.0 / 3 + std::log(4),
              1e-9);
  // Spelled differently from the named integrand, so parsed, with the same
  // answer.
  EXPECT_NEAR(Integral(Over(0, 1, "4 / (1 + x*x)"), 1000),
              Integral(Over(0, 1, "4/(1+x^2)"), 1000), 1e-14);
}

TEST(IntegrateTest, IntegratesBackwardsToTheNegative) {
  EXPECT_NEAR(Integral(Over(std::numbers::pi / 2, 0, "cos")), -1, 1e-9);
}

TEST(IntegrateTest, GivesBitIdenticalResultsForEveryChunking) {
  for (const char* integrand : {"cos", "4/(1+x^2)", "x^3 - x"}) {
    SCOPED_TRACE(integrand);
    ExpectSameForEveryCut(IntegrateKernel(), 0, 200'000, 40,
                          Over(-1, 2, integrand));
  }
  ExpectSameForEveryCut(IntegrateKernel(), 0, 7, 5, Over(-1, 2, "sin"));
}

TEST(IntegrateTest, DependsOnlyOnThePositionWithinTheJob) {
  const KernelDef kernel = IntegrateKernel();
  const RunOptions options = Over(0, 1, "exp");
  absl::StatusOr<Value> from_zero = RunJob(kernel, 0, 1000, options);
  absl::StatusOr<Value> shifted = RunJob(kernel, -500, 500, options);
  ASSERT_TRUE(from_zero.ok() && shifted.ok());
  EXPECT_TRUE(*from_zero == *shifted);
}

TEST(IntegrateTest, FoldsPointValuesUnderEveryReduction) {
  const KernelDef kernel = IntegrateKernel();
  // Four points of x^2 on [0, 4]: x = 0.5, 1.5, 2.5, 3.5 and h = 1.
  const RunOptions base = Over(0, 4, "x^2");
  auto run = [&](Reduction reduction) {
    RunOptions options = base;
    options.reduction = reduction;
    absl::StatusOr<Value> value = RunJob(kernel, 0, 4, options);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : Value{};
  };
  EXPECT_EQ(ToDouble(run(Reduction::kSum)), 0.25 + 2.25 + 6.25 + 12.25);
  EXPECT_EQ(ToDouble(run(Reduction::kCollect)), 0.25 + 2.25 + 6.25 + 12.25);
  EXPECT_EQ(std::get<int64_t>(run(Reduction::kCount)), 4);
  EXPECT_EQ(std::get<double>(run(Reduction::kMin)), 0.25);
  EXPECT_EQ(std::get<double>(run(Reduction::kMax)), 12.25);
}

TEST(IntegrateTest, HandlesAJobSpanningTheWholeInt64Range) {
  const KernelDef kernel = IntegrateKernel();
  const RunOptions options = Over(0, 1, "cos");
  absl::StatusOr<Value> last = RunChunk(kernel, INT64_MIN, INT64_MAX,
                                        INT64_MAX - 10, INT64_MAX, options);
  ASSERT_TRUE(last.ok()) << last.status();
  const double h = 1 / 18446744073709551615.0;
  EXPECT_NEAR(ToDouble(*last) / h, 10 * std::cos(1.0), 1e-9);
  absl::StatusOr<Value> first = RunChunk(kernel, INT64_MIN, INT64_MAX,
                                         INT64_MIN, INT64_MIN + 10, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_NEAR(ToDouble(*first) / h, 10, 1e-9);
}

TEST(IntegrateTest, ReturnsInvalidArgumentForAnExpressionThatDoesNotParse) {
  // Validation normally rejects it first; the kernel must not crash anyway.
  const Params params({{"a", 0.0}, {"b", 1.0}, {"integrand", "sin(x"}});
  const ChunkContext chunk{
      .begin = 0, .end = 10, .job_begin = 0, .job_end = 10, .params = &params};
  absl::StatusOr<Value> value = IntegrateKernel().run(chunk);
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IntegrateTest, RejectsAChunkOutsideTheJob) {
  absl::StatusOr<Value> value =
      RunChunk(IntegrateKernel(), 0, 10, 5, 11, Over(0, 1, "cos"));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IntegrateTest, DeclaresTheBoundsRequiredAndTheIntegrandChecked) {
  const KernelDef kernel = IntegrateKernel();
  EXPECT_FALSE(ValidateParams(kernel.name, kernel.params, {{"a", 0.0}}).ok());
  EXPECT_FALSE(ValidateParams(kernel.name, kernel.params,
                              {{"a", 0.0}, {"b", 1.0}, {"integrand", "y^2"}})
                   .ok());
  EXPECT_TRUE(ValidateParams(
                  kernel.name, kernel.params,
                  {{"a", int64_t{0}}, {"b", 1.0}, {"integrand", "4/(1+x^2)"}})
                  .ok());
}

// The job fails, saying where; before, these printed inf or nan and
// succeeded.
void ExpectNotFinite(const RunOptions& options, int64_t n,
                     const std::string& where) {
  for (Reduction reduction : {Reduction::kSum, Reduction::kMin, Reduction::kMax,
                              Reduction::kCollect}) {
    RunOptions with = options;
    with.reduction = reduction;
    absl::StatusOr<Value> value = RunJob(IntegrateKernel(), 0, n, with);
    ASSERT_FALSE(value.ok()) << where << " gave " << FormatValue(*value);
    EXPECT_EQ(value.status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_THAT(std::string(value.status().message()),
                ::testing::HasSubstr(where));
  }
}

TEST(IntegrateTest, FailsWhereTheIntegrandStopsBeingFinite) {
  ExpectNotFinite(Over(0, 1, "1/(x-x)"), 1000,
                  "the integrand is not finite at x = 0.0005 (index 0)");
  ExpectNotFinite(Over(0, 1, "log(x-x)"), 1000,
                  "not finite at x = 0.0005 (index 0)");
  // exp(1000 x) overflows past x = 0.70978: index 710 of 1000.
  ExpectNotFinite(Over(0, 1, "exp(1000*x)"), 1000, "(index 710)");
  // A named integrand, vectorised: exp overflows past x = 709.78.
  ExpectNotFinite(Over(0, 1000, "exp"), 1000,
                  "not finite at x = 710.5 (index 710)");
  ExpectNotFinite(Over(-1.7e308, 1.7e308, "cos"), 10,
                  "is wider than a double can hold");
}

TEST(IntegrateTest, StopsPromptlyWhenCancelledMidway) {
  ExpectStopsPromptly(IntegrateKernel(), 0, int64_t{1} << 40,
                      Over(0, 1, "cos"));
  ExpectStopsPromptly(IntegrateKernel(), 0, int64_t{1} << 40,
                      Over(0, 1, "x^5 + sin(x)"));
}

}  // namespace
}  // namespace pfor
