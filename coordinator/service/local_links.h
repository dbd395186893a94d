// The embedded cluster's ends: a worker or a client in the coordinator's
// own process talks to the host by plain calls. No gRPC, no protobuf: a
// chunk's assignment, its tasks and its output are the same C++ objects at
// both ends.
#ifndef PFOR_COORDINATOR_LOCAL_LINKS_H_
#define PFOR_COORDINATOR_LOCAL_LINKS_H_

#include <memory>

#include "pfor/common/link.h"
#include "pfor/common/session.h"
#include "scheduler_host.h"

namespace pfor::coordinator {

// Opens worker links to `host`, which must outlive them. Messages reach the
// worker's handler in order on the thread that flushes them (the worker's
// own, after its Send, or a thread whose event gave it work).
WorkerLinkOpener LocalWorkerLinks(SchedulerHost* host);

// Calls and sessions to `host`, which must outlive them.
std::unique_ptr<CoordinatorCalls> NewLocalCalls(SchedulerHost* host);

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_LOCAL_LINKS_H_
