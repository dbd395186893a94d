// A worker's HTTP side (pfor-worker --http-listen): /metrics for
// Prometheus, in the text format. docs/dashboard.md lists the metrics.
#ifndef PFOR_WORKER_WORKER_HTTP_H_
#define PFOR_WORKER_WORKER_HTTP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pfor/common/http_server.h"
#include "pfor/worker/worker.h"

namespace pfor::worker {

// The /metrics page of a worker in the state `stats`.
std::string WorkerMetricsPage(const WorkerStats& stats);

// Serves /metrics of `worker`, which must outlive the server. Errors as
// HttpServer::Start, naming --http-listen.
absl::StatusOr<std::unique_ptr<HttpServer>> StartWorkerHttp(
    const std::string& listen, const Worker* worker);

}  // namespace pfor::worker

#endif  // PFOR_WORKER_WORKER_HTTP_H_
