// What the coordinator counts for its metrics (/metrics): kept by the
// scheduler core and the journal writer as plain numbers, gathered by the
// runtime, rendered by the HTTP module. Plain C++.
#ifndef PFOR_COORDINATOR_STATS_H_
#define PFOR_COORDINATOR_STATS_H_

#include <array>
#include <cstdint>
#include <vector>

#include "pfor/cluster.h"
#include "pfor/common/histogram.h"

namespace pfor::coordinator {

// What happened to chunks since the start.
struct ChunkCounters {
  // Attempts sent to workers: first attempts, retries and backup copies.
  int64_t chunks_dispatched = 0;
  // Chunks done, each counted once.
  int64_t chunks_completed = 0;
  // Attempts that failed (an error, a timeout); a lost worker's are
  // requeued instead.
  int64_t attempts_failed = 0;
  // Of those, the ones whose chunk was queued to run again.
  int64_t chunks_retried = 0;
  // Chunks handed back to the queue because their worker was lost.
  int64_t chunks_requeued = 0;
  // Attempts that ran past their deadline (their chunk got a backup copy).
  int64_t attempts_overdue = 0;
  // From sending an attempt to its result, for the results that count.
  DurationHistogram result_latency;
};

// The coordinator at one moment.
struct CoordinatorStats {
  ChunkCounters chunks;
  // Chunks with a live attempt, over every job.
  int64_t chunks_in_flight = 0;
  // The jobs kept (active, and ended ones not yet forgotten), by JobState.
  std::array<int64_t, 5> jobs_by_state{};
  // Clients holding a session (submitting and following jobs).
  int64_t client_sessions = 0;
  // Time to make one batch of journal entries durable; empty without a
  // journal.
  DurationHistogram journal_commit;
  std::vector<WorkerStatus> workers;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_STATS_H_
