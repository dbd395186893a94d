// gRPC credentials from pfor's TLS files and tokens, for the three
// binaries and the SDK: one place that reads the PEM files, puts the token
// and the version on every call, and turns a failed handshake into one
// line a person can act on.
#ifndef PFOR_COMMON_GRPC_CREDENTIALS_H_
#define PFOR_COMMON_GRPC_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/status.h"
#include "pfor/common/credentials.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace pfor {

// The metadata keys of every call: the bearer token and the caller's pfor
// version.
inline constexpr char kAuthorizationKey[] = "authorization";
inline constexpr char kVersionKey[] = "pfor-version";

// With TLS files, both functions below also drop gRPC's own log lines about
// failed handshakes (process-wide, once): DescribeHandshakeFailure says the
// same in a line a person can act on. MakeServerCredentials drops them
// always, and gRPC's dump about a listen address it cannot bind too: the
// server that fails to start says so in one line.

// Plaintext without TLS files; else TLS checking the coordinator's
// certificate against tls.ca (and presenting tls.cert, tls.key for mutual
// TLS). INVALID_ARGUMENT naming the flag when a file cannot be read, or
// when a certificate comes without its key.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsFiles& tls);

// Plaintext without TLS files; else TLS with tls.cert and tls.key, asking
// peers for a certificate and checking the ones they present against
// tls.ca (when set). INVALID_ARGUMENT naming the flag when a file is
// missing or unreadable.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& tls);

// Adds the token (when set) and this build's version to a call.
void AddCallMetadata(grpc::ClientContext& context, const std::string& token);

// For a call to `address` that failed with UNAVAILABLE because of TLS
// (a certificate that does not check out, TLS on one side only): one line
// saying which side and the flag that fixes it. Empty for other failures.
std::string DescribeHandshakeFailure(const grpc::Status& status,
                                     const std::string& address,
                                     const TlsFiles& tls);

// One line for a call to `address` that failed with UNAVAILABLE: the
// handshake failure, or that the coordinator is out of reach.
std::string DescribeUnavailable(const grpc::Status& status,
                                const std::string& address,
                                const TlsFiles& tls);

}  // namespace pfor

#endif  // PFOR_COMMON_GRPC_CREDENTIALS_H_
