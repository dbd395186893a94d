// What followers and workers hear: the events of changed jobs, the
// definitions and chunk assignments, the catch-up of a new follower, and the
// queries.
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler.h"
#include "scheduler_harness.h"

namespace pfor::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

using SchedulerEventsTest = SchedulerHarness;

TEST_F(SchedulerEventsTest, SendsOneEventPerChangedJob) {
  const JobStatus a = Submit(Spec(0, 100, 10));
  const JobStatus b = Submit(Spec(0, 100, 10));
  Join(1, 4);
  Join(2, 1, {"other"});
  const JobStatus untouched = Submit(Spec(0, 100, 10, "other"));
  ASSERT_THAT(running_, SizeIs(5));
  // The workers start their chunks: the jobs run.
  for (const Running& run : running_) {
    scheduler_.ChunkStarted(run.worker, run.attempt, now_);
  }
  scheduler_.TakeCommands();
  // Worker 1's four chunks (two of each job) complete, and worker 1 asks
  // for four more, before the commands are taken.
  for (const Running& run : running_) {
    if (run.worker != 1) continue;
    scheduler_.ChunkFinished(
        run.worker,
        Succeeded(run.attempt, Value(run.end - run.attempt.begin),
                  absl::Milliseconds(1)),
        now_);
  }
  scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 4, now_);
  const std::vector<JobEvent> events = scheduler_.TakeCommands().events;
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].job, a.id);
  EXPECT_EQ(events[1].job, b.id);
  for (const JobEvent& event : events) {
    // The job's progress as it is now, and no status: still running.
    const JobStatus now = Get(event.job);
    EXPECT_EQ(event.progress.chunks_done, 2);
    EXPECT_EQ(event.progress.chunks_done, now.progress.chunks_done);
    EXPECT_EQ(event.progress.chunks_in_flight, 2);
    EXPECT_EQ(event.progress.chunks_in_flight, now.progress.chunks_in_flight);
    EXPECT_EQ(event.progress.indices_done, 20);
    EXPECT_EQ(event.status, nullptr);
  }
  EXPECT_NE(untouched.id, a.id);
  // Nothing changed since: no events.
  scheduler_.WorkerSeen(1, now_);
  scheduler_.Tick(now_);
  EXPECT_THAT(scheduler_.TakeCommands().events, SizeIs(0));
}

TEST_F(SchedulerEventsTest, CarriesTheStatusOnlyWhenTheStateChanges) {
  const JobStatus job = Submit(Spec(0, 30, 10));
  // Accepted: the first event holds the status, queued and why.
  std::vector<JobEvent> events = EventsOf(job.id);
  ASSERT_THAT(events, SizeIs(1));
  ASSERT_NE(events[0].status, nullptr);
  EXPECT_EQ(events[0].status->state, JobState::kQueued);
  EXPECT_EQ(events[0].status->waiting_reason,
            "waiting for a worker to connect");
  EXPECT_EQ(events[0].status->spec, job.spec);
  Join(1, 1);
  // Handed to a worker, not started yet: progress only.
  events = EventsOf(job.id);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[1].status, nullptr);
  EXPECT_EQ(events[1].state, JobState::kQueued);
  // Started: the state changes.
  scheduler_.ChunkStarted(running_[0].worker, running_[0].attempt, now_);
  Collect();
  events = EventsOf(job.id);
  ASSERT_THAT(events, SizeIs(3));
  ASSERT_NE(events[2].status, nullptr);
  EXPECT_EQ(events[2].state, JobState::kRunning);
  EXPECT_EQ(events[2].status->state, JobState::kRunning);
  // A chunk done, the job still running: progress only.
  Complete(0);
  events = EventsOf(job.id);
  ASSERT_THAT(events, SizeIs(4));
  EXPECT_EQ(events[3].status, nullptr);
  EXPECT_EQ(events[3].state, JobState::kRunning);
  EXPECT_EQ(events[3].progress.chunks_done, 1);
  RunAll();
  events = EventsOf(job.id);
  const JobEvent& last = events.back();
  EXPECT_EQ(last.state, JobState::kSucceeded);
  ASSERT_NE(last.status, nullptr);
  EXPECT_EQ(IntResult(*last.status), 30);
  EXPECT_EQ(last.progress.indices_done, 30);
  for (size_t i = 4; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].status, nullptr) << i;
  }
}

TEST_F(SchedulerEventsTest, SendsBatchTaskResultsAsRunsSharedWithTheOutput) {
  Join(1, 2);
  const JobStatus job = Submit(Batch(10, 3));
  std::map<int64_t, int64_t> heard;
  while (!running_.empty()) {
    const Running run = running_.back();
    running_.pop_back();
    std::vector<TaskResult> results;
    for (int64_t task = run.attempt.begin; task < run.end; ++task) {
      results.push_back(Value(task * 10));
    }
    scheduler_.ChunkFinished(
        1, Succeeded(run.attempt, std::move(results), absl::Milliseconds(1)),
        now_);
    Commands commands = scheduler_.TakeCommands();
    ASSERT_THAT(commands.events, SizeIs(1));
    const JobEvent& event = commands.events[0];
    ASSERT_THAT(event.tasks, SizeIs(1));
    const TaskRun& run_heard = event.tasks[0];
    EXPECT_EQ(run_heard.first_task, run.attempt.begin);
    // The run is the journaled output's own vector, not a copy.
    const ChunkDone* done = nullptr;
    for (const JournalEntry& entry : commands.journal) {
      if (const auto* chunk = std::get_if<ChunkDone>(&entry)) done = chunk;
    }
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(run_heard.results.get(),
              &std::get<std::vector<TaskResult>>(*done->output));
    for (size_t i = 0; i < run_heard.results->size(); ++i) {
      heard[run_heard.first_task + static_cast<int64_t>(i)] =
          std::get<int64_t>(*(*run_heard.results)[i]);
    }
    // The first result marks the job running; the final status leaves the
    // task results to the runs.
    if (event.status != nullptr && event.state != JobState::kRunning) {
      EXPECT_EQ(event.status->state, JobState::kSucceeded);
      EXPECT_TRUE(event.status->task_results.empty());
      EXPECT_EQ(event.status->spec, job.spec);
    }
    scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 1, now_);
    Collect();
  }
  ASSERT_THAT(heard, SizeIs(10));
  for (const auto& [task, value] : heard) EXPECT_EQ(value, task * 10);
  EXPECT_EQ(Get(job.id).state, JobState::kSucceeded);
  EXPECT_THAT(Get(job.id).task_results, SizeIs(10));
}

TEST_F(SchedulerEventsTest, SendsBatchExactSumsRounded) {
  Join(1, 1);
  Submit(Batch(2, 2));
  ASSERT_THAT(running_, SizeIs(1));
  std::vector<TaskResult> results;
  for (double term : {0.1, 0.2}) {
    ExactSum sum;
    sum.Add(term);
    results.push_back(Value(sum));
  }
  scheduler_.ChunkFinished(
      1,
      Succeeded(running_[0].attempt, std::move(results), absl::Milliseconds(1)),
      now_);
  const JobEvent event = scheduler_.TakeCommands().events.at(0);
  ASSERT_THAT(event.tasks, SizeIs(1));
  EXPECT_EQ(std::get<double>(*(*event.tasks[0].results)[0]), 0.1);
  EXPECT_EQ(std::get<double>(*(*event.tasks[0].results)[1]), 0.2);
}

TEST_F(SchedulerEventsTest, FollowEventCatchesANewFollowerUp) {
  Join(1, 1);
  const JobStatus job = Submit(Batch(6, 2));
  auto finish_one = [&] {
    const Running run = running_.back();
    running_.pop_back();
    std::vector<TaskResult> results;
    for (int64_t task = run.attempt.begin; task < run.end; ++task) {
      results.push_back(Value(task + 100));
    }
    scheduler_.ChunkFinished(
        1, Succeeded(run.attempt, std::move(results), absl::Milliseconds(1)),
        now_);
    scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 1, now_);
    Collect();
  };
  finish_one();
  finish_one();
  // Running: the status so far, and the task results of the two chunks.
  JobEvent event = scheduler_.FollowEvent(job.id);
  EXPECT_EQ(event.job, job.id);
  EXPECT_EQ(event.state, JobState::kRunning);
  EXPECT_FALSE(event.missing);
  ASSERT_NE(event.status, nullptr);
  EXPECT_EQ(event.status->state, JobState::kRunning);
  EXPECT_EQ(event.progress.chunks_done, 2);
  std::map<int64_t, int64_t> tasks;
  for (const TaskRun& run : event.tasks) {
    for (size_t i = 0; i < run.results->size(); ++i) {
      tasks[run.first_task + static_cast<int64_t>(i)] =
          std::get<int64_t>(*(*run.results)[i]);
    }
  }
  EXPECT_THAT(tasks, SizeIs(4));
  for (const auto& [task, value] : tasks) EXPECT_EQ(value, task + 100);
  finish_one();
  // Ended: the final status, and every task result.
  event = scheduler_.FollowEvent(job.id);
  EXPECT_EQ(event.state, JobState::kSucceeded);
  ASSERT_NE(event.status, nullptr);
  EXPECT_TRUE(event.status->task_results.empty());
  ASSERT_THAT(event.tasks, SizeIs(1));
  EXPECT_EQ(event.tasks[0].first_task, 0);
  ASSERT_THAT(*event.tasks[0].results, SizeIs(6));
  EXPECT_EQ(std::get<int64_t>(*(*event.tasks[0].results)[5]), 105);
  // Unknown: missing.
  event = scheduler_.FollowEvent(999);
  EXPECT_TRUE(event.missing);
  EXPECT_EQ(event.job, 999u);
}

TEST_F(SchedulerEventsTest, AssignmentsCarryTheDefinitionAndTheTasks) {
  Hello hello{.name = "w1",
              .slots = {2, 0, 0},
              .kernels = {Kernel("ones")},
              .version = "test"};
  hello.kernels[0].params = {
      ParamSpec{.name = "scale",
                .type = ParamType::kInt,
                .default_value = ParamValue(int64_t{7})}};
  ASSERT_TRUE(scheduler_.WorkerJoined(1, hello, "peer", now_).ok());
  scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 2, now_);
  Collect();
  JobSpec spec = Batch(4, 2);
  spec.tasks[3].params["scale"] = int64_t{3};
  spec.chunk_timeout = absl::Seconds(9);
  const JobStatus job = Submit(spec);
  ASSERT_THAT(assignments_, SizeIs(2));
  const Commands::Assign& first = assignments_[0];
  ASSERT_NE(first.definition, nullptr);
  EXPECT_EQ(first.definition->job, job.id);
  EXPECT_EQ(first.definition->kernel, "ones");
  EXPECT_TRUE(first.definition->batch);
  EXPECT_EQ(first.definition->range.begin, 0);
  EXPECT_EQ(first.definition->range.end, 4);
  EXPECT_EQ(first.definition->chunk_timeout, absl::Seconds(9));
  // A batch's definition has the job's own parameters, as given.
  EXPECT_TRUE(first.definition->params.values().empty());
  // Each chunk's tasks are the spec's, shared.
  EXPECT_EQ(first.chunk.tasks.get(), &job.spec->tasks);
  EXPECT_EQ(first.chunk.first_task, 0u);
  EXPECT_EQ(assignments_[1].definition, nullptr);
  EXPECT_EQ(assignments_[1].chunk.tasks.get(), &job.spec->tasks);
  EXPECT_EQ(assignments_[1].chunk.first_task, 2u);
  // A plain job's definition has its parameters with defaults filled in.
  RunAll();
  const JobStatus plain = Submit(Spec(0, 10, 10));
  const Commands::Assign& assign = assignments_.back();
  ASSERT_NE(assign.definition, nullptr);
  EXPECT_EQ(assign.definition->job, plain.id);
  EXPECT_FALSE(assign.definition->batch);
  EXPECT_EQ(assign.definition->params.Int("scale"), 7);
  EXPECT_EQ(assign.chunk.tasks, nullptr);
}

TEST_F(SchedulerEventsTest, ForgetsEndedJobsBeyondKeepJobs) {
  SchedulerOptions options;
  options.keep_jobs = 1;
  Scheduler scheduler(options);
  const absl::Time now = absl::UnixEpoch();
  const JobId first = scheduler.SubmitJob(Share(Spec(0, 10)), now)->id;
  const JobId second = scheduler.SubmitJob(Share(Spec(0, 10)), now)->id;
  ASSERT_TRUE(scheduler.CancelJob(first, now).ok());
  ASSERT_TRUE(scheduler.GetJob(first, false).ok());
  const absl::StatusOr<JobStatus> cancelled = scheduler.CancelJob(second, now);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_THAT(std::string(scheduler.GetJob(first, false).status().message()),
              HasSubstr("is no longer kept"));
  EXPECT_TRUE(scheduler.FollowEvent(first).missing);
  // Its final event went out all the same.
  const std::vector<JobEvent> events = scheduler.TakeCommands().events;
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].state, JobState::kCancelled);
  ASSERT_NE(events[0].status, nullptr);
  EXPECT_EQ(events[0].status->error, "cancelled on request");
}

TEST_F(SchedulerEventsTest, ForgetsEndedJobsBeyondKeepBytesButTheNewest) {
  SchedulerOptions options;
  options.keep_bytes = 600'000;
  Scheduler scheduler(options);
  const absl::Time now = absl::UnixEpoch();
  // A batch of 5,000 tasks holds 320,000 bytes of tasks at least: two of
  // them do not fit in the budget, however few jobs that is.
  const JobId first = scheduler.SubmitJob(Share(Batch(5'000)), now)->id;
  const JobId second = scheduler.SubmitJob(Share(Batch(5'000)), now)->id;
  const JobId small = scheduler.SubmitJob(Share(Spec(0, 10)), now)->id;
  ASSERT_TRUE(scheduler.CancelJob(first, now).ok());
  ASSERT_TRUE(scheduler.GetJob(first, false).ok());
  ASSERT_TRUE(scheduler.CancelJob(second, now).ok());
  EXPECT_THAT(std::string(scheduler.GetJob(first, false).status().message()),
              HasSubstr("is no longer kept"));
  ASSERT_TRUE(scheduler.GetJob(second, false).ok());
  // The newest is kept whatever its size; small jobs fit beside it.
  SchedulerOptions tiny;
  tiny.keep_bytes = 1;
  Scheduler strict(tiny);
  const JobId big = strict.SubmitJob(Share(Batch(5'000)), now)->id;
  ASSERT_TRUE(strict.CancelJob(big, now).ok());
  EXPECT_TRUE(strict.GetJob(big, false).ok());
  ASSERT_TRUE(scheduler.CancelJob(small, now).ok());
  EXPECT_TRUE(scheduler.GetJob(small, false).ok());
}

TEST(SchedulerIdsTest, NeverGivesAnIdAnEarlierRunGave) {
  // A coordinator without a journal gives ids, then starts again (a new
  // Scheduler, nothing restored) a millisecond later: a client still
  // following one of the first run's jobs must not find another job there.
  const absl::Time start = absl::FromUnixSeconds(1'750'000'000);
  std::vector<JobId> first_run;
  {
    Scheduler scheduler;
    for (int i = 0; i < 3; ++i) {
      first_run.push_back(scheduler.SubmitJob(Share(Spec(0, 10)), start)->id);
    }
  }
  EXPECT_EQ(first_run[1], first_run[0] + 1);
  EXPECT_EQ(first_run[2], first_run[1] + 1);
  Scheduler restarted;
  const absl::StatusOr<JobStatus> next =
      restarted.SubmitJob(Share(Spec(0, 10)), start + absl::Milliseconds(1));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(next->id, first_run.back());
  EXPECT_THAT(
      std::string(restarted.GetJob(first_run[0], false).status().message()),
      HasSubstr("does not exist or is no longer kept"));
}

TEST(SchedulerIdsTest, GivesIdsAboveRestoredOnesWhateverTheClock) {
  Scheduler scheduler;
  RecoveredJob recovered;
  recovered.job = 900'000'000'000'000;  // from a clock far ahead
  recovered.spec = Share(Spec(0, 10));
  recovered.prefix_end = 0;
  scheduler.RestoreJob(recovered, absl::FromUnixSeconds(1'750'000'000));
  const absl::StatusOr<JobStatus> next = scheduler.SubmitJob(
      Share(Spec(0, 10)), absl::FromUnixSeconds(1'750'000'000));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, recovered.job + 1);
}

TEST_F(SchedulerEventsTest, CancelReturnsTheJobEvenWhenNoneIsKept) {
  SchedulerOptions options;
  options.keep_jobs = 0;
  Scheduler scheduler(options);
  const JobId id =
      scheduler.SubmitJob(Share(Spec(0, 10)), absl::UnixEpoch())->id;
  const absl::StatusOr<JobStatus> cancelled =
      scheduler.CancelJob(id, absl::UnixEpoch());
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_FALSE(scheduler.GetJob(id, false).ok());
}

TEST_F(SchedulerEventsTest, RecentChunksNameTheirWorkersEvenAfterTheyLeft) {
  Join(1, 1);
  JobSpec spec = Spec(0, 20, 10);
  const JobStatus job = Submit(spec);
  scheduler_.ChunkFinished(1, Failed(running_[0].attempt, "disk full"), now_);
  running_.clear();
  scheduler_.WorkerLost(1, "gone", now_);
  Collect();
  Join(2, 1);
  RunAll();
  const JobStatus done = Get(job.id);
  ASSERT_THAT(done.recent_chunks, SizeIs(3));
  EXPECT_EQ(done.recent_chunks[0].worker, "w1");
  EXPECT_EQ(done.recent_chunks[0].error, "disk full");
  EXPECT_EQ(done.recent_chunks[1].worker, "w2");
  EXPECT_EQ(done.recent_chunks[1].error, "");
  EXPECT_TRUE(scheduler_.GetJob(job.id, false)->recent_chunks.empty());
}

TEST_F(SchedulerEventsTest, ListsJobsNewestFirstWithoutTaskResults) {
  Join(1, 2);
  const JobStatus batch = Submit(Batch(4, 2));
  while (!running_.empty()) {
    const Running run = running_.back();
    running_.pop_back();
    std::vector<TaskResult> results(
        static_cast<size_t>(run.end - run.attempt.begin), Value(int64_t{1}));
    scheduler_.ChunkFinished(
        1, Succeeded(run.attempt, std::move(results), absl::Milliseconds(1)),
        now_);
    Collect();
  }
  const JobStatus plain = Submit(Spec(0, 10));
  const std::vector<JobStatus> jobs = scheduler_.ListJobs(10);
  ASSERT_THAT(jobs, SizeIs(2));
  EXPECT_EQ(jobs[0].id, plain.id);
  EXPECT_EQ(jobs[1].id, batch.id);
  EXPECT_EQ(jobs[1].state, JobState::kSucceeded);
  EXPECT_TRUE(jobs[1].task_results.empty());
  EXPECT_THAT(Get(batch.id).task_results, SizeIs(4));
  EXPECT_THAT(scheduler_.ListJobs(1), SizeIs(1));
}

TEST_F(SchedulerEventsTest, ListsWorkersAndTheKernelsTheyOffer) {
  JoinWith(1, {2, 0, 0}, {"ones", "sleep"});
  Hello hello{.name = "",
              .slots = {0, 3, 0},
              .kernels = {Kernel("ones")},
              .version = "test"};
  hello.kernels[0].executors = {ExecutorKind::kProcesses};
  hello.kernels[0].help = "from worker 2";
  ASSERT_TRUE(scheduler_.WorkerJoined(2, hello, "10.0.0.2:5", now_).ok());
  const std::vector<WorkerStatus> workers = scheduler_.ListWorkers(now_);
  ASSERT_THAT(workers, SizeIs(2));
  EXPECT_EQ(workers[0].name, "w1");
  EXPECT_THAT(workers[0].kernels, ElementsAre("ones", "sleep"));
  EXPECT_EQ(workers[0].credits, 2);
  EXPECT_EQ(workers[1].name, "10.0.0.2:5");  // no name: the peer
  EXPECT_EQ(workers[1].slots[1], 3);
  const std::vector<KernelInfo> kernels = scheduler_.ListKernels();
  ASSERT_THAT(kernels, SizeIs(2));
  EXPECT_EQ(kernels[0].name, "ones");
  EXPECT_THAT(kernels[0].executors,
              ElementsAre(ExecutorKind::kThreads, ExecutorKind::kProcesses));
  EXPECT_EQ(kernels[1].name, "sleep");
  // Worker 1 leaves: the kernel is as worker 2 announced it.
  scheduler_.WorkerLost(1, "gone", now_);
  ASSERT_THAT(scheduler_.ListKernels(), SizeIs(1));
  EXPECT_EQ(scheduler_.ListKernels()[0].help, "from worker 2");
  EXPECT_THAT(scheduler_.ListKernels()[0].executors,
              ElementsAre(ExecutorKind::kProcesses));
}

}  // namespace
}  // namespace pfor::coordinator
