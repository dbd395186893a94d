// The journal on disk: SQLite in WAL mode, one file in the state directory.
//
// The journal knows how many writes it has committed (its sequence), and a
// small file beside it, journal.sequence, repeats that count after every
// commit together with the journal's identity. On opening, a database that
// holds fewer writes than journal.sequence says it did (a lost or truncated
// -wal file, a database file emptied or replaced), a database SQLite finds
// damaged, or rows that do not add up (CheckRecoveredJob) make the journal
// refuse to open, saying what it found: starting from it silently would
// resume jobs from an older or impossible state. With `recover`, it opens
// all the same and says what was lost.
#ifndef PFOR_COORDINATOR_SQLITE_JOURNAL_H_
#define PFOR_COORDINATOR_SQLITE_JOURNAL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "journal.h"

namespace pfor::coordinator {

struct SqliteJournalOptions {
  // The state directory (created if missing).
  std::string directory;
  // Ended jobs kept; older ones are forgotten.
  int keep_jobs = 1000;
  // Open a journal that does not add up instead of refusing it: a journal
  // that lost writes is taken as it is; a damaged database is moved aside
  // (journal.sqlite.damaged-TIME) and a new one started; a job whose rows
  // do not add up is failed with the reason rather than resumed.
  bool recover = false;
};

struct OpenedJournal {
  std::unique_ptr<Journal> journal;
  // With `recover`, one line per thing that was lost; empty otherwise.
  std::vector<std::string> recovered;
};

// Opens (creating if needed) the journal in the options' directory. Rows
// hold the wire's protobuf messages. UNAVAILABLE names the path and the
// problem (not writable, locked by another coordinator); FAILED_PRECONDITION
// a journal of a newer schema; DATA_LOSS a journal that does not add up
// (without `recover`), with what was found and how to go on.
absl::StatusOr<OpenedJournal> OpenSqliteJournal(
    const SqliteJournalOptions& options);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SQLITE_JOURNAL_H_
