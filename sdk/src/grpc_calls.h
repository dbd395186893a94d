// A coordinator in another process, over gRPC: the calls of the Coordinator
// service with the client's deadline, and sessions over its Session stream.
#ifndef PFOR_SDK_GRPC_CALLS_H_
#define PFOR_SDK_GRPC_CALLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/common/credentials.h"
#include "pfor/common/session.h"

namespace pfor::internal {

// Dials `address` (host:port) lazily, over TLS when `credentials` has TLS
// files, presenting its token on every call: an unreachable coordinator
// (or a failed handshake) shows up on the first call as UNAVAILABLE, with a
// message that says what to do. Each call has `timeout` as its deadline;
// sessions have none. INVALID_ARGUMENT when a TLS file cannot be read.
absl::StatusOr<std::unique_ptr<CoordinatorCalls>> NewGrpcCalls(
    const std::string& address, absl::Duration timeout,
    const Credentials& credentials);

}  // namespace pfor::internal

#endif  // PFOR_SDK_GRPC_CALLS_H_
