// Helpers shared by the daemons' main functions.
#ifndef PFOR_COMMON_DAEMON_H_
#define PFOR_COMMON_DAEMON_H_

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "pfor/common/log.h"

namespace CLI {
class App;
}  // namespace CLI

namespace pfor {

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it
// starts afterwards, so they can be received synchronously. Call first in
// main, before any thread exists.
void BlockTerminationSignals();

// Starts a thread that waits for SIGINT or SIGTERM and calls `on_signal`
// with the signal's name for each one received.
std::thread WatchTerminationSignals(
    std::function<void(const char* name)> on_signal);

// Parses a size such as "2GiB", "512MiB", "64KiB", "1000000" (bytes) or
// "0". INVALID_ARGUMENT names the forms it accepts.
absl::StatusOr<int64_t> ParseBytes(const std::string& text);

// The daemons' --log-level and --log-format flags.
struct LogFlags {
  std::string level = "info";
  std::string format = "text";

  // Adds both flags to `app`; `level_help` says what --log-level shows.
  void AddTo(CLI::App& app, const std::string& level_help);
  // The log they ask for, lines naming `program`. INVALID_ARGUMENT naming
  // the flag and its choices.
  absl::StatusOr<Logger::Options> LoggerOptions(std::string program) const;
};

}  // namespace pfor

#endif  // PFOR_COMMON_DAEMON_H_
