#include "scheduler.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

v1::KernelInfo Kernel(const std::string& name) {
  v1::KernelInfo kernel;
  kernel.set_name(name);
  kernel.add_executors(v1::EXECUTOR_KIND_THREADS);
  kernel.add_executors(v1::EXECUTOR_KIND_PROCESSES);
  return kernel;
}

v1::JobSpec Spec(int64_t begin, int64_t end, int64_t fixed_size = 0,
                 const std::string& kernel = "ones") {
  v1::JobSpec spec;
  spec.set_kernel(kernel);
  spec.set_begin(begin);
  spec.set_end(end);
  if (fixed_size > 0) spec.mutable_chunking()->set_fixed_size(fixed_size);
  return spec;
}

// Drives a Scheduler like a cluster would: workers run the chunks they are
// assigned (a kernel whose value is 1 per index, so a job's sum is its number
// of indices) in whatever order the test picks.
class SchedulerTest : public ::testing::Test {
 protected:
  struct Running {
    WorkerId worker;
    AttemptKey key;
    int64_t end;
    int64_t index;
  };

  void Join(WorkerId id, int32_t slots,
            std::vector<std::string> kernels = {"ones"}) {
    JoinWith(id, {slots, 0, 0}, std::move(kernels));
  }

  // A worker with slots per executor (threads, processes, command) that
  // asks for all of them.
  void JoinWith(WorkerId id, std::array<int32_t, kExecutorKinds> slots,
                std::vector<std::string> kernels = {"ones"}) {
    WorkerHello hello;
    hello.name = absl::StrCat("w", id);
    hello.slots = slots;
    for (const std::string& name : kernels)
      hello.kernels.push_back(Kernel(name));
    ASSERT_TRUE(scheduler_.WorkerJoined(id, std::move(hello), now_).ok());
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      scheduler_.CreditsGranted(id, ExecutorAt(kind), slots[kind], now_);
    }
    Collect();
  }

  // Moves new assignments into `running_` and keeps the other commands.
  void Collect() {
    Commands commands = scheduler_.TakeCommands();
    for (const auto& assign : commands.assign) {
      running_.push_back({assign.worker, assign.key, assign.end, assign.index});
      if (assign.send_definition) definitions_sent_ += 1;
    }
    for (const auto& cancel : commands.cancel) cancelled_.push_back(cancel.key);
    for (const auto& end : commands.end_job) ended_.push_back(end);
    for (const auto& d : commands.disconnect) disconnected_.push_back(d.worker);
    for (JournalEntry& entry : commands.journal)
      journal_.push_back(std::move(entry));
  }

  // Finishes the running attempt at `index`, giving its worker a credit back.
  void Complete(size_t index,
                absl::Duration kernel_time = absl::Milliseconds(10)) {
    Running run = running_[index];
    running_[index] = running_.back();
    running_.pop_back();
    now_ += absl::Microseconds(10);
    scheduler_.ChunkSucceeded(run.worker, run.key,
                              ToProto(Value(run.end - run.key.begin)),
                              kernel_time, now_);
    // The job may have ended with this chunk: ask for the executor anyway.
    const v1::JobSpec* spec = scheduler_.JobSpecFor(run.key.job);
    scheduler_.CreditsGranted(run.worker, spec->executor(), 1, now_);
    Collect();
  }

  // Completes attempts in random order until none is running.
  void RunAll(uint32_t seed = 1) {
    std::mt19937 rng(seed);
    while (!running_.empty()) {
      Complete(
          std::uniform_int_distribution<size_t>(0, running_.size() - 1)(rng));
    }
  }

  v1::Job Submit(const v1::JobSpec& spec) {
    absl::StatusOr<v1::Job> job = scheduler_.SubmitJob(spec, now_);
    EXPECT_TRUE(job.ok()) << job.status();
    Collect();
    return job.ok() ? *job : v1::Job();
  }

  v1::Job Get(JobId id) { return *scheduler_.GetJob(id, true); }

  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  Scheduler scheduler_;
  std::vector<Running> running_;
  std::vector<AttemptKey> cancelled_;
  std::vector<Commands::EndJob> ended_;
  std::vector<WorkerId> disconnected_;
  std::vector<JournalEntry> journal_;
  int definitions_sent_ = 0;
};

TEST_F(SchedulerTest, CountsEveryIndexOnceAcrossWorkers) {
  Join(1, 2);
  Join(2, 3);
  const v1::Job job = Submit(Spec(-500, 1234, 7));
  RunAll();
  const v1::Job done = Get(job.id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.result().int_value(), 1734);
  EXPECT_EQ(done.progress().chunks_done(), (1734 + 6) / 7);
  EXPECT_EQ(done.progress().indices_done(), 1734);
}

TEST_F(SchedulerTest, NeverAssignsMoreChunksThanCredits) {
  Join(1, 3);
  Submit(Spec(0, 1000, 1));
  EXPECT_THAT(running_, SizeIs(3));
  scheduler_.CreditsGranted(1, v1::EXECUTOR_KIND_THREADS, 2, now_);
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
  const v1::Job job = Submit(Spec(0, 100, 10));
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
  scheduler_.ChunkSucceeded(1, lost[0].key, ToProto(Value(int64_t{10})),
                            absl::Milliseconds(1), now_);
  const v1::Job done = Get(job.id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.result().int_value(), 100);
  EXPECT_EQ(done.progress().chunks_requeued(), 2);
}

TEST_F(SchedulerTest, IgnoresDuplicateResults) {
  Join(1, 1);
  const v1::Job job = Submit(Spec(0, 20, 10));
  const Running first = running_[0];
  Complete(0);
  scheduler_.ChunkSucceeded(first.worker, first.key,
                            ToProto(Value(int64_t{10})), absl::Milliseconds(1),
                            now_);
  RunAll();
  EXPECT_EQ(Get(job.id()).result().int_value(), 20);
}

TEST_F(SchedulerTest, RetriesFailedChunkOnAnotherAttempt) {
  Join(1, 1);
  const v1::Job job = Submit(Spec(0, 10, 10));
  const Running run = running_[0];
  running_.clear();
  scheduler_.ChunkFailed(run.worker, run.key, "disk full",
                         absl::Milliseconds(1), now_);
  scheduler_.CreditsGranted(1, v1::EXECUTOR_KIND_THREADS, 1, now_);
  Collect();
  ASSERT_THAT(running_, SizeIs(1));
  EXPECT_EQ(running_[0].key.attempt, 2);
  RunAll();
  const v1::Job done = Get(job.id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.progress().attempts_failed(), 1);
}

TEST_F(SchedulerTest, FailsJobWhenChunkFailsEveryAttempt) {
  Join(1, 1);
  v1::JobSpec spec = Spec(0, 10, 5);
  spec.mutable_retry()->set_max_attempts(2);
  const v1::Job job = Submit(spec);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ASSERT_THAT(running_, SizeIs(1));
    const Running run = running_[0];
    running_.clear();
    scheduler_.ChunkFailed(run.worker, run.key, "kernel threw: boom",
                           absl::Milliseconds(1), now_);
    scheduler_.CreditsGranted(1, v1::EXECUTOR_KIND_THREADS, 1, now_);
    Collect();
  }
  const v1::Job done = Get(job.id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(done.error(), HasSubstr("chunk [0, 5) failed 2 times"));
  EXPECT_THAT(done.error(), HasSubstr("kernel threw: boom"));
  EXPECT_THAT(running_, SizeIs(0));
  ASSERT_THAT(ended_, SizeIs(1));
  EXPECT_EQ(ended_[0].job, job.id());
}

TEST_F(SchedulerTest, CancelStopsDispatchAndEndsJobOnWorkers) {
  Join(1, 2);
  Join(2, 2);
  const v1::Job job = Submit(Spec(0, 1000, 1));
  ASSERT_TRUE(scheduler_.CancelJob(job.id(), now_).ok());
  Collect();
  EXPECT_THAT(ended_, SizeIs(2));
  const size_t before = running_.size();
  running_.clear();
  scheduler_.CreditsGranted(1, v1::EXECUTOR_KIND_THREADS, 5, now_);
  Collect();
  EXPECT_THAT(running_, SizeIs(0));
  const v1::Job cancelled = Get(job.id());
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(cancelled.progress().chunks_done(), 0);
  EXPECT_EQ(before, 4u);
}

TEST_F(SchedulerTest, SharesSlotsFairlyBetweenJobs) {
  const v1::Job a = Submit(Spec(0, 1000, 1));
  const v1::Job b = Submit(Spec(0, 1000, 1));
  Join(1, 4);
  int for_a = 0;
  for (const Running& run : running_) for_a += run.key.job == a.id();
  EXPECT_EQ(for_a, 2);
  EXPECT_EQ(running_.size() - for_a, 2u);
  RunAll();
  EXPECT_EQ(Get(a.id()).result().int_value(), 1000);
  EXPECT_EQ(Get(b.id()).result().int_value(), 1000);
}

TEST_F(SchedulerTest, HugeRangeKeepsOnlyChunksInFlight) {
  Join(1, 4);
  const v1::Job job = Submit(Spec(0, 1'000'000'000'000'000, 1000));
  for (int i = 0; i < 10000; ++i) Complete(0);
  const v1::Job running = Get(job.id());
  EXPECT_EQ(running.state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(running.progress().chunks_done(), 10000);
  EXPECT_EQ(running.progress().chunks_in_flight(), 4);
}

TEST_F(SchedulerTest, QueuesJobUntilAWorkerConnects) {
  const v1::Job job = Submit(Spec(0, 100, 10));
  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.waiting_reason(), "waiting for a worker to connect");
  Join(1, 2);
  RunAll();
  EXPECT_EQ(Get(job.id()).result().int_value(), 100);
}

TEST_F(SchedulerTest, FailsQueuedJobWhoseParamsTheKernelRejects) {
  v1::JobSpec spec = Spec(0, 100, 10);
  (*spec.mutable_params())["bogus"].set_int_value(1);
  const v1::Job job = Submit(spec);
  Join(1, 2);
  const v1::Job failed = Get(job.id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("has no parameter 'bogus'"));
}

TEST_F(SchedulerTest, RejectsBadJobs) {
  Join(1, 1);
  auto code = [&](const v1::JobSpec& spec) {
    return scheduler_.SubmitJob(spec, now_).status();
  };
  EXPECT_THAT(std::string(code(Spec(20, 10)).message()),
              HasSubstr("range end 10 is before begin 20"));
  EXPECT_THAT(std::string(code(Spec(5, 5)).message()), HasSubstr("is empty"));
  EXPECT_THAT(std::string(code(Spec(INT64_MIN, INT64_MAX)).message()),
              HasSubstr("more than 2^63-1 indices"));
  EXPECT_EQ(code(Spec(INT64_MAX - 10, INT64_MAX)).code(),
            absl::StatusCode::kOk);
  v1::JobSpec zero = Spec(0, 10);
  zero.mutable_chunking()->set_fixed_size(0);
  EXPECT_THAT(std::string(code(zero).message()),
              HasSubstr("chunk size 0 is not positive"));
  EXPECT_THAT(std::string(code(Spec(0, 10, 11)).message()),
              HasSubstr("larger than the range"));
  v1::JobSpec count = Spec(0, 10);
  count.mutable_chunking()->set_chunk_count(11);
  EXPECT_EQ(code(count).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Spec(0, 10, 0, "")).code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status unknown = code(Spec(0, 10, 0, "nope"));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(unknown.message()), HasSubstr("offered: ones"));
  v1::JobSpec processes = Spec(0, 10);
  processes.set_executor(v1::EXECUTOR_KIND_COMMAND);
  EXPECT_EQ(code(processes).code(), absl::StatusCode::kInvalidArgument);
  v1::JobSpec attempts = Spec(0, 10);
  attempts.mutable_retry()->set_max_attempts(-1);
  EXPECT_EQ(code(attempts).code(), absl::StatusCode::kInvalidArgument);
  v1::JobSpec reduction = Spec(0, 10);
  reduction.set_reduction(static_cast<v1::Reduction>(42));
  EXPECT_EQ(code(reduction).code(), absl::StatusCode::kInvalidArgument);
}

// A batch of `tasks` tasks, task i over [i, 2i + 1).
v1::JobSpec Batch(int tasks, int64_t fixed_size = 0) {
  v1::JobSpec spec = Spec(0, tasks, fixed_size);
  for (int i = 0; i < tasks; ++i) {
    v1::Task* task = spec.add_tasks();
    task->set_begin(i);
    task->set_end(2 * i + 1);
  }
  return spec;
}

TEST_F(SchedulerTest, BatchReturnsEveryTaskResultInOrder) {
  Join(1, 3);
  const v1::Job job = Submit(Batch(10, 3));
  // Each chunk answers for its tasks: task i's value is 100 + i, and task 7
  // fails. Chunks complete in reverse order.
  while (!running_.empty()) {
    Running run = running_.back();
    running_.pop_back();
    v1::Value value;
    for (int64_t task = run.key.begin; task < run.end; ++task) {
      v1::TaskResult* result = value.mutable_tasks()->add_results();
      result->set_index(task);
      if (task == 7) {
        result->set_error("bad task");
      } else {
        result->mutable_value()->set_int_value(100 + task);
      }
    }
    scheduler_.ChunkSucceeded(run.worker, run.key, value, absl::Milliseconds(1),
                              now_);
    scheduler_.CreditsGranted(run.worker, v1::EXECUTOR_KIND_THREADS, 1, now_);
    Collect();
  }
  const v1::Job done = Get(job.id());
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_EQ(done.result().tasks().results_size(), 10);
  for (int i = 0; i < 10; ++i) {
    const v1::TaskResult& result = done.result().tasks().results(i);
    EXPECT_EQ(result.index(), i);
    if (i == 7) {
      EXPECT_EQ(result.error(), "bad task");
    } else {
      EXPECT_EQ(result.value().int_value(), 100 + i);
    }
  }
}

TEST_F(SchedulerTest, RejectsChunkValueThatIsNotItsTaskResults) {
  Join(1, 1);
  const v1::Job job = Submit(Batch(4, 4));
  ASSERT_THAT(running_, SizeIs(1));
  v1::Value wrong;
  wrong.set_int_value(4);  // a plain value where 4 task results belong
  scheduler_.ChunkSucceeded(running_[0].worker, running_[0].key, wrong,
                            absl::Milliseconds(1), now_);
  Collect();
  EXPECT_NE(Get(job.id()).state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(SchedulerTest, MaxParallelCapsRunningChunksOfAJob) {
  Join(1, 8);
  v1::JobSpec spec = Spec(0, 100, 10);
  spec.set_max_parallel(2);
  const v1::Job job = Submit(spec);
  EXPECT_THAT(running_, SizeIs(2));
  Complete(0);
  EXPECT_THAT(running_, SizeIs(2));
  // Another job still gets the free slots.
  Submit(Spec(0, 100, 10));
  EXPECT_THAT(running_, SizeIs(8));
  RunAll();
  EXPECT_EQ(Get(job.id()).result().int_value(), 100);
}

TEST_F(SchedulerTest, RejectsBadBatches) {
  Join(1, 1);
  auto message = [&](const v1::JobSpec& spec) {
    absl::StatusOr<v1::Job> job = scheduler_.SubmitJob(spec, now_);
    EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(job.status().message());
  };
  v1::JobSpec range = Batch(3);
  range.set_end(4);
  EXPECT_THAT(message(range), HasSubstr("[0, 3)"));
  v1::JobSpec collect = Batch(3);
  collect.set_reduction(v1::REDUCTION_COLLECT);
  EXPECT_THAT(message(collect), HasSubstr("drop the collect reduction"));
  v1::JobSpec command = Batch(3);
  command.set_executor(v1::EXECUTOR_KIND_COMMAND);
  EXPECT_EQ(scheduler_.SubmitJob(command, now_).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::JobSpec empty_task = Batch(3);
  empty_task.mutable_tasks(2)->set_end(2);
  EXPECT_THAT(message(empty_task), HasSubstr("task 2 has range [2, 2)"));
  v1::JobSpec bad_param = Batch(3);
  (*bad_param.mutable_tasks(1)->mutable_params())["bogus"].set_int_value(1);
  EXPECT_THAT(message(bad_param), HasSubstr("task 1: "));
  v1::JobSpec negative = Spec(0, 10);
  negative.set_max_parallel(-1);
  EXPECT_THAT(message(negative), HasSubstr("must not be negative"));
}

TEST_F(SchedulerTest, DeclaresSilentWorkerLost) {
  Join(1, 1);
  Join(2, 1);
  const v1::Job job = Submit(Spec(0, 10, 5));
  now_ += absl::Seconds(5);
  scheduler_.WorkerSeen(2, now_);
  now_ += absl::Seconds(6);
  scheduler_.Tick(now_);
  Collect();
  EXPECT_THAT(disconnected_, ::testing::ElementsAre(1));
  std::erase_if(running_, [](const Running& run) { return run.worker == 1; });
  RunAll();
  EXPECT_EQ(Get(job.id()).result().int_value(), 10);
}

TEST_F(SchedulerTest, TimesOutSlowAttempts) {
  Join(1, 1);
  v1::JobSpec spec = Spec(0, 10, 10);
  *spec.mutable_retry()->mutable_chunk_timeout() = ToProto(absl::Seconds(30));
  spec.mutable_retry()->set_max_attempts(1);
  const v1::Job job = Submit(spec);
  now_ += absl::Seconds(31);
  scheduler_.WorkerSeen(1, now_);
  scheduler_.Tick(now_);
  Collect();
  EXPECT_THAT(cancelled_, SizeIs(1));
  const v1::Job failed = Get(job.id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("timed out after 30s"));
}

TEST_F(SchedulerTest, BackupCopyOfStragglerFinishesJob) {
  Join(1, 1);
  Join(2, 1);
  const v1::Job job = Submit(Spec(0, 40, 10));
  // Worker 2 finishes its chunks quickly; worker 1 hangs on its first one.
  size_t slow = running_[0].worker == 1 ? 0 : 1;
  const Running straggler = running_[slow];
  running_.erase(running_.begin() + static_cast<ptrdiff_t>(slow));
  while (!running_.empty()) {
    now_ += absl::Milliseconds(10);
    Complete(0, absl::Milliseconds(10));
  }
  now_ += absl::Seconds(5);
  scheduler_.Tick(now_);
  Collect();
  ASSERT_THAT(running_, SizeIs(1));
  EXPECT_EQ(running_[0].worker, 2u);
  EXPECT_EQ(running_[0].key.begin, straggler.key.begin);
  Complete(0);
  // The slow copy is cancelled, and its late result is ignored.
  EXPECT_THAT(cancelled_, ::testing::Contains(straggler.key));
  scheduler_.ChunkSucceeded(1, straggler.key, ToProto(Value(int64_t{10})),
                            absl::Seconds(6), now_);
  const v1::Job done = Get(job.id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.result().int_value(), 40);
}

TEST_F(SchedulerTest, ReleasedChunksRunElsewhere) {
  Join(1, 2);
  const v1::Job job = Submit(Spec(0, 20, 10));
  scheduler_.WorkerDraining(1, now_);
  for (const Running& run : running_)
    scheduler_.ChunkReleased(run.worker, run.key, now_);
  running_.clear();
  Join(2, 2);
  EXPECT_THAT(running_, SizeIs(2));
  RunAll();
  EXPECT_EQ(Get(job.id()).result().int_value(), 20);
  EXPECT_EQ(Get(job.id()).progress().attempts_failed(), 0);
}

TEST_F(SchedulerTest, CollectKeepsChunkValuesInRangeOrder) {
  Join(1, 3);
  v1::JobSpec spec = Spec(0, 10);
  spec.mutable_chunking()->set_chunk_count(4);
  spec.set_reduction(v1::REDUCTION_COLLECT);
  const v1::Job job = Submit(spec);
  RunAll(7);
  const v1::Job done = Get(job.id());
  ASSERT_EQ(done.result().chunks().values_size(), 4);
  int64_t expected_begin = 0;
  for (const v1::ChunkValue& chunk : done.result().chunks().values()) {
    EXPECT_EQ(chunk.begin(), expected_begin);
    EXPECT_EQ(chunk.value().int_value(), chunk.end() - chunk.begin());
    expected_begin = chunk.end();
  }
  EXPECT_EQ(expected_begin, 10);
}

TEST_F(SchedulerTest, SimulatesTenThousandWorkersWithFailures) {
  for (WorkerId id = 1; id <= 10000; ++id) Join(id, 2);
  const v1::Job job = Submit(Spec(0, 10'000'000));
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
  const v1::Job done = Get(job.id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.result().int_value(), 10'000'000);
  EXPECT_EQ(lost, 100);
}

TEST_F(SchedulerTest, SendsChunksOnlyToWorkersWithTheJobsExecutor) {
  JoinWith(1, {2, 0, 0});
  JoinWith(2, {0, 2, 0});
  v1::JobSpec spec = Spec(0, 100, 10);
  spec.set_executor(v1::EXECUTOR_KIND_PROCESSES);
  const v1::Job job = Submit(spec);
  ASSERT_THAT(running_, SizeIs(2));
  for (const Running& run : running_) EXPECT_EQ(run.worker, 2u);
  RunAll();
  EXPECT_EQ(Get(job.id()).result().int_value(), 100);
}

TEST_F(SchedulerTest, KeepsCreditsApartPerExecutor) {
  JoinWith(1, {1, 1, 0});
  const v1::Job threads = Submit(Spec(0, 100, 10));
  v1::JobSpec spec = Spec(0, 100, 10);
  spec.set_executor(v1::EXECUTOR_KIND_PROCESSES);
  const v1::Job processes = Submit(spec);
  // One chunk of each: a threads job cannot use the process slot.
  ASSERT_THAT(running_, SizeIs(2));
  EXPECT_NE(running_[0].key.job, running_[1].key.job);
  RunAll();
  EXPECT_EQ(Get(threads.id()).result().int_value(), 100);
  EXPECT_EQ(Get(processes.id()).result().int_value(), 100);
}

TEST_F(SchedulerTest, RefusesJobsNoConnectedWorkerCanRun) {
  JoinWith(1, {2, 0, 0});
  v1::JobSpec command;
  command.set_begin(0);
  command.set_end(10);
  command.set_executor(v1::EXECUTOR_KIND_COMMAND);
  command.mutable_command()->add_argv("echo");
  absl::Status status = scheduler_.SubmitJob(command, now_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--allow-commands"));
  v1::JobSpec processes = Spec(0, 10);
  processes.set_executor(v1::EXECUTOR_KIND_PROCESSES);
  status = scheduler_.SubmitJob(processes, now_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--processes"));
  v1::JobSpec with_kernel = command;
  with_kernel.set_kernel("ones");
  EXPECT_EQ(scheduler_.SubmitJob(with_kernel, now_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, JobThatNoWorkerCanRunWaitsThenFails) {
  v1::JobSpec spec = Spec(0, 100, 10);
  spec.set_executor(v1::EXECUTOR_KIND_PROCESSES);
  const v1::Job job = Submit(spec);
  JoinWith(1, {2, 0, 0});
  EXPECT_THAT(Get(job.id()).waiting_reason(),
              HasSubstr("no connected worker has processes slots"));
  scheduler_.Tick(now_);
  now_ += absl::Minutes(11);
  scheduler_.WorkerSeen(1, now_);
  scheduler_.Tick(now_);
  const v1::Job failed = Get(job.id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("no worker could run it for 10m"));
}

TEST_F(SchedulerTest, RunsCommandJobsOnCommandSlots) {
  JoinWith(1, {2, 0, 2});
  v1::JobSpec spec;
  spec.set_begin(0);
  spec.set_end(40);
  spec.mutable_chunking()->set_fixed_size(10);
  spec.set_executor(v1::EXECUTOR_KIND_COMMAND);
  spec.mutable_command()->add_argv("echo");
  const v1::Job job = Submit(spec);
  ASSERT_THAT(running_, SizeIs(2));
  EXPECT_EQ(running_[0].index, 0);
  EXPECT_EQ(running_[1].index, 1);
  RunAll();
  EXPECT_EQ(Get(job.id()).result().int_value(), 40);
}

TEST_F(SchedulerTest, JournalsAcceptedJobsCompletedChunksAndEnds) {
  Join(1, 1);
  const v1::Job job = Submit(Spec(0, 20, 10));
  RunAll();
  ASSERT_EQ(journal_.size(), 4u);
  EXPECT_EQ(std::get<JobAccepted>(journal_[0]).job, job.id());
  EXPECT_EQ(std::get<ChunkDone>(journal_[1]).begin, 0);
  EXPECT_EQ(std::get<ChunkDone>(journal_[2]).begin, 10);
  EXPECT_EQ(std::get<JobEnded>(journal_[3]).final_state.result().int_value(),
            20);
}

TEST_F(SchedulerTest, ResumesJournaledJobWithoutRedoingCompletedChunks) {
  Join(1, 4);
  const v1::Job job = Submit(Spec(0, 1000, 10));
  // Half the chunks complete, in random order; then the coordinator stops.
  std::mt19937 rng(3);
  int64_t done_before = 0;
  for (int i = 0; i < 50; ++i) {
    const size_t index =
        std::uniform_int_distribution<size_t>(0, running_.size() - 1)(rng);
    done_before += running_[index].end - running_[index].key.begin;
    Complete(index);
  }
  std::unique_ptr<Journal> journal = NewMemoryJournal(100);
  ASSERT_TRUE(journal->Write(journal_).ok());
  absl::StatusOr<std::vector<RecoveredJob>> recovered = journal->Load();
  ASSERT_TRUE(recovered.ok());

  Scheduler restarted;
  for (const RecoveredJob& recovered_job : *recovered)
    restarted.RestoreJob(recovered_job, now_);
  WorkerHello hello{
      .name = "w9", .peer = "", .slots = 3, .kernels = {Kernel("ones")}};
  ASSERT_TRUE(restarted.WorkerJoined(9, hello, now_).ok());
  restarted.CreditsGranted(9, v1::EXECUTOR_KIND_THREADS, 3, now_);
  int64_t done_after = 0;
  std::vector<Commands::Assign> queue = restarted.TakeCommands().assign;
  while (!queue.empty()) {
    const Commands::Assign assign = queue.back();
    queue.pop_back();
    done_after += assign.end - assign.key.begin;
    restarted.ChunkSucceeded(9, assign.key,
                             ToProto(Value(assign.end - assign.key.begin)),
                             absl::Milliseconds(1), now_);
    restarted.CreditsGranted(9, v1::EXECUTOR_KIND_THREADS, 1, now_);
    for (const auto& next : restarted.TakeCommands().assign)
      queue.push_back(next);
  }
  const v1::Job done = *restarted.GetJob(job.id(), false);
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.result().int_value(), 1000);
  EXPECT_EQ(done_before, 500);
  EXPECT_EQ(done_after, 500);
  // New jobs get new ids.
  EXPECT_GT(restarted.SubmitJob(Spec(0, 10), now_)->id(), job.id());
}

}  // namespace
}  // namespace pfor::coordinator
