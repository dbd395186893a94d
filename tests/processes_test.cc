// The processes executor end to end: kernels run in pfor-helper processes of
// a real worker, give the same bits as the threads executor, and a kernel
// that crashes or hangs fails its job without taking the worker down.
#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;

// A coordinator and one worker with one thread slot and two process slots.
absl::StatusOr<std::unique_ptr<Cluster>> StartProcessesCluster() {
  auto cluster = std::make_unique<Cluster>();
  if (absl::Status status = cluster->StartCoordinator(); !status.ok())
    return status;
  absl::StatusOr<int> worker = cluster->StartWorker(1, {"--processes", "2"});
  if (!worker.ok()) return worker.status();
  if (absl::Status status = cluster->WaitForWorkers(1); !status.ok())
    return status;
  return cluster;
}

// How many pfor-helper processes `parent` has.
int Helpers(pid_t parent) {
  int helpers = 0;
  DIR* proc = opendir("/proc");
  while (dirent* entry = proc != nullptr ? readdir(proc) : nullptr) {
    std::ifstream stat(absl::StrCat("/proc/", entry->d_name, "/stat"));
    std::string line;
    if (!std::getline(stat, line)) continue;
    // PID (COMM) STATE PPID ...
    const size_t comm_end = line.rfind(')');
    if (comm_end == std::string::npos ||
        line.find("(pfor-helper)") == std::string::npos)
      continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + comm_end + 1, " %c %d", &state, &ppid) ==
            2 &&
        ppid == parent) {
      ++helpers;
    }
  }
  if (proc != nullptr) closedir(proc);
  return helpers;
}

// `pfor submit ARGS... --executor EXECUTOR --wait --no-progress`.
RunResult SubmitAndWait(Cluster& cluster, std::vector<std::string> args,
                        const std::string& executor) {
  for (const char* arg :
       {"--executor", executor.c_str(), "--wait", "--no-progress"}) {
    args.push_back(arg);
  }
  args.insert(args.begin(), "submit");
  return cluster.Cli(args, absl::Seconds(90));
}

// The worker still runs, is still listed, and serves a job on helpers.
void ExpectWorkerStillServes(Cluster& cluster) {
  EXPECT_TRUE(cluster.worker(0).Running()) << cluster.worker(0).Stderr();
  ASSERT_OK_AND_ASSIGN(json workers, cluster.Workers());
  ASSERT_TRUE(workers.is_array()) << workers.dump();
  EXPECT_EQ(workers.size(), 1u) << workers.dump();
  const RunResult next =
      SubmitAndWait(cluster, {"count_primes", "--range", "0:1e6"}, "processes");
  EXPECT_TRUE(next.status.ExitedWith(0)) << Describe(next);
  EXPECT_EQ(next.out, "78498\n") << Describe(next);
}

TEST(Processes, GiveTheSameResultsAsThreadsToTheBit) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartProcessesCluster());
  const std::vector<std::vector<std::string>> jobs = {
      {"count_primes", "--range", "0:1e7"},
      {"integrate", "--param", "integrand=cos", "--param", "a=0", "--param",
       "b=pi/2", "--points", "1e7", "--chunks", "count:37"},
      {"monte_carlo_pi", "--points", "1e6", "--param", "seed=7"},
  };
  for (const std::vector<std::string>& job : jobs) {
    SCOPED_TRACE(job[0]);
    const RunResult threads = SubmitAndWait(*cluster, job, "threads");
    const RunResult processes = SubmitAndWait(*cluster, job, "processes");
    ASSERT_TRUE(threads.status.ExitedWith(0)) << Describe(threads);
    ASSERT_TRUE(processes.status.ExitedWith(0)) << Describe(processes);
    EXPECT_EQ(processes.out, threads.out);
  }
  // They ran in helpers, which stay warm for the next job.
  EXPECT_GE(Helpers(cluster->worker(0).pid()), 1);
  const RunResult primes = SubmitAndWait(*cluster, jobs[0], "processes");
  EXPECT_EQ(primes.out, "664579\n") << Describe(primes);
}

TEST(Processes, CrashingKernelFailsItsJobButNotTheWorker) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartProcessesCluster());
  const RunResult crashed =
      SubmitAndWait(*cluster,
                    {"fault", "--param", "mode=segfault", "--param", "at=5",
                     "--range", "0:100", "--max-attempts", "2"},
                    "processes");
  EXPECT_TRUE(crashed.status.ExitedWith(1)) << Describe(crashed);
  EXPECT_NE((crashed.out + crashed.err).find("SIGSEGV"), std::string::npos)
      << Describe(crashed);
  ExpectWorkerStillServes(*cluster);
}

TEST(Processes, HungKernelTimesOutAndItsHelperIsReplaced) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartProcessesCluster());
  const absl::Time start = absl::Now();
  const RunResult hung = SubmitAndWait(
      *cluster,
      {"fault", "--param", "mode=hang", "--param", "at=5", "--range", "0:100",
       "--chunk-timeout", "1s", "--max-attempts", "1"},
      "processes");
  EXPECT_TRUE(hung.status.ExitedWith(1)) << Describe(hung);
  EXPECT_NE((hung.out + hung.err).find("timed out"), std::string::npos)
      << Describe(hung);
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  ExpectWorkerStillServes(*cluster);
}

}  // namespace
}  // namespace pfor::testing
