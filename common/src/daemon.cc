#include "pfor/common/daemon.h"

#include <pthread.h>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pfor {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::thread WatchTerminationSignals(
    std::function<void(const char* name)> on_signal) {
  return std::thread([on_signal = std::move(on_signal)] {
    const sigset_t set = TerminationSignals();
    while (true) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      on_signal(signal == SIGINT ? "SIGINT" : "SIGTERM");
    }
  });
}

absl::StatusOr<int64_t> ParseBytes(const std::string& text) {
  static constexpr std::pair<const char*, int64_t> kUnits[] = {
      {"KiB", int64_t{1} << 10},
      {"MiB", int64_t{1} << 20},
      {"GiB", int64_t{1} << 30},
      {"TiB", int64_t{1} << 40},
      {"", 1}};
  for (const auto& [unit, scale] : kUnits) {
    absl::string_view number = text;
    if (!absl::ConsumeSuffix(&number, unit)) continue;
    int64_t value;
    if (!absl::SimpleAtoi(number, &value) || value < 0 ||
        value > INT64_MAX / scale) {
      break;
    }
    return value * scale;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", text, "' is not a size; write it like 2GiB, 512MiB or 0"));
}

void LogFlags::AddTo(CLI::App& app, const std::string& level_help) {
  app.add_option("--log-level", level, level_help)->capture_default_str();
  app.add_option("--log-format", format,
                 "Log lines as text or json (one object per line)")
      ->capture_default_str();
}

absl::StatusOr<Logger::Options> LogFlags::LoggerOptions(
    std::string program) const {
  absl::StatusOr<LogLevel> parsed_level = ParseLogLevel(level);
  if (!parsed_level.ok()) return parsed_level.status();
  absl::StatusOr<LogFormat> parsed_format = ParseLogFormat(format);
  if (!parsed_format.ok()) return parsed_format.status();
  return Logger::Options{.program = std::move(program),
                         .level = *parsed_level,
                         .format = *parsed_format};
}

}  // namespace pfor
