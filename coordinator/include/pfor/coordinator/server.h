// The coordinator daemon as a library: the pfor-coordinator binary and the
// SDK's embedded cluster both start it through this header.
//
// Clients reach it over gRPC (the Coordinator service), or, within the same
// process, through LocalCalls(); workers over gRPC (the WorkerLink service)
// or through LocalWorkerLinks(). The in-process ends skip gRPC and protobuf
// altogether: C++ objects go straight to the scheduler and back.
#ifndef PFOR_COORDINATOR_SERVER_H_
#define PFOR_COORDINATOR_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/common/link.h"
#include "pfor/common/session.h"
#include "pfor/coordinator/cluster_view.h"
#include "pfor/coordinator/options.h"

namespace pfor::coordinator {

// A running coordinator. Thread-safe.
class CoordinatorServer {
 public:
  // Opens the journal, resumes its jobs, binds and starts serving.
  // UNAVAILABLE when the address cannot be bound or the journal cannot be
  // used, naming it and the fix.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(
      const ServerOptions& options);

  // Shuts down (see Shutdown).
  ~CoordinatorServer();

  // The port bound; 0 when serving in-process only.
  int port() const;
  // The cluster as the dashboard sees it. Valid until the server goes.
  ClusterView& view();
  // Unfinished jobs resumed from the journal at start.
  int resumed_jobs() const;

  // Links for workers in this process. Valid until Shutdown.
  WorkerLinkOpener LocalWorkerLinks();
  // Calls and sessions for clients in this process. The calls must go
  // before the server does.
  std::unique_ptr<CoordinatorCalls> LocalCalls();

  // Ends worker links (workers reconnect elsewhere or retry) and sessions,
  // then stops serving; calls still running after `grace` are cancelled.
  // Blocks until done. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(2));
  // Blocks until Shutdown has been called (by another thread or a signal
  // handler thread).
  void Wait();

 private:
  struct State;
  explicit CoordinatorServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SERVER_H_
