// Child processes for the executors that run code outside the daemon: spawn
// and exec (never fork of the multi-threaded daemon), pipes, the one pump
// that moves bytes to and from a child until done, cancelled or deadline,
// kill, reap.
#ifndef PFOR_WORKER_SUBPROCESS_H_
#define PFOR_WORKER_SUBPROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pfor::worker {

struct SpawnOptions {
  // argv[0] is looked up in PATH when it has no '/'.
  std::vector<std::string> argv;
  // NAME=VALUE entries added to (or replacing) the inherited environment.
  std::vector<std::string> environment;
  // The names of this process's environment variables the child inherits;
  // unset: all of them.
  std::optional<std::vector<std::string>> inherit;
  // Give the child a pipe as standard input; otherwise /dev/null.
  bool pipe_stdin = false;
};

// A running child in a process group of its own, so that killing it kills
// what it started too. Reaps the child on destruction (killing it first if
// it still runs). Movable, not copyable; not thread-safe.
class Subprocess {
 public:
  // NOT_FOUND when the program does not exist, FAILED_PRECONDITION when it
  // cannot be executed; both name the program.
  static absl::StatusOr<Subprocess> Spawn(const SpawnOptions& options);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // The parent's ends of the pipes; -1 when absent or closed.
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }
  void CloseStdin();

  // SIGKILL to the child's process group.
  void Kill();
  // Blocks until the child exits; returns its wait status.
  int Wait();
  // The wait status if the child has exited, without blocking.
  std::optional<int> TryWait();

 private:
  Subprocess() = default;
  void Reset();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  bool reaped_ = true;
  int status_ = 0;
};

// One exchange with a child: what to write to it, where its output goes and
// when to give up.
struct PumpOptions {
  // Written to the child's standard input (a pipe: SpawnOptions::pipe_stdin,
  // non-blocking if the input may not fit in the pipe at once).
  std::string_view input = {};
  // Called with each piece of standard output as it arrives; returns true
  // once the exchange is complete. Null: standard output is not read.
  std::function<bool(std::string_view)> on_stdout = nullptr;
  // Called with each piece of standard error. Null: it is not read.
  std::function<void(std::string_view)> on_stderr = nullptr;
  // Checked every few milliseconds; null means never.
  const std::atomic<bool>* cancel = nullptr;
  absl::Time deadline = absl::InfiniteFuture();
};

enum class PumpEnd {
  kComplete,   // on_stdout returned true
  kClosed,     // standard output ended (standard error, when it alone is read)
  kCancelled,  // *cancel turned true
  kTimedOut,   // the deadline passed
};

struct PumpResult {
  PumpEnd end = PumpEnd::kClosed;
  // Bytes of the input written.
  size_t written = 0;
};

// Moves bytes between `child` and the callbacks until the exchange is
// complete, the child's output ends, `cancel` turns true or the deadline
// passes: the processes executor's request and response, a command's whole
// run. Blocks; wakes every 10 ms to check `cancel`. Neither kills nor reaps
// the child on the way out, except one that closes its standard input
// before taking all of the input: that one is killed, so that its output
// ends. INTERNAL when poll fails. Not thread-safe (one caller per child).
absl::StatusOr<PumpResult> Pump(Subprocess& child, const PumpOptions& options);

// "exited with status 3", "was killed by SIGSEGV (segmentation fault)".
std::string DescribeExit(int wait_status);

}  // namespace pfor::worker

#endif  // PFOR_WORKER_SUBPROCESS_H_
