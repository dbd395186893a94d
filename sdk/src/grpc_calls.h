// A coordinator in another process, over gRPC: the calls of the Coordinator
// service with the client's deadline, and sessions over its Session stream.
#ifndef PFOR_SDK_GRPC_CALLS_H_
#define PFOR_SDK_GRPC_CALLS_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "pfor/common/session.h"

namespace pfor::internal {

// Dials `address` (host:port) lazily: an unreachable coordinator shows up on
// the first call as UNAVAILABLE, with a message that says what to do. Each
// call has `timeout` as its deadline; sessions have none.
std::unique_ptr<CoordinatorCalls> NewGrpcCalls(const std::string& address,
                                               absl::Duration timeout);

}  // namespace pfor::internal

#endif  // PFOR_SDK_GRPC_CALLS_H_
