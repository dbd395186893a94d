#include "journal.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

std::shared_ptr<const JobSpec> Spec(int64_t begin, int64_t end,
                                    Reduction reduction = Reduction::kSum) {
  auto spec = std::make_shared<JobSpec>();
  spec->kernel = "ones";
  spec->begin = begin;
  spec->end = end;
  spec->reduction = reduction;
  return spec;
}

ChunkDone Chunk(JobId job, int64_t begin, int64_t end) {
  return {job, begin, end,
          std::make_shared<const ChunkOutput>(Value(end - begin))};
}

std::shared_ptr<const JobStatus> Ended(JobState state) {
  auto status = std::make_shared<JobStatus>();
  status->state = state;
  return status;
}

RecoveredJob Only(Journal& journal) {
  absl::StatusOr<std::vector<RecoveredJob>> jobs = journal.Load();
  EXPECT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 1u);
  return jobs->empty() ? RecoveredJob() : jobs->front();
}

TEST(JournalTest, FoldsTheContiguousPrefixOfCompletedChunks) {
  auto journal = NewMemoryJournal(10);
  ASSERT_TRUE(
      journal->Write({JobAccepted{1, Spec(0, 100), absl::UnixEpoch()}}).ok());
  ASSERT_TRUE(
      journal->Write({Chunk(1, 0, 10), Chunk(1, 20, 30), Chunk(1, 40, 50)})
          .ok());
  RecoveredJob job = Only(*journal);
  EXPECT_EQ(job.prefix_end, 10);
  EXPECT_EQ(job.prefix_chunks, 1);
  ASSERT_EQ(job.chunks.size(), 2u);
  EXPECT_EQ(job.chunks[0].begin, 20);
  // The missing chunk joins the prefix, and so does the one after it.
  ASSERT_TRUE(journal->Write({Chunk(1, 10, 20)}).ok());
  job = Only(*journal);
  EXPECT_EQ(job.prefix_end, 30);
  EXPECT_EQ(job.prefix_chunks, 3);
  ASSERT_TRUE(job.prefix_value.has_value());
  EXPECT_EQ(std::get<int64_t>(*job.prefix_value), 30);
  ASSERT_EQ(job.chunks.size(), 1u);
  EXPECT_EQ(job.chunks[0].begin, 40);
}

TEST(JournalTest, SharesTheSpecAndTheChunkOutputs) {
  auto journal = NewMemoryJournal(10);
  const std::shared_ptr<const JobSpec> spec = Spec(0, 100);
  const ChunkDone beyond = Chunk(1, 20, 30);
  ASSERT_TRUE(
      journal->Write({JobAccepted{1, spec, absl::UnixEpoch()}, beyond}).ok());
  const RecoveredJob job = Only(*journal);
  EXPECT_EQ(job.spec, spec);
  ASSERT_EQ(job.chunks.size(), 1u);
  EXPECT_EQ(job.chunks[0].output, beyond.output);
}

TEST(JournalTest, CollectKeepsEveryChunk) {
  auto journal = NewMemoryJournal(10);
  ASSERT_TRUE(journal
                  ->Write({JobAccepted{1, Spec(0, 30, Reduction::kCollect),
                                       absl::UnixEpoch()},
                           Chunk(1, 0, 10), Chunk(1, 10, 20)})
                  .ok());
  const RecoveredJob job = Only(*journal);
  EXPECT_FALSE(job.prefix_value.has_value());
  EXPECT_EQ(job.chunks.size(), 2u);
}

TEST(JournalTest, BatchKeepsEveryChunk) {
  auto journal = NewMemoryJournal(10);
  auto spec = std::make_shared<JobSpec>(*Spec(0, 2));
  spec->tasks = {Task{.range = {0, 1}}, Task{.range = {1, 2}}};
  ASSERT_TRUE(
      journal
          ->Write({JobAccepted{1, spec, absl::UnixEpoch()},
                   ChunkDone{1, 0, 1,
                             std::make_shared<const ChunkOutput>(
                                 std::vector<TaskResult>{Value(int64_t{5})})}})
          .ok());
  const RecoveredJob job = Only(*journal);
  EXPECT_FALSE(job.prefix_value.has_value());
  ASSERT_EQ(job.chunks.size(), 1u);
}

// Not folded, so not lost either: the check on load names it.
TEST(JournalTest, KeepsTaskResultsThatDoNotFoldIntoAValueOnTheirOwn) {
  auto journal = NewMemoryJournal(10);
  ASSERT_TRUE(journal
                  ->Write({JobAccepted{1, Spec(0, 10), absl::UnixEpoch()},
                           ChunkDone{1, 0, 1,
                                     std::make_shared<const ChunkOutput>(
                                         std::vector<TaskResult>{})}})
                  .ok());
  const RecoveredJob job = Only(*journal);
  EXPECT_FALSE(job.prefix_value.has_value());
  ASSERT_EQ(job.chunks.size(), 1u);
  EXPECT_THAT(std::string(CheckRecoveredJob(job).message()),
              ::testing::HasSubstr("job 1: the chunk row [0, 1) holds task "
                                   "results, but the job is no batch"));
}

TEST(JournalTest, EndedJobKeepsItsFinalStateOnly) {
  auto journal = NewMemoryJournal(10);
  auto final_state = std::make_shared<JobStatus>();
  final_state->state = JobState::kSucceeded;
  final_state->value = Value(int64_t{100});
  ASSERT_TRUE(journal
                  ->Write({JobAccepted{1, Spec(0, 100), absl::UnixEpoch()},
                           Chunk(1, 50, 60), JobEnded{1, final_state},
                           Chunk(1, 60, 70)})
                  .ok());
  const RecoveredJob job = Only(*journal);
  ASSERT_NE(job.final_state, nullptr);
  EXPECT_EQ(std::get<int64_t>(*job.final_state->value), 100);
  EXPECT_TRUE(job.chunks.empty());
}

TEST(JournalTest, ForgetsTheOldestEndedJobs) {
  auto journal = NewMemoryJournal(2);
  for (JobId id = 1; id <= 4; ++id) {
    ASSERT_TRUE(
        journal->Write({JobAccepted{id, Spec(0, 10), absl::UnixEpoch()}}).ok());
  }
  for (JobId id = 1; id <= 3; ++id) {
    ASSERT_TRUE(
        journal->Write({JobEnded{id, Ended(JobState::kSucceeded)}}).ok());
  }
  absl::StatusOr<std::vector<RecoveredJob>> jobs = journal->Load();
  ASSERT_TRUE(jobs.ok());
  std::vector<JobId> ids;
  for (const RecoveredJob& job : *jobs) ids.push_back(job.job);
  EXPECT_THAT(ids, ::testing::ElementsAre(2, 3, 4));
}

TEST(JournalTest, IgnoresChunksOfUnknownJobs) {
  auto journal = NewMemoryJournal(2);
  ASSERT_TRUE(journal->Write({Chunk(9, 0, 1)}).ok());
  EXPECT_TRUE(journal->Load()->empty());
}

}  // namespace
}  // namespace pfor::coordinator
