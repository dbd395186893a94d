// Who may do what on a coordinator: the token table (--tokens), the roles a
// token carries, and the bounds on failed authentications and open streams.
// Plain C++ (hashes by OpenSSL's libcrypto); the gRPC side is auth.h.
//
// A token table is a text file, one token a line:
//
//   # name   roles            SHA-256 of the secret, in hex
//   alice    submit,commands
//   2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ops admin
//   ... nodes    worker           ...
//
// Only hashes are stored, so the file gives nobody a secret.
#ifndef PFOR_COORDINATOR_TOKENS_H_
#define PFOR_COORDINATOR_TOKENS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pfor::coordinator {

// What a token may do; a token carries any set of them.
enum Role : uint32_t {
  // Submit jobs, follow, see and cancel its own, list workers and kernels.
  kSubmitRole = 1,
  // Everything kSubmitRole may, for every job (cancel anybody's).
  kAdminRole = 2,
  // Join the cluster as a worker.
  kWorkerRole = 4,
  // Submit command jobs (with kSubmitRole or kAdminRole).
  kCommandsRole = 8,
};

// "submit", "admin", "worker", "commands".
const char* RoleName(Role role);

// Who is calling: a token's name and roles. Without a token table every
// caller is the anonymous caller, who may do everything.
struct Caller {
  std::string name;
  uint32_t roles = 0;

  bool Has(Role role) const { return (roles & role) != 0; }
  // May see and cancel a job submitted by the token named `owner`.
  bool Owns(const std::string& owner) const {
    return Has(kAdminRole) || owner == name;
  }
  static Caller Anonymous() {
    return {"", kSubmitRole | kAdminRole | kWorkerRole | kCommandsRole};
  }
};

// The SHA-256 of a secret, as the table stores it.
using TokenHash = std::array<uint8_t, 32>;
TokenHash HashSecret(absl::string_view secret);

class TokenTable {
 public:
  // Parses a table (see above). INVALID_ARGUMENT naming `source`, the line
  // and the fix for a bad line, an unknown role, a bad hash, or a name or
  // hash given twice.
  static absl::StatusOr<TokenTable> Parse(absl::string_view text,
                                          absl::string_view source);

  // The caller whose token has this secret, or nullopt. Compares the
  // secret's hash with every entry in constant time, so the time taken
  // tells nothing about which entry nearly matched.
  std::optional<Caller> Find(absl::string_view secret) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Caller caller;
    TokenHash hash;
  };
  std::vector<Entry> entries_;
};

// Counts failed authentications per peer host: past `max_per_minute`
// within a minute the host is refused until the minute is over. Bounded
// memory: hosts whose minute is over are forgotten. Not thread-safe.
class FailureLimiter {
 public:
  explicit FailureLimiter(int max_per_minute) : max_(max_per_minute) {}
  // Whether `host` may try now.
  bool Allowed(const std::string& host, absl::Time now);
  void Failed(const std::string& host, absl::Time now);

 private:
  struct Window {
    absl::Time start;
    int failures = 0;
  };
  const int max_;
  absl::flat_hash_map<std::string, Window> hosts_;
};

// Counts the streams each caller holds open. Not thread-safe.
class StreamLimiter {
 public:
  explicit StreamLimiter(int max_per_caller) : max_(max_per_caller) {}
  // Counts one more stream for `key`; false (and counts nothing) when it
  // holds the maximum already.
  bool Open(const std::string& key);
  void Close(const std::string& key);

 private:
  const int max_;
  absl::flat_hash_map<std::string, int> open_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_TOKENS_H_
