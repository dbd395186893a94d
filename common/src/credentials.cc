#include "pfor/common/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pfor {
namespace {

// Token files and PEM files are small; anything bigger is a wrong path.
constexpr std::streamsize kMaxFileBytes = 1 << 20;

absl::StatusOr<std::string> TokenFromFile(const std::string& path,
                                          const std::string& flag) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, flag);
  if (!text.ok()) return text.status();
  std::vector<absl::string_view> lines =
      absl::StrSplit(*text, absl::MaxSplits('\n', 1));
  absl::string_view token = absl::StripAsciiWhitespace(lines[0]);
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path,
                     ": the first line holds no token; write the secret "
                     "there (pfor-coordinator --help shows how to make one)"));
  }
  return std::string(token);
}

}  // namespace

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot read the file; check the ",
                     "path and its permissions"));
  }
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), kMaxFileBytes + 1);
  text.resize(in.gcount());
  if (text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": the file is empty"));
  }
  if (static_cast<std::streamsize>(text.size()) > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " ", path, ": larger than 1 MiB; is it the ", "right file?"));
  }
  return text;
}

absl::StatusOr<std::string> ReadToken(const std::string& file) {
  if (!file.empty()) return TokenFromFile(file, "--token-file");
  if (const char* token = std::getenv(kTokenEnv);
      token != nullptr && *token != '\0') {
    return std::string(absl::StripAsciiWhitespace(token));
  }
  if (const char* path = std::getenv(kTokenFileEnv);
      path != nullptr && *path != '\0') {
    return TokenFromFile(path, kTokenFileEnv);
  }
  return std::string();
}

const char* PforVersion() { return PFOR_VERSION; }

absl::Status CheckCompatibleVersion(const std::string& theirs,
                                    const std::string& who) {
  auto major_minor = [](absl::string_view version) {
    std::vector<absl::string_view> parts = absl::StrSplit(version, '.');
    int major = -1;
    int minor = -1;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[0], &major) &&
        absl::SimpleAtoi(parts[1], &minor)) {
      return std::pair(major, minor);
    }
    return std::pair(-1, -1);
  };
  const auto [their_major, their_minor] = major_minor(theirs);
  const auto [our_major, our_minor] = major_minor(PforVersion());
  if (their_major >= 0 && their_major == our_major &&
      (our_major > 0 || their_minor == our_minor)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      who, " runs pfor ", theirs.empty() ? "of an unknown version" : theirs,
      " and this coordinator runs pfor ", PforVersion(),
      ", which do not work together; run the same pfor version on both"));
}

}  // namespace pfor
