#include "pfor/kernel.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor {
namespace {

using ::testing::ElementsAre;

KernelDef Named(std::string name) {
  return {.name = std::move(name),
          .help = "test kernel",
          .params = {},
          .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
            return chunk.end - chunk.begin;
          }};
}

PFOR_KERNEL({.name = "kernel_test_squares",
             .help = "Sums i*i over the range.",
             .params = {},
             .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
               IndexFold fold(chunk.reduction);
               for (int64_t i = chunk.begin; i < chunk.end; ++i) {
                 fold.Add(i * i);
               }
               return fold.Finish();
             }});

TEST(KernelRegistryTest, FindsAddedKernelsByName) {
  KernelRegistry registry;
  ASSERT_TRUE(registry.Add(Named("alpha")).ok());
  const KernelDef* kernel = registry.Find("alpha");
  ASSERT_NE(kernel, nullptr);
  EXPECT_EQ(kernel->name, "alpha");
  EXPECT_EQ(std::get<int64_t>(*kernel->run({.begin = 3, .end = 10})), 7);
  EXPECT_EQ(registry.Find("beta"), nullptr);
}

TEST(KernelRegistryTest, RefusesADuplicateName) {
  KernelRegistry registry;
  ASSERT_TRUE(registry.Add(Named("alpha")).ok());
  EXPECT_EQ(registry.Add(Named("alpha")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.List().size(), 1u);
}

TEST(KernelRegistryTest, RefusesBadNames) {
  KernelRegistry registry;
  for (const std::string& name :
       std::vector<std::string>{"", "Alpha", "1alpha", "_alpha", "al-pha",
                                "al pha", "alpha.so", std::string(65, 'a')}) {
    EXPECT_EQ(registry.Add(Named(name)).code(),
              absl::StatusCode::kInvalidArgument)
        << "'" << name << "'";
  }
  EXPECT_TRUE(registry.List().empty());
  EXPECT_TRUE(registry.Add(Named(std::string(64, 'a'))).ok());
  EXPECT_TRUE(registry.Add(Named("a1_b2")).ok());
}

TEST(KernelRegistryTest, RefusesAKernelWithoutRunFunction) {
  KernelRegistry registry;
  KernelDef no_run;
  no_run.name = "empty";
  EXPECT_EQ(registry.Add(std::move(no_run)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KernelRegistryTest, ListsKernelsSortedByName) {
  KernelRegistry registry;
  for (const char* name : {"delta", "alpha", "charlie", "bravo"}) {
    ASSERT_TRUE(registry.Add(Named(name)).ok());
  }
  std::vector<std::string> names;
  for (const KernelDef* kernel : registry.List()) names.push_back(kernel->name);
  EXPECT_THAT(names, ElementsAre("alpha", "bravo", "charlie", "delta"));
}

TEST(KernelRegistryTest, AddAllAddsEveryKernel) {
  KernelRegistry registry;
  std::vector<KernelDef> defs;
  defs.push_back(Named("bravo"));
  defs.push_back(Named("alpha"));
  ASSERT_TRUE(registry.AddAll(std::move(defs)).ok());
  std::vector<std::string> names;
  for (const KernelDef* kernel : registry.List()) names.push_back(kernel->name);
  EXPECT_THAT(names, ElementsAre("alpha", "bravo"));
}

TEST(KernelRegistryTest, AddAllAddsNoneWhenANameIsTaken) {
  KernelRegistry registry;
  ASSERT_TRUE(registry.Add(Named("bravo")).ok());
  std::vector<KernelDef> defs;
  defs.push_back(Named("alpha"));
  defs.push_back(Named("bravo"));
  absl::Status status = registry.AddAll(std::move(defs));
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "kernel bravo is already registered");
  EXPECT_EQ(registry.List().size(), 1u);
  EXPECT_EQ(registry.Find("alpha"), nullptr);
}

TEST(KernelRegistryTest, AddAllAddsNoneWhenANameIsGivenTwice) {
  KernelRegistry registry;
  std::vector<KernelDef> defs;
  defs.push_back(Named("alpha"));
  defs.push_back(Named("bravo"));
  defs.push_back(Named("alpha"));
  absl::Status status = registry.AddAll(std::move(defs));
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "kernel alpha is defined twice");
  EXPECT_TRUE(registry.List().empty());
}

TEST(KernelRegistryTest, AddAllAddsNoneWhenOneIsInvalid) {
  KernelRegistry registry;
  std::vector<KernelDef> defs;
  defs.push_back(Named("alpha"));
  defs.push_back(Named("Bravo"));
  EXPECT_EQ(registry.AddAll(std::move(defs)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.List().empty());
}

TEST(KernelRegistryTest, PforKernelRegistersWithTheGlobalRegistry) {
  const KernelDef* kernel =
      KernelRegistry::Global().Find("kernel_test_squares");
  ASSERT_NE(kernel, nullptr);
  absl::StatusOr<Value> value = kernel->run({.begin = 1, .end = 4});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 1 + 4 + 9);
}

absl::StatusOr<Value> Fold(Reduction reduction,
                           const std::vector<Value>& values) {
  IndexFold fold(reduction);
  for (const Value& value : values) {
    if (const auto* i = std::get_if<int64_t>(&value)) {
      fold.Add(*i);
    } else {
      fold.Add(std::get<double>(value));
    }
  }
  return fold.Finish();
}

Value FoldOk(Reduction reduction, const std::vector<Value>& values) {
  absl::StatusOr<Value> value = Fold(reduction, values);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : Value{};
}

TEST(IndexFoldTest, SumsIntegers) {
  EXPECT_EQ(std::get<int64_t>(FoldOk(Reduction::kSum,
                                     {int64_t{3}, int64_t{-5}, int64_t{10}})),
            8);
}

TEST(IndexFoldTest, SumsFloatsExactly) {
  const Value sum = FoldOk(Reduction::kSum, {1e100, 1.0, -1e100, 0.5});
  ASSERT_TRUE(std::holds_alternative<ExactSum>(sum));
  EXPECT_EQ(std::get<ExactSum>(sum).Round(), 1.5);
  ExactSum expected;
  expected.Add(1.5);
  EXPECT_TRUE(std::get<ExactSum>(sum) == expected);
}

TEST(IndexFoldTest, SumsMixedIntegersAndFloatsExactly) {
  const Value sum =
      FoldOk(Reduction::kSum, {INT64_MAX, INT64_MAX, 0.5, int64_t{2}, -0.25});
  ASSERT_TRUE(std::holds_alternative<ExactSum>(sum));
  ExactSum expected;
  expected.AddInteger(INT64_MAX);
  expected.AddInteger(INT64_MAX);
  expected.AddInteger(2);
  expected.Add(0.25);
  EXPECT_TRUE(std::get<ExactSum>(sum) == expected);
  EXPECT_EQ(std::get<ExactSum>(sum).Round(), 18446744073709551616.0);
}

TEST(IndexFoldTest, CollectsTheSum) {
  EXPECT_EQ(
      std::get<int64_t>(FoldOk(Reduction::kCollect, {int64_t{3}, int64_t{4}})),
      7);
  EXPECT_EQ(
      std::get<ExactSum>(FoldOk(Reduction::kCollect, {0.5, 0.25})).Round(),
      0.75);
}

TEST(IndexFoldTest, CountsNonZeroValues) {
  EXPECT_EQ(std::get<int64_t>(FoldOk(
                Reduction::kCount,
                {int64_t{0}, int64_t{7}, int64_t{-1}, 0.0, -0.0, 0.5, NAN})),
            4);
  EXPECT_EQ(std::get<int64_t>(FoldOk(Reduction::kCount, {int64_t{0}})), 0);
}

TEST(IndexFoldTest, KeepsTheSmallestAndLargestInteger) {
  const std::vector<Value> values = {int64_t{5},    INT64_MAX - 1, INT64_MAX,
                                     INT64_MIN + 1, INT64_MIN,     int64_t{-3}};
  EXPECT_EQ(std::get<int64_t>(FoldOk(Reduction::kMin, values)), INT64_MIN);
  EXPECT_EQ(std::get<int64_t>(FoldOk(Reduction::kMax, values)), INT64_MAX);
  // Beyond 2^53 integers compare exactly, not as doubles.
  EXPECT_EQ(
      std::get<int64_t>(FoldOk(Reduction::kMin, {INT64_MAX, INT64_MAX - 1})),
      INT64_MAX - 1);
}

TEST(IndexFoldTest, KeepsTheSmallestAndLargestFloat) {
  const std::vector<Value> values = {2.5, -1e300, 7.0, -0.5};
  EXPECT_EQ(std::get<double>(FoldOk(Reduction::kMin, values)), -1e300);
  EXPECT_EQ(std::get<double>(FoldOk(Reduction::kMax, values)), 7.0);
}

TEST(IndexFoldTest, ComparesMixedIntegersAndFloatsByValue) {
  EXPECT_EQ(ToDouble(FoldOk(Reduction::kMin, {int64_t{3}, 2.5})), 2.5);
  EXPECT_EQ(ToDouble(FoldOk(Reduction::kMax, {int64_t{3}, 2.5})), 3.0);
  EXPECT_EQ(ToDouble(FoldOk(Reduction::kMax, {2.5, int64_t{-3}})), 2.5);
}

TEST(IndexFoldTest, LetsNanWinMinAndMax) {
  EXPECT_TRUE(std::isnan(ToDouble(FoldOk(Reduction::kMin, {1.0, NAN, -2.0}))));
  EXPECT_TRUE(std::isnan(ToDouble(FoldOk(Reduction::kMax, {NAN, 5.0}))));
}

TEST(IndexFoldTest, ReportsIntegerOverflowAsOutOfRange) {
  EXPECT_EQ(Fold(Reduction::kSum, {INT64_MAX, int64_t{1}}).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Fold(Reduction::kCollect, {INT64_MIN, int64_t{-1}}).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(IndexFoldTest, AcceptsIntermediateSumsBeyondInt64) {
  EXPECT_EQ(std::get<int64_t>(
                FoldOk(Reduction::kSum, {INT64_MAX, INT64_MAX, -INT64_MAX})),
            INT64_MAX);
}

}  // namespace
}  // namespace pfor
