// The coordinator's door: every call of the Coordinator and WorkerLink
// services passes Check (or CheckWorker) first. It reads the caller's
// token from the call's metadata ("authorization: Bearer SECRET"), finds
// its roles in the token table, refuses what the roles do not allow, and
// checks the caller's pfor version. Failed authentications are counted per
// host; past the limit the host is refused for the rest of the minute.
//
// Codes: UNAUTHENTICATED (no token, or an unknown or revoked one),
// PERMISSION_DENIED (the token lacks the role, or a worker lacks the
// certificate), RESOURCE_EXHAUSTED (too many failures, too many streams),
// FAILED_PRECONDITION (incompatible versions). Every message names the fix.
//
// Thread-safe.
#ifndef PFOR_COORDINATOR_AUTH_H_
#define PFOR_COORDINATOR_AUTH_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "pfor/common/clock.h"
#include "pfor/coordinator/options.h"
#include "tokens.h"

namespace pfor::coordinator {

class Authenticator {
 public:
  // Reads the token table when one is named. INVALID_ARGUMENT for a table
  // that cannot be read or parsed.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(
      const SecurityOptions& options, Clock& clock,
      std::function<void(const std::string&)> log);

  // Whether a token table is in use (else every caller is anonymous).
  bool has_tokens() const { return !tokens_file_.empty(); }

  // The caller of `context`, if it may act as `role`.
  absl::StatusOr<Caller> Check(const grpc::ServerContextBase& context,
                               Role role);
  // The caller of a worker link whose hello gave `version`: it needs the
  // worker role, a certificate signed by --tls-ca when the coordinator
  // asks for one, and a compatible version.
  absl::StatusOr<Caller> CheckWorker(const grpc::ServerContextBase& context,
                                     const std::string& version);

  // Counts one more open stream of the caller; RESOURCE_EXHAUSTED naming
  // --max-streams-per-client when it holds the maximum. Returns the key to
  // pass to CloseStream when the stream ends.
  absl::StatusOr<std::string> OpenStream(const grpc::ServerContextBase& context,
                                         const Caller& caller);
  void CloseStream(const std::string& key);

  // Reads the token table again when its file changed: tokens removed from
  // it are refused from then on. Keeps the old table (and logs why) when
  // the new one does not parse.
  void ReloadIfChanged();

 private:
  Authenticator(const SecurityOptions& options, Clock& clock,
                std::function<void(const std::string&)> log);
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context);
  absl::Status Load();

  const std::string tokens_file_;
  const bool require_worker_certificates_;
  Clock& clock_;
  const std::function<void(const std::string&)> log_;

  std::mutex mu_;
  std::shared_ptr<const TokenTable> table_;  // guarded by mu_
  int64_t table_stamp_ = 0;                  // guarded by mu_
  FailureLimiter failures_;                  // guarded by mu_
  StreamLimiter streams_;                    // guarded by mu_
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_AUTH_H_
