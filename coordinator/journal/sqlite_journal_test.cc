#include "sqlite_journal.h"

#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal_writer.h"
#include "pfor/common/wire.h"
#include "pfor/v1/job.pb.h"
#include "sqlite3.h"

namespace pfor::coordinator {
namespace {

using ::testing::AllOf;
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

absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& directory) {
  absl::StatusOr<OpenedJournal> opened =
      OpenSqliteJournal({.directory = directory, .keep_jobs = 10});
  if (!opened.ok()) return opened.status();
  EXPECT_THAT(opened->recovered, ::testing::IsEmpty());
  return std::move(opened->journal);
}

// Runs `sql` on the journal's database, bypassing the journal.
void Sql(const std::string& directory, const std::string& sql,
         const std::vector<std::string>& blobs = {}) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((directory + "/journal.sqlite").c_str(), &db),
            SQLITE_OK);
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
  sqlite3_close(db);
}

// An ended job's results (a batch's million task results, say) are on disk
// once written: the journal holds on to neither them nor the job's spec.
TEST_F(SqliteJournalTest, KeepsEndedJobsOnDiskOnly) {
  auto journal = Open(dir_);
  ASSERT_TRUE(journal.ok()) << journal.status();
  std::weak_ptr<const JobSpec> spec;
  std::weak_ptr<const JobStatus> final_state;
  {
    auto batch = std::make_shared<JobSpec>(*Spec());
    batch->end = 3;
    batch->tasks.resize(3, Task{.range = {0, 1}});
    auto ended = std::make_shared<JobStatus>();
    ended->id = 5;
    ended->spec = batch;
    ended->state = JobState::kSucceeded;
    ended->task_results = {Value(int64_t{1}), Value(int64_t{2}),
                           absl::UnknownError("boom")};
    spec = batch;
    final_state = ended;
    ASSERT_TRUE((*journal)
                    ->Write({JobAccepted{5, batch, absl::UnixEpoch()},
                             JobEnded{5, ended}})
                    .ok());
  }
  EXPECT_TRUE(spec.expired());
  EXPECT_TRUE(final_state.expired());
  // Read back from the database all the same.
  absl::StatusOr<std::vector<RecoveredJob>> jobs = (*journal)->Load();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  ASSERT_NE((*jobs)[0].final_state, nullptr);
  ASSERT_EQ((*jobs)[0].final_state->task_results.size(), 3u);
  EXPECT_EQ((*jobs)[0].final_state->task_results[2].status().message(), "boom");
  EXPECT_EQ((*jobs)[0].final_state->task_count, 3);
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
    auto journal = Open(dir_ + "/state");
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
  auto reopened = Open(dir_ + "/state");
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

// The writer's retry loop against SQLite on a disk that fills up (a file
// size limit of 0: every write fails with EFBIG, as on a full disk): the
// failure is reported while it lasts, the writer catches up by itself once
// there is room, and after a restart every chunk is there.
TEST_F(SqliteJournalTest, WriterCatchesUpAfterAFullDiskAndLosesNothing) {
  constexpr int kChunks = 100;
  {
    auto journal = Open(dir_ + "/state");
    ASSERT_TRUE(journal.ok()) << journal.status();
    JournalWriter writer(journal->get(), absl::Milliseconds(5));
    writer.Append({JobAccepted{7, Spec(), absl::UnixEpoch()},
                   ChunkDone{7, 0, 10, Output(int64_t{1})}});
    ASSERT_TRUE(writer.Sync().ok());
    // Past the limit, write() fails with EFBIG instead of raising SIGXFSZ.
    const sighandler_t previous = std::signal(SIGXFSZ, SIG_IGN);
    rlimit room;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &room), 0);
    rlimit full = room;
    full.rlim_cur = 0;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &full), 0);
    for (int chunk = 1; chunk < kChunks; ++chunk) {
      writer.Append(
          {ChunkDone{7, chunk * 10, chunk * 10 + 10, Output(int64_t{1})}});
    }
    const absl::Status while_full = writer.Sync();
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &room), 0);
    std::signal(SIGXFSZ, previous);
    EXPECT_EQ(while_full.code(), absl::StatusCode::kResourceExhausted)
        << while_full;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!writer.status().ok() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    EXPECT_TRUE(writer.status().ok()) << writer.status();
  }
  auto reopened = Open(dir_ + "/state");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<std::vector<RecoveredJob>> jobs = (*reopened)->Load();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].prefix_end, kChunks * 10);
  EXPECT_EQ((*jobs)[0].prefix_chunks, kChunks);
  ASSERT_TRUE((*jobs)[0].prefix_value.has_value());
  EXPECT_EQ(ToDouble(*(*jobs)[0].prefix_value), kChunks);
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
    auto journal = Open(dir_);
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
  auto reopened = Open(dir_);
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

// A state directory as coordinators of journal schema 1 wrote it (no start
// times, no sequence): rows of protobuf messages, written here by hand.
TEST_F(SqliteJournalTest, LoadsAJournalOfSchemaOne) {
  for (const char* table :
       {"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO meta VALUES('schema', 1)",
        "CREATE TABLE jobs(id INTEGER PRIMARY KEY, spec BLOB NOT NULL, "
        "submit_unix_nanos INTEGER NOT NULL, final_state BLOB)",
        "CREATE TABLE prefixes(job INTEGER PRIMARY KEY, end_index INTEGER NOT "
        "NULL, value BLOB NOT NULL, chunks INTEGER NOT NULL)",
        "CREATE TABLE chunks(job INTEGER NOT NULL, begin_index INTEGER NOT "
        "NULL, end_index INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY "
        "KEY(job, begin_index))"}) {
    Sql(dir_, table);
  }
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
  Sql(dir_, "INSERT INTO jobs VALUES(1, ?, 0, NULL)",
      {spec.SerializeAsString()});
  Sql(dir_, "INSERT INTO prefixes VALUES(1, 20, ?, 2)", {prefix});
  Sql(dir_, "INSERT INTO chunks VALUES(1, 50, 60, ?)", {chunk});
  Sql(dir_, "INSERT INTO jobs VALUES(2, ?, 0, ?)",
      {spec.SerializeAsString(), ended.SerializeAsString()});

  auto journal = Open(dir_);
  ASSERT_TRUE(journal.ok()) << journal.status();
  absl::StatusOr<std::vector<RecoveredJob>> jobs = (*journal)->Load();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  const RecoveredJob& job = (*jobs)[0];
  EXPECT_EQ(job.spec->kernel, "ones");
  EXPECT_EQ(job.spec->chunks.value, 10);
  EXPECT_EQ(job.start_time, absl::InfinitePast());
  EXPECT_EQ(job.prefix_end, 20);
  EXPECT_EQ(job.prefix_chunks, 2);
  EXPECT_EQ(ToDouble(*job.prefix_value), 0.25);
  ASSERT_EQ(job.chunks.size(), 1u);
  EXPECT_EQ(job.chunks[0].end, 60);
  EXPECT_EQ(std::get<int64_t>(std::get<Value>(*job.chunks[0].output)), 10);
  ASSERT_NE((*jobs)[1].final_state, nullptr);
  EXPECT_EQ((*jobs)[1].final_state->state, JobState::kFailed);
  EXPECT_EQ((*jobs)[1].final_state->error, "chunk [0, 10) failed 3 times");
  // Upgraded in place: it now records its writes, and a restart sees them.
  ASSERT_TRUE((*journal)->Write({JobStarted{1, absl::UnixEpoch()}}).ok());
  journal->reset();
  auto reopened = Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*(*reopened)->Load())[0].start_time, absl::UnixEpoch());
}

TEST_F(SqliteJournalTest, NamesTheJobOfAnUnreadableRow) {
  { ASSERT_TRUE(Open(dir_).ok()); }
  Sql(dir_, "INSERT INTO jobs VALUES(5, x'ffff', 0, NULL, NULL)");
  auto journal = Open(dir_);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(journal.status().message()), HasSubstr("job 5"));
}

TEST_F(SqliteJournalTest, RefusesASecondCoordinatorOnTheSameDirectory) {
  auto first = Open(dir_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(
      (*first)->Write({JobAccepted{1, Spec(), absl::UnixEpoch()}}).ok());
  auto second = Open(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("another pfor-coordinator"));
}

TEST_F(SqliteJournalTest, ExplainsAnUnusableDirectory) {
  auto journal = Open("/proc/pfor-no-such-place/state");
  ASSERT_FALSE(journal.ok());
  EXPECT_THAT(std::string(journal.status().message()),
              HasSubstr("--state-dir"));
}

// A journal with job 7 half done: a folded prefix [0, 20) and chunk
// [30, 40) of a fixed-size job over [0, 1000).
void WriteHalfDoneJob(const std::string& directory) {
  auto journal = Open(directory);
  ASSERT_TRUE(journal.ok()) << journal.status();
  ASSERT_TRUE((*journal)
                  ->Write({JobAccepted{7, Spec(), absl::UnixEpoch()},
                           ChunkDone{7, 0, 10, Output(int64_t{4})},
                           ChunkDone{7, 10, 20, Output(int64_t{4})},
                           ChunkDone{7, 30, 40, Output(int64_t{2})}})
                  .ok());
}

absl::StatusOr<OpenedJournal> Recover(const std::string& directory) {
  return OpenSqliteJournal(
      {.directory = directory, .keep_jobs = 10, .recover = true});
}

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

TEST_F(SqliteJournalTest, RefusesChunkRowsThatOverlap) {
  WriteHalfDoneJob(dir_);
  Sql(dir_, "INSERT INTO chunks VALUES(7, 15, 25, ?)",
      {ToProto(Value(int64_t{1})).SerializeAsString()});
  auto journal = Open(dir_);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(journal.status()),
              AllOf(HasSubstr("job 7"), HasSubstr("chunk row [15, 25)"),
                    HasSubstr("overlaps"), HasSubstr("--recover")));
}

TEST_F(SqliteJournalTest, RefusesRowsOutsideTheJobsRange) {
  WriteHalfDoneJob(dir_);
  Sql(dir_, "UPDATE prefixes SET end_index = 1200 WHERE job = 7");
  auto journal = Open(dir_);
  ASSERT_FALSE(journal.ok());
  EXPECT_THAT(Message(journal.status()),
              AllOf(HasSubstr("job 7"), HasSubstr("prefix row [0, 1200)"),
                    HasSubstr("outside the job's range [0, 1000)")));
}

TEST_F(SqliteJournalTest, RefusesACountThatIsNotAnInteger) {
  auto spec = std::make_shared<JobSpec>(*Spec());
  spec->reduction = Reduction::kCount;
  {
    auto journal = Open(dir_);
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(
        (*journal)->Write({JobAccepted{3, spec, absl::UnixEpoch()}}).ok());
  }
  ExactSum half;
  half.Add(0.5);
  Sql(dir_, "INSERT INTO chunks VALUES(3, 0, 10, ?)",
      {ToProto(Value(half)).SerializeAsString()});
  auto journal = Open(dir_);
  ASSERT_FALSE(journal.ok());
  EXPECT_THAT(Message(journal.status()),
              AllOf(HasSubstr("job 3"), HasSubstr("not an integer")));
}

TEST_F(SqliteJournalTest, RecoverFailsTheJobWhoseRowsDoNotAddUp) {
  WriteHalfDoneJob(dir_);
  {
    auto journal = Open(dir_);
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(
        (*journal)->Write({JobAccepted{8, Spec(), absl::UnixEpoch()}}).ok());
  }
  Sql(dir_, "INSERT INTO chunks VALUES(7, 995, 1005, ?)",
      {ToProto(Value(int64_t{1})).SerializeAsString()});
  absl::StatusOr<OpenedJournal> opened = Recover(dir_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->recovered.size(), 1u);
  EXPECT_THAT(opened->recovered[0],
              AllOf(HasSubstr("job 7"), HasSubstr("[995, 1005)"),
                    HasSubstr("the job is failed")));
  absl::StatusOr<std::vector<RecoveredJob>> jobs = opened->journal->Load();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  ASSERT_NE((*jobs)[0].final_state, nullptr);
  EXPECT_EQ((*jobs)[0].final_state->state, JobState::kFailed);
  EXPECT_THAT((*jobs)[0].final_state->error, HasSubstr("[995, 1005)"));
  EXPECT_EQ((*jobs)[1].final_state, nullptr);  // job 8 is fine
  // The failure is durable: the next start needs no --recover.
  opened->journal.reset();
  auto reopened = Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*(*reopened)->Load())[0].final_state->state, JobState::kFailed);
}

TEST_F(SqliteJournalTest, RefusesADatabaseRestoredFromAnOlderCopy) {
  WriteHalfDoneJob(dir_);
  std::filesystem::copy_file(dir_ + "/journal.sqlite", dir_ + "/older");
  {
    auto journal = Open(dir_);
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(
        (*journal)->Write({JobAccepted{8, Spec(), absl::UnixEpoch()}}).ok());
  }
  std::filesystem::rename(dir_ + "/older", dir_ + "/journal.sqlite");
  auto journal = Open(dir_);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(
      Message(journal.status()),
      AllOf(HasSubstr("holds 1 of the 2 writes"), HasSubstr("--recover")));

  absl::StatusOr<OpenedJournal> opened = Recover(dir_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->recovered.size(), 1u);
  EXPECT_THAT(opened->recovered[0], HasSubstr("the last 1 writes are lost"));
  EXPECT_EQ(opened->journal->Load()->size(), 1u);  // job 7 only
}

TEST_F(SqliteJournalTest, RefusesAnEmptiedDatabase) {
  WriteHalfDoneJob(dir_);
  std::filesystem::remove(dir_ + "/journal.sqlite");
  auto journal = Open(dir_);
  ASSERT_FALSE(journal.ok());
  EXPECT_THAT(Message(journal.status()),
              HasSubstr("the database was emptied or replaced"));
  absl::StatusOr<OpenedJournal> opened = Recover(dir_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->recovered.size(), 1u);
  EXPECT_TRUE(opened->journal->Load()->empty());
}

TEST_F(SqliteJournalTest, MovesADamagedDatabaseAsideOnlyWhenToldTo) {
  WriteHalfDoneJob(dir_);
  {
    std::FILE* file = std::fopen((dir_ + "/journal.sqlite").c_str(), "r+");
    ASSERT_NE(file, nullptr);
    std::fputs("this is not a database at all, nothing like one", file);
    std::fclose(file);
  }
  auto journal = Open(dir_);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(journal.status()),
              AllOf(HasSubstr("is damaged"), HasSubstr("--recover")));
  absl::StatusOr<OpenedJournal> opened = Recover(dir_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->recovered.size(), 1u);
  EXPECT_THAT(opened->recovered[0], HasSubstr("journal.sqlite.damaged-"));
  EXPECT_TRUE(opened->journal->Load()->empty());
}

TEST_F(SqliteJournalTest, RefusesAnUnreadableSequenceRecord) {
  WriteHalfDoneJob(dir_);
  {
    std::FILE* file = std::fopen((dir_ + "/journal.sequence").c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs("garbage\n", file);
    std::fclose(file);
  }
  auto journal = Open(dir_);
  ASSERT_FALSE(journal.ok());
  EXPECT_THAT(Message(journal.status()),
              AllOf(HasSubstr("journal.sequence does not read"),
                    HasSubstr("--recover")));
  absl::StatusOr<OpenedJournal> opened = Recover(dir_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->journal->Load()->size(), 1u);
}

}  // namespace
}  // namespace pfor::coordinator
