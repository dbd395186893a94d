// The journal on disk: SQLite in WAL mode, one file in the state directory.
#ifndef PFOR_COORDINATOR_SQLITE_JOURNAL_H_
#define PFOR_COORDINATOR_SQLITE_JOURNAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "journal.h"

namespace pfor::coordinator {

// Opens (creating if needed) the journal in `directory`. UNAVAILABLE names
// the path and the problem (not writable, not a pfor journal, locked by
// another coordinator).
absl::StatusOr<std::unique_ptr<Journal>> OpenSqliteJournal(
    const std::string& directory, int keep_ended);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SQLITE_JOURNAL_H_
