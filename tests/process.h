// Child processes for integration tests: start a binary with posix_spawn,
// capture its stdout and stderr, wait for lines, signal it, wait for it, and
// always reap it.
#ifndef PFOR_TESTS_PROCESS_H_
#define PFOR_TESTS_PROCESS_H_

#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pfor::testing {

// Changes to the parent's environment for a child: a value sets the
// variable, std::nullopt removes it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

// How a child ended.
struct ExitStatus {
  bool signaled = false;
  int code = -1;   // exit code when !signaled
  int signal = 0;  // terminating signal when signaled

  bool ExitedWith(int expected) const { return !signaled && code == expected; }
};

// Readable form for assertion messages: "exit 3" or "signal 9 (Killed)".
std::string Describe(const ExitStatus& status);

enum class Stream { kStdout, kStderr };

// A running child. Its stdout and stderr are read continuously on a
// background thread, so it never blocks on a full pipe; stdin is /dev/null.
//
// The destructor kills (SIGKILL) and reaps the child if it has not been
// reaped yet, so no test leaks processes even when it fails or throws.
// Methods may be called from one thread at a time (the reader thread is
// internal).
class Process {
 public:
  // Starts `path` with `args` (argv[0] is `path`) and the parent's
  // environment with `env` applied. Errors: the spawn failing.
  static absl::StatusOr<std::unique_ptr<Process>> Start(
      const std::string& path, const std::vector<std::string>& args,
      const EnvChanges& env = {});

  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // Blocks until a complete line of `stream` matches `pattern` (std::regex
  // search), the child's output ends, or `timeout` passes. Returns the
  // match and its groups ([0] is the whole match), or std::nullopt. The
  // first `skip` matching lines do not count: skip 1 waits for a second one.
  std::optional<std::vector<std::string>> WaitForLine(Stream stream,
                                                      const std::regex& pattern,
                                                      absl::Duration timeout,
                                                      int skip = 0);

  // Number of complete lines of `stream` matching `pattern` so far.
  int CountLines(Stream stream, const std::regex& pattern);

  // Sends `signal` unless the child was already reaped. Returns whether it
  // was sent.
  bool Signal(int signal);

  // Waits up to `timeout` for the child to end and reaps it; afterwards
  // returns the same status at once. std::nullopt on timeout.
  std::optional<ExitStatus> Wait(absl::Duration timeout);

  // Kills (SIGKILL) and reaps the child if it still runs; returns how it
  // ended.
  ExitStatus Kill();

  // Whether the child has not been reaped and is not a zombie waiting to be.
  bool Running();

  // Everything read so far.
  std::string Stdout();
  std::string Stderr();

  // Waits up to `timeout` for both pipes to reach end of file (all output
  // read); true when they did.
  bool WaitForOutputEnd(absl::Duration timeout);

 private:
  Process(pid_t pid, int out_fd, int err_fd);
  void ReadLoop();
  std::string& Buffer(Stream stream) {
    return stream == Stream::kStdout ? out_ : err_;
  }

  const pid_t pid_;
  std::optional<ExitStatus> exit_;  // set once reaped

  std::mutex mu_;
  std::condition_variable changed_;
  std::string out_;
  std::string err_;
  bool output_ended_ = false;
  bool stop_reading_ = false;
  int out_fd_;
  int err_fd_;
  std::thread reader_;
};

// A finished command.
struct RunResult {
  ExitStatus status;
  bool timed_out = false;  // killed because it ran past the timeout
  std::string out;
  std::string err;
};

// Runs `path` with `args` to completion; kills it after `timeout`.
RunResult Run(const std::string& path, const std::vector<std::string>& args,
              const EnvChanges& env = {},
              absl::Duration timeout = absl::Seconds(60));

// Everything RunResult says, for assertion messages.
std::string Describe(const RunResult& result);

// VmRSS of a process in kB, from /proc/PID/status; -1 when unreadable.
int64_t ResidentKb(pid_t pid);

}  // namespace pfor::testing

#endif  // PFOR_TESTS_PROCESS_H_
