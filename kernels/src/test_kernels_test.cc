#include "test_kernels.h"

#include <chrono>
#include <cstdint>

#include "gtest/gtest.h"
#include "kernel_test_util.h"

namespace pfor {
namespace {

using kernel_test::ExpectSameForEveryCut;
using kernel_test::ExpectStopsPromptly;
using kernel_test::RunJob;
using kernel_test::RunOptions;

RunOptions Sleeping(int64_t us, Reduction reduction = Reduction::kSum) {
  return {.reduction = reduction, .params = {{"us", us}}};
}

TEST(NoopTest, HasValueZeroUnderEveryReduction) {
  for (Reduction reduction :
       {Reduction::kSum, Reduction::kCount, Reduction::kMin, Reduction::kMax,
        Reduction::kCollect}) {
    SCOPED_TRACE(ReductionName(reduction));
    absl::StatusOr<Value> value =
        RunJob(NoopKernel(), 0, 1000, {.reduction = reduction});
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(std::get<int64_t>(*value), 0);
  }
}

TEST(NoopTest, FinishesTheWholeInt64RangeAtOnce) {
  absl::StatusOr<Value> value = RunJob(NoopKernel(), INT64_MIN, INT64_MAX, {});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 0);
}

TEST(SleepTest, CountsEveryIndexOnce) {
  absl::StatusOr<Value> value =
      RunJob(SleepKernel(), -5, 1'000'000'000'000, Sleeping(0));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 1'000'000'000'005);
  ExpectSameForEveryCut(SleepKernel(), -100, 100, 30, Sleeping(0));
}

TEST(SleepTest, HasValueOnePerIndexUnderEveryReduction) {
  for (auto [reduction, expected] : {std::pair{Reduction::kCount, 7},
                                     {Reduction::kCollect, 7},
                                     {Reduction::kMin, 1},
                                     {Reduction::kMax, 1}}) {
    absl::StatusOr<Value> value =
        RunJob(SleepKernel(), 0, 7, Sleeping(0, reduction));
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(std::get<int64_t>(*value), expected);
  }
}

TEST(SleepTest, ReportsASumBeyondInt64AsOutOfRange) {
  absl::StatusOr<Value> value =
      RunJob(SleepKernel(), INT64_MIN, INT64_MAX, Sleeping(0));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kOutOfRange);
  value =
      RunJob(SleepKernel(), INT64_MIN, INT64_MAX, Sleeping(0, Reduction::kMax));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 1);
}

TEST(SleepTest, SleepsForEachIndex) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Value> value = RunJob(SleepKernel(), 10, 15, Sleeping(6000));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 5);
  EXPECT_GE(took, std::chrono::milliseconds(30));
}

TEST(SleepTest, SleepsOneMillisecondPerIndexByDefault) {
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunJob(SleepKernel(), 0, 20, {}).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(20));
}

TEST(SleepTest, StopsPromptlyWhenCancelledMidway) {
  ExpectStopsPromptly(SleepKernel(), 0, 10, Sleeping(60'000'000));
  // Microseconds beyond int64: still a sleep that cancellation ends.
  ExpectStopsPromptly(SleepKernel(), INT64_MIN, INT64_MAX,
                      Sleeping(60'000'000));
}

TEST(SleepTest, DeclaresBoundsOnTheSleep) {
  const KernelDef kernel = SleepKernel();
  EXPECT_FALSE(
      ValidateParams(kernel.name, kernel.params, {{"us", int64_t{-1}}}).ok());
  EXPECT_FALSE(
      ValidateParams(kernel.name, kernel.params, {{"us", int64_t{60'000'001}}})
          .ok());
}

}  // namespace
}  // namespace pfor
