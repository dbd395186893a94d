// One job's chunks: where the next one is cut, the chunks to run again, and
// the chunks in flight with their live attempts. This is where exactly-once
// counting lives: a chunk is counted done only through a live attempt
// (Revoke then Complete), and it leaves the ledger when it is, so a late,
// duplicated or spoofed result finds nothing to count.
//
// Memory is O(chunks in flight + chunks to retry), never O(chunks of the
// job): chunks are cut from a cursor as they are handed out. Pure
// bookkeeping: no clock, no I/O. Not thread-safe.
#ifndef PFOR_COORDINATOR_CHUNK_LEDGER_H_
#define PFOR_COORDINATOR_CHUNK_LEDGER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "chunk_sizer.h"
#include "pfor/common/link.h"

namespace pfor::coordinator {

// One attempt of a chunk, running on a worker.
struct LiveAttempt {
  uint64_t worker = 0;
  int32_t attempt = 0;
  absl::Time started;
  // It ran past its deadline (MarkOverdue), which is counted once.
  bool overdue = false;
};

struct ChunkInFlight {
  int64_t end = 0;
  // The chunk's number in its job, in the order chunks were cut.
  int64_t index = 0;
  int32_t attempts_started = 0;
  int32_t failures = 0;
  // Attempts that ended because their worker was lost: not failures.
  int32_t worker_losses = 0;
  // Usually one; two while a backup copy runs.
  absl::InlinedVector<LiveAttempt, 2> live;
  // When the attempt Revoke took off last was started (its result's
  // latency is measured from there).
  absl::Time revoked_started;
};

class ChunkLedger {
 public:
  // The range [begin, end), cut by `sizer`.
  ChunkLedger(int64_t begin, int64_t end, ChunkSizer sizer)
      : end_(end), cursor_(begin), sizer_(std::move(sizer)) {}

  // Some chunk waits to be handed out (backups aside).
  bool HasWork() const { return !retry_.empty() || cursor_ < end_; }
  // Some overdue chunk waits for a backup copy.
  bool WantsBackups() const { return !backups_.empty(); }
  // Every chunk is done: none left to cut, to retry or in flight.
  bool Drained() const {
    return cursor_ == end_ && retry_.empty() && in_flight_.empty();
  }

  // Puts the next chunk in flight, without an attempt yet: a chunk to retry
  // first, else a new one cut at the cursor (`slots` that can run the job
  // shape the auto policy's tail). Returns its begin. Requires HasWork().
  int64_t TakeNext(int slots);
  // The overdue chunk that `worker` should run a backup copy of: the
  // longest waiting whose one live attempt runs elsewhere; nullopt when
  // none. TakeBackup also forgets it (and chunks that no longer need one).
  std::optional<int64_t> PeekBackup(uint64_t worker) const;
  std::optional<int64_t> TakeBackup(uint64_t worker);
  // Marks the live attempts started before `now - limit(indices of their
  // chunk)` overdue, and queues a backup copy of each chunk whose only live
  // attempt that is. Returns the attempts newly overdue (each once).
  // `limit` is never below `shortest`, and is asked only about chunks with
  // an attempt older than that.
  std::vector<LiveAttempt> MarkOverdue(
      absl::Time now, absl::Duration shortest,
      const std::function<absl::Duration(int64_t)>& limit);
  // Starts a new attempt of the in-flight chunk at `begin` on `worker`.
  // Returns the chunk: the attempt is its attempts_started.
  const ChunkInFlight& StartAttempt(int64_t begin, uint64_t worker,
                                    absl::Time now);
  // Takes a live attempt off its chunk and returns the chunk; nullptr when
  // the attempt is not live on that worker (late, duplicated, spoofed).
  ChunkInFlight* Revoke(int64_t begin, int32_t attempt, uint64_t worker);
  // Counts the chunk at `begin` done and forgets it; it must have been
  // revoked just before. Its other live attempts (to cancel) are returned.
  absl::InlinedVector<LiveAttempt, 2> Complete(int64_t begin,
                                               absl::Duration kernel_time);
  // Counts a failed attempt of a revoked chunk.
  void CountFailure(ChunkInFlight& chunk) {
    chunk.failures += 1;
    attempts_failed_ += 1;
  }
  // Puts a chunk with no live attempt back in the queue: first in line (it
  // was released unstarted) or last (it failed).
  void Requeue(int64_t begin, bool first_in_line);
  // Counts chunks handed back because their worker was lost.
  void CountRequeued() { chunks_requeued_ += 1; }
  // The job ended: forgets every chunk in flight and to retry.
  void Clear();
  // Live attempts are also added to (and taken off) `*total`, a count over
  // several ledgers (a submitter's share); nullptr stops that.
  void CountLiveIn(int64_t* total) { live_total_ = total; }

  // After a restart: the completed work [begin, end) of `chunks` chunks...
  void RestoreDone(int64_t begin, int64_t end, int64_t chunks);
  // ...a hole [begin, end) before a completed chunk, to run again...
  void RestoreHole(int64_t begin, int64_t end);
  // ...and where cutting resumes.
  void ResumeAt(int64_t cursor);

  const absl::btree_map<int64_t, ChunkInFlight>& in_flight() const {
    return in_flight_;
  }
  const ChunkSizer& sizer() const { return sizer_; }
  int64_t live_attempts() const { return live_attempts_; }
  int64_t indices_done() const { return indices_done_; }
  int64_t chunks_done() const { return chunks_done_; }
  int64_t attempts_failed() const { return attempts_failed_; }
  int64_t chunks_requeued() const { return chunks_requeued_; }

 private:
  void AddLive(int64_t delta) {
    live_attempts_ += delta;
    if (live_total_ != nullptr) *live_total_ += delta;
  }
  // Whether the chunk at `begin` still wants a backup that `worker` could
  // run.
  bool BackupFits(int64_t begin, uint64_t worker) const;

  struct Pending {
    int64_t begin = 0;
    ChunkInFlight chunk;
  };

  int64_t end_;
  // Chunks are cut from here as they are handed out.
  int64_t cursor_;
  ChunkSizer sizer_;
  // Chunks cut so far: the next chunk's number.
  int64_t chunks_cut_ = 0;
  // Chunks to run again (their worker was lost or the attempt failed).
  std::deque<Pending> retry_;
  absl::btree_map<int64_t, ChunkInFlight> in_flight_;
  // Overdue chunks waiting for a backup copy, oldest first (entries of
  // chunks done or backed up since are dropped as they are met).
  std::deque<int64_t> backups_;
  int64_t live_attempts_ = 0;
  int64_t* live_total_ = nullptr;
  int64_t indices_done_ = 0;
  int64_t chunks_done_ = 0;
  int64_t attempts_failed_ = 0;
  int64_t chunks_requeued_ = 0;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_CHUNK_LEDGER_H_
