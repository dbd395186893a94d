// The chaos run: one coordinator with a state directory and three workers
// run every kind of job (prime counts, integrations, batches submitted
// through the SDK, command jobs) while faults are injected one after
// another: kill -9 and restart of a worker, SIGSTOP/SIGCONT of a worker (it
// stops answering), kill -9 and restart of the coordinator, a full disk for
// a second (RLIMIT_FSIZE set from outside), and floods of small jobs. Every
// job acknowledged must end with its exact result (an integral within
// kIntegralTolerance of its closed form, with the same bits as every other
// run of it, whatever its chunks; every task of a batch); none may vanish.
//
// The default run injects 15 faults (about a minute); PFOR_CHAOS_FAULTS=N
// runs N (the long run: PFOR_CHAOS_FAULTS=120 ctest -L chaos). It prints
// the faults injected, the jobs run of each kind, wrong and lost results,
// the time to detect a lost worker and the slowdown against an undisturbed
// run.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cluster.h"
#include "gtest/gtest.h"
#include "pfor/client.h"

namespace pfor::testing {
namespace {

constexpr int kWorkers = 3;
constexpr char kHeartbeatTimeout[] = "2s";
// How far an integral may lie from its closed form: the midpoint rule's
// error over these 2 x 10^7 points is below 10^-15, and pfor's sums are
// exact until their final rounding.
constexpr double kIntegralTolerance = 1e-12;

enum class Kind { kPrimes, kIntegral, kBatch, kCommand, kFlood };

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kPrimes:
      return "prime counts";
    case Kind::kIntegral:
      return "integrals";
    case Kind::kBatch:
      return "batches";
    case Kind::kCommand:
      return "command jobs";
    case Kind::kFlood:
      return "flood prime counts";
  }
  return "?";
}

// A job submitted with `pfor submit`, and its result: `exact` as printed,
// or for an integral a value within kIntegralTolerance of `closed_form`
// with the same bits as every other run of `integrand`.
struct CliJob {
  Kind kind = Kind::kPrimes;
  std::vector<std::string> args = {};
  std::string exact = {};
  std::string integrand = {};
  double closed_form = 0;
};

CliJob Integral(const std::string& integrand, const std::string& b,
                double closed_form, const std::string& chunks) {
  return {Kind::kIntegral,
          {"integrate", "--param", "integrand=" + integrand, "--param", "a=0",
           "--param", "b=" + b, "--points", "2e7", "--chunks", chunks},
          "",
          integrand,
          closed_form};
}

// The command line jobs of one workload.
const std::vector<CliJob>& CliJobs() {
  static const auto* jobs = new std::vector<CliJob>{
      {Kind::kPrimes,
       {"count_primes_trial", "--range", "0:3e6", "--chunks", "fixed:20000"},
       "216816\n"},
      {Kind::kPrimes,
       {"count_primes", "--range", "0:2e9", "--chunks", "fixed:20000000"},
       "98222287\n"},
      {Kind::kPrimes,
       {"count_primes_trial", "--range", "1e6:4e6", "--max-attempts", "1"},
       "204648\n"},
      // The same integrals cut three ways: the same bits.
      Integral("cos", "pi/2", 1.0, "fixed:1000000"),
      Integral("cos", "pi/2", 1.0, "count:7"),
      Integral("4/(1+x^2)", "1", std::numbers::pi, "fixed:3000000"),
      Integral("4/(1+x^2)", "1", std::numbers::pi, "auto"),
      {Kind::kCommand,
       {"--executor", "command", "--command",
        absl::StrCat("python3 ", PFOR_SOURCE_DIR,
                     "/examples/commands/count_primes.py {begin} {end}"),
        "--range", "0:2e5", "--chunks", "count:8"},
       "17984\n"},
  };
  return *jobs;
}

const CliJob kFloodJob = {
    Kind::kFlood, {"count_primes", "--range", "0:1e4"}, "1229\n"};

// The batch of a workload, submitted through the SDK: the primes of 100
// consecutive ranges of 20,000 indices by trial division, four tasks per
// chunk.
constexpr int kBatchTasks = 100;
constexpr int64_t kBatchTaskSize = 20'000;

JobSpec BatchSpec() {
  JobSpec spec{.kernel = "count_primes_trial",
               .begin = 0,
               .end = kBatchTasks,
               .chunks = ChunkPolicy::Fixed(4),
               .name = "chaos batch"};
  for (int64_t task = 0; task < kBatchTasks; ++task) {
    spec.tasks.push_back(
        {{task * kBatchTaskSize, (task + 1) * kBatchTaskSize}, {}});
  }
  return spec;
}

// Each batch task's prime count, from a sieve of Eratosthenes.
const std::vector<int64_t>& BatchCounts() {
  static const auto* counts = [] {
    const int64_t end = kBatchTasks * kBatchTaskSize;
    std::vector<bool> composite(end, false);
    auto* counts = new std::vector<int64_t>(kBatchTasks, 0);
    for (int64_t n = 2; n < end; ++n) {
      if (composite[n]) continue;
      (*counts)[n / kBatchTaskSize] += 1;
      for (int64_t m = n * n; m < end; m += n) composite[m] = true;
    }
    return counts;
  }();
  return *counts;
}

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

// What the checks found, per kind of job, and the bits of each integrand's
// first result (shared by the undisturbed run and the chaos run).
struct Tally {
  struct Count {
    int run = 0;
    int wrong = 0;
    int lost = 0;
  };
  std::map<Kind, Count> kinds;
  std::map<std::string, std::string> integral_bits;

  int wrong() const {
    int sum = 0;
    for (const auto& [kind, count] : kinds) sum += count.wrong;
    return sum;
  }
  int lost() const {
    int sum = 0;
    for (const auto& [kind, count] : kinds) sum += count.lost;
    return sum;
  }
};

// Whether `out`, the printed result of `job`, is right. Integrals: the
// first result of an integrand sets the bits all others must have.
bool Right(const CliJob& job, const std::string& out, Tally& tally) {
  if (job.kind != Kind::kIntegral) return out == job.exact;
  double value;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(out), &value) ||
      !(std::abs(value - job.closed_form) <= kIntegralTolerance)) {
    return false;
  }
  return tally.integral_bits.try_emplace(job.integrand, out).first->second ==
         out;
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
    absl::StatusOr<std::unique_ptr<Client>> client =
        Client::Connect({.coordinator = cluster_.address()});
    if (!client.ok()) return client.status();
    client_ = *std::move(client);
    for (int i = 0; i < kWorkers; ++i) {
      absl::StatusOr<int> worker = StartWorker();
      if (!worker.ok()) return worker.status();
      live_.push_back(*worker);
    }
    return cluster_.WaitForWorkers(kWorkers);
  }

  // Every job of one workload.
  absl::Status SubmitWorkload() {
    for (const CliJob& job : CliJobs()) {
      if (absl::Status s = Submit(job); !s.ok()) return s;
    }
    absl::StatusOr<JobStatus> batch = client_->Submit(BatchSpec());
    if (!batch.ok()) return batch.status();
    batches_.push_back(*std::move(batch));
    return absl::OkStatus();
  }

  // Waits for every job acknowledged since the last Check and checks its
  // result.
  void Check(Tally& tally) {
    for (const auto& [id, job] : submitted_) {
      RunResult run = Wait(id);
      Tally::Count& count = tally.kinds[job->kind];
      count.run += 1;
      if (run.status.ExitedWith(0) && Right(*job, run.out, tally)) continue;
      (Missing(run) ? count.lost : count.wrong) += 1;
      ADD_FAILURE() << KindName(job->kind) << ": job " << id << " (pfor submit "
                    << absl::StrJoin(job->args, " ") << "): " << Describe(run)
                    << (job->kind == Kind::kIntegral
                            ? " first result of the integrand: " +
                                  tally.integral_bits[job->integrand]
                            : "");
    }
    for (const JobStatus& submitted : batches_) CheckBatch(submitted, tally);
    submitted_.clear();
    batches_.clear();
  }

  // One fault, chosen by `kind`. Returns its name.
  absl::StatusOr<std::string> Inject(int kind, std::mt19937& rng) {
    const size_t pick =
        std::uniform_int_distribution<size_t>(0, live_.size() - 1)(rng);
    switch (kind % 5) {
      case 0: {  // kill -9 a worker, start another
        cluster_.worker(live_[pick]).Kill();
        const absl::Time killed = absl::Now();
        const std::string name = absl::StrCat("w", live_[pick]);
        if (PollUntil([&] { return !Listed(name); }, absl::Seconds(30),
                      absl::Milliseconds(20))) {
          detect_kill_.push_back(absl::Now() - killed);
        }
        absl::StatusOr<int> worker = StartWorker();
        if (!worker.ok()) return worker.status();
        live_[pick] = *worker;
        return "kill -9 worker";
      }
      case 1: {  // a worker stops answering, then comes back
        Process& worker = cluster_.worker(live_[pick]);
        worker.Signal(SIGSTOP);
        const absl::Time stopped = absl::Now();
        const std::string name = absl::StrCat("w", live_[pick]);
        if (PollUntil([&] { return !Listed(name); }, absl::Seconds(30),
                      absl::Milliseconds(20))) {
          detect_stop_.push_back(absl::Now() - stopped);
        }
        worker.Signal(SIGCONT);
        return "SIGSTOP/SIGCONT worker";
      }
      case 2: {  // kill -9 the coordinator, restart it on its port
        NoteCrash(cluster_.coordinator(), "a coordinator");
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
        const absl::Time full = absl::Now();
        // A job it cannot make durable is refused, never acknowledged.
        RunResult refused =
            cluster_.Cli({"submit", "count_primes", "--range", "0:1e4"});
        absl::SleepFor(absl::Seconds(1) - (absl::Now() - full));
        limit.rlim_cur = room;
        prlimit(pid, RLIMIT_FSIZE, &limit, nullptr);
        if (refused.status.ExitedWith(0) ||
            refused.err.find("cannot write its journal") == std::string::npos) {
          return absl::InternalError(absl::StrCat(
              "a submission while the disk was full: ", Describe(refused)));
        }
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

  // Sanitizer reports of the daemons, and daemons that died on their own
  // (the sanitizer builds end a process at its first report): empty when
  // there were none.
  std::string Crashes() {
    NoteCrash(cluster_.coordinator(), "the coordinator");
    for (int worker = 0; worker < workers_started_; ++worker) {
      NoteCrash(cluster_.worker(worker), absl::StrCat("worker w", worker));
    }
    for (int worker : live_) {
      if (!cluster_.worker(worker).Running()) {
        absl::StrAppend(&crashes_, "worker w", worker, " died\n");
      }
    }
    if (!cluster_.coordinator().Running()) {
      absl::StrAppend(&crashes_, "the coordinator died\n");
    }
    return crashes_;
  }

  absl::Duration median_detect_kill() { return Median(detect_kill_); }
  absl::Duration median_detect_stop() { return Median(detect_stop_); }
  absl::Duration median_recover() { return Median(recover_); }

 private:
  std::vector<std::string> CoordinatorArgs() const {
    return {"--state-dir", state_.path(), "--heartbeat-timeout",
            kHeartbeatTimeout};
  }

  absl::StatusOr<int> StartWorker() {
    absl::StatusOr<int> worker =
        cluster_.StartWorker(1, {"--allow-commands", "--command-slots", "1"});
    if (worker.ok()) workers_started_ = *worker + 1;
    return worker;
  }

  void NoteCrash(Process& daemon, const std::string& name) {
    const std::string err = daemon.Stderr();
    for (const char* report : {"Sanitizer", "runtime error:"}) {
      if (const size_t at = err.find(report); at != std::string::npos) {
        absl::StrAppend(&crashes_, name, ": ", err.substr(at, 2000), "\n");
        return;
      }
    }
  }

  absl::Status Submit(const CliJob& job) {
    absl::StatusOr<uint64_t> id = cluster_.Submit(job.args);
    if (!id.ok()) return id.status();
    submitted_[*id] = &job;
    return absl::OkStatus();
  }

  RunResult Wait(uint64_t job) {
    return cluster_.Cli({"wait", absl::StrCat(job), "--no-progress"},
                        absl::Seconds(300));
  }

  static bool Missing(const RunResult& run) {
    return run.err.find("does not exist") != std::string::npos;
  }

  // Whether the coordinator lists a worker named `name` (or does not
  // answer). `pfor workers` dials afresh, so a channel still backing off
  // from a coordinator restart does not delay the answer.
  bool Listed(const std::string& name) {
    absl::StatusOr<nlohmann::json> workers = cluster_.Workers();
    return !workers.ok() ||
           std::any_of(workers->begin(), workers->end(),
                       [&](const nlohmann::json& worker) {
                         return worker.value("name", "") == name;
                       });
  }

  // A batch ends (pfor wait bounds the wait), then the SDK, following the
  // job it submitted, reads every task's result.
  void CheckBatch(const JobStatus& submitted, Tally& tally) {
    Tally::Count& count = tally.kinds[Kind::kBatch];
    count.run += 1;
    RunResult run = Wait(submitted.id);
    bool lost = Missing(run);
    std::string problem;
    if (!run.status.ExitedWith(0)) {
      problem = Describe(run);
    } else if (absl::StatusOr<JobStatus> done = client_->Wait(submitted);
               !done.ok()) {
      problem = done.status().ToString();
      // NOT_FOUND: gone; DATA_LOSS: its id now names another job.
      lost = done.status().code() == absl::StatusCode::kNotFound ||
             done.status().code() == absl::StatusCode::kDataLoss;
    } else if (done->task_results.size() != kBatchTasks) {
      problem = absl::StrCat(done->task_results.size(), " task results");
    } else {
      for (int task = 0; task < kBatchTasks && problem.empty(); ++task) {
        const TaskResult& result = done->task_results[task];
        const int64_t* primes =
            result.ok() ? std::get_if<int64_t>(&*result) : nullptr;
        if (primes == nullptr || *primes != BatchCounts()[task]) {
          problem = absl::StrCat(
              "task ", task, ": ",
              result.ok() ? FormatValue(*result) : result.status().ToString(),
              ", expected ", BatchCounts()[task]);
        }
      }
    }
    if (problem.empty()) return;
    (lost ? count.lost : count.wrong) += 1;
    ADD_FAILURE() << "batch " << submitted.id << ": " << problem;
  }

  TempDir state_;
  Cluster cluster_;
  int port_ = 0;
  std::unique_ptr<Client> client_;
  std::vector<int> live_;
  int workers_started_ = 0;
  std::string crashes_;
  std::map<uint64_t, const CliJob*> submitted_;
  std::vector<JobStatus> batches_;
  std::vector<absl::Duration> detect_kill_;
  std::vector<absl::Duration> detect_stop_;
  std::vector<absl::Duration> recover_;
};

TEST(Chaos, EveryAcknowledgedJobEndsExactUnderFaults) {
  Tally tally;
  // The undisturbed run, for the slowdown (the median of three workloads);
  // it also sets the bits every integral must have.
  std::vector<absl::Duration> calm_runs;
  {
    Chaos run;
    ASSERT_OK(run.Start());
    for (int i = 0; i < 3; ++i) {
      const absl::Time start = absl::Now();
      ASSERT_OK(run.SubmitWorkload());
      run.Check(tally);
      calm_runs.push_back(absl::Now() - start);
    }
    EXPECT_EQ(run.Crashes(), "");
  }
  const absl::Duration calm = Median(calm_runs);
  ASSERT_EQ(tally.wrong() + tally.lost(), 0) << "the undisturbed run failed";
  tally.kinds.clear();

  Chaos run;
  ASSERT_OK(run.Start());
  std::mt19937 rng(9);
  const int faults = FaultsToInject();
  const absl::Time start = absl::Now();
  std::map<std::string, int> injected;
  for (int i = 0; i < faults; ++i) {
    // A fresh workload every fifth fault keeps jobs running throughout.
    if (i % 5 == 0) ASSERT_OK(run.SubmitWorkload());
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<int>(200, 1500)(rng)));
    absl::StatusOr<std::string> fault = run.Inject(i, rng);
    ASSERT_TRUE(fault.ok()) << "fault " << i << ": " << fault.status();
    injected[*fault] += 1;
  }
  run.Check(tally);
  const absl::Duration chaos = absl::Now() - start;
  const int workloads = (faults + 4) / 5;
  EXPECT_EQ(tally.wrong(), 0);
  EXPECT_EQ(tally.lost(), 0);
  EXPECT_EQ(run.Crashes(), "");

  std::printf("chaos: %d faults injected:", faults);
  for (const auto& [name, count] : injected) {
    std::printf(" %s x%d;", name.c_str(), count);
  }
  std::printf("\nchaos: jobs run:");
  for (const auto& [kind, count] : tally.kinds) {
    std::printf(" %s %d (%d wrong, %d lost);", KindName(kind), count.run,
                count.wrong, count.lost);
  }
  std::printf(
      "\nchaos: %d wrong, %d lost in all; every integral within %g of its "
      "closed form and bit-identical across reruns and chunkings; every "
      "batch task exact\n",
      tally.wrong(), tally.lost(), kIntegralTolerance);
  std::printf(
      "chaos: a lost worker detected in %s after kill -9 and %s after "
      "SIGSTOP (medians, heartbeat timeout %s); serving again %s after the "
      "disk had room (median); %s for %d workloads under faults (0.2-1.5 s "
      "apart), %s for one undisturbed (median of 3): %.1fx per workload\n",
      absl::FormatDuration(run.median_detect_kill()).c_str(),
      absl::FormatDuration(run.median_detect_stop()).c_str(), kHeartbeatTimeout,
      absl::FormatDuration(run.median_recover()).c_str(),
      absl::FormatDuration(chaos).c_str(), workloads,
      absl::FormatDuration(calm).c_str(),
      absl::FDivDuration(chaos, calm) / workloads);
}

}  // namespace
}  // namespace pfor::testing
