// The security flags of pfor-coordinator, pfor-worker and pfor, defined
// once so that the three spell and explain them alike.
#ifndef PFOR_COMMON_SECURITY_FLAGS_H_
#define PFOR_COMMON_SECURITY_FLAGS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "pfor/common/credentials.h"

namespace pfor {

enum class FlagSide { kServer, kClient };

// --tls-cert, --tls-key and --tls-ca into `tls`, explained for a server
// (the coordinator) or a client (a worker or the pfor command line);
// --token-file into `file` (a client's or a worker's token).
// Header only: the pfor command line links libpfor.so and nothing else.
inline void AddTlsFlags(CLI::App& app, TlsFiles& tls, FlagSide side) {
  const bool server = side == FlagSide::kServer;
  app.add_option("--tls-cert", tls.cert,
                 server ? "PEM certificate to serve TLS with (with --tls-key)"
                        : "PEM certificate for mutual TLS (with --tls-key)")
      ->group("Security");
  app.add_option("--tls-key", tls.key, "PEM private key of --tls-cert")
      ->group("Security");
  app.add_option("--tls-ca", tls.ca,
                 server ? "PEM CA bundle: workers and clients that present a "
                          "certificate must be signed by it"
                        : "PEM CA bundle the coordinator's certificate must be "
                          "signed by; turns TLS on")
      ->group("Security");
}

inline void AddTokenFileFlag(CLI::App& app, std::string& file) {
  app.add_option("--token-file", file,
                 "File whose first line is the token to present (default: "
                 "$PFOR_TOKEN, or the file named by $PFOR_TOKEN_FILE)")
      ->group("Security");
}

}  // namespace pfor

#endif  // PFOR_COMMON_SECURITY_FLAGS_H_
