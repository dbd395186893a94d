// Writes journal entries on a thread of its own, in batches: whatever
// arrives while a batch is being made durable goes into the next one, so the
// dispatch path never waits on the disk. A write that fails (a full or
// failing disk) loses nothing: the journal keeps the entries, and the writer
// retries on its own every `retry_interval` until the journal catches up.
// Thread-safe (std::mutex, which ThreadSanitizer sees).
#ifndef PFOR_COORDINATOR_JOURNAL_WRITER_H_
#define PFOR_COORDINATOR_JOURNAL_WRITER_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "journal.h"

namespace pfor::coordinator {

class JournalWriter {
 public:
  using Written = std::function<void(const absl::Status&)>;

  // `journal` must outlive the writer.
  explicit JournalWriter(Journal* journal,
                         absl::Duration retry_interval = absl::Seconds(1));
  // Writes what is queued, runs the callbacks waiting for it, then stops.
  ~JournalWriter();

  // Queues entries; never blocks on the disk. Returns how many entries were
  // appended since the start, these included: WhenWritten takes it.
  uint64_t Append(std::vector<JournalEntry> entries);
  // Blocks until everything appended before the call has been written
  // once; returns status().
  absl::Status Sync();
  // The outcome of the latest write: OK once everything written so far is
  // durable; the journal's error (RESOURCE_EXHAUSTED for a full disk,
  // UNAVAILABLE otherwise) while it cannot write. Never blocks on the disk.
  absl::Status status();
  // Calls `done` once the first `count` entries appended have been written:
  // with status() as it is then (an error means they are not durable yet).
  // `done` always runs on the writer's thread, never on the caller's, so the
  // caller may hold locks that `done` takes; it must not block for long.
  // Callbacks still waiting when the writer stops get CANCELLED.
  void WhenWritten(uint64_t count, Written done);

 private:
  void Loop();

  Journal* const journal_;
  const absl::Duration retry_interval_;
  std::mutex mu_;
  std::condition_variable queued_;   // entries or callbacks arrived, stopping
  std::condition_variable written_;  // a batch was written
  // Guarded by mu_:
  std::vector<JournalEntry> queue_;
  // Entries appended and written so far, counted since start.
  uint64_t appended_count_ = 0;
  uint64_t written_count_ = 0;
  // Callbacks by the count of entries they wait for.
  std::multimap<uint64_t, Written> waiting_;
  // The latest write's outcome.
  absl::Status status_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOURNAL_WRITER_H_
