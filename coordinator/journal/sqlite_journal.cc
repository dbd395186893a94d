#include "sqlite_journal.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "journal_state.h"
#include "pfor/common/wire.h"
#include "pfor/common/wire_job.h"
#include "pfor/common/wire_link.h"
#include "sqlite3.h"

namespace pfor::coordinator {
namespace {

constexpr int kSchemaVersion = 1;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY,
  spec BLOB NOT NULL,
  submit_unix_nanos INTEGER NOT NULL,
  final_state BLOB);
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
  // Steps once; SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(statement_); }
  // Runs to completion and resets for reuse.
  int Run() {
    int code = sqlite3_step(statement_);
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
    return code == SQLITE_DONE ? SQLITE_OK : code;
  }
  int64_t Int(int column) { return sqlite3_column_int64(statement_, column); }
  bool IsNull(int column) {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }
  std::pair<const void*, int> Blob(int column) {
    return {sqlite3_column_blob(statement_, column),
            sqlite3_column_bytes(statement_, column)};
  }
  bool ok() const { return statement_ != nullptr; }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

class SqliteJournal final : public Journal {
 public:
  SqliteJournal(sqlite3* db, std::string path, int keep_jobs)
      : db_(db), path_(std::move(path)), state_(keep_jobs) {}
  ~SqliteJournal() override { sqlite3_close(db_); }

  absl::Status Init() {
    if (absl::Status status = Exec(kSchema); !status.ok()) return status;
    Statement version(db_, "SELECT value FROM meta WHERE key = 'schema'");
    if (version.Step() == SQLITE_ROW) {
      if (version.Int(0) != kSchemaVersion) {
        return absl::FailedPreconditionError(absl::StrCat(
            path_, " has journal schema ", version.Int(0),
            ", this coordinator reads ", kSchemaVersion,
            "; use a coordinator of the same version or a new --state-dir"));
      }
    } else if (absl::Status status = Exec(absl::StrCat(
                   "INSERT INTO meta VALUES('schema', ", kSchemaVersion, ")"));
               !status.ok()) {
      return status;
    }
    return ReadAll();
  }

  absl::Status Write(const std::vector<JournalEntry>& entries) override {
    Changes changes;
    if (absl::Status status = state_.Apply(entries, changes); !status.ok())
      return status;
    if (absl::Status status = Exec("BEGIN IMMEDIATE"); !status.ok())
      return status;
    absl::Status status = Store(changes);
    if (!status.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return status;
    }
    return Exec("COMMIT");
  }

  absl::StatusOr<std::vector<RecoveredJob>> Load() override {
    return state_.Snapshot();
  }

 private:
  absl::Status Store(const Changes& changes) {
    Statement insert_job(db_,
                         "INSERT OR REPLACE INTO jobs VALUES(?, ?, ?, NULL)");
    for (const JobAccepted& job : changes.new_jobs) {
      Check(insert_job.Bind(1, static_cast<int64_t>(job.job))
                .Bind(2, ToProto(*job.spec).SerializeAsString())
                .Bind(3, absl::ToUnixNanos(job.submit_time))
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
    if (code != SQLITE_OK && error_.ok()) error_ = Error("write");
  }

  absl::Status ReadAll() {
    std::map<JobId, RecoveredJob> jobs;
    Statement read_jobs(db_,
                        "SELECT id, spec, submit_unix_nanos, final_state FROM "
                        "jobs ORDER BY id");
    while (read_jobs.Step() == SQLITE_ROW) {
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
    Statement read_prefixes(
        db_, "SELECT job, end_index, value, chunks FROM prefixes");
    while (read_prefixes.Step() == SQLITE_ROW) {
      auto it = jobs.find(static_cast<JobId>(read_prefixes.Int(0)));
      if (it == jobs.end()) continue;
      auto [data, size] = read_prefixes.Blob(2);
      absl::StatusOr<v1::Value> wire = Parse<v1::Value>(data, size);
      if (!wire.ok()) return Corrupt("prefix value", it->first);
      absl::StatusOr<Value> value = FromProto(*wire);
      if (!value.ok())
        return Corrupt("prefix value", it->first, value.status());
      it->second.prefix_end = read_prefixes.Int(1);
      it->second.prefix_value = *std::move(value);
      it->second.prefix_chunks = read_prefixes.Int(3);
    }
    Statement read_chunks(
        db_,
        "SELECT job, begin_index, end_index, value FROM chunks "
        "ORDER BY job, begin_index");
    while (read_chunks.Step() == SQLITE_ROW) {
      const auto id = static_cast<JobId>(read_chunks.Int(0));
      auto it = jobs.find(id);
      if (it == jobs.end()) continue;
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
    for (auto& [id, job] : jobs) state_.Restore(std::move(job));
    return absl::OkStatus();
  }

  absl::Status Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) !=
        SQLITE_OK) {
      absl::Status status = absl::UnavailableError(absl::StrCat(
          "journal ", path_, ": ", message != nullptr ? message : "error"));
      sqlite3_free(message);
      return status;
    }
    return absl::OkStatus();
  }

  absl::Status Error(const std::string& what) const {
    return absl::UnavailableError(absl::StrCat(
        "journal ", path_, ": cannot ", what, ": ", sqlite3_errmsg(db_)));
  }

  absl::Status Corrupt(const std::string& what, JobId job,
                       const absl::Status& why = absl::OkStatus()) const {
    return absl::DataLossError(absl::StrCat(
        "journal ", path_, " has an unreadable ", what, " of job ", job,
        why.ok() ? "" : absl::StrCat(" (", why.message(), ")"),
        "; move it away to start afresh"));
  }

  sqlite3* db_;
  std::string path_;
  JournalState state_;
  absl::Status error_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Journal>> OpenSqliteJournal(
    const std::string& directory, int keep_jobs) {
  if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create --state-dir ", directory, ": ", std::strerror(errno)));
  }
  const std::string path = directory + "/journal.sqlite";
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
  auto journal = std::make_unique<SqliteJournal>(db, path, keep_jobs);
  // One coordinator per state directory: the exclusive lock refuses a second.
  for (const char* pragma :
       {"PRAGMA locking_mode = EXCLUSIVE", "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL"}) {
    if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return absl::UnavailableError(absl::StrCat(
          "cannot use journal ", path, ": ", sqlite3_errmsg(db),
          "; is another pfor-coordinator using this --state-dir?"));
    }
  }
  if (absl::Status status = journal->Init(); !status.ok()) return status;
  return journal;
}

}  // namespace pfor::coordinator
