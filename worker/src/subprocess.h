// Child processes for the executors that run code outside the daemon: spawn
// and exec (never fork of the multi-threaded daemon), pipes, kill, reap.
#ifndef PFOR_WORKER_SUBPROCESS_H_
#define PFOR_WORKER_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pfor::worker {

struct SpawnOptions {
  // argv[0] is looked up in PATH when it has no '/'.
  std::vector<std::string> argv;
  // NAME=VALUE entries added to (or replacing) this process's environment.
  std::vector<std::string> environment;
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

// "exited with status 3", "was killed by SIGSEGV (segmentation fault)".
std::string DescribeExit(int wait_status);

}  // namespace pfor::worker

#endif  // PFOR_WORKER_SUBPROCESS_H_
