// The WorkerLink service: one bidirectional stream per worker, turned into
// scheduler events (hello, credits, results) and fed with its commands.
#ifndef PFOR_COORDINATOR_WORKER_LINK_SERVICE_H_
#define PFOR_COORDINATOR_WORKER_LINK_SERVICE_H_

#include "absl/time/time.h"
#include "pfor/v1/worker_link.grpc.pb.h"
#include "scheduler_host.h"

namespace pfor::coordinator {

class WorkerLinkService final : public v1::WorkerLink::CallbackService {
 public:
  // `host` must outlive the service and every stream it serves.
  WorkerLinkService(SchedulerHost* host, absl::Duration heartbeat_interval)
      : host_(host), heartbeat_interval_(heartbeat_interval) {}

  grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>* Connect(
      grpc::CallbackServerContext* context) override;

 private:
  SchedulerHost* host_;
  absl::Duration heartbeat_interval_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_WORKER_LINK_SERVICE_H_
