#include "metrics_page.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "pfor/common/metrics_text.h"

namespace pfor::coordinator {

int BusySlots(const WorkerStatus& worker) {
  return static_cast<int>(
      std::min<int64_t>(worker.chunks_in_flight, worker.total_slots()));
}

std::string MetricsPage(const CoordinatorStats& stats) {
  MetricsText page;
  const ChunkCounters& chunks = stats.chunks;
  const struct {
    const char* name;
    const char* help;
    int64_t value;
  } counters[] = {
      {"pfor_chunks_dispatched_total",
       "Chunk attempts sent to workers (retries and backup copies "
       "included).",
       chunks.chunks_dispatched},
      {"pfor_chunks_completed_total", "Chunks completed, each counted once.",
       chunks.chunks_completed},
      {"pfor_chunks_failed_total",
       "Chunk attempts that failed (an error, a timeout).",
       chunks.attempts_failed},
      {"pfor_chunks_retried_total",
       "Failed chunk attempts whose chunk was queued to run again.",
       chunks.chunks_retried},
      {"pfor_chunks_requeued_total",
       "Chunks handed back to the queue because their worker was lost.",
       chunks.chunks_requeued},
      {"pfor_chunks_overdue_total",
       "Chunk attempts that ran past their deadline (the chunk got a backup "
       "copy elsewhere).",
       chunks.attempts_overdue},
  };
  for (const auto& counter : counters) {
    page.Counter(counter.name, counter.help,
                 static_cast<double>(counter.value));
  }
  page.Gauge("pfor_chunks_in_flight", "Chunks with a live attempt.",
             static_cast<double>(stats.chunks_in_flight));
  std::vector<MetricsText::Sample> jobs;
  for (int state = 0; state < static_cast<int>(stats.jobs_by_state.size());
       ++state) {
    jobs.push_back({{{"state", JobStateName(static_cast<JobState>(state))}},
                    static_cast<double>(stats.jobs_by_state[state])});
  }
  page.Gauges("pfor_jobs",
              "Jobs the coordinator keeps, by state (ended ones until "
              "--keep-jobs forgets them).",
              jobs);
  page.Gauge("pfor_workers", "Workers connected.",
             static_cast<double>(stats.workers.size()));
  std::vector<MetricsText::Sample> slots;
  std::vector<MetricsText::Sample> busy;
  std::vector<MetricsText::Sample> quarantined;
  for (const WorkerStatus& worker : stats.workers) {
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if (worker.slots[kind] == 0) continue;
      slots.push_back(
          {{{"worker", worker.name},
            {"worker_id", std::to_string(worker.id)},
            {"executor", ExecutorName(static_cast<ExecutorKind>(kind))}},
           static_cast<double>(worker.slots[kind])});
    }
    // Names may repeat (--name); ids never do.
    busy.push_back(
        {{{"worker", worker.name}, {"worker_id", std::to_string(worker.id)}},
         static_cast<double>(BusySlots(worker))});
    quarantined.push_back(
        {{{"worker", worker.name}, {"worker_id", std::to_string(worker.id)}},
         worker.quarantined ? 1.0 : 0.0});
  }
  page.Gauges("pfor_worker_slots", "Slots of each worker, per executor.",
              slots);
  page.Gauges("pfor_worker_busy_slots", "Slots of each worker holding a chunk.",
              busy);
  page.Gauges("pfor_worker_quarantined",
              "1 while a worker gets no chunks because its attempts kept "
              "running past their deadline.",
              quarantined);
  page.Gauge("pfor_client_sessions",
             "Clients connected with a session (submitting or following "
             "jobs).",
             static_cast<double>(stats.client_sessions));
  page.Histogram("pfor_chunk_result_latency_seconds",
                 "Time from sending a chunk attempt to a worker to its "
                 "result.",
                 chunks.result_latency);
  page.Histogram("pfor_journal_commit_seconds",
                 "Time to make one batch of journal entries durable.",
                 stats.journal_commit);
  return page.Take();
}

}  // namespace pfor::coordinator
