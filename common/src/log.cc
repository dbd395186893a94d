#include "pfor/common/log.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace pfor {
namespace {

constexpr const char* kLevelNames[] = {"debug", "info", "warning", "error"};

}  // namespace

const char* LogLevelName(LogLevel level) {
  return kLevelNames[static_cast<int>(level)];
}

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  for (int i = 0; i < 4; ++i) {
    if (text == kLevelNames[i]) return static_cast<LogLevel>(i);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--log-level '", text,
                   "' is unknown; pass debug, info, warning or error"));
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--log-format '", text, "' is unknown; pass text or json"));
}

std::string Logger::Format(absl::Time time, LogLevel level,
                           absl::string_view message,
                           const LogFields& fields) const {
  const std::string when =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  if (options_.format == LogFormat::kJson) {
    nlohmann::ordered_json line = {{"time", when},
                                   {"level", LogLevelName(level)},
                                   {"program", options_.program},
                                   {"msg", std::string(message)}};
    if (fields.job != 0) line["job"] = fields.job;
    if (fields.chunk.has_value()) line["chunk"] = *fields.chunk;
    if (fields.attempt != 0) line["attempt"] = fields.attempt;
    if (!fields.worker.empty()) line["worker"] = fields.worker;
    // A message that is not UTF-8 (a kernel's error text) is replaced, not
    // thrown on.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line =
      absl::StrCat(when, " ", LogLevelName(level), " ", options_.program, ":");
  if (fields.job != 0) absl::StrAppend(&line, " job=", fields.job);
  if (fields.chunk.has_value())
    absl::StrAppend(&line, " chunk=", *fields.chunk);
  if (fields.attempt != 0) absl::StrAppend(&line, " attempt=", fields.attempt);
  if (!fields.worker.empty()) absl::StrAppend(&line, " worker=", fields.worker);
  absl::StrAppend(&line, " ", message);
  return line;
}

void Logger::Log(LogLevel level, absl::string_view message,
                 const LogFields& fields) const {
  if (!Enabled(level)) return;
  std::string line = Format(absl::Now(), level, message, fields);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), options_.out);
  std::fflush(options_.out);
}

}  // namespace pfor
