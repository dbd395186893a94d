#include "pfor/builtin_kernels.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Names(const KernelRegistry& registry) {
  std::vector<std::string> names;
  for (const KernelDef* kernel : registry.List()) names.push_back(kernel->name);
  return names;
}

TEST(BuiltinKernelsTest, RegistersTheSixBuiltinKernelsWithoutTheTestOnes) {
  KernelRegistry registry;
  ASSERT_TRUE(RegisterBuiltinKernels(registry).ok());
  EXPECT_THAT(Names(registry),
              ElementsAre("count_primes", "count_primes_trial", "integrate",
                          "monte_carlo_pi", "noop", "sleep"));
  EXPECT_EQ(registry.Find("fault"), nullptr);
}

TEST(BuiltinKernelsTest, RegistersTheFaultKernelOnlyAsATestKernel) {
  KernelRegistry registry;
  ASSERT_TRUE(RegisterTestKernels(registry).ok());
  EXPECT_THAT(Names(registry), ElementsAre("fault"));
  EXPECT_THAT(TestKernelNames(), ElementsAre("fault"));
}

TEST(BuiltinKernelsTest, GivesEveryKernelOneLineOfHelpAndValidParams) {
  KernelRegistry registry;
  ASSERT_TRUE(RegisterBuiltinKernels(registry).ok());
  ASSERT_TRUE(RegisterTestKernels(registry).ok());
  for (const KernelDef* kernel : registry.List()) {
    SCOPED_TRACE(kernel->name);
    EXPECT_FALSE(kernel->help.empty());
    EXPECT_EQ(kernel->help.find('\n'), std::string::npos);
    for (const ParamSpec& spec : kernel->params) {
      EXPECT_FALSE(spec.help.empty()) << spec.name;
      if (spec.default_value) {
        EXPECT_TRUE(ValidateParams(kernel->name, {spec},
                                   {{spec.name, *spec.default_value}})
                        .ok())
            << spec.name;
      }
    }
  }
}

TEST(BuiltinKernelsTest, RefusesAClashAndLeavesTheRegistryAsItWas) {
  KernelRegistry registry;
  ASSERT_TRUE(
      registry
          .Add({.name = "noop",
                .help = "mine",
                .params = {},
                .run = [](const ChunkContext&) -> absl::StatusOr<Value> {
                  return int64_t{1};
                }})
          .ok());
  EXPECT_EQ(RegisterBuiltinKernels(registry).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(Names(registry), ElementsAre("noop"));
  EXPECT_EQ(registry.Find("noop")->help, "mine");
}

}  // namespace
}  // namespace pfor
