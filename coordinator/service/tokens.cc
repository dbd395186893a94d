#include "tokens.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pfor::coordinator {
namespace {

constexpr Role kRoles[] = {kSubmitRole, kAdminRole, kWorkerRole, kCommandsRole};
// Token names appear in job listings and the journal.
constexpr size_t kMaxTokenName = 64;
constexpr absl::Duration kFailureWindow = absl::Minutes(1);
// Hosts remembered at once; past it, those whose minute is over go.
constexpr size_t kMaxHostsKept = 10000;

bool IsTokenName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxTokenName) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' &&
        c != '@') {
      return false;
    }
  }
  return true;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case kSubmitRole:
      return "submit";
    case kAdminRole:
      return "admin";
    case kWorkerRole:
      return "worker";
    case kCommandsRole:
      return "commands";
  }
  return "unknown";
}

TokenHash HashSecret(absl::string_view secret) {
  TokenHash hash;
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
         hash.data());
  return hash;
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text,
                                             absl::string_view source) {
  TokenTable table;
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<std::string> hashes;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    number += 1;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](absl::string_view problem) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " line ", number, ": ", problem,
          "; each line is NAME ROLES SHA256 (roles among submit, admin, "
          "worker, commands, joined by commas; the SHA-256 of the secret "
          "in hex, as sha256sum prints it)"));
    };
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.size() != 3) return bad("expected three fields");
    Entry entry;
    if (!IsTokenName(fields[0])) {
      return bad(absl::StrCat("the name must be 1 to ", kMaxTokenName,
                              " letters, digits or - _ . @"));
    }
    entry.caller.name = std::string(fields[0]);
    for (absl::string_view role : absl::StrSplit(fields[1], ',')) {
      bool known = false;
      for (Role candidate : kRoles) {
        if (role == RoleName(candidate)) {
          entry.caller.roles |= candidate;
          known = true;
        }
      }
      if (!known) return bad(absl::StrCat("unknown role '", role, "'"));
    }
    const std::string hex = absl::AsciiStrToLower(fields[2]);
    if (hex.size() != 64 ||
        hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return bad("the hash is not 64 hex digits");
    }
    const std::string bytes = absl::HexStringToBytes(hex);
    std::copy(bytes.begin(), bytes.end(), entry.hash.begin());
    if (!names.insert(entry.caller.name).second) {
      return bad(absl::StrCat("token ", entry.caller.name, " is given twice"));
    }
    if (!hashes.insert(hex).second) {
      return bad("this secret is given twice; give every token its own");
    }
    table.entries_.push_back(std::move(entry));
  }
  return table;
}

std::optional<Caller> TokenTable::Find(absl::string_view secret) const {
  const TokenHash hash = HashSecret(secret);
  const Entry* found = nullptr;
  // Every entry is compared, whichever matches.
  for (const Entry& entry : entries_) {
    if (CRYPTO_memcmp(entry.hash.data(), hash.data(), hash.size()) == 0) {
      found = &entry;
    }
  }
  if (found == nullptr) return std::nullopt;
  return found->caller;
}

bool FailureLimiter::Allowed(const std::string& host, absl::Time now) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return true;
  if (now - it->second.start >= kFailureWindow) {
    hosts_.erase(it);
    return true;
  }
  return it->second.failures < max_;
}

void FailureLimiter::Failed(const std::string& host, absl::Time now) {
  if (hosts_.size() >= kMaxHostsKept) {
    absl::erase_if(hosts_, [now](const auto& entry) {
      return now - entry.second.start >= kFailureWindow;
    });
  }
  auto [it, added] = hosts_.try_emplace(host, Window{now, 0});
  if (!added && now - it->second.start >= kFailureWindow) {
    it->second = Window{now, 0};
  }
  it->second.failures += 1;
}

bool StreamLimiter::Open(const std::string& key) {
  int& open = open_[key];
  if (open >= max_) return false;
  open += 1;
  return true;
}

void StreamLimiter::Close(const std::string& key) {
  auto it = open_.find(key);
  if (it == open_.end()) return;
  if (--it->second <= 0) open_.erase(it);
}

}  // namespace pfor::coordinator
