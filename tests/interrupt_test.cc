// Ctrl-C (SIGINT) on the command line: every command that follows a job
// stops promptly with exit code 130, the documented "interrupted".
#include <signal.h>

#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;

constexpr int kInterrupted = 130;

// Minutes of work in 100 ms chunks.
const std::vector<std::string> kLongJob = {
    "sleep", "--param", "us=1000", "--range", "0:1e6", "--chunks", "fixed:100"};

// Starts `pfor ARGS...` and waits for its first progress line on stderr
// (about 5 s), the sign that it follows the job.
absl::StatusOr<std::unique_ptr<Process>> StartFollowing(
    const std::vector<std::string>& args) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start(CliBinary(), args, ChildEnv());
  if (!process.ok()) return process;
  static const std::regex kProgress("%");
  if (!(*process)->WaitForLine(Stream::kStderr, kProgress, absl::Seconds(30))) {
    return absl::DeadlineExceededError(
        absl::StrCat("no progress line; stdout: <<", (*process)->Stdout(),
                     ">> stderr: <<", (*process)->Stderr(), ">>"));
  }
  return process;
}

// Starts `pfor --coordinator ADDRESS ARGS...`, which submits a job, and
// waits until the cluster runs it: the command is past its start-up then.
absl::StatusOr<std::unique_ptr<Process>> StartSubmitting(
    Cluster& cluster, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"--coordinator", cluster.address()};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start(CliBinary(), argv, ChildEnv());
  if (!process.ok()) return process;
  std::string last;
  const bool running = PollUntil(
      [&] {
        absl::StatusOr<json> jobs = cluster.CliJson({"jobs"});
        last = jobs.ok() ? jobs->dump() : jobs.status().ToString();
        return jobs.ok() && jobs->size() == 1 &&
               State((*jobs)[0]) == "running" &&
               Progress((*jobs)[0], "chunks_done") > 0;
      },
      absl::Seconds(30));
  if (!running) {
    return absl::DeadlineExceededError(
        absl::StrCat("the submitted job did not run; jobs: ", last,
                     "; stderr: <<", (*process)->Stderr(), ">>"));
  }
  return process;
}

// Sends SIGINT and expects exit 130 within a few seconds.
void ExpectInterruptExits130(Process& process) {
  ASSERT_TRUE(process.Signal(SIGINT));
  std::optional<ExitStatus> exited = process.Wait(absl::Seconds(10));
  ASSERT_TRUE(exited.has_value())
      << "still running 10 s after SIGINT; stderr: " << process.Stderr();
  process.WaitForOutputEnd(absl::Seconds(5));
  EXPECT_TRUE(exited->ExitedWith(kInterrupted))
      << Describe(*exited) << "; stderr: " << process.Stderr();
}

TEST(Interrupt, RunInterruptedCancelsItsJobAndExits130) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), kLongJob.begin(), kLongJob.end());
  ASSERT_OK_AND_ASSIGN(auto run, StartSubmitting(*cluster, args));
  ExpectInterruptExits130(*run);

  static const std::regex kCancelling(
      "^pfor: interrupted; cancelling job ([0-9]+)$");
  std::optional<std::vector<std::string>> line =
      run->WaitForLine(Stream::kStderr, kCancelling, absl::Seconds(5));
  ASSERT_TRUE(line.has_value()) << run->Stderr();
  uint64_t job;
  ASSERT_TRUE(absl::SimpleAtoi((*line)[1], &job));
  ASSERT_OK(cluster
                ->WaitForStatus(
                    job, [](const json& s) { return State(s) == "cancelled"; },
                    absl::Seconds(10))
                .status());
}

TEST(Interrupt, EmbeddedRunInterruptedExits130) {
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), kLongJob.begin(), kLongJob.end());
  ASSERT_OK_AND_ASSIGN(auto run, StartFollowing(args));
  ExpectInterruptExits130(*run);
}

TEST(Interrupt, WaitInterruptedExits130AndLeavesTheJobRunning) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  ASSERT_OK_AND_ASSIGN(uint64_t job, cluster->Submit(kLongJob));
  ASSERT_OK_AND_ASSIGN(
      auto wait, StartFollowing({"--coordinator", cluster->address(), "wait",
                                 absl::StrCat(job)}));
  ExpectInterruptExits130(*wait);
  // `wait` only follows the job; the job is the cluster's and goes on.
  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(job));
  EXPECT_EQ(State(status), "running") << status.dump();
}

TEST(Interrupt, SubmitWaitInterruptedExits130) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  std::vector<std::string> args = {"submit"};
  args.insert(args.end(), kLongJob.begin(), kLongJob.end());
  args.push_back("--wait");
  ASSERT_OK_AND_ASSIGN(auto submit, StartSubmitting(*cluster, args));
  ExpectInterruptExits130(*submit);
}

}  // namespace
}  // namespace pfor::testing
