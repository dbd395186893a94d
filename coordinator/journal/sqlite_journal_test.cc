#include "sqlite_journal.h"

#include <cstdlib>
#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;

class SqliteJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/pfor-journal-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

v1::JobSpec Spec() {
  v1::JobSpec spec;
  spec.set_kernel("count_primes");
  spec.set_begin(0);
  spec.set_end(1000);
  spec.mutable_chunking()->set_fixed_size(10);
  return spec;
}

TEST_F(SqliteJournalTest, GivesBackWhatWasWrittenAfterReopening) {
  ExactSum half;
  half.Add(0.5);
  {
    auto journal = OpenSqliteJournal(dir_ + "/state", 10);
    ASSERT_TRUE(journal.ok()) << journal.status();
    ASSERT_TRUE((*journal)
                    ->Write({JobAccepted{7, Spec(),
                                         absl::FromUnixSeconds(1'700'000'000)},
                             ChunkDone{7, 0, 10, ToProto(Value(half))},
                             ChunkDone{7, 10, 20, ToProto(Value(half))},
                             ChunkDone{7, 30, 40, ToProto(Value(int64_t{4}))}})
                    .ok());
    ASSERT_TRUE((*journal)
                    ->Write({JobAccepted{8, Spec(), absl::UnixEpoch()},
                             JobEnded{8, v1::Job()}})
                    .ok());
  }
  auto reopened = OpenSqliteJournal(dir_ + "/state", 10);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<std::vector<RecoveredJob>> jobs = (*reopened)->Load();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  const RecoveredJob& job = (*jobs)[0];
  EXPECT_EQ(job.job, 7u);
  EXPECT_EQ(job.spec.chunking().fixed_size(), 10);
  EXPECT_EQ(job.submit_time, absl::FromUnixSeconds(1'700'000'000));
  EXPECT_FALSE(job.final_state.has_value());
  EXPECT_EQ(job.prefix_end, 20);
  EXPECT_EQ(job.prefix_chunks, 2);
  EXPECT_EQ(ToDouble(*FromProto(*job.prefix_value)), 1.0);
  ASSERT_EQ(job.chunks.size(), 1u);
  EXPECT_EQ(job.chunks[0].begin, 30);
  EXPECT_EQ(job.chunks[0].value.int_value(), 4);
  EXPECT_TRUE((*jobs)[1].final_state.has_value());
}

TEST_F(SqliteJournalTest, RefusesASecondCoordinatorOnTheSameDirectory) {
  auto first = OpenSqliteJournal(dir_, 10);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(
      (*first)->Write({JobAccepted{1, Spec(), absl::UnixEpoch()}}).ok());
  auto second = OpenSqliteJournal(dir_, 10);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("another pfor-coordinator"));
}

TEST_F(SqliteJournalTest, ExplainsAnUnusableDirectory) {
  auto journal = OpenSqliteJournal("/proc/pfor-no-such-place/state", 10);
  ASSERT_FALSE(journal.ok());
  EXPECT_THAT(std::string(journal.status().message()),
              HasSubstr("--state-dir"));
}

}  // namespace
}  // namespace pfor::coordinator
