#include "scheduler.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler_harness.h"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

using SchedulerTest = SchedulerHarness;

TEST_F(SchedulerTest, CountsEveryIndexOnceAcrossWorkers) {
  Join(1, 2);
  Join(2, 3);
  const JobStatus job = Submit(Spec(-500, 1234, 7));
  RunAll();
  const JobStatus done = Get(job.id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(IntResult(done), 1734);
  EXPECT_EQ(done.progress.chunks_done, (1734 + 6) / 7);
  EXPECT_EQ(done.progress.indices_done, 1734);
}

TEST_F(SchedulerTest, NeverAssignsMoreChunksThanCredits) {
  Join(1, 3);
  Submit(Spec(0, 1000, 1));
  EXPECT_THAT(running_, SizeIs(3));
  scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 2, now_);
  Collect();
  EXPECT_THAT(running_, SizeIs(5));
}

TEST_F(SchedulerTest, SendsJobDefinitionOncePerWorker) {
  Join(1, 2);
  Join(2, 2);
  Submit(Spec(0, 100, 1));
  RunAll();
  EXPECT_EQ(definitions_sent_, 2);
}

TEST_F(SchedulerTest, RequeuesChunksOfLostWorker) {
  Join(1, 2);
  Join(2, 2);
  const JobStatus job = Submit(Spec(0, 100, 10));
  // Worker 1 dies holding two chunks.
  std::vector<Running> lost;
  for (const Running& run : running_) {
    if (run.worker == 1) lost.push_back(run);
  }
  ASSERT_THAT(lost, SizeIs(2));
  std::erase_if(running_, [](const Running& run) { return run.worker == 1; });
  scheduler_.WorkerLost(1, "connection reset", now_);
  Collect();
  RunAll();
  // A late result from the dead worker must not be counted again.
  scheduler_.ChunkFinished(
      1, Succeeded(lost[0].attempt, Value(int64_t{10}), absl::Milliseconds(1)),
      now_);
  const JobStatus done = Get(job.id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(IntResult(done), 100);
  EXPECT_EQ(done.progress.chunks_requeued, 2);
}

// Churn: workers killed while running a chunk do not spend its attempts
// (before, the third lost worker failed the job, as if the chunk had failed
// three times).
TEST_F(SchedulerTest, LostWorkersDoNotSpendTheChunksAttempts) {
  const JobStatus job = Submit(Spec(0, 10, 10));  // one chunk, 3 attempts
  for (WorkerId id = 1; id <= 5; ++id) {
    Join(id, 1);
    ASSERT_THAT(running_, SizeIs(1));
    running_.clear();
    scheduler_.WorkerLost(id, "killed", now_);
    Collect();
  }
  Join(9, 1);
  RunAll();
  const JobStatus done = Get(job.id);
  EXPECT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_EQ(IntResult(done), 10);
  EXPECT_EQ(done.progress.chunks_requeued, 5);
}

class SchedulerLossesTest : public SchedulerHarness {
 protected:
  SchedulerLossesTest() : SchedulerHarness({.max_worker_losses = 4}) {}
};

TEST_F(SchedulerLossesTest, FailsAChunkThatKeepsLosingItsWorkers) {
  const JobStatus job = Submit(Spec(0, 10, 10));
  for (WorkerId id = 1; id <= 4; ++id) {
    Join(id, 1);
    running_.clear();
    scheduler_.WorkerLost(id, "killed", now_);
    Collect();
  }
  const JobStatus done = Get(job.id);
  EXPECT_EQ(done.state, JobState::kFailed);
  EXPECT_THAT(done.error, HasSubstr("chunk [0, 10) was running on 4 workers "
                                    "that were lost"));
}

TEST_F(SchedulerTest, IgnoresDuplicateResults) {
  Join(1, 1);
  const JobStatus job = Submit(Spec(0, 20, 10));
  const Running first = running_[0];
  Complete(0);
  scheduler_.ChunkFinished(
      first.worker,
      Succeeded(first.attempt, Value(int64_t{10}), absl::Milliseconds(1)),
      now_);
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 20);
}

TEST_F(SchedulerTest, IgnoresResultsFromAnotherWorker) {
  Join(1, 1);
  Join(2, 1);
  const JobStatus job = Submit(Spec(0, 20, 10));
  ASSERT_THAT(running_, SizeIs(2));
  // Worker 2 claims worker 1's attempt: spoofed, ignored.
  const Running& theirs = running_[0].worker == 1 ? running_[0] : running_[1];
  scheduler_.ChunkFinished(
      2, Succeeded(theirs.attempt, Value(int64_t{999}), absl::Milliseconds(1)),
      now_);
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 20);
}

TEST_F(SchedulerTest, RetriesFailedChunkOnAnotherAttempt) {
  Join(1, 1);
  const JobStatus job = Submit(Spec(0, 10, 10));
  const Running run = running_[0];
  running_.clear();
  scheduler_.ChunkFinished(run.worker, Failed(run.attempt, "disk full"), now_);
  scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 1, now_);
  Collect();
  ASSERT_THAT(running_, SizeIs(1));
  EXPECT_EQ(running_[0].attempt.attempt, 2);
  RunAll();
  const JobStatus done = Get(job.id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(done.progress.attempts_failed, 1);
}

TEST_F(SchedulerTest, FailsJobWhenChunkFailsEveryAttempt) {
  Join(1, 1);
  JobSpec spec = Spec(0, 10, 5);
  spec.max_attempts = 2;
  const JobStatus job = Submit(spec);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ASSERT_THAT(running_, SizeIs(1));
    const Running run = running_[0];
    running_.clear();
    scheduler_.ChunkFinished(run.worker,
                             Failed(run.attempt, "kernel threw: boom"), now_);
    scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 1, now_);
    Collect();
  }
  const JobStatus done = Get(job.id);
  EXPECT_EQ(done.state, JobState::kFailed);
  EXPECT_THAT(done.error, HasSubstr("chunk [0, 5) failed 2 times"));
  EXPECT_THAT(done.error, HasSubstr("kernel threw: boom"));
  EXPECT_THAT(running_, SizeIs(0));
  ASSERT_THAT(ended_, SizeIs(1));
  EXPECT_EQ(ended_[0].job, job.id);
}

TEST_F(SchedulerTest, CancelStopsDispatchAndEndsJobOnWorkers) {
  Join(1, 2);
  Join(2, 2);
  const JobStatus job = Submit(Spec(0, 1000, 1));
  ASSERT_TRUE(scheduler_.CancelJob(job.id, now_).ok());
  Collect();
  EXPECT_THAT(ended_, SizeIs(2));
  const size_t before = running_.size();
  running_.clear();
  scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 5, now_);
  Collect();
  EXPECT_THAT(running_, SizeIs(0));
  const JobStatus cancelled = Get(job.id);
  EXPECT_EQ(cancelled.state, JobState::kCancelled);
  EXPECT_EQ(cancelled.progress.chunks_done, 0);
  EXPECT_EQ(before, 4u);
}

// Handed out is not started: a worker may hold a chunk in its queue. The
// job runs once a worker reports a live attempt started; until then a
// cancel that spares running jobs takes it, and after it leaves it alone.
TEST_F(SchedulerTest, JobRunsFromItsFirstReportedStart) {
  Join(1, 2);
  const JobStatus job = Submit(Spec(0, 1000, 1));
  ASSERT_FALSE(running_.empty());
  EXPECT_EQ(Get(job.id).state, JobState::kQueued);
  // A start of an attempt the worker does not hold says nothing.
  AttemptRef stale = running_[0].attempt;
  stale.attempt += 7;
  scheduler_.ChunkStarted(1, stale, now_);
  EXPECT_EQ(Get(job.id).state, JobState::kQueued);
  scheduler_.ChunkStarted(1, running_[0].attempt, now_);
  EXPECT_EQ(Get(job.id).state, JobState::kRunning);
  absl::StatusOr<JobStatus> spared =
      scheduler_.CancelJob(job.id, now_, /*only_if_queued=*/true);
  ASSERT_TRUE(spared.ok()) << spared.status();
  EXPECT_EQ(spared->state, JobState::kRunning);

  const JobStatus queued = Submit(Spec(0, 1000, 1));
  absl::StatusOr<JobStatus> cancelled =
      scheduler_.CancelJob(queued.id, now_, /*only_if_queued=*/true);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
}

// A result stands for a start that was not reported (or not yet).
TEST_F(SchedulerTest, AResultMarksItsJobRunning) {
  Join(1, 1);
  const JobStatus job = Submit(Spec(0, 1000, 4));
  Complete(0);
  EXPECT_EQ(Get(job.id).state, JobState::kRunning);
  RunAll();
  EXPECT_EQ(Get(job.id).state, JobState::kSucceeded);
}

TEST_F(SchedulerTest, SharesSlotsFairlyBetweenJobs) {
  const JobStatus a = Submit(Spec(0, 1000, 1));
  const JobStatus b = Submit(Spec(0, 1000, 1));
  Join(1, 4);
  int for_a = 0;
  for (const Running& run : running_) for_a += run.attempt.job == a.id;
  EXPECT_EQ(for_a, 2);
  EXPECT_EQ(running_.size() - for_a, 2u);
  RunAll();
  EXPECT_EQ(IntResult(Get(a.id)), 1000);
  EXPECT_EQ(IntResult(Get(b.id)), 1000);
}

TEST_F(SchedulerTest, HugeRangeKeepsOnlyChunksInFlight) {
  Join(1, 4);
  const JobStatus job = Submit(Spec(0, 1'000'000'000'000'000, 1000));
  for (int i = 0; i < 10000; ++i) Complete(0);
  const JobStatus running = Get(job.id);
  EXPECT_EQ(running.state, JobState::kRunning);
  EXPECT_EQ(running.progress.chunks_done, 10000);
  EXPECT_EQ(running.progress.chunks_in_flight, 4);
}

TEST_F(SchedulerTest, QueuesJobUntilAWorkerConnects) {
  const JobStatus job = Submit(Spec(0, 100, 10));
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.waiting_reason, "waiting for a worker to connect");
  Join(1, 2);
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 100);
}

TEST_F(SchedulerTest, FailsQueuedJobWhoseParamsTheKernelRejects) {
  JobSpec spec = Spec(0, 100, 10);
  spec.params["bogus"] = int64_t{1};
  const JobStatus job = Submit(spec);
  Join(1, 2);
  const JobStatus failed = Get(job.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_THAT(failed.error, HasSubstr("has no parameter 'bogus'"));
}

TEST_F(SchedulerTest, RejectsBadJobs) {
  Join(1, 1);
  auto code = [&](const JobSpec& spec) { return SubmitStatus(spec); };
  EXPECT_THAT(std::string(code(Spec(20, 10)).message()),
              HasSubstr("range end 10 is before begin 20"));
  EXPECT_THAT(std::string(code(Spec(5, 5)).message()), HasSubstr("is empty"));
  EXPECT_THAT(std::string(code(Spec(INT64_MIN, INT64_MAX)).message()),
              HasSubstr("more than 2^63-1 indices"));
  EXPECT_EQ(code(Spec(INT64_MAX - 10, INT64_MAX)).code(),
            absl::StatusCode::kOk);
  JobSpec zero = Spec(0, 10);
  zero.chunks = ChunkPolicy::Fixed(0);
  EXPECT_THAT(std::string(code(zero).message()),
              HasSubstr("chunk size 0 is not positive"));
  EXPECT_THAT(std::string(code(Spec(0, 10, 11)).message()),
              HasSubstr("larger than the range"));
  JobSpec count = Spec(0, 10);
  count.chunks = ChunkPolicy::Count(11);
  EXPECT_EQ(code(count).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Spec(0, 10, 0, "")).code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status unknown = code(Spec(0, 10, 0, "nope"));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(unknown.message()), HasSubstr("offered: ones"));
  JobSpec processes = Spec(0, 10);
  processes.executor = ExecutorKind::kCommand;
  EXPECT_EQ(code(processes).code(), absl::StatusCode::kInvalidArgument);
  JobSpec attempts = Spec(0, 10);
  attempts.max_attempts = -1;
  EXPECT_EQ(code(attempts).code(), absl::StatusCode::kInvalidArgument);
  JobSpec reduction = Spec(0, 10);
  reduction.reduction = static_cast<Reduction>(42);
  EXPECT_EQ(code(reduction).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(scheduler_.SubmitJob(nullptr, now_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, FailsJobWhoseChunkOutputDoesNotFitAndJournalsNoChunk) {
  Join(1, 1);
  const JobStatus job = Submit(Spec(0, 10, 10));
  ASSERT_THAT(running_, SizeIs(1));
  // Task results where a value belongs.
  scheduler_.ChunkFinished(
      running_[0].worker,
      Succeeded(running_[0].attempt, std::vector<TaskResult>{Value(int64_t{1})},
                absl::Milliseconds(1)),
      now_);
  Collect();
  const JobStatus failed = Get(job.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_THAT(failed.error, HasSubstr("chunk [0, 10): "));
  for (const JournalEntry& entry : journal_) {
    EXPECT_FALSE(std::holds_alternative<ChunkDone>(entry));
  }
}

TEST_F(SchedulerTest, MaxParallelCapsRunningChunksOfAJob) {
  Join(1, 8);
  JobSpec spec = Spec(0, 100, 10);
  spec.max_parallel = 2;
  const JobStatus job = Submit(spec);
  EXPECT_THAT(running_, SizeIs(2));
  Complete(0);
  EXPECT_THAT(running_, SizeIs(2));
  // Another job still gets the free slots.
  Submit(Spec(0, 100, 10));
  EXPECT_THAT(running_, SizeIs(8));
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 100);
}

TEST_F(SchedulerTest, DeclaresSilentWorkerLost) {
  Join(1, 1);
  Join(2, 1);
  const JobStatus job = Submit(Spec(0, 10, 5));
  now_ += absl::Seconds(3);
  scheduler_.WorkerSeen(2, now_);
  now_ += absl::Seconds(3);
  scheduler_.Tick(now_);
  Collect();
  // Silent for 6 s, past the 5 s default; worker 2 spoke 3 s ago.
  EXPECT_THAT(disconnected_, ::testing::ElementsAre(1));
  std::erase_if(running_, [](const Running& run) { return run.worker == 1; });
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 10);
}

TEST_F(SchedulerTest, TimesOutSlowAttemptsOnTheMillisecond) {
  Join(1, 1);
  JobSpec spec = Spec(0, 10, 10);
  spec.chunk_timeout = absl::Milliseconds(50);
  spec.max_attempts = 1;
  const JobStatus job = Submit(spec);
  // The coordinator ticks when the deadline comes, not at its next round.
  EXPECT_EQ(scheduler_.NextDeadline(now_), now_ + absl::Milliseconds(50));
  scheduler_.Tick(now_ + absl::Milliseconds(49));
  Collect();
  EXPECT_THAT(cancelled_, SizeIs(0));
  scheduler_.Tick(now_ + absl::Milliseconds(50));
  Collect();
  EXPECT_THAT(cancelled_, SizeIs(1));
  const JobStatus failed = Get(job.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_THAT(failed.error, HasSubstr("timed out after 50ms"));
  EXPECT_EQ(scheduler_.NextDeadline(now_), absl::InfiniteFuture());
}

TEST_F(SchedulerTest, BackupCopyOfStragglerFinishesJob) {
  Join(1, 1);
  Join(2, 1);
  const JobStatus job = Submit(Spec(0, 40, 10));
  // Worker 2 finishes its chunks quickly; worker 1 hangs on its first one.
  size_t slow = running_[0].worker == 1 ? 0 : 1;
  const Running straggler = running_[slow];
  running_.erase(running_.begin() + static_cast<ptrdiff_t>(slow));
  while (!running_.empty()) {
    now_ += absl::Milliseconds(10);
    Complete(0, absl::Milliseconds(10));
  }
  now_ += absl::Seconds(5);
  scheduler_.WorkerSeen(1, now_);  // hung, but its link is alive
  scheduler_.Tick(now_);
  Collect();
  ASSERT_THAT(running_, SizeIs(1));
  EXPECT_EQ(running_[0].worker, 2u);
  EXPECT_EQ(running_[0].attempt.begin, straggler.attempt.begin);
  Complete(0);
  // The slow copy is cancelled, and its late result is ignored.
  EXPECT_THAT(cancelled_, ::testing::Contains(straggler.attempt));
  scheduler_.ChunkFinished(
      1, Succeeded(straggler.attempt, Value(int64_t{10}), absl::Seconds(6)),
      now_);
  const JobStatus done = Get(job.id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(IntResult(done), 40);
}

TEST_F(SchedulerTest, BackupsGoOnlyToWorkersWithCreditsOfTheJobsExecutor) {
  // Worker 1 hangs on a chunk of a threads job. Worker 2 runs the others,
  // then, the job having nothing left to hand out, asks for a processes
  // chunk only: a backup of the threads straggler would be a chunk it never
  // asked for.
  JoinWith(1, {1, 0, 0});
  Hello hello{.name = "w2",
              .slots = {1, 1, 0},
              .kernels = {Kernel("ones")},
              .version = "test"};
  ASSERT_TRUE(scheduler_.WorkerJoined(2, hello, "peer", now_).ok());
  scheduler_.CreditsGranted(2, ExecutorKind::kThreads, 1, now_);
  Collect();
  const JobStatus job = Submit(Spec(0, 40, 10));
  ASSERT_THAT(running_, SizeIs(2));
  const size_t slow = running_[0].worker == 1 ? 0 : 1;
  const Running straggler = running_[slow];
  running_.erase(running_.begin() + static_cast<ptrdiff_t>(slow));
  while (!running_.empty()) {
    const Running run = running_.back();
    running_.pop_back();
    ASSERT_EQ(run.worker, 2u);
    now_ += absl::Milliseconds(10);
    scheduler_.ChunkFinished(
        2,
        Succeeded(run.attempt, Value(run.end - run.attempt.begin),
                  absl::Milliseconds(10)),
        now_);
    Collect();
    if (Get(job.id).progress.chunks_done < 3) {
      scheduler_.CreditsGranted(2, ExecutorKind::kThreads, 1, now_);
      Collect();
    }
  }
  ASSERT_EQ(Get(job.id).progress.chunks_done, 3);
  scheduler_.CreditsGranted(2, ExecutorKind::kProcesses, 1, now_);
  Collect();
  now_ += absl::Seconds(5);
  scheduler_.WorkerSeen(1, now_);
  scheduler_.WorkerSeen(2, now_);
  scheduler_.Tick(now_);
  Collect();
  EXPECT_THAT(running_, SizeIs(0))
      << "a threads backup went to a worker that asked for processes only";
  const std::vector<WorkerStatus> workers = scheduler_.ListWorkers(now_);
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[1].credits, 1);
  EXPECT_EQ(workers[1].chunks_in_flight, 0);
  // Once it asks for a threads chunk, it gets the backup.
  scheduler_.CreditsGranted(2, ExecutorKind::kThreads, 1, now_);
  Collect();
  now_ += absl::Seconds(1);
  scheduler_.WorkerSeen(1, now_);
  scheduler_.Tick(now_);
  Collect();
  ASSERT_THAT(running_, SizeIs(1));
  EXPECT_EQ(running_[0].worker, 2u);
  EXPECT_EQ(running_[0].attempt.begin, straggler.attempt.begin);
  EXPECT_EQ(running_[0].attempt.attempt, 2);
}

TEST_F(SchedulerTest, ReleasedChunksRunElsewhere) {
  Join(1, 2);
  const JobStatus job = Submit(Spec(0, 20, 10));
  scheduler_.WorkerDraining(1, now_);
  for (const Running& run : running_) {
    scheduler_.ChunkReleased(run.worker, run.attempt, now_);
  }
  running_.clear();
  Join(2, 2);
  EXPECT_THAT(running_, SizeIs(2));
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 20);
  EXPECT_EQ(Get(job.id).progress.attempts_failed, 0);
}

TEST_F(SchedulerTest, CollectKeepsChunkValuesInRangeOrder) {
  Join(1, 3);
  JobSpec spec = Spec(0, 10);
  spec.chunks = ChunkPolicy::Count(4);
  spec.reduction = Reduction::kCollect;
  const JobStatus job = Submit(spec);
  RunAll(7);
  const JobStatus done = Get(job.id);
  ASSERT_EQ(done.chunk_values.size(), 4u);
  int64_t expected_begin = 0;
  for (const ChunkValue& chunk : done.chunk_values) {
    EXPECT_EQ(chunk.begin, expected_begin);
    EXPECT_EQ(std::get<int64_t>(chunk.value), chunk.end - chunk.begin);
    expected_begin = chunk.end;
  }
  EXPECT_EQ(expected_begin, 10);
}

TEST_F(SchedulerTest, SimulatesTenThousandWorkersWithFailures) {
  for (WorkerId id = 1; id <= 10000; ++id) Join(id, 2);
  const JobStatus job = Submit(Spec(0, 10'000'000));
  std::mt19937 rng(42);
  int lost = 0;
  while (!running_.empty()) {
    const size_t index =
        std::uniform_int_distribution<size_t>(0, running_.size() - 1)(rng);
    if (lost < 100 && rng() % 50 == 0) {
      const WorkerId victim = running_[index].worker;
      std::erase_if(running_,
                    [&](const Running& run) { return run.worker == victim; });
      scheduler_.WorkerLost(victim, "killed", now_);
      Collect();
      ++lost;
      continue;
    }
    Complete(index, absl::Milliseconds(50));
  }
  const JobStatus done = Get(job.id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(IntResult(done), 10'000'000);
  EXPECT_EQ(lost, 100);
}

TEST_F(SchedulerTest, SendsChunksOnlyToWorkersWithTheJobsExecutor) {
  JoinWith(1, {2, 0, 0});
  JoinWith(2, {0, 2, 0});
  JobSpec spec = Spec(0, 100, 10);
  spec.executor = ExecutorKind::kProcesses;
  const JobStatus job = Submit(spec);
  ASSERT_THAT(running_, SizeIs(2));
  for (const Running& run : running_) EXPECT_EQ(run.worker, 2u);
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 100);
}

TEST_F(SchedulerTest, KeepsCreditsApartPerExecutor) {
  JoinWith(1, {1, 1, 0});
  const JobStatus threads = Submit(Spec(0, 100, 10));
  JobSpec spec = Spec(0, 100, 10);
  spec.executor = ExecutorKind::kProcesses;
  const JobStatus processes = Submit(spec);
  // One chunk of each: a threads job cannot use the process slot.
  ASSERT_THAT(running_, SizeIs(2));
  EXPECT_NE(running_[0].attempt.job, running_[1].attempt.job);
  RunAll();
  EXPECT_EQ(IntResult(Get(threads.id)), 100);
  EXPECT_EQ(IntResult(Get(processes.id)), 100);
}

TEST_F(SchedulerTest, RefusesJobsNoConnectedWorkerCanRun) {
  JoinWith(1, {2, 0, 0});
  JobSpec command;
  command.begin = 0;
  command.end = 10;
  command.executor = ExecutorKind::kCommand;
  command.command.argv = {"echo"};
  absl::Status status = SubmitStatus(command);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--allow-commands"));
  JobSpec processes = Spec(0, 10);
  processes.executor = ExecutorKind::kProcesses;
  status = SubmitStatus(processes);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--processes"));
  JobSpec with_kernel = command;
  with_kernel.kernel = "ones";
  EXPECT_EQ(SubmitStatus(with_kernel).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, JobThatNoWorkerCanRunWaitsThenFails) {
  JobSpec spec = Spec(0, 100, 10);
  spec.executor = ExecutorKind::kProcesses;
  const JobStatus job = Submit(spec);
  JoinWith(1, {2, 0, 0});
  EXPECT_THAT(Get(job.id).waiting_reason,
              HasSubstr("no connected worker has processes slots"));
  scheduler_.Tick(now_);
  now_ += absl::Minutes(11);
  scheduler_.WorkerSeen(1, now_);
  scheduler_.Tick(now_);
  const JobStatus failed = Get(job.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_THAT(failed.error, HasSubstr("no worker could run it for 10m"));
}

TEST_F(SchedulerTest, RunsCommandJobsOnCommandSlots) {
  JoinWith(1, {2, 0, 2});
  JobSpec spec;
  spec.begin = 0;
  spec.end = 40;
  spec.chunks = ChunkPolicy::Fixed(10);
  spec.executor = ExecutorKind::kCommand;
  spec.command.argv = {"echo"};
  const JobStatus job = Submit(spec);
  ASSERT_THAT(running_, SizeIs(2));
  EXPECT_EQ(running_[0].index, 0);
  EXPECT_EQ(running_[1].index, 1);
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 40);
}

TEST_F(SchedulerTest, JournalsAcceptedJobsCompletedChunksAndEnds) {
  Join(1, 1);
  const absl::Time submitted = now_;
  const JobStatus job = Submit(Spec(0, 20, 10));
  // The job starts when the worker reports its first chunk started.
  scheduler_.ChunkStarted(running_[0].worker, running_[0].attempt, now_);
  RunAll();
  ASSERT_EQ(journal_.size(), 5u);
  EXPECT_EQ(std::get<JobAccepted>(journal_[0]).job, job.id);
  EXPECT_EQ(std::get<JobAccepted>(journal_[0]).spec, job.spec);
  EXPECT_EQ(std::get<JobStarted>(journal_[1]).start_time, submitted);
  EXPECT_EQ(std::get<ChunkDone>(journal_[2]).begin, 0);
  EXPECT_EQ(std::get<ChunkDone>(journal_[3]).begin, 10);
  EXPECT_EQ(IntResult(*std::get<JobEnded>(journal_[4]).final_state), 20);
}

TEST_F(SchedulerTest, ResumesJournaledJobWithoutRedoingCompletedChunks) {
  Join(1, 4);
  const absl::Time started = now_;
  const JobStatus job = Submit(Spec(0, 1000, 10));
  scheduler_.ChunkStarted(running_[0].worker, running_[0].attempt, now_);
  // Half the chunks complete, in random order; then the coordinator stops.
  std::mt19937 rng(3);
  int64_t done_before = 0;
  for (int i = 0; i < 50; ++i) {
    const size_t index =
        std::uniform_int_distribution<size_t>(0, running_.size() - 1)(rng);
    done_before += running_[index].end - running_[index].attempt.begin;
    Complete(index);
  }
  std::unique_ptr<Journal> journal = NewMemoryJournal(100);
  ASSERT_TRUE(journal->Write(journal_).ok());
  absl::StatusOr<std::vector<RecoveredJob>> recovered = journal->Load();
  ASSERT_TRUE(recovered.ok());

  now_ += absl::Minutes(5);
  Scheduler restarted;
  for (const RecoveredJob& recovered_job : *recovered) {
    restarted.RestoreJob(recovered_job, now_);
  }
  Hello hello{.name = "w9",
              .slots = {3, 0, 0},
              .kernels = {Kernel("ones")},
              .version = "test"};
  ASSERT_TRUE(restarted.WorkerJoined(9, hello, "peer", now_).ok());
  restarted.CreditsGranted(9, ExecutorKind::kThreads, 3, now_);
  int64_t done_after = 0;
  std::vector<Commands::Assign> queue = restarted.TakeCommands().assign;
  while (!queue.empty()) {
    const Commands::Assign assign = queue.back();
    queue.pop_back();
    const AttemptRef& attempt = assign.chunk.attempt;
    done_after += assign.chunk.end - attempt.begin;
    restarted.ChunkFinished(
        9,
        Succeeded(attempt, Value(assign.chunk.end - attempt.begin),
                  absl::Milliseconds(1)),
        now_);
    restarted.CreditsGranted(9, ExecutorKind::kThreads, 1, now_);
    for (const auto& next : restarted.TakeCommands().assign) {
      queue.push_back(next);
    }
  }
  const JobStatus done = *restarted.GetJob(job.id, false);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(IntResult(done), 1000);
  EXPECT_EQ(done_before, 500);
  EXPECT_EQ(done_after, 500);
  // Its running time counts from its first start, not from the restart.
  EXPECT_EQ(done.start_time, started);
  // New jobs get new ids.
  EXPECT_GT(restarted.SubmitJob(Share(Spec(0, 10)), now_)->id, job.id);
}

class PerTokenLimitTest : public SchedulerHarness {
 protected:
  PerTokenLimitTest() : SchedulerHarness({.max_active_jobs_per_token = 2}) {}

  static JobSpec By(const std::string& token) {
    JobSpec spec = Spec(0, 100);
    spec.submitted_by = token;
    return spec;
  }
};

TEST_F(PerTokenLimitTest, RefusesATokenPastItsActiveJobsNamingTheFlag) {
  const JobStatus first = Submit(By("alice"));
  Submit(By("alice"));
  const absl::Status refused = SubmitStatus(By("alice"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("token alice has 2 jobs queued or running, the most "
                        "one token may (--max-jobs-per-token)"));
  // Other tokens, and callers without tokens, are not held back by alice.
  EXPECT_TRUE(SubmitStatus(By("bob")).ok());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(SubmitStatus(By("")).ok());
  // A job that ends makes room.
  ASSERT_TRUE(scheduler_.CancelJob(first.id, now_).ok());
  EXPECT_TRUE(SubmitStatus(By("alice")).ok());
}

TEST_F(SchedulerTest, CountsWhatHappensToChunksForMetrics) {
  Join(1, 2);
  Join(2, 1);
  const JobStatus job = Submit(Spec(0, 50, 10));
  ASSERT_THAT(running_, SizeIs(3));
  // Worker 1 is lost holding two chunks: both are requeued (not failed).
  std::erase_if(running_, [](const Running& run) { return run.worker == 1; });
  scheduler_.WorkerLost(1, "connection reset", now_);
  Collect();
  // One attempt fails after 3 ms and runs again.
  const Running failing = running_[0];
  running_.erase(running_.begin());
  now_ += absl::Milliseconds(3);
  scheduler_.ChunkFinished(failing.worker, Failed(failing.attempt, "boom"),
                           now_);
  scheduler_.CreditsGranted(2, ExecutorKind::kThreads, 1, now_);
  Collect();
  RunAll();
  ASSERT_EQ(Get(job.id).state, JobState::kSucceeded);
  // A late result is not counted.
  scheduler_.ChunkFinished(
      2, Succeeded(failing.attempt, Value(int64_t{10}), absl::Milliseconds(1)),
      now_);

  const ChunkCounters& counters = scheduler_.counters();
  EXPECT_EQ(counters.chunks_completed, 5);
  EXPECT_EQ(counters.chunks_requeued, 2);
  EXPECT_EQ(counters.attempts_failed, 1);
  EXPECT_EQ(counters.chunks_retried, 1);
  // Five chunks, three of them twice.
  EXPECT_EQ(counters.chunks_dispatched, 8);
  // Every result that counted, the failure included; the failure took 3 ms.
  EXPECT_EQ(counters.result_latency.count(), 6u);
  EXPECT_EQ(counters.result_latency.CumulativeCount(3), 5u);  // <= 1 ms
  EXPECT_EQ(counters.result_latency.CumulativeCount(5), 6u);  // <= 5 ms
}

TEST_F(SchedulerTest, CountsJobsByStateAndChunksInFlight) {
  Join(1, 2);
  const JobStatus running = Submit(Spec(0, 100, 10));
  const JobStatus queued = Submit(Spec(0, 100, 10));
  const JobStatus cancelled = Submit(Spec(0, 100, 10));
  ASSERT_TRUE(scheduler_.CancelJob(cancelled.id, now_).ok());
  Collect();
  EXPECT_EQ(scheduler_.ChunksInFlight(), 2);
  // A job runs once a worker reports one of its chunks started.
  scheduler_.ChunkStarted(running_[0].worker, running_[0].attempt, now_);
  const std::array<int64_t, 5> jobs = scheduler_.CountJobsByState();
  EXPECT_EQ(jobs[static_cast<int>(JobState::kRunning)], 1);
  EXPECT_EQ(jobs[static_cast<int>(JobState::kQueued)], 1);
  EXPECT_EQ(jobs[static_cast<int>(JobState::kCancelled)], 1);
  EXPECT_EQ(jobs[static_cast<int>(JobState::kSucceeded)], 0);
  EXPECT_EQ(Get(running.id).state, JobState::kRunning);
  EXPECT_EQ(Get(queued.id).state, JobState::kQueued);
}

}  // namespace
}  // namespace pfor::coordinator
