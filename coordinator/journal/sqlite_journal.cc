#include "sqlite_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "journal_state.h"
#include "pfor/common/wire.h"
#include "pfor/common/wire_job.h"
#include "pfor/common/wire_link.h"
#include "sqlite3.h"

namespace pfor::coordinator {
namespace {

// 1: jobs, prefixes, chunks. 2: a job's start time; the journal's identity
// and sequence in meta.
constexpr int kSchemaVersion = 2;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY,
  spec BLOB NOT NULL,
  submit_unix_nanos INTEGER NOT NULL,
  final_state BLOB,
  start_unix_nanos INTEGER);
CREATE TABLE IF NOT EXISTS prefixes(
  job INTEGER PRIMARY KEY,
  end_index INTEGER NOT NULL,
  value BLOB NOT NULL,
  chunks INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
  job INTEGER NOT NULL,
  begin_index INTEGER NOT NULL,
  end_index INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY(job, begin_index));
)sql";

constexpr char kSequenceFile[] = "journal.sequence";
// journal.sequence holds one line, padded to this size so that every
// update overwrites it in place (no new block is needed on a full disk).
constexpr size_t kSequenceRecord = 64;

// Rows hold the protobuf messages of the wire (proto/pfor/v1/job.proto), so
// state directories of earlier versions keep loading.
template <typename Message>
absl::StatusOr<Message> Parse(const void* data, int size) {
  Message message;
  if (!message.ParseFromArray(data, size)) {
    return absl::DataLossError("unreadable message");
  }
  return message;
}

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr);
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement& Bind(int index, int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
    return *this;
  }
  Statement& Bind(int index, const std::string& blob) {
    sqlite3_bind_blob(statement_, index, blob.data(),
                      static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Steps once; SQLITE_ROW, SQLITE_DONE or an error code (SQLITE_MISUSE
  // when the statement did not prepare).
  int Step() {
    return statement_ == nullptr ? SQLITE_MISUSE : sqlite3_step(statement_);
  }
  // Runs to completion and resets for reuse.
  int Run() {
    if (statement_ == nullptr) return SQLITE_MISUSE;
    int code = sqlite3_step(statement_);
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
    return code == SQLITE_DONE ? SQLITE_OK : code;
  }
  int64_t Int(int column) { return sqlite3_column_int64(statement_, column); }
  std::string Text(int column) {
    const unsigned char* text = sqlite3_column_text(statement_, column);
    return text == nullptr ? std::string()
                           : std::string(reinterpret_cast<const char*>(text));
  }
  bool IsNull(int column) {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }
  std::pair<const void*, int> Blob(int column) {
    return {sqlite3_column_blob(statement_, column),
            sqlite3_column_bytes(statement_, column)};
  }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// What journal.sequence says: the journal's identity and how many writes
// it had committed.
struct SequenceRecord {
  int64_t journal_id = 0;
  int64_t sequence = 0;
};

std::string FormatRecord(const SequenceRecord& record) {
  std::string line = absl::StrCat("pfor-journal ", record.journal_id, " ",
                                  record.sequence, "\n");
  line.resize(kSequenceRecord, ' ');
  line.back() = '\n';
  return line;
}

// nullopt when the file does not exist; DATA_LOSS when it does not read.
absl::StatusOr<std::optional<SequenceRecord>> ReadRecord(
    const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    if (errno == ENOENT) return std::optional<SequenceRecord>();
    return absl::UnavailableError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  char buffer[kSequenceRecord + 1] = {};
  const size_t read = std::fread(buffer, 1, kSequenceRecord, file);
  std::fclose(file);
  std::vector<std::string> words =
      absl::StrSplit(std::string(buffer, read), ' ', absl::SkipWhitespace());
  SequenceRecord record;
  if (words.size() < 3 || words[0] != "pfor-journal" ||
      !absl::SimpleAtoi(words[1], &record.journal_id) ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(words[2]),
                        &record.sequence)) {
    return absl::DataLossError(absl::StrCat(path, " does not read"));
  }
  return std::optional<SequenceRecord>(record);
}

// The code a failed write is reported with: a full disk (or a file size or
// quota limit reached) is a resource to free, anything else a store that is
// unavailable for now. `system_errno` is the errno of SQLite's last failed
// system call: a write past a file size limit is an I/O error to SQLite.
absl::StatusCode WriteCode(int sqlite_code, int system_errno) {
  return (sqlite_code & 0xff) == SQLITE_FULL || system_errno == ENOSPC ||
                 system_errno == EDQUOT || system_errno == EFBIG
             ? absl::StatusCode::kResourceExhausted
             : absl::StatusCode::kUnavailable;
}

// The errno of the system call that made a SQLite call fail. SQLite keeps
// it (sqlite3_system_errno) for some failures only: a commit that cannot
// write the WAL reports SQLITE_IOERR_WRITE with none, while errno, cleared
// before the call, still says why (EFBIG past a file size limit, EDQUOT
// past a quota). Call it first thing after the failed call.
int FailedErrno(sqlite3* db) {
  const int saved = errno;
  const int kept = sqlite3_system_errno(db);
  return kept != 0 ? kept : saved;
}

class SqliteJournal final : public Journal {
 public:
  SqliteJournal(sqlite3* db, std::string directory, int keep_jobs)
      : db_(db),
        directory_(std::move(directory)),
        path_(directory_ + "/journal.sqlite"),
        state_(keep_jobs, /*keep_ended=*/false) {}
  ~SqliteJournal() override {
    sqlite3_close(db_);
    if (record_fd_ >= 0) close(record_fd_);
  }

  // Creates or upgrades the schema and reads the journal's identity and
  // sequence. FAILED_PRECONDITION for a newer schema; DATA_LOSS when SQLite
  // finds the database damaged.
  absl::Status Init() {
    if (absl::Status status = CheckIntegrity(); !status.ok()) return status;
    int schema = 0;
    {
      Statement version(db_, "SELECT value FROM meta WHERE key = 'schema'");
      if (version.Step() == SQLITE_ROW)
        schema = static_cast<int>(version.Int(0));
    }
    if (schema > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          path_, " has journal schema ", schema, ", this coordinator reads ",
          kSchemaVersion,
          " and earlier; use a coordinator of that version or a new "
          "--state-dir"));
    }
    if (absl::Status status = Exec(kSchema); !status.ok()) return status;
    if (schema == 1) {
      if (absl::Status status =
              Exec("ALTER TABLE jobs ADD COLUMN start_unix_nanos INTEGER");
          !status.ok()) {
        return status;
      }
    }
    journal_id_ = MetaValue("journal_id").value_or(0);
    sequence_ = MetaValue("sequence").value_or(0);
    return Exec(absl::StrCat("INSERT OR REPLACE INTO meta VALUES('schema', ",
                             kSchemaVersion, ")"));
  }

  int64_t journal_id() const { return journal_id_; }
  int64_t sequence() const { return sequence_; }

  // Gives a journal without an identity (new, or of schema 1) one.
  absl::Status Identify() {
    if (journal_id_ != 0) return absl::OkStatus();
    std::random_device random;
    journal_id_ =
        static_cast<int64_t>((uint64_t{random()} << 31 ^ random()) & INT64_MAX);
    if (journal_id_ == 0) journal_id_ = 1;
    return Exec(absl::StrCat(
        "INSERT OR REPLACE INTO meta VALUES('journal_id', ", journal_id_, ")"));
  }

  // Opens journal.sequence and writes the journal's sequence to it.
  absl::Status StartRecording() {
    const std::string path = directory_ + "/" + kSequenceFile;
    record_fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (record_fd_ < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
    }
    return Record();
  }

  absl::Status Write(const std::vector<JournalEntry>& entries) override {
    Changes changes;
    state_.Apply(entries, changes);
    pending_.Merge(std::move(changes));
    if (pending_.empty()) return absl::OkStatus();
    // Everything not yet durable goes in one transaction; if it fails it
    // stays pending and goes with the next write.
    if (absl::Status status = Exec("BEGIN IMMEDIATE"); !status.ok()) {
      return status;
    }
    absl::Status status = Store(pending_);
    if (status.ok()) {
      status =
          Exec(absl::StrCat("INSERT OR REPLACE INTO meta VALUES("
                            "'sequence', ",
                            sequence_ + 1, ")"));
    }
    if (status.ok()) status = Exec("COMMIT");
    if (!status.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return status;
    }
    sequence_ += 1;
    pending_ = Changes();
    // A lower bound only: a lost update is caught by the next one.
    Record().IgnoreError();
    return absl::OkStatus();
  }

  // Ended jobs are not kept in memory (a million task results each, maybe):
  // the database is read again.
  absl::StatusOr<std::vector<RecoveredJob>> Load() override {
    absl::StatusOr<std::map<JobId, RecoveredJob>> jobs = ReadAll();
    if (!jobs.ok()) return jobs.status();
    std::vector<RecoveredJob> out;
    out.reserve(jobs->size());
    for (auto& [id, job] : *jobs) out.push_back(std::move(job));
    return out;
  }

  // Reads every row into jobs; DATA_LOSS for a row that does not read or
  // belongs to no job.
  absl::StatusOr<std::map<JobId, RecoveredJob>> ReadAll() {
    std::map<JobId, RecoveredJob> jobs;
    Statement read_jobs(db_,
                        "SELECT id, spec, submit_unix_nanos, final_state, "
                        "start_unix_nanos FROM jobs ORDER BY id");
    int code;
    while ((code = read_jobs.Step()) == SQLITE_ROW) {
      RecoveredJob job;
      job.job = static_cast<JobId>(read_jobs.Int(0));
      auto [spec_data, spec_size] = read_jobs.Blob(1);
      absl::StatusOr<v1::JobSpec> wire_spec =
          Parse<v1::JobSpec>(spec_data, spec_size);
      if (!wire_spec.ok()) return Corrupt("job spec", job.job);
      absl::StatusOr<JobSpec> spec = FromProto(*wire_spec);
      if (!spec.ok()) return Corrupt("job spec", job.job, spec.status());
      job.spec = std::make_shared<const JobSpec>(*std::move(spec));
      job.submit_time = absl::FromUnixNanos(read_jobs.Int(2));
      if (!read_jobs.IsNull(4)) {
        job.start_time = absl::FromUnixNanos(read_jobs.Int(4));
      }
      job.prefix_end = job.spec->begin;
      // An empty blob reads as a null pointer; only SQL NULL means "running".
      if (!read_jobs.IsNull(3)) {
        auto [data, size] = read_jobs.Blob(3);
        absl::StatusOr<v1::Job> wire_state = Parse<v1::Job>(data, size);
        if (!wire_state.ok()) return Corrupt("job state", job.job);
        absl::StatusOr<JobStatus> final_state = FromProto(*wire_state);
        if (!final_state.ok()) {
          return Corrupt("job state", job.job, final_state.status());
        }
        if (final_state->spec == nullptr) final_state->spec = job.spec;
        job.final_state =
            std::make_shared<const JobStatus>(*std::move(final_state));
      }
      jobs.emplace(job.job, std::move(job));
    }
    if (code != SQLITE_DONE) return Error("read the jobs");
    Statement read_prefixes(
        db_, "SELECT job, end_index, value, chunks FROM prefixes");
    while ((code = read_prefixes.Step()) == SQLITE_ROW) {
      const auto id = static_cast<JobId>(read_prefixes.Int(0));
      auto it = jobs.find(id);
      if (it == jobs.end()) return Orphan("prefix", id);
      auto [data, size] = read_prefixes.Blob(2);
      absl::StatusOr<v1::Value> wire = Parse<v1::Value>(data, size);
      if (!wire.ok()) return Corrupt("prefix value", id);
      absl::StatusOr<Value> value = FromProto(*wire);
      if (!value.ok()) return Corrupt("prefix value", id, value.status());
      it->second.prefix_end = read_prefixes.Int(1);
      it->second.prefix_value = *std::move(value);
      it->second.prefix_chunks = read_prefixes.Int(3);
    }
    if (code != SQLITE_DONE) return Error("read the prefixes");
    Statement read_chunks(
        db_,
        "SELECT job, begin_index, end_index, value FROM chunks "
        "ORDER BY job, begin_index");
    while ((code = read_chunks.Step()) == SQLITE_ROW) {
      const auto id = static_cast<JobId>(read_chunks.Int(0));
      auto it = jobs.find(id);
      if (it == jobs.end()) return Orphan("chunk", id);
      const int64_t begin = read_chunks.Int(1);
      auto [data, size] = read_chunks.Blob(3);
      absl::StatusOr<v1::Value> wire = Parse<v1::Value>(data, size);
      if (!wire.ok()) return Corrupt("chunk value", id);
      absl::StatusOr<ChunkOutput> output = ChunkOutputFromProto(*wire, begin);
      if (!output.ok()) return Corrupt("chunk value", id, output.status());
      it->second.chunks.push_back(
          {id, begin, read_chunks.Int(2),
           std::make_shared<const ChunkOutput>(*std::move(output))});
    }
    if (code != SQLITE_DONE) return Error("read the chunks");
    return jobs;
  }

  // Takes the jobs read back in as the journal's state.
  void Restore(std::map<JobId, RecoveredJob> jobs) {
    for (auto& [id, job] : jobs) state_.Restore(std::move(job));
  }

 private:
  // DATA_LOSS with SQLite's findings when the database is damaged.
  absl::Status CheckIntegrity() {
    Statement check(db_, "PRAGMA quick_check");
    if (check.Step() != SQLITE_ROW) {
      return absl::DataLossError(
          absl::StrCat("SQLite cannot read it (", sqlite3_errmsg(db_), ")"));
    }
    const std::string verdict = check.Text(0);
    if (verdict == "ok") return absl::OkStatus();
    return absl::DataLossError(
        absl::StrCat("SQLite finds it damaged (", verdict, ")"));
  }

  std::optional<int64_t> MetaValue(const std::string& key) {
    Statement read(
        db_,
        absl::StrCat("SELECT value FROM meta WHERE key = '", key, "'").c_str());
    if (read.Step() != SQLITE_ROW) return std::nullopt;
    return read.Int(0);
  }

  absl::Status Record() {
    if (record_fd_ < 0) return absl::OkStatus();
    const std::string line = FormatRecord({journal_id_, sequence_});
    if (pwrite(record_fd_, line.data(), line.size(), 0) !=
        static_cast<ssize_t>(line.size())) {
      return absl::UnavailableError(absl::StrCat("cannot write ", directory_,
                                                 "/", kSequenceFile, ": ",
                                                 std::strerror(errno)));
    }
    return absl::OkStatus();
  }

  absl::Status Store(const Changes& changes) {
    Statement insert_job(
        db_,
        "INSERT OR REPLACE INTO jobs(id, spec, submit_unix_nanos, "
        "final_state, start_unix_nanos) VALUES(?, ?, ?, NULL, NULL)");
    for (const JobAccepted& job : changes.new_jobs) {
      Check(insert_job.Bind(1, static_cast<int64_t>(job.job))
                .Bind(2, ToProto(*job.spec).SerializeAsString())
                .Bind(3, absl::ToUnixNanos(job.submit_time))
                .Run());
    }
    Statement start_job(db_,
                        "UPDATE jobs SET start_unix_nanos = ? WHERE id = ?");
    for (const auto& [job, time] : changes.started) {
      Check(start_job.Bind(1, absl::ToUnixNanos(time))
                .Bind(2, static_cast<int64_t>(job))
                .Run());
    }
    Statement insert_chunk(db_,
                           "INSERT OR REPLACE INTO chunks VALUES(?, ?, ?, ?)");
    for (const ChunkDone& chunk : changes.inserted) {
      Check(
          insert_chunk.Bind(1, static_cast<int64_t>(chunk.job))
              .Bind(2, chunk.begin)
              .Bind(3, chunk.end)
              .Bind(4, ToProto(*chunk.output, chunk.begin).SerializeAsString())
              .Run());
    }
    Statement delete_chunk(
        db_, "DELETE FROM chunks WHERE job = ? AND begin_index = ?");
    for (const auto& [job, begin] : changes.deleted) {
      Check(
          delete_chunk.Bind(1, static_cast<int64_t>(job)).Bind(2, begin).Run());
    }
    Statement set_prefix(db_,
                         "INSERT OR REPLACE INTO prefixes VALUES(?, ?, ?, ?)");
    for (const auto& [job, prefix] : changes.prefixes) {
      Check(set_prefix.Bind(1, static_cast<int64_t>(job))
                .Bind(2, prefix.end)
                .Bind(3, ToProto(prefix.value).SerializeAsString())
                .Bind(4, prefix.chunks)
                .Run());
    }
    Statement end_job(db_, "UPDATE jobs SET final_state = ? WHERE id = ?");
    Statement drop_chunks(db_, "DELETE FROM chunks WHERE job = ?");
    Statement drop_prefix(db_, "DELETE FROM prefixes WHERE job = ?");
    for (const auto& [job, final_state] : changes.ended) {
      const auto id = static_cast<int64_t>(job);
      Check(end_job.Bind(1, ToProto(*final_state).SerializeAsString())
                .Bind(2, id)
                .Run());
      Check(drop_chunks.Bind(1, id).Run());
      Check(drop_prefix.Bind(1, id).Run());
    }
    Statement forget(db_, "DELETE FROM jobs WHERE id = ?");
    for (JobId job : changes.forgotten)
      Check(forget.Bind(1, static_cast<int64_t>(job)).Run());
    return std::exchange(error_, absl::OkStatus());
  }

  void Check(int code) {
    if (code != SQLITE_OK && error_.ok()) error_ = Error("write", code);
  }

  absl::Status Exec(const std::string& sql) {
    char* message = nullptr;
    errno = 0;
    const int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    if (code != SQLITE_OK) {
      absl::Status status(
          WriteCode(code, FailedErrno(db_)),
          absl::StrCat("journal ", path_, ": ",
                       message != nullptr ? message : sqlite3_errstr(code)));
      sqlite3_free(message);
      return status;
    }
    return absl::OkStatus();
  }

  absl::Status Error(const std::string& what, int code = SQLITE_OK) const {
    if (code == SQLITE_OK) code = sqlite3_errcode(db_);
    return absl::Status(WriteCode(code, FailedErrno(db_)),
                        absl::StrCat("journal ", path_, ": cannot ", what, ": ",
                                     sqlite3_errmsg(db_)));
  }

  absl::Status Corrupt(const std::string& what, JobId job,
                       const absl::Status& why = absl::OkStatus()) const {
    return absl::DataLossError(absl::StrCat(
        "journal ", path_, " has an unreadable ", what, " of job ", job,
        why.ok() ? "" : absl::StrCat(" (", why.message(), ")")));
  }

  absl::Status Orphan(const std::string& what, JobId job) const {
    return absl::DataLossError(absl::StrCat("journal ", path_, " has a ", what,
                                            " row of job ", job,
                                            ", which it does not hold"));
  }

  sqlite3* db_;
  std::string directory_;
  std::string path_;
  JournalState state_;
  // Taken in but not yet durable.
  Changes pending_;
  absl::Status error_;
  int64_t journal_id_ = 0;
  int64_t sequence_ = 0;
  int record_fd_ = -1;
};

// Opens the database at `path` with the pragmas the journal relies on.
absl::StatusOr<sqlite3*> OpenDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(
        absl::StrCat("cannot open journal ", path, ": ", message,
                     "; pass a writable --state-dir"));
  }
  // One coordinator per state directory: the exclusive lock refuses a second.
  for (const char* pragma :
       {"PRAGMA locking_mode = EXCLUSIVE", "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL"}) {
    const int code = sqlite3_exec(db, pragma, nullptr, nullptr, nullptr);
    if (code == SQLITE_OK) continue;
    std::string message = sqlite3_errmsg(db);
    sqlite3_close(db);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
      return absl::DataLossError(
          absl::StrCat("SQLite cannot read it (", message, ")"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot use journal ", path, ": ", message,
                     "; is another pfor-coordinator using this --state-dir?"));
  }
  return db;
}

// Moves the database files at `path` aside; returns the new name.
absl::StatusOr<std::string> MoveAside(const std::string& path) {
  const std::string aside = absl::StrCat(
      path, ".damaged-",
      absl::FormatTime("%Y%m%dT%H%M%S", absl::Now(), absl::UTCTimeZone()));
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string from = path + suffix;
    if (std::rename(from.c_str(), (aside + suffix).c_str()) != 0 &&
        errno != ENOENT) {
      return absl::UnavailableError(
          absl::StrCat("cannot move ", from, " aside: ", std::strerror(errno)));
    }
  }
  return aside;
}

// The status of a job whose rows did not add up, failed by --recover.
std::shared_ptr<const JobStatus> FailedByRecovery(const RecoveredJob& job,
                                                  const absl::Status& why) {
  auto status = std::make_shared<JobStatus>();
  status->id = job.job;
  status->spec = job.spec;
  status->state = JobState::kFailed;
  status->error = absl::StrCat(
      "its journal did not add up, and the coordinator was started with "
      "--recover: ",
      why.message());
  status->submit_time = job.submit_time;
  status->start_time = job.start_time;
  status->end_time = absl::Now();
  if (job.spec != nullptr) {
    status->progress.indices_total = job.spec->end - job.spec->begin;
  }
  return status;
}

}  // namespace

absl::StatusOr<OpenedJournal> OpenSqliteJournal(
    const SqliteJournalOptions& options) {
  const std::string& directory = options.directory;
  if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create --state-dir ", directory, ": ", std::strerror(errno)));
  }
  const std::string path = directory + "/journal.sqlite";
  const std::string record_path = directory + "/" + kSequenceFile;
  const std::string how =
      "pass --recover to start from what it holds (the rest is lost), or "
      "restore the directory from a backup";
  OpenedJournal opened;

  absl::StatusOr<std::optional<SequenceRecord>> record =
      ReadRecord(record_path);
  if (!record.ok()) {
    if (record.status().code() != absl::StatusCode::kDataLoss) {
      return record.status();
    }
    if (!options.recover) {
      return absl::DataLossError(absl::StrCat(
          "journal ", path, ": ", record.status().message(),
          ", so whether the journal lost writes cannot be told; ", how));
    }
    opened.recovered.push_back(absl::StrCat(record.status().message(),
                                            ": the journal is taken as it is"));
    record = std::optional<SequenceRecord>();
  }

  std::unique_ptr<SqliteJournal> journal;
  for (int attempt = 0; journal == nullptr; ++attempt) {
    absl::Status damaged;
    absl::StatusOr<sqlite3*> db = OpenDatabase(path);
    if (db.ok()) {
      journal =
          std::make_unique<SqliteJournal>(*db, directory, options.keep_jobs);
      damaged = journal->Init();
      if (damaged.code() != absl::StatusCode::kDataLoss) {
        if (!damaged.ok()) return damaged;
        break;
      }
      journal.reset();
    } else if (db.status().code() != absl::StatusCode::kDataLoss) {
      return db.status();
    } else {
      damaged = db.status();
    }
    if (!options.recover || attempt > 0) {
      return absl::DataLossError(absl::StrCat(
          "journal ", path, " is damaged: ", damaged.message(),
          "; pass --recover to move it aside and start a new journal (its "
          "jobs are lost), or restore the directory from a backup"));
    }
    absl::StatusOr<std::string> aside = MoveAside(path);
    if (!aside.ok()) return aside.status();
    opened.recovered.push_back(
        absl::StrCat("journal ", path, " was damaged (", damaged.message(),
                     "); it was moved to ", *aside,
                     " and a new one started: the jobs it held are lost"));
    record = std::optional<SequenceRecord>();
  }

  // The database must hold at least the writes journal.sequence counted.
  if (record->has_value()) {
    const SequenceRecord& seen = **record;
    std::string problem;
    if (journal->journal_id() == 0) {
      problem = absl::StrCat("it holds no journal, but ", kSequenceFile,
                             " says it held ", seen.sequence,
                             " writes: the database was emptied or replaced");
    } else if (journal->journal_id() != seen.journal_id) {
      problem =
          absl::StrCat("it is another journal than the one ", kSequenceFile,
                       " recorded here: the database was replaced");
    } else if (journal->sequence() < seen.sequence) {
      problem = absl::StrCat(
          "it holds ", journal->sequence(), " of the ", seen.sequence,
          " writes it committed (its -wal file was lost or the database was "
          "truncated or restored from an older copy): jobs accepted and "
          "chunks completed in the last ",
          seen.sequence - journal->sequence(), " writes are lost");
    }
    if (!problem.empty()) {
      if (!options.recover) {
        return absl::DataLossError(
            absl::StrCat("journal ", path, ": ", problem, "; ", how));
      }
      opened.recovered.push_back(absl::StrCat("journal ", path, ": ", problem,
                                              "; starting from what it holds"));
    }
  }
  if (absl::Status status = journal->Identify(); !status.ok()) return status;

  absl::StatusOr<std::map<JobId, RecoveredJob>> jobs = journal->ReadAll();
  if (!jobs.ok()) {
    if (jobs.status().code() != absl::StatusCode::kDataLoss) {
      return jobs.status();
    }
    return absl::DataLossError(
        absl::StrCat(jobs.status().message(), "; ", how));
  }
  std::vector<JournalEntry> failed;
  for (auto& [id, job] : *jobs) {
    absl::Status adds_up = CheckRecoveredJob(job);
    if (adds_up.ok()) continue;
    if (!options.recover) {
      return absl::DataLossError(absl::StrCat(
          "journal ", path, " does not add up: ", adds_up.message(),
          "; pass --recover to fail that job instead of resuming it, or "
          "restore the directory from a backup"));
    }
    opened.recovered.push_back(absl::StrCat(
        "journal ", path, ": ", adds_up.message(), "; the job is failed"));
    // Taken as a running job with nothing done, then ended: its rows go.
    job.prefix_end = job.spec->begin;
    job.prefix_value.reset();
    job.prefix_chunks = 0;
    job.chunks.clear();
    job.final_state = nullptr;
    failed.push_back(JobEnded{id, FailedByRecovery(job, adds_up)});
  }
  journal->Restore(*std::move(jobs));
  if (absl::Status status = journal->StartRecording(); !status.ok()) {
    return status;
  }
  if (!failed.empty()) {
    if (absl::Status status = journal->Write(failed); !status.ok()) {
      return status;
    }
  }
  opened.journal = std::move(journal);
  return opened;
}

}  // namespace pfor::coordinator
