#include "worker_http.h"

#include <httplib.h>

#include "pfor/common/metrics_text.h"

namespace pfor::worker {

std::string WorkerMetricsPage(const WorkerStats& stats) {
  MetricsText page;
  std::vector<MetricsText::Sample> slots;
  std::vector<MetricsText::Sample> busy;
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    if (stats.slots[kind] == 0) continue;
    const MetricsText::Labels labels = {
        {"executor", ExecutorName(static_cast<ExecutorKind>(kind))}};
    slots.push_back({labels, static_cast<double>(stats.slots[kind])});
    busy.push_back({labels, static_cast<double>(stats.busy_slots[kind])});
  }
  page.Gauges("pfor_worker_slots", "Slots of this worker, per executor.",
              slots);
  page.Gauges("pfor_worker_busy_slots",
              "Slots running a chunk now, per executor.", busy);
  page.Counter("pfor_worker_helper_restarts_total",
               "Helper processes started again after one died or was "
               "killed.",
               static_cast<double>(stats.helper_restarts));
  page.Gauge("pfor_worker_connected",
             "1 while the worker is connected to its coordinator.",
             stats.connected ? 1 : 0);
  page.Histogram("pfor_worker_kernel_seconds", "Kernel time of each chunk run.",
                 stats.kernel_time);
  return page.Take();
}

absl::StatusOr<std::unique_ptr<HttpServer>> StartWorkerHttp(
    const std::string& listen, const Worker* worker) {
  return HttpServer::Start(
      listen, "--http-listen", [worker](httplib::Server& http) {
        http.Get("/metrics", [worker](const httplib::Request&,
                                      httplib::Response& response) {
          response.set_content(WorkerMetricsPage(worker->Stats()),
                               MetricsText::kContentType);
        });
      });
}

}  // namespace pfor::worker
