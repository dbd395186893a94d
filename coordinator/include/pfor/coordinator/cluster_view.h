// The cluster as the dashboard sees it (coordinator/http/): the same views
// of the scheduler the gRPC services read, as plain C++, and the numbers
// behind /metrics. CoordinatorServer::view() implements it over the
// scheduler; the HTTP module depends on nothing else of the coordinator, and
// the scheduler core knows nothing of HTTP.
#ifndef PFOR_COORDINATOR_CLUSTER_VIEW_H_
#define PFOR_COORDINATOR_CLUSTER_VIEW_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "pfor/cluster.h"
#include "pfor/coordinator/stats.h"
#include "pfor/job.h"

namespace pfor::coordinator {

// Thread-safe: called from the HTTP server's threads.
class ClusterView {
 public:
  virtual ~ClusterView() = default;
  virtual std::vector<WorkerStatus> ListWorkers() = 0;
  // Newest first; INVALID_ARGUMENT for a negative limit (0: 100).
  virtual absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit) = 0;
  // With its recent attempts and, for a batch, the task results of
  // `tasks`. NOT_FOUND for an unknown or forgotten id.
  virtual absl::StatusOr<JobStatus> GetJob(uint64_t job, TaskPage tasks) = 0;
  virtual absl::StatusOr<JobStatus> CancelJob(uint64_t job) = 0;
  virtual CoordinatorStats Stats() = 0;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_CLUSTER_VIEW_H_
