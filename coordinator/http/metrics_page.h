// The coordinator's /metrics page in the Prometheus text format: chunk
// counters, the dispatch-to-result and journal commit latency histograms,
// chunks in flight, jobs by state, slots per worker, client sessions.
// docs/dashboard.md lists every metric.
#ifndef PFOR_COORDINATOR_HTTP_METRICS_PAGE_H_
#define PFOR_COORDINATOR_HTTP_METRICS_PAGE_H_

#include <string>

#include "pfor/coordinator/stats.h"

namespace pfor::coordinator {

std::string MetricsPage(const CoordinatorStats& stats);

// Slots of `worker` holding a chunk: its live attempts, up to its slots
// (the rest wait in its queue).
int BusySlots(const WorkerStatus& worker);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_HTTP_METRICS_PAGE_H_
