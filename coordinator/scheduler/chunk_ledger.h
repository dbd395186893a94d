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
#include <utility>

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
};

class ChunkLedger {
 public:
  // The range [begin, end), cut by `sizer`.
  ChunkLedger(int64_t begin, int64_t end, ChunkSizer sizer)
      : end_(end), cursor_(begin), sizer_(std::move(sizer)) {}

  // Some chunk waits to be handed out.
  bool HasWork() const { return !retry_.empty() || cursor_ < end_; }
  // Every chunk is done: none left to cut, to retry or in flight.
  bool Drained() const {
    return cursor_ == end_ && retry_.empty() && in_flight_.empty();
  }

  // Puts the next chunk in flight, without an attempt yet: a chunk to retry
  // first, else a new one cut at the cursor (`slots` that can run the job
  // shape the auto policy's tail). Returns its begin. Requires HasWork().
  int64_t TakeNext(int slots);
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
  int64_t live_attempts_ = 0;
  int64_t indices_done_ = 0;
  int64_t chunks_done_ = 0;
  int64_t attempts_failed_ = 0;
  int64_t chunks_requeued_ = 0;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_CHUNK_LEDGER_H_
