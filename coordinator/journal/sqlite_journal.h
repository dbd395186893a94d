// The journal on disk: SQLite in WAL mode, one file in the state directory.
#ifndef PFOR_COORDINATOR_SQLITE_JOURNAL_H_
#define PFOR_COORDINATOR_SQLITE_JOURNAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "journal.h"

namespace pfor::coordinator {

// Opens (creating if needed) the journal in `directory`, keeping the newest
// `keep_jobs` ended jobs. Rows hold the wire's protobuf messages. UNAVAILABLE
// names the path and the problem (not writable, locked by another
// coordinator); FAILED_PRECONDITION a journal of another schema; DATA_LOSS a
// row that does not read back.
absl::StatusOr<std::unique_ptr<Journal>> OpenSqliteJournal(
    const std::string& directory, int keep_jobs);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SQLITE_JOURNAL_H_
