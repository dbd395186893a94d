// Batches: task results in task order and in pages, and the checks on
// what a batch and its chunk values may hold.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler.h"
#include "scheduler_harness.h"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

using SchedulerTest = SchedulerHarness;

TEST_F(SchedulerTest, BatchReturnsEveryTaskResultInOrder) {
  Join(1, 3);
  const JobStatus job = Submit(Batch(10, 3));
  // Each chunk answers for its tasks: task i's value is 100 + i, and task 7
  // fails. Chunks complete in reverse order.
  while (!running_.empty()) {
    Running run = running_.back();
    running_.pop_back();
    std::vector<TaskResult> results;
    for (int64_t task = run.attempt.begin; task < run.end; ++task) {
      if (task == 7) {
        results.push_back(absl::UnknownError("bad task"));
      } else {
        results.push_back(Value(100 + task));
      }
    }
    scheduler_.ChunkFinished(
        run.worker,
        Succeeded(run.attempt, std::move(results), absl::Milliseconds(1)),
        now_);
    scheduler_.CreditsGranted(run.worker, ExecutorKind::kThreads, 1, now_);
    Collect();
  }
  const JobStatus done = Get(job.id);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  ASSERT_EQ(done.task_results.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    const TaskResult& result = done.task_results[i];
    if (i == 7) {
      EXPECT_EQ(result.status().message(), "bad task");
    } else {
      ASSERT_TRUE(result.ok()) << i;
      EXPECT_EQ(std::get<int64_t>(*result), 100 + i);
    }
  }
}

TEST_F(SchedulerTest, GivesABatchsTaskResultsAPageAtATime) {
  Join(1, 1);
  const JobStatus job = Submit(Batch(10, 10));
  ASSERT_THAT(running_, SizeIs(1));
  std::vector<TaskResult> results;
  for (int64_t task = 0; task < 10; ++task) results.push_back(Value(task));
  scheduler_.ChunkFinished(
      running_[0].worker,
      Succeeded(running_[0].attempt, std::move(results), absl::Milliseconds(1)),
      now_);
  Collect();
  const JobStatus page =
      *scheduler_.GetJob(job.id, false, {.first = 4, .count = 3});
  EXPECT_EQ(page.state, JobState::kSucceeded);
  EXPECT_EQ(page.task_count, 10);
  EXPECT_EQ(page.first_task, 4);
  ASSERT_THAT(page.task_results, SizeIs(3));
  EXPECT_EQ(std::get<int64_t>(*page.task_results[0]), 4);
  EXPECT_EQ(std::get<int64_t>(*page.task_results[2]), 6);
  // Past the end: what there is, then nothing.
  EXPECT_THAT(
      scheduler_.GetJob(job.id, false, {.first = 8, .count = 5})->task_results,
      SizeIs(2));
  EXPECT_THAT(
      scheduler_.GetJob(job.id, false, {.first = 20, .count = 5})->task_results,
      SizeIs(0));
  // Listings never carry them.
  EXPECT_THAT(scheduler_.ListJobs(10)[0].task_results, SizeIs(0));
  EXPECT_EQ(scheduler_.ListJobs(10)[0].task_count, 10);
}

TEST_F(SchedulerTest, RejectsChunkValueThatIsNotItsTaskResults) {
  Join(1, 1);
  const JobStatus job = Submit(Batch(4, 4));
  ASSERT_THAT(running_, SizeIs(1));
  // A plain value where 4 task results belong.
  scheduler_.ChunkFinished(
      running_[0].worker,
      Succeeded(running_[0].attempt, Value(int64_t{4}), absl::Milliseconds(1)),
      now_);
  Collect();
  EXPECT_NE(Get(job.id).state, JobState::kSucceeded);
}

TEST_F(SchedulerTest, RejectsBadBatches) {
  Join(1, 1);
  auto message = [&](const JobSpec& spec) {
    const absl::Status status = SubmitStatus(spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    return std::string(status.message());
  };
  JobSpec range = Batch(3);
  range.end = 4;
  EXPECT_THAT(message(range), HasSubstr("[0, 3)"));
  JobSpec collect = Batch(3);
  collect.reduction = Reduction::kCollect;
  EXPECT_THAT(message(collect), HasSubstr("drop the collect reduction"));
  JobSpec command = Batch(3);
  command.executor = ExecutorKind::kCommand;
  EXPECT_EQ(SubmitStatus(command).code(), absl::StatusCode::kInvalidArgument);
  JobSpec empty_task = Batch(3);
  empty_task.tasks[2].range.end = 2;
  EXPECT_THAT(message(empty_task), HasSubstr("task 2 has range [2, 2)"));
  JobSpec bad_param = Batch(3);
  bad_param.tasks[1].params["bogus"] = int64_t{1};
  EXPECT_THAT(message(bad_param), HasSubstr("task 1: "));
  JobSpec negative = Spec(0, 10);
  negative.max_parallel = -1;
  EXPECT_THAT(message(negative), HasSubstr("must not be negative"));
}

}  // namespace
}  // namespace pfor::coordinator
