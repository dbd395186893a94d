// The embedded cluster: the real coordinator and worker libraries started
// in this process, joined by plain calls (no gRPC, no serialisation).
#ifndef PFOR_SDK_LOCAL_CLUSTER_H_
#define PFOR_SDK_LOCAL_CLUSTER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "pfor/common/session.h"
#include "pfor/coordinator/server.h"
#include "pfor/worker/worker.h"

namespace pfor {

class LocalCluster {
 public:
  // Starts a coordinator and one worker with `threads` slots (0: one per
  // core) serving the built-in kernels, with `test_kernels` the test-only
  // ones, and every kernel registered with PFOR_KERNEL. Returns once the
  // worker has joined.
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Start(int threads,
                                                             bool test_kernels);
  // Stops the worker, then the coordinator.
  ~LocalCluster();

  // Stops the worker: its running chunks are cancelled and its slots
  // joined. The coordinator stays up for calls still in flight.
  void StopWorker();

  // Calls to the coordinator; they must go before the cluster does.
  std::unique_ptr<CoordinatorCalls> Calls() {
    return coordinator_->LocalCalls();
  }

 private:
  LocalCluster() = default;

  std::unique_ptr<coordinator::CoordinatorServer> coordinator_;
  std::unique_ptr<worker::Worker> worker_;
};

}  // namespace pfor

#endif  // PFOR_SDK_LOCAL_CLUSTER_H_
