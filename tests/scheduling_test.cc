// Scheduling through the real binaries: fair sharing between jobs,
// cancellation that frees slots, and huge ranges in constant memory.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;

bool RunningWithDone(const json& status) {
  return State(status) == "running" && Progress(status, "chunks_done") > 0;
}

TEST(Scheduling, TwoJobsShareTheWorkersAndBothFinishExactly) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  // 100 chunks of 30 ms and 80 chunks of 30 ms: about 3 s and 2.4 s on one
  // slot each, half that if the first job held both slots.
  ASSERT_OK_AND_ASSIGN(
      uint64_t first, cluster->Submit({"sleep", "--param", "us=3000", "--range",
                                       "0:1000", "--chunks", "fixed:10"}));
  ASSERT_OK_AND_ASSIGN(
      uint64_t second,
      cluster->Submit({"sleep", "--param", "us=3000", "--range", "0:800",
                       "--chunks", "fixed:10"}));

  // Until one of them ends, look for a moment where both have finished
  // chunks while both still run.
  bool both_progressed = false;
  std::string last;
  const bool ended = PollUntil(
      [&] {
        absl::StatusOr<json> a = cluster->Status(first);
        absl::StatusOr<json> b = cluster->Status(second);
        if (!a.ok() || !b.ok()) return false;
        last = absl::StrCat(a->dump(), "\n", b->dump());
        if (RunningWithDone(*a) && RunningWithDone(*b)) both_progressed = true;
        return Finished(*a) || Finished(*b);
      },
      absl::Seconds(60), absl::Milliseconds(20));
  ASSERT_TRUE(ended) << last;
  EXPECT_TRUE(both_progressed)
      << "one job did not progress while the other ran; at the first end:\n"
      << last;

  for (const auto& [job, expected] :
       {std::pair{first, "1000\n"}, std::pair{second, "800\n"}}) {
    RunResult result =
        cluster->Cli({"wait", absl::StrCat(job), "--no-progress"});
    EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
    EXPECT_EQ(result.out, expected);
  }
}

TEST(Scheduling, CreditsOfResultsSentTogetherAreNotLost) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster(0));
  ASSERT_OK(cluster->StartWorker(2, {"--prefetch", "2"}).status());
  ASSERT_OK(cluster->WaitForWorkers(1));
  // 50,000 one-index chunks: results come back microseconds apart, so many
  // travel in one message; a credit lost in merging would shrink the
  // worker's window until the job stalls, and a result lost would make the
  // count short (sleep's value is 1 per index).
  RunResult result = cluster->Cli(
      {"submit", "sleep", "--param", "us=0", "--range", "0:50000", "--chunks",
       "fixed:1", "--reduce", "count", "--wait", "--no-progress"},
      absl::Seconds(60));
  EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, "50000\n");
  // Idle again, the worker's whole window waits at the coordinator.
  std::string last;
  EXPECT_TRUE(PollUntil(
      [&] {
        absl::StatusOr<json> workers = cluster->CliJson({"workers"});
        if (!workers.ok() || workers->size() != 1) return false;
        last = workers->dump();
        return (*workers)[0].value("credits", -1) == 4;
      },
      absl::Seconds(10)))
      << last;
}

TEST(Scheduling, CancelledJobFreesItsSlots) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  // Chunks of 10 s each: only cancellation reaching the running chunks
  // frees the slots soon.
  ASSERT_OK_AND_ASSIGN(
      uint64_t job, cluster->Submit({"sleep", "--param", "us=1000", "--range",
                                     "0:1e6", "--chunks", "fixed:10000"}));
  ASSERT_OK(cluster
                ->WaitForStatus(job,
                                [](const json& s) {
                                  return State(s) == "running" &&
                                         Progress(s, "chunks_in_flight") >= 2;
                                })
                .status());

  RunResult cancel = cluster->Cli({"cancel", absl::StrCat(job)});
  ASSERT_TRUE(cancel.status.ExitedWith(0)) << Describe(cancel);
  EXPECT_EQ(cancel.out, absl::StrCat("job ", job, ": cancelled\n"));

  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(job));
  EXPECT_EQ(State(status), "cancelled") << status.dump();
  EXPECT_FALSE(status.contains("result")) << status.dump();

  RunResult wait = cluster->Cli({"wait", absl::StrCat(job), "--no-progress"});
  EXPECT_TRUE(wait.status.ExitedWith(1)) << Describe(wait);
  EXPECT_EQ(wait.out, "");
  EXPECT_EQ(wait.err.rfind("pfor: ", 0), 0u) << wait.err;
  EXPECT_NE(wait.err.find("cancelled"), std::string::npos) << wait.err;

  // 100 ms of work on two slots: done in well under the 10 s the
  // cancelled chunks would have held them.
  const absl::Time start = absl::Now();
  RunResult next =
      cluster->Cli({"submit", "sleep", "--param", "us=1000", "--range", "0:100",
                    "--chunks", "fixed:10", "--wait", "--no-progress"});
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(next.status.ExitedWith(0)) << Describe(next);
  EXPECT_EQ(next.out, "100\n");
  EXPECT_LT(took, absl::Seconds(4));

  // And the workers hold nothing of the cancelled job any more.
  ASSERT_OK_AND_ASSIGN(json workers, cluster->Workers());
  for (const json& worker : workers) {
    EXPECT_EQ(worker["chunks_in_flight"], 0) << workers.dump();
  }
}

TEST(Scheduling, HugeRangeRunsInConstantCoordinatorMemory) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  // 10^12 chunks: only chunks in flight may cost the coordinator memory.
  ASSERT_OK_AND_ASSIGN(
      uint64_t job,
      cluster->Submit({"noop", "--range", "0:1e15", "--chunks", "fixed:1000"}));
  // Warm up (connections, buffers, allocator), then measure.
  ASSERT_OK_AND_ASSIGN(
      json before, cluster->WaitForStatus(job, [](const json& s) {
        return Finished(s) || Progress(s, "chunks_done") >= 20000;
      }));
  ASSERT_EQ(State(before), "running") << before.dump();
  EXPECT_EQ(Progress(before, "indices_total"), 1'000'000'000'000'000);
  const pid_t coordinator = cluster->coordinator().pid();
  const int64_t rss_before = ResidentKb(coordinator);
  ASSERT_GT(rss_before, 0);
  const int64_t done_before = Progress(before, "chunks_done");

  ASSERT_OK_AND_ASSIGN(
      json after, cluster->WaitForStatus(job, [&](const json& s) {
        return Finished(s) || Progress(s, "chunks_done") >= done_before + 50000;
      }));
  const int64_t rss_after = ResidentKb(coordinator);
  ASSERT_EQ(State(after), "running") << after.dump();
  EXPECT_GT(Progress(after, "indices_done"), Progress(before, "indices_done"));
  EXPECT_LT(rss_after - rss_before, 4 * 1024)
      << "coordinator VmRSS grew from " << rss_before << " kB to " << rss_after
      << " kB over " << Progress(after, "chunks_done") - done_before
      << " chunks";

  RunResult cancel = cluster->Cli({"cancel", absl::StrCat(job)});
  ASSERT_TRUE(cancel.status.ExitedWith(0)) << Describe(cancel);
  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(job));
  EXPECT_EQ(State(status), "cancelled") << status.dump();
}

}  // namespace
}  // namespace pfor::testing
