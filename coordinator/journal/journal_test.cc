#include "journal.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

v1::JobSpec Spec(int64_t begin, int64_t end,
                 v1::Reduction reduction = v1::REDUCTION_SUM) {
  v1::JobSpec spec;
  spec.set_kernel("ones");
  spec.set_begin(begin);
  spec.set_end(end);
  spec.set_reduction(reduction);
  return spec;
}

ChunkDone Chunk(JobId job, int64_t begin, int64_t end) {
  return {job, begin, end, ToProto(Value(end - begin))};
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
  EXPECT_EQ(job.prefix_value->int_value(), 30);
  ASSERT_EQ(job.chunks.size(), 1u);
  EXPECT_EQ(job.chunks[0].begin, 40);
}

TEST(JournalTest, CollectKeepsEveryChunk) {
  auto journal = NewMemoryJournal(10);
  ASSERT_TRUE(journal
                  ->Write({JobAccepted{1, Spec(0, 30, v1::REDUCTION_COLLECT),
                                       absl::UnixEpoch()},
                           Chunk(1, 0, 10), Chunk(1, 10, 20)})
                  .ok());
  const RecoveredJob job = Only(*journal);
  EXPECT_FALSE(job.prefix_value.has_value());
  EXPECT_EQ(job.chunks.size(), 2u);
}

TEST(JournalTest, EndedJobKeepsItsFinalStateOnly) {
  auto journal = NewMemoryJournal(10);
  v1::Job final_state;
  final_state.set_state(v1::JOB_STATE_SUCCEEDED);
  final_state.mutable_result()->set_int_value(100);
  ASSERT_TRUE(journal
                  ->Write({JobAccepted{1, Spec(0, 100), absl::UnixEpoch()},
                           Chunk(1, 50, 60), JobEnded{1, final_state},
                           Chunk(1, 60, 70)})
                  .ok());
  const RecoveredJob job = Only(*journal);
  ASSERT_TRUE(job.final_state.has_value());
  EXPECT_EQ(job.final_state->result().int_value(), 100);
  EXPECT_TRUE(job.chunks.empty());
}

TEST(JournalTest, ForgetsTheOldestEndedJobs) {
  auto journal = NewMemoryJournal(2);
  for (JobId id = 1; id <= 4; ++id) {
    ASSERT_TRUE(
        journal->Write({JobAccepted{id, Spec(0, 10), absl::UnixEpoch()}}).ok());
  }
  for (JobId id = 1; id <= 3; ++id)
    ASSERT_TRUE(journal->Write({JobEnded{id, v1::Job()}}).ok());
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
