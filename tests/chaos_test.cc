// The chaos run: one coordinator with a state directory and three workers
// run prime counts while faults are injected one after another: kill -9
// and restart of a worker, SIGSTOP/SIGCONT of a worker (it stops answering),
// kill -9 and restart of the coordinator, a full disk for a second
// (RLIMIT_FSIZE set from outside), and floods of small jobs. Every
// job acknowledged must end with its exact result; none may vanish.
//
// The default run injects 15 faults (about a minute); PFOR_CHAOS_FAULTS=N
// runs N (the long run: PFOR_CHAOS_FAULTS=120 ctest -L chaos). It prints
// the faults injected, the jobs run, wrong and lost results, the time to
// detect a stopped worker and the slowdown against an undisturbed run.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cluster.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;

constexpr int kWorkers = 3;
constexpr char kHeartbeatTimeout[] = "2s";

// Jobs of the workload and their exact results.
struct Workload {
  std::vector<std::string> args;
  std::string result;
};

const std::vector<Workload>& Jobs() {
  static const auto* jobs = new std::vector<Workload>{
      {{"count_primes_trial", "--range", "0:3e6", "--chunks", "fixed:20000"},
       "216816\n"},
      {{"count_primes", "--range", "0:2e9", "--chunks", "fixed:20000000"},
       "98222287\n"},
      {{"count_primes_trial", "--range", "1e6:4e6", "--max-attempts", "1"},
       "204648\n"},
  };
  return *jobs;
}

const Workload kFloodJob = {{"count_primes", "--range", "0:1e4"}, "1229\n"};

int FaultsToInject() {
  const char* env = std::getenv("PFOR_CHAOS_FAULTS");
  int faults = 15;
  if (env != nullptr && (!absl::SimpleAtoi(env, &faults) || faults < 1)) {
    faults = 15;
  }
  return faults;
}

absl::Duration Median(std::vector<absl::Duration> durations) {
  if (durations.empty()) return absl::ZeroDuration();
  std::sort(durations.begin(), durations.end());
  return durations[durations.size() / 2];
}

class Chaos {
 public:
  absl::Status Start() {
    if (state_.path().empty()) return absl::InternalError("no temp dir");
    if (absl::Status s = cluster_.StartCoordinator(CoordinatorArgs());
        !s.ok()) {
      return s;
    }
    port_ = cluster_.port();
    for (int i = 0; i < kWorkers; ++i) {
      absl::StatusOr<int> worker = cluster_.StartWorker(1);
      if (!worker.ok()) return worker.status();
      live_.push_back(*worker);
    }
    return cluster_.WaitForWorkers(kWorkers);
  }

  absl::Status Submit(const Workload& job) {
    absl::StatusOr<uint64_t> id = cluster_.Submit(job.args);
    if (!id.ok()) return id.status();
    expected_[*id] = job.result;
    return absl::OkStatus();
  }

  // Waits for every acknowledged job; counts the wrong and the lost ones.
  void Check(int& wrong, int& lost) {
    for (const auto& [job, result] : expected_) {
      RunResult run = cluster_.Cli({"wait", absl::StrCat(job), "--no-progress"},
                                   absl::Seconds(300));
      if (run.status.ExitedWith(0) && run.out == result) continue;
      const bool missing = run.err.find("does not exist") != std::string::npos;
      (missing ? lost : wrong) += 1;
      ADD_FAILURE() << "job " << job << ": " << Describe(run);
    }
  }

  // One fault, chosen by `kind`. Returns its name.
  absl::StatusOr<std::string> Inject(int kind, std::mt19937& rng) {
    const size_t pick =
        std::uniform_int_distribution<size_t>(0, live_.size() - 1)(rng);
    switch (kind % 5) {
      case 0: {  // kill -9 a worker, start another
        cluster_.worker(live_[pick]).Kill();
        absl::StatusOr<int> worker = cluster_.StartWorker(1);
        if (!worker.ok()) return worker.status();
        live_[pick] = *worker;
        return "kill -9 worker";
      }
      case 1: {  // a worker stops answering, then comes back
        Process& worker = cluster_.worker(live_[pick]);
        worker.Signal(SIGSTOP);
        const absl::Time stopped = absl::Now();
        // Detected when the coordinator no longer lists it.
        if (PollUntil(
                [&] {
                  absl::StatusOr<json> workers = cluster_.Workers();
                  return workers.ok() &&
                         static_cast<int>(workers->size()) < kWorkers;
                },
                absl::Seconds(30), absl::Milliseconds(100))) {
          detect_.push_back(absl::Now() - stopped);
        }
        worker.Signal(SIGCONT);
        return "SIGSTOP/SIGCONT worker";
      }
      case 2: {  // kill -9 the coordinator, restart it on its port
        if (absl::Status s =
                cluster_.StartCoordinator(CoordinatorArgs(), port_);
            !s.ok()) {
          return s;
        }
        return "kill -9 coordinator";
      }
      case 3: {  // the coordinator's disk is full for a second
        const pid_t pid = cluster_.coordinator().pid();
        rlimit limit;
        if (prlimit(pid, RLIMIT_FSIZE, nullptr, &limit) != 0) {
          return absl::InternalError("prlimit failed");
        }
        const rlim_t room = limit.rlim_cur;
        limit.rlim_cur = 0;
        prlimit(pid, RLIMIT_FSIZE, &limit, nullptr);
        absl::SleepFor(absl::Seconds(1));
        limit.rlim_cur = room;
        prlimit(pid, RLIMIT_FSIZE, &limit, nullptr);
        // It serves again by itself once it has written its backlog.
        const absl::Time freed = absl::Now();
        if (!PollUntil([&] { return cluster_.Serving().value_or(false); },
                       absl::Seconds(30))) {
          return absl::DeadlineExceededError(
              "the coordinator did not serve again after its disk had room");
        }
        recover_.push_back(absl::Now() - freed);
        return "full disk for 1s";
      }
      default: {  // a flood of small jobs
        for (int i = 0; i < 20; ++i) {
          if (absl::Status s = Submit(kFloodJob); !s.ok()) return s;
        }
        return "flood of 20 jobs";
      }
    }
  }

  size_t jobs() const { return expected_.size(); }
  absl::Duration median_detect() { return Median(detect_); }
  absl::Duration median_recover() { return Median(recover_); }

 private:
  std::vector<std::string> CoordinatorArgs() const {
    return {"--state-dir", state_.path(), "--heartbeat-timeout",
            kHeartbeatTimeout};
  }

  TempDir state_;
  Cluster cluster_;
  int port_ = 0;
  std::vector<int> live_;
  std::map<uint64_t, std::string> expected_;
  std::vector<absl::Duration> detect_;
  std::vector<absl::Duration> recover_;
};

TEST(Chaos, EveryAcknowledgedJobEndsExactUnderFaults) {
  // The undisturbed run, for the slowdown.
  absl::Duration calm;
  {
    Chaos run;
    ASSERT_OK(run.Start());
    const absl::Time start = absl::Now();
    for (const Workload& job : Jobs()) ASSERT_OK(run.Submit(job));
    int wrong = 0, lost = 0;
    run.Check(wrong, lost);
    calm = absl::Now() - start;
  }

  Chaos run;
  ASSERT_OK(run.Start());
  std::mt19937 rng(9);
  const int faults = FaultsToInject();
  const absl::Time start = absl::Now();
  std::map<std::string, int> injected;
  for (int i = 0; i < faults; ++i) {
    // A fresh workload every fifth fault keeps jobs running throughout.
    if (i % 5 == 0) {
      for (const Workload& job : Jobs()) ASSERT_OK(run.Submit(job));
    }
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<int>(200, 1500)(rng)));
    absl::StatusOr<std::string> fault = run.Inject(i, rng);
    ASSERT_TRUE(fault.ok()) << "fault " << i << ": " << fault.status();
    injected[*fault] += 1;
  }
  int wrong = 0, lost = 0;
  run.Check(wrong, lost);
  const absl::Duration chaos = absl::Now() - start;
  const int workloads = (faults + 4) / 5;
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(lost, 0);

  std::printf("chaos: %d faults injected:", faults);
  for (const auto& [name, count] : injected) {
    std::printf(" %s x%d;", name.c_str(), count);
  }
  std::printf(
      "\nchaos: %zu jobs run, %d wrong, %d lost; a stopped worker detected "
      "in %s (median, heartbeat timeout %s); serving again %s after the "
      "disk had room (median); %s for %d workloads under "
      "faults (0.2-1.5 s apart), %s for one undisturbed: %.1fx per "
      "workload\n",
      run.jobs(), wrong, lost,
      absl::FormatDuration(run.median_detect()).c_str(), kHeartbeatTimeout,
      absl::FormatDuration(run.median_recover()).c_str(),
      absl::FormatDuration(chaos).c_str(), workloads,
      absl::FormatDuration(calm).c_str(),
      absl::FDivDuration(chaos, calm) / workloads);
}

}  // namespace
}  // namespace pfor::testing
