// The coordinator's HTTP side (--http-listen): the dashboard page at /, the
// JSON API it polls under /api/v1/, and /metrics for Prometheus. It reads
// the cluster through a ClusterView, on the HTTP server's own threads.
// docs/dashboard.md documents the API.
//
// Cancelling a job (POST /api/v1/jobs/ID/cancel, the page's Cancel button)
// is allowed only when DashboardOptions::authorize_cancel says so: without
// it the dashboard is read-only. That function is the seam where access
// control plugs in (a bearer token's role, the job's owner).
#ifndef PFOR_COORDINATOR_HTTP_DASHBOARD_SERVER_H_
#define PFOR_COORDINATOR_HTTP_DASHBOARD_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pfor/common/http_server.h"
#include "pfor/coordinator/cluster_view.h"

namespace pfor::coordinator {

// Decides whether an HTTP request may cancel `job`: OK allows it; an error
// (PERMISSION_DENIED, UNAUTHENTICATED) refuses it with its message.
// `authorization` is the request's Authorization header, empty when it has
// none. Called on the HTTP server's threads.
using CancelAuthorizer =
    std::function<absl::Status(const std::string& authorization, uint64_t job)>;

struct DashboardOptions {
  // HOST:PORT; port 0 picks a free port.
  std::string listen;
  // nullptr: nobody may cancel.
  CancelAuthorizer authorize_cancel;
};

// Starts serving; `view` must outlive the server. Errors as
// HttpServer::Start, naming --http-listen.
absl::StatusOr<std::unique_ptr<HttpServer>> StartDashboard(
    const DashboardOptions& options, ClusterView* view);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_HTTP_DASHBOARD_SERVER_H_
