// Fault tests: workers are killed, drained and stopped, and the coordinator
// is restarted, in the middle of jobs; every result must stay exact.
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;

// pi(2e7) by trial division: about 3 s on two one-thread workers, 400
// chunks.
const std::vector<std::string> kTrialJob = {"count_primes_trial", "--range",
                                            "0:2e7", "--chunks", "fixed:50000"};
constexpr char kTrialResult[] = "1270607\n";

// Waits until the job runs and has finished `chunks` chunks, so that a fault
// lands in its middle. Fails the wait when the job ends first.
absl::StatusOr<json> WaitForMidJob(Cluster& cluster, uint64_t job,
                                   int64_t chunks) {
  absl::StatusOr<json> status = cluster.WaitForStatus(job, [&](const json& s) {
    return Finished(s) || Progress(s, "chunks_done") >= chunks;
  });
  if (!status.ok()) return status;
  if (State(*status) != "running") {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ended before the fault could be injected: ", status->dump()));
  }
  return status;
}

// A coordinator journaling into `state_dir` and one one-thread worker;
// the coordinator's port, to restart it on.
absl::StatusOr<int> StartJournaled(Cluster& cluster,
                                   const std::string& state_dir) {
  if (absl::Status s = cluster.StartCoordinator({"--state-dir", state_dir});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = cluster.StartWorker(1).status(); !s.ok()) return s;
  if (absl::Status s = cluster.WaitForWorkers(1); !s.ok()) return s;
  return cluster.port();
}

// `pfor wait JOB` must print exactly `expected`.
void ExpectWaitPrints(Cluster& cluster, uint64_t job,
                      const std::string& expected) {
  RunResult result = cluster.Cli({"wait", absl::StrCat(job), "--no-progress"},
                                 absl::Seconds(90));
  EXPECT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, expected) << Describe(result);
}

TEST(Faults, KilledWorkersChunksAreRequeuedAndCountedOnce) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  ASSERT_OK_AND_ASSIGN(uint64_t job, cluster->Submit(kTrialJob));
  ASSERT_OK(WaitForMidJob(*cluster, job, 10).status());

  const ExitStatus killed = [&] {
    cluster->worker(0).Signal(SIGKILL);
    return *cluster->worker(0).Wait(absl::Seconds(10));
  }();
  EXPECT_TRUE(killed.signaled && killed.signal == SIGKILL) << Describe(killed);

  ExpectWaitPrints(*cluster, job, kTrialResult);
  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(job));
  EXPECT_EQ(State(status), "succeeded");
  EXPECT_GE(Progress(status, "chunks_requeued"), 1) << status.dump();
  EXPECT_EQ(Progress(status, "indices_done"), 20'000'000) << status.dump();
  EXPECT_EQ(Progress(status, "chunks_done"), 400) << status.dump();
  // The dead worker is dropped from the listing.
  ASSERT_OK(cluster->WaitForWorkers(1));
}

TEST(Faults, KilledWorkerDuringSleepJobLeavesEveryIndexCountedOnce) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  // 100 chunks of 20 indices, 40 ms each.
  ASSERT_OK_AND_ASSIGN(
      uint64_t job,
      cluster->Submit({"sleep", "--param", "us=2000", "--range", "0:2000",
                       "--chunks", "fixed:20", "--reduce", "sum"}));
  ASSERT_OK(WaitForMidJob(*cluster, job, 5).status());
  cluster->worker(1).Kill();

  ExpectWaitPrints(*cluster, job, "2000\n");
  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(job));
  EXPECT_EQ(status["result"], 2000) << status.dump();
  EXPECT_GE(Progress(status, "chunks_requeued"), 1) << status.dump();
  EXPECT_EQ(Progress(status, "chunks_done"), 100) << status.dump();
}

TEST(Faults, DrainingWorkerExitsZeroAndGivesBackItsChunks) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  ASSERT_OK_AND_ASSIGN(uint64_t job, cluster->Submit(kTrialJob));
  ASSERT_OK(WaitForMidJob(*cluster, job, 10).status());

  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(cluster->worker(0).Signal(SIGTERM));
  // A running chunk takes well under a second: the drain is quick.
  std::optional<ExitStatus> exited = cluster->worker(0).Wait(absl::Seconds(10));
  ASSERT_TRUE(exited.has_value())
      << "worker still running 10 s after SIGTERM; stderr: "
      << cluster->worker(0).Stderr();
  EXPECT_TRUE(exited->ExitedWith(0)) << Describe(*exited);
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(5));
  EXPECT_NE(cluster->worker(0).Stderr().find("draining"), std::string::npos)
      << cluster->worker(0).Stderr();

  // The job went on and ended while only the other worker was left.
  ASSERT_OK(cluster->WaitForWorkers(1));
  ExpectWaitPrints(*cluster, job, kTrialResult);
  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(job));
  EXPECT_EQ(Progress(status, "attempts_failed"), 0) << status.dump();
  EXPECT_EQ(Progress(status, "chunks_done"), 400) << status.dump();
}

TEST(Faults, StoppedWorkerIsDeclaredLostAfterHeartbeatTimeout) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       StartCluster(2, {"--heartbeat-timeout", "1s"}));
  ASSERT_OK_AND_ASSIGN(uint64_t job, cluster->Submit(kTrialJob));
  ASSERT_OK(WaitForMidJob(*cluster, job, 10).status());

  const absl::Time stopped = absl::Now();
  ASSERT_TRUE(cluster->worker(0).Signal(SIGSTOP));
  ASSERT_OK(cluster->WaitForWorkers(1, absl::Seconds(20)));
  const absl::Duration lost_after = absl::Now() - stopped;
  // Heartbeats come every 250 ms with a 1 s timeout: lost after 0.75 to
  // about 1.5 s, plus the polling.
  EXPECT_GE(lost_after, absl::Milliseconds(500));
  EXPECT_LT(lost_after, absl::Seconds(6));

  // Its chunks ran on the other worker.
  ExpectWaitPrints(*cluster, job, kTrialResult);
  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(job));
  EXPECT_GE(Progress(status, "chunks_requeued"), 1) << status.dump();
  EXPECT_EQ(Progress(status, "chunks_done"), 400) << status.dump();

  // Resumed, the worker finds it was dropped and dials again; late results
  // it sends must not disturb anything.
  ASSERT_TRUE(cluster->worker(0).Signal(SIGCONT));
  EXPECT_TRUE(cluster->WaitForWorkers(2).ok())
      << "resumed worker did not come back; its stderr: "
      << cluster->worker(0).Stderr();
  RunResult again =
      cluster->Cli({"submit", "count_primes_trial", "--range", "0:1e7",
                    "--chunks", "fixed:100000", "--wait", "--no-progress"});
  EXPECT_TRUE(again.status.ExitedWith(0)) << Describe(again);
  EXPECT_EQ(again.out, "664579\n");
}

TEST(Faults, WorkersReconnectToRestartedCoordinator) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  const int port = cluster->port();

  ASSERT_TRUE(cluster->coordinator().Signal(SIGTERM));
  std::optional<ExitStatus> exited =
      cluster->coordinator().Wait(absl::Seconds(15));
  ASSERT_TRUE(exited.has_value()) << "coordinator ignored SIGTERM";
  EXPECT_TRUE(exited->ExitedWith(0)) << Describe(*exited);

  // While it is away, the CLI says so.
  RunResult away = cluster->Cli({"workers"});
  EXPECT_TRUE(away.status.ExitedWith(3)) << Describe(away);

  ASSERT_OK(cluster->StartCoordinator({}, port));
  ASSERT_EQ(cluster->port(), port);
  ASSERT_OK(cluster->WaitForWorkers(2, absl::Seconds(45)));
  static const std::regex kConnected("connected as worker");
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(cluster->worker(i).WaitForLine(Stream::kStderr, kConnected,
                                               absl::Seconds(5), /*skip=*/1))
        << cluster->worker(i).Stderr();
  }

  RunResult result = cluster->Cli({"submit", "count_primes", "--range", "0:1e9",
                                   "--wait", "--no-progress"});
  ASSERT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, "50847534\n");
  // The listed workers are the same two processes, not newcomers.
  ASSERT_OK_AND_ASSIGN(json workers, cluster->Workers());
  std::set<std::string> names;
  for (const json& worker : workers) names.insert(worker.value("name", ""));
  EXPECT_EQ(names, (std::set<std::string>{"w0", "w1"})) << workers.dump();
}

// A coordinator without --state-dir forgets its jobs when it restarts. A
// client still following one must hear that it is gone, never be handed
// another client's job that was given the same id (before, `pfor wait 1`
// printed the other job's result and exited 0).
TEST(Faults, WaitNeverReportsAnotherJobAfterTheCoordinatorForgotItsOwn) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster(1));
  const int port = cluster->port();
  // Ten seconds of sleeping: it never finishes before the restart.
  ASSERT_OK_AND_ASSIGN(
      uint64_t job, cluster->Submit({"sleep", "--param", "us=100000", "--range",
                                     "0:100", "--chunks", "fixed:1"}));
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Process> wait,
      Process::Start(CliBinary(),
                     {"--coordinator", cluster->address(), "wait",
                      absl::StrCat(job), "--no-progress"},
                     ChildEnv()));
  ASSERT_OK(cluster
                ->WaitForStatus(
                    job, [](const json& s) { return State(s) == "running"; })
                .status());
  // The waiter sleeps through the restart, so that it asks the new
  // coordinator about its job only once another job is there.
  ASSERT_TRUE(wait->Signal(SIGSTOP));
  cluster->coordinator().Kill();
  ASSERT_OK(cluster->StartCoordinator({}, port));
  ASSERT_OK(cluster->WaitForWorkers(1));
  ASSERT_OK_AND_ASSIGN(uint64_t other,
                       cluster->Submit({"count_primes_trial", "--range",
                                        "0:1000", "--chunks", "fixed:100"}));
  ASSERT_OK(cluster->WaitForStatus(other, Finished).status());
  EXPECT_NE(other, job) << "the restarted coordinator gave the id again";
  ASSERT_TRUE(wait->Signal(SIGCONT));

  std::optional<ExitStatus> exited = wait->Wait(absl::Seconds(60));
  ASSERT_TRUE(exited.has_value()) << "pfor wait did not end";
  EXPECT_FALSE(exited->ExitedWith(0))
      << "pfor wait reported: " << wait->Stdout();
  EXPECT_EQ(wait->Stdout().find("168"), std::string::npos) << wait->Stdout();
  EXPECT_NE(wait->Stderr().find(absl::StrCat("job ", job, " does not exist")),
            std::string::npos)
      << wait->Stderr();
}

// A coordinator whose journal lost its writes (here: the database files are
// gone, as after a lost volume) must not start as if it had no jobs: before,
// it came up empty and the jobs it had accepted vanished without a word.
TEST(Faults, CoordinatorRefusesAJournalThatLostItsWritesUnlessToldToRecover) {
  TempDir state;
  ASSERT_FALSE(state.path().empty());
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(const int port, StartJournaled(cluster, state.path()));
  ASSERT_OK_AND_ASSIGN(
      uint64_t job, cluster.Submit({"sleep", "--param", "us=100000", "--range",
                                    "0:100", "--chunks", "fixed:1"}));
  cluster.coordinator().Kill();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(state.path() + "/journal.sqlite" + suffix);
  }

  EXPECT_FALSE(
      cluster.StartCoordinator({"--state-dir", state.path()}, port).ok());
  std::optional<ExitStatus> refused =
      cluster.coordinator().Wait(absl::Seconds(15));
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(refused->ExitedWith(1)) << Describe(*refused);
  EXPECT_NE(cluster.coordinator().Stderr().find("emptied or replaced"),
            std::string::npos)
      << cluster.coordinator().Stderr();
  EXPECT_NE(cluster.coordinator().Stderr().find("pass --recover"),
            std::string::npos)
      << cluster.coordinator().Stderr();

  ASSERT_OK(cluster.StartCoordinator({"--state-dir", state.path(), "--recover"},
                                     port));
  EXPECT_NE(cluster.coordinator().Stderr().find("starting from what it holds"),
            std::string::npos)
      << cluster.coordinator().Stderr();
  // What was lost is lost, and said to be.
  RunResult status = cluster.Cli({"status", absl::StrCat(job)});
  EXPECT_NE(status.err.find("does not exist"), std::string::npos)
      << Describe(status);
}

// The coordinator's disk fills (here: no file of it may grow, through
// RLIMIT_FSIZE set from outside), then has room again. While it is full no
// job is acknowledged and health says NOT_SERVING; afterwards it takes jobs
// by itself, and every job it acknowledged survives a kill -9. Before, every
// submission was acknowledged and almost none survived the restart.
TEST(Faults, FullDiskRefusesJobsUntilItHasRoomAgainAndLosesNone) {
  TempDir state;
  ASSERT_FALSE(state.path().empty());
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(const int port, StartJournaled(cluster, state.path()));
  std::vector<uint64_t> acknowledged;
  ASSERT_OK_AND_ASSIGN(uint64_t first,
                       cluster.Submit({"count_primes", "--range", "0:1e6"}));
  acknowledged.push_back(first);
  EXPECT_EQ(cluster.Serving().value_or(false), true);

  const pid_t pid = cluster.coordinator().pid();
  rlimit limit;
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, nullptr, &limit), 0);
  const rlim_t room = limit.rlim_cur;
  limit.rlim_cur = 0;
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, &limit, nullptr), 0);
  int refused = 0;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<uint64_t> job =
        cluster.Submit({"count_primes", "--range", "0:1e6"});
    if (job.ok()) {
      acknowledged.push_back(*job);
      continue;
    }
    ++refused;
    EXPECT_NE(job.status().message().find("--state-dir"), std::string::npos)
        << job.status();
  }
  EXPECT_EQ(refused, 5);
  EXPECT_TRUE(
      PollUntil([&] { return cluster.Serving().value_or(true) == false; },
                absl::Seconds(10)))
      << "health still says SERVING on a full disk";

  limit.rlim_cur = room;
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, &limit, nullptr), 0);
  EXPECT_TRUE(PollUntil([&] { return cluster.Serving().value_or(false); },
                        absl::Seconds(15)))
      << cluster.coordinator().Stderr();
  ASSERT_OK_AND_ASSIGN(uint64_t after,
                       cluster.Submit({"count_primes", "--range", "0:1e6"}));
  acknowledged.push_back(after);
  for (uint64_t job : acknowledged) ExpectWaitPrints(cluster, job, "78498\n");

  cluster.coordinator().Kill();
  ASSERT_OK(cluster.StartCoordinator({"--state-dir", state.path()}, port));
  for (uint64_t job : acknowledged) ExpectWaitPrints(cluster, job, "78498\n");
}

// gRPC sets SO_REUSEPORT by default: a second coordinator on a port in use
// started, and clients and workers were split between the two.
TEST(Faults, SecondCoordinatorOnAPortInUseFailsAtStart) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator());
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Process> second,
      Process::Start(CoordinatorBinary(), {"--listen", cluster.address()},
                     ChildEnv()));
  std::optional<ExitStatus> exited = second->Wait(absl::Seconds(30));
  ASSERT_TRUE(exited.has_value()) << "the second coordinator started";
  EXPECT_TRUE(exited->ExitedWith(1)) << Describe(*exited);
  static const std::regex kInUse("address in use");
  EXPECT_TRUE(second->WaitForLine(Stream::kStderr, kInUse, absl::Seconds(5)))
      << second->Stderr();
  EXPECT_EQ(second->Stdout().find("listening"), std::string::npos)
      << second->Stdout();
  // Said in that one line: no dump of gRPC's nested errors before it.
  EXPECT_EQ(second->Stderr().find("chttp2_server"), std::string::npos)
      << second->Stderr();
  EXPECT_EQ(second->Stderr().find("No address added"), std::string::npos)
      << second->Stderr();
}

}  // namespace
}  // namespace pfor::testing
