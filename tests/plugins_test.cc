// Kernel plugins loaded by a real worker: their kernels run on threads and in
// helper processes, and a broken plugin stops the worker at start with one
// clear line.
#include <algorithm>
#include <regex>
#include <string>

#include "cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using ::testing::HasSubstr;

TEST(Plugins, KernelsOfALoadedPluginRunOnThreadsAndProcesses) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster(0));
  ASSERT_OK(
      cluster
          ->StartWorker(1, {"--processes", "1", "--plugin", PFOR_GOOD_PLUGIN})
          .status());
  ASSERT_OK(cluster->WaitForWorkers(1));
  for (const char* executor : {"threads", "processes"}) {
    RunResult result =
        cluster->Cli({"submit", "plugin_square_sum", "--range", "0:1000",
                      "--executor", executor, "--wait", "--no-progress"});
    EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
    // The sum of i*i for i < 1000.
    EXPECT_EQ(result.out, "332833500\n") << executor;
  }
}

TEST(Plugins, ABrokenPluginStopsTheWorkerWithOneLine) {
  auto cluster = std::make_unique<Cluster>();
  ASSERT_OK(cluster->StartCoordinator());
  for (const char* plugin :
       {PFOR_FUTURE_ABI_PLUGIN, "/nonexistent/libmine.so"}) {
    RunResult result = pfor::testing::Run(
        WorkerBinary(),
        {"--coordinator", cluster->address(), "--plugin", plugin}, ChildEnv(),
        absl::Seconds(30));
    EXPECT_TRUE(result.status.ExitedWith(2)) << Describe(result);
    EXPECT_THAT(result.err, HasSubstr("pfor-worker: plugin "))
        << Describe(result);
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
        << Describe(result);
  }
}

TEST(Plugins, AProgramServesItsOwnKernelsAsAWorker) {
  auto cluster = std::make_unique<Cluster>();
  ASSERT_OK(cluster->StartCoordinator());
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Process> program,
      Process::Start(PFOR_USER_KERNEL_EXAMPLE,
                     {"--pfor-worker", "--coordinator", cluster->address(),
                      "--threads", "2", "--processes", "-1"},
                     ChildEnv()));
  ASSERT_TRUE(program->WaitForLine(
      Stream::kStderr, std::regex("example_user_kernel: connected as worker"),
      absl::Seconds(30)))
      << program->Stderr();
  RunResult result = cluster->Cli({"submit", "sum_of_squares", "--range",
                                   "0:1e6", "--wait", "--no-progress"});
  EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, "333332833333500000\n");
  // Its kernels run on threads only: helper processes do not have them.
  result = cluster->Cli({"submit", "sum_of_squares", "--range", "0:10",
                         "--executor", "processes"});
  EXPECT_TRUE(result.status.ExitedWith(2)) << Describe(result);
}

}  // namespace
}  // namespace pfor::testing
