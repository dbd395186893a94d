#include "sqlite_journal.h"

#include <cstdlib>
#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/wire.h"
#include "pfor/v1/job.pb.h"
#include "sqlite3.h"

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

std::shared_ptr<const JobSpec> Spec() {
  auto spec = std::make_shared<JobSpec>();
  spec->kernel = "count_primes";
  spec->begin = 0;
  spec->end = 1000;
  spec->chunks = ChunkPolicy::Fixed(10);
  return spec;
}

std::shared_ptr<const ChunkOutput> Output(Value value) {
  return std::make_shared<const ChunkOutput>(std::move(value));
}

TEST_F(SqliteJournalTest, GivesBackWhatWasWrittenAfterReopening) {
  ExactSum half;
  half.Add(0.5);
  auto ended = std::make_shared<JobStatus>();
  ended->id = 8;
  ended->spec = Spec();
  ended->state = JobState::kSucceeded;
  ended->value = Value(int64_t{42});
  {
    auto journal = OpenSqliteJournal(dir_ + "/state", 10);
    ASSERT_TRUE(journal.ok()) << journal.status();
    ASSERT_TRUE((*journal)
                    ->Write({JobAccepted{7, Spec(),
                                         absl::FromUnixSeconds(1'700'000'000)},
                             ChunkDone{7, 0, 10, Output(half)},
                             ChunkDone{7, 10, 20, Output(half)},
                             ChunkDone{7, 30, 40, Output(int64_t{4})}})
                    .ok());
    ASSERT_TRUE((*journal)
                    ->Write({JobAccepted{8, Spec(), absl::UnixEpoch()},
                             JobEnded{8, ended}})
                    .ok());
  }
  auto reopened = OpenSqliteJournal(dir_ + "/state", 10);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<std::vector<RecoveredJob>> jobs = (*reopened)->Load();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  const RecoveredJob& job = (*jobs)[0];
  EXPECT_EQ(job.job, 7u);
  EXPECT_EQ(job.spec->chunks.kind, ChunkPolicy::Kind::kFixed);
  EXPECT_EQ(job.spec->chunks.value, 10);
  EXPECT_EQ(job.submit_time, absl::FromUnixSeconds(1'700'000'000));
  EXPECT_EQ(job.final_state, nullptr);
  EXPECT_EQ(job.prefix_end, 20);
  EXPECT_EQ(job.prefix_chunks, 2);
  ASSERT_TRUE(job.prefix_value.has_value());
  // Still exact: a sum of halves, not a rounded double.
  ASSERT_TRUE(std::holds_alternative<ExactSum>(*job.prefix_value));
  EXPECT_EQ(ToDouble(*job.prefix_value), 1.0);
  ASSERT_EQ(job.chunks.size(), 1u);
  EXPECT_EQ(job.chunks[0].begin, 30);
  EXPECT_EQ(std::get<int64_t>(std::get<Value>(*job.chunks[0].output)), 4);
  const RecoveredJob& done = (*jobs)[1];
  ASSERT_NE(done.final_state, nullptr);
  EXPECT_EQ(done.final_state->state, JobState::kSucceeded);
  EXPECT_EQ(std::get<int64_t>(*done.final_state->value), 42);
  ASSERT_NE(done.final_state->spec, nullptr);
  EXPECT_EQ(done.final_state->spec->kernel, "count_primes");
}

TEST_F(SqliteJournalTest, KeepsBatchChunksAndTaskResults) {
  auto spec = std::make_shared<JobSpec>();
  spec->kernel = "ones";
  spec->begin = 0;
  spec->end = 4;
  for (int i = 0; i < 4; ++i) spec->tasks.push_back({.range = {i, i + 1}});
  auto ended = std::make_shared<JobStatus>();
  ended->id = 2;
  ended->spec = spec;
  ended->state = JobState::kSucceeded;
  ended->task_results = {Value(int64_t{1}), absl::UnknownError("bad task")};
  {
    auto journal = OpenSqliteJournal(dir_, 10);
    ASSERT_TRUE(journal.ok()) << journal.status();
    ASSERT_TRUE((*journal)
                    ->Write({JobAccepted{1, spec, absl::UnixEpoch()},
                             ChunkDone{1, 2, 4,
                                       std::make_shared<const ChunkOutput>(
                                           std::vector<TaskResult>{
                                               Value(int64_t{7}),
                                               absl::UnknownError("boom")})},
                             JobAccepted{2, spec, absl::UnixEpoch()},
                             JobEnded{2, ended}})
                    .ok());
  }
  auto reopened = OpenSqliteJournal(dir_, 10);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<std::vector<RecoveredJob>> jobs = (*reopened)->Load();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  const RecoveredJob& running = (*jobs)[0];
  EXPECT_EQ(running.spec->tasks.size(), 4u);
  ASSERT_EQ(running.chunks.size(), 1u);
  const auto& results =
      std::get<std::vector<TaskResult>>(*running.chunks[0].output);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(*results[0]), 7);
  EXPECT_EQ(results[1].status().message(), "boom");
  const RecoveredJob& done = (*jobs)[1];
  ASSERT_NE(done.final_state, nullptr);
  ASSERT_EQ(done.final_state->task_results.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(*done.final_state->task_results[0]), 1);
  EXPECT_EQ(done.final_state->task_results[1].status().message(), "bad task");
}

// A state directory as coordinators before the C++ entries wrote it: rows of
// protobuf messages, written here without the journal.
TEST_F(SqliteJournalTest, LoadsRowsOfProtobufMessages) {
  { ASSERT_TRUE(OpenSqliteJournal(dir_, 10).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/journal.sqlite").c_str(), &db), SQLITE_OK);
  v1::JobSpec spec;
  spec.set_kernel("ones");
  spec.set_begin(0);
  spec.set_end(100);
  spec.mutable_chunking()->set_fixed_size(10);
  spec.set_reduction(v1::REDUCTION_SUM);
  ExactSum quarter;
  quarter.Add(0.25);
  const std::string prefix = ToProto(Value(quarter)).SerializeAsString();
  const std::string chunk = ToProto(Value(int64_t{10})).SerializeAsString();
  v1::Job ended;
  ended.set_id(2);
  ended.set_state(v1::JOB_STATE_FAILED);
  ended.set_error("chunk [0, 10) failed 3 times");
  auto run = [&](const std::string& sql, std::vector<std::string> blobs) {
    sqlite3_stmt* statement = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    for (size_t i = 0; i < blobs.size(); ++i) {
      sqlite3_bind_blob(statement, static_cast<int>(i) + 1, blobs[i].data(),
                        static_cast<int>(blobs[i].size()), SQLITE_TRANSIENT);
    }
    EXPECT_EQ(sqlite3_step(statement), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(statement);
  };
  run("INSERT INTO jobs VALUES(1, ?, 0, NULL)", {spec.SerializeAsString()});
  run("INSERT INTO prefixes VALUES(1, 20, ?, 2)", {prefix});
  run("INSERT INTO chunks VALUES(1, 50, 60, ?)", {chunk});
  run("INSERT INTO jobs VALUES(2, ?, 0, ?)",
      {spec.SerializeAsString(), ended.SerializeAsString()});
  sqlite3_close(db);

  auto journal = OpenSqliteJournal(dir_, 10);
  ASSERT_TRUE(journal.ok()) << journal.status();
  absl::StatusOr<std::vector<RecoveredJob>> jobs = (*journal)->Load();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  const RecoveredJob& job = (*jobs)[0];
  EXPECT_EQ(job.spec->kernel, "ones");
  EXPECT_EQ(job.spec->chunks.value, 10);
  EXPECT_EQ(job.prefix_end, 20);
  EXPECT_EQ(job.prefix_chunks, 2);
  EXPECT_EQ(ToDouble(*job.prefix_value), 0.25);
  ASSERT_EQ(job.chunks.size(), 1u);
  EXPECT_EQ(job.chunks[0].end, 60);
  EXPECT_EQ(std::get<int64_t>(std::get<Value>(*job.chunks[0].output)), 10);
  ASSERT_NE((*jobs)[1].final_state, nullptr);
  EXPECT_EQ((*jobs)[1].final_state->state, JobState::kFailed);
  EXPECT_EQ((*jobs)[1].final_state->error, "chunk [0, 10) failed 3 times");
}

TEST_F(SqliteJournalTest, NamesTheJobOfAnUnreadableRow) {
  { ASSERT_TRUE(OpenSqliteJournal(dir_, 10).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/journal.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO jobs VALUES(5, x'ffff', 0, NULL)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto journal = OpenSqliteJournal(dir_, 10);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(journal.status().message()), HasSubstr("job 5"));
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
