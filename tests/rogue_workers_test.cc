// Workers the coordinator must not trust blindly, played by hand over the
// worker link: one that declares a kernel differently from the real
// workers, one whose hello is refused or too large, one that takes chunks
// and never finishes them.
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "fake_worker.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

// A hello offering `sleep` on threads, declared without the parameter `us`
// the real kernel reads (another version, a plugin of the same name, a
// rogue peer).
v1::WorkerMessage SleepHello(const std::string& name, int threads,
                             int credits) {
  v1::WorkerMessage hello = FakeHello(name, threads, credits);
  v1::KernelInfo* sleep = hello.mutable_hello()->add_kernels();
  sleep->set_name("sleep");
  sleep->add_executors(v1::EXECUTOR_KIND_THREADS);
  return hello;
}

TEST(RogueWorkers, AKernelDeclaredDifferentlyElsewhereCrashesNoWorker) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator());
  // The first worker to offer `sleep` declares it differently. It asks for
  // no chunks.
  FakeWorker rogue(cluster.address(), SleepHello("rogue", 1, 0));
  ASSERT_TRUE(rogue.Read(absl::Seconds(10)).has_value()) << "no welcome";
  ASSERT_OK_AND_ASSIGN(int real, cluster.StartWorker(1));
  ASSERT_OK(cluster.WaitForWorkers(2));

  // Checked against the rogue's declaration alone, the job had no `us`,
  // and every real worker that read it aborted.
  RunResult result =
      cluster.Cli({"submit", "sleep", "--range", "0:20", "--chunks", "fixed:1",
                   "--wait", "--no-progress"},
                  absl::Seconds(60));
  EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, "20\n") << Describe(result);
  EXPECT_TRUE(cluster.worker(real).Running()) << cluster.worker(real).Stderr();
}

TEST(RogueWorkers, AWorkerThatTakesChunksAndNeverAnswersStallsNoJob) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator());
  // It heartbeats, asks for thousands of chunks and never answers one.
  FakeWorker hung(cluster.address(), SleepHello("hung", 16, 4000));
  ASSERT_TRUE(hung.Read(absl::Seconds(10)).has_value()) << "no welcome";
  ASSERT_OK(cluster.StartWorker(1).status());
  ASSERT_OK(cluster.WaitForWorkers(2));

  // Most chunks go to the hung worker at first. Each becomes overdue 2 s
  // after it was sent and runs on the honest worker; one backup per tick,
  // only at the job's end, took minutes.
  RunResult result =
      cluster.Cli({"submit", "sleep", "--range", "0:2000", "--chunks",
                   "fixed:1", "--wait", "--no-progress"},
                  absl::Seconds(60));
  EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, "2000\n") << Describe(result);
  RunResult workers = cluster.Cli({"workers"}, absl::Seconds(30));
  EXPECT_NE(workers.out.find("quarantined"), std::string::npos)
      << Describe(workers);
}

}  // namespace
}  // namespace pfor::testing
