#include "auth.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/security/auth_context.h"
#include "pfor/common/credentials.h"
#include "pfor/common/grpc_credentials.h"

namespace pfor::coordinator {
namespace {

// "ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7": failures count per host.
std::string PeerHost(const grpc::ServerContextBase& context) {
  std::string peer = context.peer();
  const size_t colon = peer.rfind(':');
  if (colon != std::string::npos && colon > peer.find(':')) {
    peer.resize(colon);
  }
  return peer;
}

// The secret of "authorization: Bearer SECRET"; empty when there is none.
std::string BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) return "";
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ")) return "";
  return std::string(value);
}

// Modification time and size of the file, to notice a change.
int64_t Stamp(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
         info.st_mtim.tv_nsec + static_cast<int64_t>(info.st_size) * 7;
}

}  // namespace

Authenticator::Authenticator(const SecurityOptions& options, Clock& clock,
                             std::function<void(const std::string&)> log)
    : tokens_file_(options.tokens_file),
      require_worker_certificates_(options.require_worker_certificates),
      clock_(clock),
      log_(std::move(log)),
      failures_(options.max_auth_failures_per_minute),
      streams_(options.max_streams_per_client) {}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const SecurityOptions& options, Clock& clock,
    std::function<void(const std::string&)> log) {
  std::unique_ptr<Authenticator> auth(
      new Authenticator(options, clock, std::move(log)));
  if (auth->has_tokens()) {
    if (absl::Status status = auth->Load(); !status.ok()) return status;
  }
  return auth;
}

absl::Status Authenticator::Load() {
  const int64_t stamp = Stamp(tokens_file_);
  absl::StatusOr<std::string> text = ReadSmallFile(tokens_file_, "--tokens");
  if (!text.ok()) return text.status();
  absl::StatusOr<TokenTable> table =
      TokenTable::Parse(*text, absl::StrCat("--tokens ", tokens_file_));
  if (!table.ok()) return table.status();
  std::lock_guard lock(mu_);
  table_ = std::make_shared<const TokenTable>(*std::move(table));
  table_stamp_ = stamp;
  return absl::OkStatus();
}

void Authenticator::ReloadIfChanged() {
  if (!has_tokens()) return;
  {
    std::lock_guard lock(mu_);
    if (Stamp(tokens_file_) == table_stamp_) return;
  }
  if (absl::Status status = Load(); !status.ok()) {
    {
      std::lock_guard lock(mu_);
      table_stamp_ = Stamp(tokens_file_);  // said once per change
    }
    if (log_) {
      log_(
          absl::StrCat("keeping the previous token table: ", status.message()));
    }
  } else if (log_) {
    log_(absl::StrCat("token table ", tokens_file_, " reloaded"));
  }
}

absl::StatusOr<Caller> Authenticator::Identify(
    const grpc::ServerContextBase& context) {
  if (!has_tokens()) return Caller::Anonymous();
  const std::string host = PeerHost(context);
  const absl::Time now = clock_.Now();
  const std::string secret = BearerToken(context);
  std::lock_guard lock(mu_);
  if (!failures_.Allowed(host, now)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many failed authentications from ", host,
        " (the limit is --max-auth-failures a minute); wait a minute and "
        "present a valid token"));
  }
  std::optional<Caller> caller;
  if (!secret.empty()) caller = table_->Find(secret);
  if (caller) return *std::move(caller);
  failures_.Failed(host, now);
  if (secret.empty()) {
    return absl::UnauthenticatedError(
        "this coordinator needs a token; pass --token-file FILE or set "
        "PFOR_TOKEN");
  }
  return absl::UnauthenticatedError(
      "the token is not known to this coordinator (mistyped, or revoked); "
      "ask its administrator for a valid one");
}

absl::StatusOr<Caller> Authenticator::Check(
    const grpc::ServerContextBase& context, Role role) {
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find(kVersionKey); it != metadata.end()) {
    absl::Status compatible = CheckCompatibleVersion(
        std::string(it->second.data(), it->second.size()), "this client");
    if (!compatible.ok()) return compatible;
  }
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) return caller.status();
  if (!caller->Has(role) && !(role == kSubmitRole && caller->Has(kAdminRole))) {
    return absl::PermissionDeniedError(
        absl::StrCat("token ", caller->name, " lacks the ", RoleName(role),
                     " role; use a token that has it"));
  }
  return caller;
}

absl::StatusOr<Caller> Authenticator::CheckWorker(
    const grpc::ServerContextBase& context, const std::string& version) {
  if (absl::Status compatible = CheckCompatibleVersion(version, "this worker");
      !compatible.ok()) {
    return compatible;
  }
  if (require_worker_certificates_) {
    std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    if (auth == nullptr || !auth->IsPeerAuthenticated()) {
      return absl::PermissionDeniedError(
          "this coordinator takes workers with a certificate signed by its "
          "--tls-ca only; start the worker with --tls-cert and --tls-key");
    }
  }
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) return caller.status();
  if (!caller->Has(kWorkerRole)) {
    return absl::PermissionDeniedError(
        absl::StrCat("token ", caller->name,
                     " lacks the worker role, so it cannot join as a worker; "
                     "start the worker with a worker token"));
  }
  return caller;
}

absl::StatusOr<std::string> Authenticator::OpenStream(
    const grpc::ServerContextBase& context, const Caller& caller) {
  std::string key =
      caller.name.empty() ? PeerHost(context) : "token:" + caller.name;
  std::lock_guard lock(mu_);
  if (!streams_.Open(key)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        caller.name.empty() ? "this host" : "token " + caller.name,
        " holds the most streams a client may (--max-streams-per-client); "
        "close some, or share one client between threads"));
  }
  return key;
}

void Authenticator::CloseStream(const std::string& key) {
  std::lock_guard lock(mu_);
  streams_.Close(key);
}

}  // namespace pfor::coordinator
