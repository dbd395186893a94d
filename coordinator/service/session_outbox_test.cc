#include "session_outbox.h"

#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

const absl::Time kStart = absl::UnixEpoch();

JobEvent Progress(uint64_t job, int64_t chunks_done) {
  JobEvent event;
  event.job = job;
  event.state = JobState::kRunning;
  event.progress.chunks_done = chunks_done;
  return event;
}

JobEvent Tasks(uint64_t job, int64_t first, std::vector<TaskResult> results) {
  JobEvent event = Progress(job, first);
  event.tasks.push_back({first, std::make_shared<const std::vector<TaskResult>>(
                                    std::move(results))});
  return event;
}

TEST(SessionOutboxTest, EventsOfOneJobMergeWhileWaitingToGo) {
  SessionOutbox outbox;
  outbox.Follow(1, absl::ZeroDuration(), Progress(1, 0), kStart);
  outbox.Add(Tasks(1, 0, {Value(int64_t{5})}), kStart);
  outbox.Add(Tasks(1, 1, {Value(int64_t{6}), Value(int64_t{7})}), kStart);
  SessionOutbox::Batch batch = outbox.Take();
  ASSERT_EQ(batch.events.size(), 1u);
  const JobEvent& event = batch.events[0];
  EXPECT_EQ(event.progress.chunks_done, 1);
  ASSERT_EQ(event.tasks.size(), 2u);
  EXPECT_EQ(event.tasks[0].first_task, 0);
  EXPECT_EQ(event.tasks[1].first_task, 1);
  EXPECT_EQ(event.tasks[1].results->size(), 2u);
  EXPECT_TRUE(outbox.Take().empty());
}

TEST(SessionOutboxTest, ProgressWaitsForItsIntervalAndTheNewestGoes) {
  SessionOutbox outbox;
  outbox.Follow(1, absl::Seconds(1), Progress(1, 0), kStart);
  outbox.Take();
  outbox.Add(Progress(1, 3), kStart + absl::Milliseconds(100));
  outbox.Add(Progress(1, 4), kStart + absl::Milliseconds(200));
  EXPECT_TRUE(outbox.Take().empty());
  EXPECT_FALSE(outbox.Tick(kStart + absl::Milliseconds(900)));
  EXPECT_TRUE(outbox.Tick(kStart + absl::Seconds(1)));
  SessionOutbox::Batch batch = outbox.Take();
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].progress.chunks_done, 4);
}

TEST(SessionOutboxTest, ProgressIsDroppedWithoutAnInterval) {
  SessionOutbox outbox;
  outbox.Follow(1, absl::ZeroDuration(), Progress(1, 0), kStart);
  outbox.Take();
  outbox.Add(Progress(1, 3), kStart + absl::Seconds(10));
  EXPECT_FALSE(outbox.Tick(kStart + absl::Seconds(20)));
  EXPECT_TRUE(outbox.Take().empty());
}

TEST(SessionOutboxTest, TheFinalStateEndsTheFollow) {
  SessionOutbox outbox;
  outbox.Follow(1, absl::ZeroDuration(), Progress(1, 0), kStart);
  JobEvent done = Progress(1, 9);
  done.state = JobState::kSucceeded;
  done.status = std::make_shared<const JobStatus>();
  outbox.Add(done, kStart);
  EXPECT_TRUE(outbox.FollowedJobs().empty());
  outbox.Add(Tasks(1, 0, {Value(int64_t{1})}), kStart);
  SessionOutbox::Batch batch = outbox.Take();
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].state, JobState::kSucceeded);
  EXPECT_TRUE(batch.events[0].tasks.empty());
}

TEST(SessionOutboxTest, EventsOfJobsNotFollowedAreIgnored) {
  SessionOutbox outbox;
  outbox.Add(Progress(2, 1), kStart);
  EXPECT_TRUE(outbox.Take().empty());
}

TEST(SessionOutboxTest, AnswersGoFirstAndBatchesMergePerJob) {
  SessionOutbox::Batch a;
  a.answers.push_back({1, absl::NotFoundError("x")});
  a.events.push_back(Tasks(7, 0, {Value(int64_t{1})}));
  SessionOutbox::Batch b;
  b.answers.push_back({2, absl::NotFoundError("y")});
  b.events.push_back(Tasks(7, 1, {Value(int64_t{2})}));
  b.events.push_back(Progress(8, 1));
  a.Merge(std::move(b));
  ASSERT_EQ(a.answers.size(), 2u);
  EXPECT_EQ(a.answers[1].call, 2u);
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].tasks.size(), 2u);
  EXPECT_EQ(a.events[1].job, 8u);
}

}  // namespace
}  // namespace pfor::coordinator
