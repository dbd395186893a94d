#include "fault.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernel_test_util.h"

namespace pfor {
namespace {

using kernel_test::ExpectSameForEveryCut;
using kernel_test::RunChunk;
using kernel_test::RunJob;
using kernel_test::RunOptions;
using ::testing::HasSubstr;

RunOptions Fault(const std::string& mode, int64_t at) {
  return {.params = {{"mode", mode}, {"at", at}}};
}

TEST(FaultTest, CountsIndicesWhenHarmless) {
  absl::StatusOr<Value> value = RunJob(FaultKernel(), -10, 90, {});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 100);
  ExpectSameForEveryCut(FaultKernel(), -100, 100, 30, Fault("none", 5));
}

TEST(FaultTest, MisbehavesOnlyInTheChunkHoldingAt) {
  // Chunks of job [0, 100) that do not hold index 50 are unaffected.
  absl::StatusOr<Value> value =
      RunChunk(FaultKernel(), 0, 100, 0, 50, Fault("error", 50));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 50);
  value = RunChunk(FaultKernel(), 0, 100, 51, 100, Fault("throw", 50));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 49);

  value = RunChunk(FaultKernel(), 0, 100, 50, 51, Fault("error", 50));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(value.status().message(), HasSubstr("mode error at index 50"));
}

TEST(FaultTest, ThrowsWhenAskedTo) {
  try {
    (void)RunChunk(FaultKernel(), 0, 100, 40, 60, Fault("throw", 50));
    FAIL() << "the kernel did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("mode throw at index 50"));
  }
}

TEST(FaultTest, MisbehavesAtTheJobsFirstIndexByDefault) {
  const RunOptions error_mode = {.params = {{"mode", std::string("error")}}};
  EXPECT_EQ(RunChunk(FaultKernel(), 10, 20, 10, 15, error_mode).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_TRUE(RunChunk(FaultKernel(), 10, 20, 15, 20, error_mode).ok());
}

TEST(FaultTest, RefusesUnknownModesAndSaysItIsForTesting) {
  const KernelDef kernel = FaultKernel();
  EXPECT_FALSE(ValidateParams(kernel.name, kernel.params,
                              {{"mode", std::string("explode")}})
                   .ok());
  EXPECT_THAT(kernel.help, HasSubstr("testing fault tolerance"));
}

}  // namespace
}  // namespace pfor
