#include "pfor/common/grpc_credentials.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/support/log.h"
#include "grpcpp/client_context.h"

namespace pfor {
namespace {

// The certificate and key of this end, both or neither.
absl::Status CheckPair(const TlsFiles& tls) {
  if (tls.cert.empty() != tls.key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: pass the certificate and its "
        "private key");
  }
  return absl::OkStatus();
}

// Whether `text` holds one of `words` (lowercase), in any case.
bool Mentions(const std::string& text,
              std::initializer_list<const char*> words) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (const char* word : words) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

// gRPC logs every failed handshake at ERROR, as a line of OpenSSL codes,
// and a listen address it cannot bind as a dump of nested errors; pfor says
// the same in one readable line (DescribeHandshakeFailure, the server's
// start), so those lines are dropped and all others pass on.
void DropReportedLogs(gpr_log_func_args* args) {
  if (absl::StrContains(args->file, "ssl_transport_security") ||
      absl::StrContains(args->file, "security_handshaker") ||
      (absl::StrContains(args->file, "chttp2_server") &&
       absl::StrContains(args->message, "No address added"))) {
    return;
  }
  std::fprintf(stderr, "%s %s:%d] %s\n",
               gpr_log_severity_string(args->severity), args->file, args->line,
               args->message);
}

void QuietReportedLogs() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(DropReportedLogs); });
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  if (absl::Status status = CheckPair(tls); !status.ok()) return status;
  QuietReportedLogs();
  if (tls.ca.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs --tls-ca: the certificate authority that signed the "
        "coordinator's certificate");
  }
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> ca = ReadSmallFile(tls.ca, "--tls-ca");
  if (!ca.ok()) return ca.status();
  options.pem_root_certs = *std::move(ca);
  if (!tls.cert.empty()) {
    absl::StatusOr<std::string> cert = ReadSmallFile(tls.cert, "--tls-cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadSmallFile(tls.key, "--tls-key");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *std::move(cert);
    options.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& tls) {
  QuietReportedLogs();
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  if (tls.cert.empty() || tls.key.empty()) {
    return absl::InvalidArgumentError(
        "a coordinator serving TLS needs --tls-cert and --tls-key: its "
        "certificate and private key");
  }
  absl::StatusOr<std::string> cert = ReadSmallFile(tls.cert, "--tls-cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadSmallFile(tls.key, "--tls-key");
  if (!key.ok()) return key.status();
  // Peers may present a certificate; one that does not check out against
  // the CA ends the handshake. Who must present one is decided per call.
  grpc::SslServerCredentialsOptions options(
      tls.ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                     : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!tls.ca.empty()) {
    absl::StatusOr<std::string> ca = ReadSmallFile(tls.ca, "--tls-ca");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(options);
}

void AddCallMetadata(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) {
    context.AddMetadata(kAuthorizationKey, absl::StrCat("Bearer ", token));
  }
  context.AddMetadata(kVersionKey, PforVersion());
}

std::string DescribeHandshakeFailure(const grpc::Status& status,
                                     const std::string& address,
                                     const TlsFiles& tls) {
  const std::string& detail = status.error_message();
  if (!tls.enabled()) {
    if (Mentions(detail, {"socket closed"})) {
      return absl::StrCat("the coordinator at ", address,
                          " closed the connection; if it serves TLS, pass "
                          "--tls-ca (and a token with --token-file)");
    }
    return "";
  }
  if (Mentions(detail,
               {"certificate verify failed", "certificate_verify_failed"})) {
    return absl::StrCat("the coordinator's certificate at ", address,
                        " is not signed by --tls-ca ", tls.ca,
                        "; pass the CA that signed it");
  }
  if (Mentions(detail, {"peer name", "not in peer certificate"})) {
    return absl::StrCat("the coordinator's certificate does not name ", address,
                        "; reach it by a name its certificate holds, or make "
                        "it a certificate for this name");
  }
  // With TLS 1.3 the coordinator checks a client's certificate after the
  // client has finished its side: a refusal reads as a closed socket.
  if (Mentions(detail, {"unknown ca", "bad certificate", "certificate required",
                        "certificate unknown"}) ||
      (!tls.cert.empty() && Mentions(detail, {"socket closed"}))) {
    return absl::StrCat(
        "the coordinator at ", address,
        " refused this end's certificate (--tls-cert ", tls.cert,
        "); pass --tls-cert and --tls-key signed by the CA the coordinator "
        "trusts (its --tls-ca)");
  }
  if (Mentions(detail, {"wrong version number", "packet length too long",
                        "record layer failure", "http_request"})) {
    return absl::StrCat("the coordinator at ", address,
                        " does not serve TLS; start it with --tls-cert and "
                        "--tls-key, or drop the --tls-* flags here");
  }
  if (Mentions(detail, {"handshake", "ssl"})) {
    return absl::StrCat("the TLS handshake with the coordinator at ", address,
                        " failed (", detail,
                        "); check --tls-ca, --tls-cert and --tls-key");
  }
  return "";
}

std::string DescribeUnavailable(const grpc::Status& status,
                                const std::string& address,
                                const TlsFiles& tls) {
  std::string handshake = DescribeHandshakeFailure(status, address, tls);
  if (!handshake.empty()) return handshake;
  return absl::StrCat("cannot reach the coordinator at ", address, " (",
                      status.error_message(),
                      "); start pfor-coordinator there, or pass "
                      "--coordinator HOST:PORT");
}

}  // namespace pfor
