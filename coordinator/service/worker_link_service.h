// The WorkerLink service: one bidirectional stream per worker. Its messages
// are decoded and handed to the host as events; the host's commands for the
// worker are queued in C++ and encoded when their write starts.
#ifndef PFOR_COORDINATOR_WORKER_LINK_SERVICE_H_
#define PFOR_COORDINATOR_WORKER_LINK_SERVICE_H_

#include "auth.h"
#include "pfor/v1/worker_link.grpc.pb.h"
#include "scheduler_host.h"

namespace pfor::coordinator {

class WorkerLinkService final : public v1::WorkerLink::CallbackService {
 public:
  // `host` and `auth` must outlive the service and every stream it serves.
  // A worker's first message is checked by `auth` before it joins.
  WorkerLinkService(SchedulerHost* host, Authenticator* auth)
      : host_(host), auth_(auth) {}

  grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>* Connect(
      grpc::CallbackServerContext* context) override;

 private:
  SchedulerHost* host_;
  Authenticator* auth_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_WORKER_LINK_SERVICE_H_
