// The coordinator's journal: what must survive a restart.
//
// The scheduler emits entries (a job accepted, a chunk done, a job ended);
// a Journal makes them durable, and after a restart gives back every job with
// the chunks it had completed, so unfinished jobs resume without redoing
// them. Implementations: SQLite on disk (sqlite_journal.h), and memory for
// tests.
//
// Completed chunks that form a contiguous prefix of a job's range are folded
// into one record, so a job over 10^12 chunks keeps O(chunks completed out of
// order) records, not one per chunk. collect and batch jobs keep every
// chunk.
#ifndef PFOR_COORDINATOR_JOURNAL_H_
#define PFOR_COORDINATOR_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/common/link.h"
#include "pfor/job.h"
#include "pfor/value.h"

namespace pfor::coordinator {

using JobId = uint64_t;

struct JobAccepted {
  JobId job = 0;
  std::shared_ptr<const JobSpec> spec;
  absl::Time submit_time;
};

struct ChunkDone {
  JobId job = 0;
  int64_t begin = 0;
  int64_t end = 0;
  // As the worker sent it (shared with the followers' events).
  std::shared_ptr<const ChunkOutput> output;
};

struct JobEnded {
  JobId job = 0;
  // The job as clients see it, kept for listings.
  std::shared_ptr<const JobStatus> final_state;
};

// The job's first chunk went out: its running time counts from here, also
// after a restart.
struct JobStarted {
  JobId job = 0;
  absl::Time start_time;
};

using JournalEntry = std::variant<JobAccepted, ChunkDone, JobEnded, JobStarted>;

// A job as the journal gives it back.
struct RecoveredJob {
  JobId job = 0;
  std::shared_ptr<const JobSpec> spec;
  absl::Time submit_time;
  // When its first chunk went out; InfinitePast when none had.
  absl::Time start_time = absl::InfinitePast();
  // Set when the job had ended.
  std::shared_ptr<const JobStatus> final_state;
  // Completed work of an unfinished job: the folded prefix [spec->begin,
  // prefix_end) (empty when prefix_end == spec->begin)...
  int64_t prefix_end = 0;
  std::optional<Value> prefix_value;
  int64_t prefix_chunks = 0;
  // ...and the chunks completed beyond it, ordered by begin.
  std::vector<ChunkDone> chunks;
};

// Whether a job read back adds up: its range, its folded prefix and its
// chunks lie in the range without overlapping, in order, each output of
// the job's kind (a value, or one task result per task of a batch chunk),
// and an ended job has no chunks left. DATA_LOSS naming the job and the
// first row that does not fit.
absl::Status CheckRecoveredJob(const RecoveredJob& job);

// Thread-compatible: the owner serializes calls.
class Journal {
 public:
  virtual ~Journal() = default;
  // Takes `entries` in, and makes them and every entry taken before durable,
  // all or none. On failure (UNAVAILABLE or RESOURCE_EXHAUSTED: a disk that
  // is full or failing) the entries are kept, in order, and go with the next
  // Write, which may carry none: a journal that could not write catches up
  // once it can. A chunk of an unknown or ended job is ignored.
  virtual absl::Status Write(const std::vector<JournalEntry>& entries) = 0;
  // Every job kept, ordered by id. Ended jobs beyond the newest `keep_jobs`
  // are forgotten. The SQLite journal keeps ended jobs on disk only, and
  // reads them back here: call it once, when the coordinator starts.
  virtual absl::StatusOr<std::vector<RecoveredJob>> Load() = 0;
};

// A journal in memory, for tests; `Load` sees what `Write` wrote.
std::unique_ptr<Journal> NewMemoryJournal(int keep_jobs);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOURNAL_H_
