// The daemons' log: one line per event, as text or as JSON (--log-format),
// filtered by level (--log-level). Every line that concerns a job, a chunk
// or a worker carries their ids as fields, so that `grep job=42` (text) or
// `jq 'select(.job == 42)'` (JSON) finds all of a job's lines.
//
// Nothing is logged per chunk at the default level (info): per-chunk lines
// are debug.
//
// Thread-safe: a line is written with one call, so lines from different
// threads never interleave.
#ifndef PFOR_COMMON_LOG_H_
#define PFOR_COMMON_LOG_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pfor {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// "debug", "info", "warning", "error".
const char* LogLevelName(LogLevel level);
// The value of --log-level; INVALID_ARGUMENT naming the choices for
// anything else.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);
// The value of --log-format, "text" or "json"; INVALID_ARGUMENT naming the
// choices for anything else.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text);

// The ids a line concerns; zero, unset or empty fields are left out.
struct LogFields {
  uint64_t job = 0;
  // The chunk of the job, named by its begin (as everywhere).
  std::optional<int64_t> chunk = std::nullopt;
  int32_t attempt = 0;
  // The worker's name.
  std::string worker = {};
};

class Logger {
 public:
  struct Options {
    // Names the process in every line, such as "pfor-coordinator".
    std::string program;
    LogLevel level = LogLevel::kInfo;
    LogFormat format = LogFormat::kText;
    // Where lines go; must stay open as long as the logger.
    std::FILE* out = stderr;
  };

  explicit Logger(Options options) : options_(std::move(options)) {}

  // Whether lines of `level` are written: test it before building a costly
  // message.
  bool Enabled(LogLevel level) const { return level >= options_.level; }
  // Writes one line, if `level` is enabled. `message` is plain text, lower
  // case, without the ids of `fields` repeated as fields.
  void Log(LogLevel level, absl::string_view message,
           const LogFields& fields = {}) const;
  // The line Log writes, without its newline.
  std::string Format(absl::Time time, LogLevel level, absl::string_view message,
                     const LogFields& fields) const;

 private:
  Options options_;
};

}  // namespace pfor

#endif  // PFOR_COMMON_LOG_H_
