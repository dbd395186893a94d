// The command executor end to end, and jobs no worker can run: commands run
// only on workers that allow them, give the same result as kernels, and
// fail with what the program said; a job whose executor is missing waits
// with a visible reason, then fails.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::string kCountPrimesScript =
    std::string(PFOR_SOURCE_DIR) + "/examples/commands/count_primes.py";

TEST(Commands, AreRefusedUnlessAWorkerAllowsThem) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster(1));
  RunResult result =
      cluster->Cli({"submit", "--command", "echo 1", "--range", "0:10"});
  EXPECT_TRUE(result.status.ExitedWith(2)) << Describe(result);
  EXPECT_THAT(result.err, HasSubstr("start workers with --allow-commands"));
  EXPECT_EQ(result.out, "");
}

TEST(Commands, RunThePythonExamplePerChunkWithTheSameResultAsKernels) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster(0));
  ASSERT_OK(cluster
                ->StartWorker(1, {"--processes", "1", "--allow-commands",
                                  "--command-slots", "2"})
                .status());
  ASSERT_OK(cluster->WaitForWorkers(1));
  const std::vector<std::vector<std::string>> jobs = {
      {"submit", "--command",
       "python3 " + kCountPrimesScript + " {begin} {end}", "--range", "0:2e5",
       "--chunks", "count:7", "--wait", "--no-progress"},
      {"submit", "count_primes_trial", "--range", "0:2e5", "--wait",
       "--no-progress"},
      {"submit", "count_primes_trial", "--range", "0:2e5", "--executor",
       "processes", "--wait", "--no-progress"}};
  for (const std::vector<std::string>& job : jobs) {
    RunResult result = cluster->Cli(job);
    EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
    EXPECT_EQ(result.out, "17984\n") << Describe(result);
  }
}

TEST(Commands, FailWithTheProgramsExitStatusAndStderr) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster(0));
  ASSERT_OK(cluster->StartWorker(1, {"--allow-commands"}).status());
  ASSERT_OK(cluster->WaitForWorkers(1));
  RunResult result = cluster->Cli(
      {"submit", "--command", "echo disk full >&2; exit 3", "--shell",
       "--range", "0:10", "--max-attempts", "2", "--wait", "--no-progress"});
  EXPECT_TRUE(result.status.ExitedWith(1)) << Describe(result);
  EXPECT_THAT(result.err,
              HasSubstr("command exited with status 3; stderr: disk full"));

  result = cluster->Cli({"submit", "--command", "pfor-no-such-program {begin}",
                         "--range", "0:10", "--max-attempts", "1", "--wait",
                         "--no-progress"});
  EXPECT_TRUE(result.status.ExitedWith(1)) << Describe(result);
  EXPECT_THAT(result.err, HasSubstr("'pfor-no-such-program' not found"));

  // The {end} placeholder and the environment reach the program.
  result = cluster->Cli(
      {"submit", "--command", "echo $((PFOR_END - PFOR_BEGIN))", "--shell",
       "--range", "0:1000", "--chunks", "count:4", "--wait", "--no-progress"});
  EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, "1000\n");
}

TEST(UnrunnableJobs, WaitWithAReasonThenFail) {
  auto cluster = std::make_unique<Cluster>();
  ASSERT_OK(cluster->StartCoordinator({"--queue-timeout", "3s"}));
  // No worker yet: accepted, waiting.
  ASSERT_OK_AND_ASSIGN(uint64_t job,
                       cluster->Submit({"count_primes", "--range", "0:1e6",
                                        "--executor", "processes"}));
  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(job));
  EXPECT_EQ(State(status), "queued");
  EXPECT_EQ(status.value("waiting_reason", ""),
            "waiting for a worker to connect");
  // A worker without process slots does not help.
  ASSERT_OK(cluster->StartWorker(1).status());
  ASSERT_OK(cluster->WaitForWorkers(1));
  ASSERT_OK_AND_ASSIGN(status, cluster->Status(job));
  EXPECT_THAT(status.value("waiting_reason", ""),
              HasSubstr("no connected worker has processes slots"));
  ASSERT_OK_AND_ASSIGN(
      status,
      cluster->WaitForStatus(
          job, [](const json& s) { return Finished(s); }, absl::Seconds(30)));
  EXPECT_EQ(State(status), "failed");
  EXPECT_THAT(status.value("error", ""),
              HasSubstr("no worker could run it for 3s"));
}

}  // namespace
}  // namespace pfor::testing
