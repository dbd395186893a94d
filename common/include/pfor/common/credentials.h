// What a client, a worker or the coordinator needs to prove who it is and
// to check who it talks to: TLS files and a role token. Plain C++; the gRPC
// credentials made from them are in pfor/common/grpc_credentials.h.
//
// Tokens are secrets: they are read from a file or the environment, never
// from a command line (where `ps` would show them).
#ifndef PFOR_COMMON_CREDENTIALS_H_
#define PFOR_COMMON_CREDENTIALS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pfor {

// PEM files for TLS (--tls-cert, --tls-key, --tls-ca). TLS is on when any
// is set.
struct TlsFiles {
  // This end's certificate chain and private key. A coordinator needs both;
  // a client or worker passes them for mutual TLS.
  std::string cert = {};
  std::string key = {};
  // The certificate authorities the other end's certificate must be signed
  // by. A client or worker with TLS needs it; a coordinator uses it to check
  // the certificates of workers (and clients) that present one.
  std::string ca = {};

  bool enabled() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

// How a client or a worker presents itself to a coordinator.
struct Credentials {
  TlsFiles tls = {};
  // The token's secret; empty sends none.
  std::string token = {};
};

// The environment variables a token comes from when no file is named.
inline constexpr char kTokenEnv[] = "PFOR_TOKEN";
inline constexpr char kTokenFileEnv[] = "PFOR_TOKEN_FILE";

// The token secret: the first line of `file` when it is set, else
// $PFOR_TOKEN, else the first line of the file $PFOR_TOKEN_FILE names;
// empty when none is set. Surrounding white space is dropped.
// INVALID_ARGUMENT when a named file cannot be read or holds no token.
absl::StatusOr<std::string> ReadToken(const std::string& file);

// The whole of a file, for PEM files and token tables. INVALID_ARGUMENT
// naming `flag` and the file when it cannot be read or is empty.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          const std::string& flag);

// The pfor version of this build, such as "0.1.0".
const char* PforVersion();

// OK when a peer of version `theirs` may talk to this build: the same major
// version (and, before 1.0, the same minor one). FAILED_PRECONDITION naming
// both versions otherwise; `who` names the peer ("worker w1").
absl::Status CheckCompatibleVersion(const std::string& theirs,
                                    const std::string& who);

}  // namespace pfor

#endif  // PFOR_COMMON_CREDENTIALS_H_
