// Writes journal entries on a thread of its own, in batches: whatever
// arrives while a batch is being made durable goes into the next one, so the
// dispatch path never waits on the disk. Thread-safe (std::mutex, which
// ThreadSanitizer sees).
#ifndef PFOR_COORDINATOR_JOURNAL_WRITER_H_
#define PFOR_COORDINATOR_JOURNAL_WRITER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "journal.h"

namespace pfor::coordinator {

class JournalWriter {
 public:
  // `journal` must outlive the writer. `on_error` hears about each failed
  // batch (the entries are lost; Sync reports the failure too).
  JournalWriter(Journal* journal,
                std::function<void(const absl::Status&)> on_error);
  // Writes what is queued, then stops.
  ~JournalWriter();

  // Queues entries; never blocks on the disk.
  void Append(std::vector<JournalEntry> entries);
  // Blocks until everything appended before the call is written. Once a
  // batch has failed, durability is gone: every Sync returns that error.
  absl::Status Sync();

 private:
  void Loop();

  Journal* const journal_;
  const std::function<void(const absl::Status&)> on_error_;
  std::mutex mu_;
  std::condition_variable queued_;   // entries arrived, or stopping
  std::condition_variable written_;  // a batch was written
  // Guarded by mu_:
  std::vector<JournalEntry> queue_;
  // Entries appended and written so far, counted since start.
  uint64_t appended_count_ = 0;
  uint64_t written_count_ = 0;
  // The first failure.
  absl::Status error_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOURNAL_WRITER_H_
