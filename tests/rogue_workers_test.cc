// Workers the coordinator must not trust blindly, played by hand over the
// worker link: one that declares a kernel differently from the real
// workers, one whose hello is refused or too large, one that takes chunks
// and never finishes them.
#include <signal.h>

#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "fake_worker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;

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

// A hello the coordinator refuses gets the refusal alone: never a welcome
// first, which a worker would take for having joined.
TEST(RogueWorkers, ARefusedHelloGetsNoWelcome) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator());
  v1::WorkerMessage hello = FakeHello("twice", 1, 1);
  for (int i = 0; i < 2; ++i) {
    v1::KernelInfo* kernel = hello.mutable_hello()->add_kernels();
    kernel->set_name("noop");
    kernel->add_executors(v1::EXECUTOR_KIND_THREADS);
  }
  FakeWorker refused(cluster.address(), hello, /*heartbeat=*/false);
  std::optional<v1::CoordinatorMessage> first = refused.Read(absl::Seconds(10));
  EXPECT_FALSE(first.has_value()) << first->DebugString();
  std::optional<grpc::Status> end = refused.WaitForEnd(absl::Seconds(10));
  ASSERT_TRUE(end.has_value()) << "the link stayed open";
  EXPECT_EQ(end->error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << end->error_message();
  ASSERT_OK_AND_ASSIGN(json workers, cluster.Workers());
  EXPECT_TRUE(workers.empty()) << workers.dump();
  // Nor does the log say it joined before it says it was refused.
  static const std::regex kRefused("refused: ");
  EXPECT_TRUE(cluster.coordinator().WaitForLine(Stream::kStderr, kRefused,
                                                absl::Seconds(10)))
      << cluster.coordinator().Stderr();
  EXPECT_EQ(cluster.coordinator().Stderr().find("worker joined"),
            std::string::npos)
      << cluster.coordinator().Stderr();
}

// A hello announcing more than a worker could have (here 10,000 kernels,
// or one kernel with 1,000 parameters) is refused with the bound named,
// and nothing of it is kept.
TEST(RogueWorkers, AnOversizedHelloIsRefusedNamingTheBound) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator());
  v1::WorkerMessage many = FakeHello("many", 1, 0);
  for (int i = 0; i < 10'000; ++i) {
    v1::KernelInfo* kernel = many.mutable_hello()->add_kernels();
    kernel->set_name(absl::StrCat("k", i));
    kernel->add_executors(v1::EXECUTOR_KIND_THREADS);
  }
  v1::WorkerMessage wide = FakeHello("wide", 1, 0);
  v1::KernelInfo* kernel = wide.mutable_hello()->add_kernels();
  kernel->set_name("wide");
  kernel->add_executors(v1::EXECUTOR_KIND_THREADS);
  for (int i = 0; i < 1'000; ++i) {
    v1::ParamSpec* param = kernel->add_params();
    param->set_name(absl::StrCat("p", i));
    param->set_type(v1::PARAM_TYPE_INT);
  }
  v1::WorkerMessage big = FakeHello(std::string(2 << 20, 'x'), 1, 0);
  const std::pair<const v1::WorkerMessage*, std::string> cases[] = {
      {&many, "announces 10000 kernels"},
      {&wide, "declares kernel wide with 1000 parameters"},
      {&big, "bytes; a worker announces at most 1000 kernels"}};
  for (const auto& [hello, expected] : cases) {
    FakeWorker rogue(cluster.address(), *hello, /*heartbeat=*/false);
    std::optional<grpc::Status> end = rogue.WaitForEnd(absl::Seconds(10));
    ASSERT_TRUE(end.has_value()) << "the link stayed open";
    EXPECT_EQ(end->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(end->error_message(), ::testing::HasSubstr(expected));
  }
  ASSERT_OK_AND_ASSIGN(json workers, cluster.Workers());
  EXPECT_TRUE(workers.empty()) << workers.dump();
}

}  // namespace
}  // namespace pfor::testing
