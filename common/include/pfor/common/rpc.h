// The gRPC edge: what every part needs where it meets gRPC. The scheduler
// core, the executors and the kernels never include this.
#ifndef PFOR_COMMON_RPC_H_
#define PFOR_COMMON_RPC_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace pfor {

// Keeps the code and the message, both ways.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace pfor

#endif  // PFOR_COMMON_RPC_H_
