// A randomized simulation of a cluster around the Scheduler: workers join,
// ask for chunks, run them (some fail, some hang, some get lost), drain and
// leave; jobs of both executors, plain and batch, come and some are
// cancelled; time passes in ticks. After every event the test checks what the
// scheduler promises: no worker is sent more chunks of an executor than it
// asked for, every chunk is counted once, results are exact, and followers'
// events tell the truth. Fixed seeds: a failure replays.
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "scheduler.h"
#include "scheduler_harness.h"

namespace pfor::coordinator {
namespace {

struct SimWorker {
  WorkerId id = 0;
  std::array<int32_t, kExecutorKinds> slots{};
  // Chunks asked for and not received yet, per executor.
  std::array<int32_t, kExecutorKinds> asked{};
  // Attempts held, with their executor; hung ones never finish by
  // themselves.
  std::map<std::tuple<JobId, int64_t, int32_t>, ExecutorKind> held;
  std::set<std::tuple<JobId, int64_t, int32_t>> hung;
  std::set<JobId> known_jobs;
  bool silent = false;
  bool draining = false;

  int32_t Held(ExecutorKind executor) const {
    int32_t count = 0;
    for (const auto& [attempt, kind] : held) count += kind == executor;
    return count;
  }
};

struct SimJob {
  std::shared_ptr<const JobSpec> spec;
  // Chunks counted (journaled), by begin -> end.
  std::map<int64_t, int64_t> counted;
  int64_t indices_counted = 0;
  JobState last_state = JobState::kQueued;
  bool had_event = false;
  bool ended = false;
  // Task results heard through events, by task.
  std::map<int64_t, TaskResult> task_runs;
};

// A batch task's result: a value from its number, or an error for some.
TaskResult TaskValue(int64_t task) {
  if (task % 7 == 3) return absl::UnknownError(absl::StrCat("task ", task));
  return Value(task * 3);
}

class Simulation {
 public:
  explicit Simulation(uint32_t seed) : rng_(seed) {
    SchedulerOptions options;
    options.keep_jobs = 100000;
    scheduler_ = std::make_unique<Scheduler>(options);
  }

  void Run(int steps) {
    for (int i = 0; i < 8; ++i) JoinWorker();
    for (int step = 0; step < steps && !::testing::Test::HasFailure(); ++step) {
      RandomEvent();
      Apply();
    }
    Finish();
  }

  int succeeded = 0;
  int backups = 0;
  int lost = 0;

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  void JoinWorker() {
    SimWorker worker;
    worker.id = next_worker_++;
    do {
      worker.slots = {Pick(4), Pick(3), 0};
    } while (worker.slots[0] + worker.slots[1] == 0);
    Hello hello{.name = absl::StrCat("sim", worker.id),
                .slots = worker.slots,
                .kernels = {Kernel("ones")},
                .version = "sim"};
    ASSERT_TRUE(scheduler_->WorkerJoined(worker.id, hello, "sim", now_).ok());
    workers_[worker.id] = worker;
    Apply();
    Ask(workers_[worker.id]);
  }

  // Asks for chunks up to slots + 1 of each executor.
  void Ask(SimWorker& worker) {
    if (worker.draining) return;
    for (int kind = 0; kind < 2; ++kind) {
      if (worker.slots[kind] == 0) continue;
      const auto executor = static_cast<ExecutorKind>(kind);
      const int32_t want =
          worker.slots[kind] + 1 - worker.Held(executor) - worker.asked[kind];
      if (want <= 0) continue;
      worker.asked[kind] += want;
      scheduler_->CreditsGranted(worker.id, executor, want, now_);
      Apply();
    }
  }

  void Submit() {
    JobSpec spec = Spec(0, 1 + Pick(2000));
    spec.executor =
        Chance(0.3) ? ExecutorKind::kProcesses : ExecutorKind::kThreads;
    if (Chance(0.3)) {
      spec = Batch(1 + Pick(60));
      spec.executor = ExecutorKind::kThreads;
    }
    const int64_t size = spec.end - spec.begin;
    switch (Pick(3)) {
      case 0:
        spec.chunks = ChunkPolicy::Fixed(
            1 + Pick(static_cast<int>(std::min<int64_t>(size, 50))));
        break;
      case 1:
        spec.chunks = ChunkPolicy::Count(
            1 + Pick(static_cast<int>(std::min<int64_t>(size, 40))));
        break;
      default:
        break;  // auto
    }
    spec.max_attempts = 2 + Pick(4);
    if (Chance(0.2)) spec.max_parallel = 1 + Pick(3);
    if (Chance(0.2)) spec.chunk_timeout = absl::Seconds(20 + Pick(30));
    auto shared = Share(spec);
    absl::StatusOr<JobStatus> status = scheduler_->SubmitJob(shared, now_);
    if (!status.ok()) {
      // Only when no connected worker can run it.
      ASSERT_EQ(status.status().code(), absl::StatusCode::kFailedPrecondition)
          << status.status();
      Apply();
      return;
    }
    jobs_[status->id].spec = shared;
    Apply();
  }

  void Complete(SimWorker& worker, std::tuple<JobId, int64_t, int32_t> held,
                bool fail) {
    const auto [job, begin, attempt] = held;
    const JobSpec& spec = *jobs_.at(job).spec;
    worker.held.erase(held);
    worker.hung.erase(held);
    ChunkResult result;
    result.attempt = {job, begin, attempt};
    result.kernel_time = absl::Milliseconds(1 + Pick(20));
    // The chunk's end: the scheduler knows; the sim kept it at assignment.
    const int64_t end = ends_.at(held);
    if (fail) {
      result.output = absl::UnknownError("flaky");
    } else if (!spec.tasks.empty()) {
      std::vector<TaskResult> results;
      for (int64_t task = begin; task < end; ++task) {
        results.push_back(TaskValue(task));
      }
      result.output = ChunkOutput(std::move(results));
    } else {
      result.output = ChunkOutput(Value(end - begin));
    }
    scheduler_->ChunkFinished(worker.id, std::move(result), now_);
    Apply();
  }

  void RandomEvent() {
    now_ += absl::Milliseconds(Pick(50));
    const int choice = Pick(100);
    std::vector<WorkerId> ids;
    for (const auto& [id, worker] : workers_) ids.push_back(id);
    if (choice < 1 || jobs_.empty()) return Submit();
    if (ids.empty()) return JoinWorker();
    SimWorker& worker = workers_.at(ids[Pick(static_cast<int>(ids.size()))]);
    if (choice < 60) {
      if (worker.held.empty()) return Ask(worker);
      auto it = worker.held.begin();
      std::advance(it, Pick(static_cast<int>(worker.held.size())));
      const auto held = it->first;
      if (worker.hung.contains(held)) return;
      if (Chance(0.05)) {
        worker.hung.insert(held);
        return;
      }
      Complete(worker, held, Chance(0.05));
      return Ask(worker);
    }
    if (choice < 75) return Ask(worker);
    if (choice < 85)
      return Tick(Chance(0.3) ? absl::Seconds(3) : absl::Milliseconds(200));
    if (choice < 88) {
      lost += 1;
      scheduler_->WorkerLost(worker.id, "killed", now_);
      workers_.erase(worker.id);
      Apply();
      return JoinWorker();
    }
    if (choice < 90) {
      worker.silent = true;  // the next long ticks declare it lost
      return;
    }
    if (choice < 92 && !worker.draining) {
      worker.draining = true;
      scheduler_->WorkerDraining(worker.id, now_);
      Apply();
      // It gives back what it has not started: here, its hung attempts.
      for (const auto& held : std::set(worker.hung)) {
        worker.held.erase(held);
        worker.hung.erase(held);
        const auto [job, begin, attempt] = held;
        scheduler_->ChunkReleased(worker.id, {job, begin, attempt}, now_);
        Apply();
      }
      return;
    }
    if (choice < 93) {
      auto it = jobs_.begin();
      std::advance(it, Pick(static_cast<int>(jobs_.size())));
      ASSERT_TRUE(scheduler_->CancelJob(it->first, now_).ok());
      Apply();
      return;
    }
    if (choice < 96) {
      // A drained worker leaves once its attempts are done.
      for (auto& [id, other] : workers_) {
        if (other.draining && other.held.empty()) {
          scheduler_->WorkerLost(id, "drained", now_);
          workers_.erase(id);
          Apply();
          return JoinWorker();
        }
      }
      return;
    }
    if (choice < 97) Submit();
  }

  void Tick(absl::Duration step) {
    now_ += step;
    for (auto& [id, worker] : workers_) {
      if (!worker.silent) scheduler_->WorkerSeen(id, now_);
    }
    scheduler_->Tick(now_);
    Apply();
  }

  // Takes the commands, plays them on the simulated workers and checks them
  // and the invariants.
  void Apply() {
    Commands commands = scheduler_->TakeCommands();
    for (const Commands::Assign& assign : commands.assign) {
      auto it = workers_.find(assign.worker);
      ASSERT_NE(it, workers_.end()) << "a chunk for a worker that is gone";
      SimWorker& worker = it->second;
      const AttemptRef& ref = assign.chunk.attempt;
      SimJob& job = jobs_.at(ref.job);
      const ExecutorKind executor = job.spec->executor;
      const int kind = static_cast<int>(executor);
      worker.asked[kind] -= 1;
      ASSERT_GE(worker.asked[kind], 0)
          << "worker " << worker.id << " was sent a chunk of "
          << ExecutorName(executor) << " it did not ask for"
          << (assign.definition == nullptr ? "" : " (with a definition)");
      ASSERT_FALSE(worker.draining) << "a chunk for a draining worker";
      if (assign.definition != nullptr) {
        ASSERT_TRUE(worker.known_jobs.insert(ref.job).second)
            << "a definition sent twice";
        EXPECT_EQ(assign.definition->job, ref.job);
        EXPECT_EQ(assign.definition->executor, executor);
        EXPECT_EQ(assign.definition->batch, !job.spec->tasks.empty());
      } else {
        ASSERT_TRUE(worker.known_jobs.contains(ref.job))
            << "a chunk before its job's definition";
      }
      if (job.spec->tasks.empty()) {
        EXPECT_EQ(assign.chunk.tasks, nullptr);
      } else {
        ASSERT_EQ(assign.chunk.tasks.get(), &job.spec->tasks);
        EXPECT_EQ(assign.chunk.first_task, static_cast<size_t>(ref.begin));
      }
      const auto key = std::make_tuple(ref.job, ref.begin, ref.attempt);
      ASSERT_TRUE(worker.held.emplace(key, executor).second);
      ends_[key] = assign.chunk.end;
      // A backup: another worker still runs the chunk.
      for (const auto& [id, other] : workers_) {
        if (id == worker.id) continue;
        for (const auto& [held, kind] : other.held) {
          if (std::get<0>(held) == ref.job && std::get<1>(held) == ref.begin) {
            backups += 1;
          }
        }
      }
    }
    for (const Commands::CancelAttempt& cancel : commands.cancel) {
      auto it = workers_.find(cancel.worker);
      if (it == workers_.end()) continue;
      const auto key = std::make_tuple(cancel.attempt.job, cancel.attempt.begin,
                                       cancel.attempt.attempt);
      it->second.held.erase(key);
      it->second.hung.erase(key);
    }
    for (const Commands::EndJob& end : commands.end_job) {
      auto it = workers_.find(end.worker);
      if (it == workers_.end()) continue;
      ASSERT_TRUE(it->second.known_jobs.erase(end.job))
          << "an end for a job the worker never heard of";
      std::erase_if(it->second.held, [&](const auto& held) {
        return std::get<0>(held.first) == end.job;
      });
      std::erase_if(it->second.hung, [&](const auto& held) {
        return std::get<0>(held) == end.job;
      });
    }
    for (const Commands::Disconnect& disconnect : commands.disconnect) {
      lost += workers_.erase(disconnect.worker) > 0;
    }
    for (const JournalEntry& entry : commands.journal) {
      const auto* done = std::get_if<ChunkDone>(&entry);
      if (done == nullptr) continue;
      SimJob& job = jobs_.at(done->job);
      ASSERT_FALSE(job.ended) << "a chunk counted after its job ended";
      // Exactly once: no counted chunk overlaps another.
      auto next = job.counted.lower_bound(done->begin);
      ASSERT_TRUE(next == job.counted.end() || next->first >= done->end)
          << "chunk [" << done->begin << ", " << done->end
          << ") counted twice in job " << done->job;
      ASSERT_TRUE(next == job.counted.begin() ||
                  std::prev(next)->second <= done->begin)
          << "chunk [" << done->begin << ", " << done->end
          << ") overlaps a counted one in job " << done->job;
      job.counted.emplace(done->begin, done->end);
      job.indices_counted += done->end - done->begin;
    }
    std::set<JobId> evented;
    for (const JobEvent& event : commands.events) {
      ASSERT_TRUE(evented.insert(event.job).second)
          << "two events of job " << event.job << " in one batch";
      auto it = jobs_.find(event.job);
      if (it == jobs_.end()) continue;  // refused at submission
      SimJob& job = it->second;
      const bool state_changed =
          !job.had_event || event.state != job.last_state;
      EXPECT_EQ(event.status != nullptr, state_changed)
          << "job " << event.job << ": a status without a state change, or "
          << "a state change without its status";
      if (event.status != nullptr) {
        EXPECT_EQ(event.status->state, event.state);
        EXPECT_EQ(event.status->spec, job.spec);
        EXPECT_TRUE(event.status->task_results.empty());
      }
      job.had_event = true;
      job.last_state = event.state;
      for (const TaskRun& run : event.tasks) {
        for (size_t i = 0; i < run.results->size(); ++i) {
          ASSERT_TRUE(
              job.task_runs.emplace(run.first_task + i, (*run.results)[i])
                  .second)
              << "task " << run.first_task + i << " heard twice";
        }
      }
      // The event's progress is the job's, now.
      const JobStatus now = *scheduler_->GetJob(event.job, false);
      EXPECT_EQ(event.progress.indices_done, now.progress.indices_done);
      EXPECT_EQ(event.progress.chunks_in_flight, now.progress.chunks_in_flight);
      EXPECT_EQ(event.progress.chunks_done, now.progress.chunks_done);
      if (IsFinal(event.state) && !job.ended) {
        job.ended = true;
        CheckEnded(event.job, job);
      }
    }
    CheckWorkers();
  }

  void CheckEnded(JobId id, SimJob& job) {
    const JobStatus status = *scheduler_->GetJob(id, false);
    EXPECT_EQ(status.progress.indices_done, job.indices_counted);
    if (status.state != JobState::kSucceeded) return;
    succeeded += 1;
    const int64_t size = job.spec->end - job.spec->begin;
    ASSERT_EQ(job.indices_counted, size) << "job " << id;
    if (job.spec->tasks.empty()) {
      EXPECT_EQ(IntResult(status), size) << "job " << id;
      return;
    }
    ASSERT_EQ(status.task_results.size(), static_cast<size_t>(size));
    ASSERT_EQ(job.task_runs.size(), static_cast<size_t>(size));
    for (int64_t task = 0; task < size; ++task) {
      const TaskResult expected = TaskValue(task);
      const std::vector<const TaskResult*> heard = {&status.task_results[task],
                                                    &job.task_runs.at(task)};
      for (const TaskResult* got : heard) {
        ASSERT_EQ(got->ok(), expected.ok()) << "task " << task;
        if (expected.ok()) {
          EXPECT_EQ(std::get<int64_t>(**got), std::get<int64_t>(*expected));
        } else {
          EXPECT_EQ(got->status().message(), expected.status().message());
        }
      }
    }
  }

  void CheckWorkers() {
    for (const WorkerStatus& status : scheduler_->ListWorkers(now_)) {
      auto it = workers_.find(status.id);
      ASSERT_NE(it, workers_.end());
      const SimWorker& worker = it->second;
      EXPECT_EQ(status.chunks_in_flight, static_cast<int>(worker.held.size()))
          << "worker " << worker.id;
      EXPECT_LE(status.credits, worker.asked[0] + worker.asked[1]);
    }
  }

  // No more trouble: everything left runs to its end.
  void Finish() {
    for (int round = 0; round < 100000 && !::testing::Test::HasFailure();
         ++round) {
      bool open = false;
      for (const auto& [id, job] : jobs_) open = open || !job.ended;
      if (!open) return;
      if (workers_.size() < 4) JoinWorker();
      for (auto& [id, worker] : workers_) {
        worker.silent = false;
        worker.hung.clear();
        if (!worker.held.empty()) {
          Complete(worker, worker.held.begin()->first, false);
          break;
        }
        Ask(worker);
      }
      if (round % 50 == 0) Tick(absl::Milliseconds(100));
      if (round % 500 == 0) {
        // Draining workers leave, fresh ones take their place.
        for (auto& [id, worker] : workers_) {
          if (worker.draining && worker.held.empty()) {
            scheduler_->WorkerLost(id, "drained", now_);
            workers_.erase(id);
            Apply();
            break;
          }
        }
      }
    }
    for (const auto& [id, job] : jobs_) {
      EXPECT_TRUE(job.ended) << "job " << id << " never ended";
    }
  }

  std::mt19937 rng_;
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  std::unique_ptr<Scheduler> scheduler_;
  WorkerId next_worker_ = 1;
  std::map<WorkerId, SimWorker> workers_;
  std::map<JobId, SimJob> jobs_;
  std::map<std::tuple<JobId, int64_t, int32_t>, int64_t> ends_;
};

class SchedulerSimulationTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(SchedulerSimulationTest, KeepsEveryPromiseUnderRandomEvents) {
  Simulation simulation(GetParam());
  simulation.Run(20000);
  // The run exercised what it is meant to.
  EXPECT_GT(simulation.succeeded, 20);
  EXPECT_GT(simulation.backups, 0);
  EXPECT_GT(simulation.lost, 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SchedulerSimulationTest,
                         ::testing::Values(1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u));

}  // namespace
}  // namespace pfor::coordinator
