#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace pfor::worker {
namespace {

// Closes both ends of a pipe on scope exit unless released.
struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  int Release(int end) { return std::exchange(fds[end], -1); }
};

std::vector<std::string> MergedEnvironment(
    const std::vector<std::string>& extra,
    const std::optional<std::vector<std::string>>& inherit) {
  std::map<std::string, std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    std::string name = text.substr(0, text.find('='));
    if (inherit &&
        std::find(inherit->begin(), inherit->end(), name) == inherit->end()) {
      continue;
    }
    entries[std::move(name)] = text;
  }
  for (const std::string& text : extra)
    entries[text.substr(0, text.find('='))] = text;
  std::vector<std::string> merged;
  for (auto& [name, text] : entries) merged.push_back(std::move(text));
  return merged;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// How often a pump checks for cancellation.
constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

// write() that turns the SIGPIPE of a pipe whose reader is gone into EPIPE
// alone, whatever the process does with SIGPIPE: the signal is blocked in
// this thread for the call, and consumed if the write raised it.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_signal, old_mask;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
  const ssize_t n = write(fd, data, size);
  const int error = errno;
  if (n < 0 && error == EPIPE) {
    const timespec no_wait{0, 0};
    while (sigtimedwait(&pipe_signal, nullptr, &no_wait) < 0 &&
           errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = error;
  return n;
}

// Milliseconds to wait in poll: the poll interval, or less before the
// deadline (rounded up, so that the deadline has passed on waking).
int PollTimeout(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left >= kPollInterval) return absl::ToInt64Milliseconds(kPollInterval);
  return static_cast<int>(std::max<int64_t>(
      0, absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)))));
}

}  // namespace

absl::StatusOr<Subprocess> Subprocess::Spawn(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return absl::InvalidArgumentError("no program to run");
  }
  Pipe in, out, err;
  if ((options.pipe_stdin && pipe2(in.fds, O_CLOEXEC) != 0) ||
      pipe2(out.fds, O_CLOEXEC) != 0 || pipe2(err.fds, O_CLOEXEC) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot create pipes: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.pipe_stdin) {
    posix_spawn_file_actions_adddup2(&actions, in.fds[0], STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.fds[1], STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group, default signal handling and an empty signal mask
  // (the daemon blocks SIGTERM and SIGINT in its threads).
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP |
                                            POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> argv = options.argv;
  std::vector<std::string> environment =
      MergedEnvironment(options.environment, options.inherit);
  std::vector<char*> argv_pointers = Pointers(argv);
  std::vector<char*> environment_pointers = Pointers(environment);
  pid_t pid = -1;
  const int error =
      posix_spawnp(&pid, argv[0].c_str(), &actions, &attributes,
                   argv_pointers.data(), environment_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error == ENOENT) {
    return absl::NotFoundError(
        absl::StrCat("program '", options.argv[0], "' not found"));
  }
  if (error != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot run '", options.argv[0], "': ", std::strerror(error)));
  }
  Subprocess child;
  child.pid_ = pid;
  child.reaped_ = false;
  if (options.pipe_stdin) child.stdin_fd_ = in.Release(1);
  child.stdout_fd_ = out.Release(0);
  child.stderr_fd_ = err.Release(0);
  return child;
}

Subprocess::Subprocess(Subprocess&& other) noexcept {
  *this = std::move(other);
}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    Reset();
    pid_ = std::exchange(other.pid_, -1);
    stdin_fd_ = std::exchange(other.stdin_fd_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    stderr_fd_ = std::exchange(other.stderr_fd_, -1);
    reaped_ = std::exchange(other.reaped_, true);
    status_ = other.status_;
  }
  return *this;
}

Subprocess::~Subprocess() { Reset(); }

void Subprocess::Reset() {
  if (!reaped_) {
    Kill();
    Wait();
  }
  for (int* fd : {&stdin_fd_, &stdout_fd_, &stderr_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  pid_ = -1;
}

void Subprocess::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

void Subprocess::Kill() {
  if (!reaped_ && pid_ > 0) kill(-pid_, SIGKILL);
}

int Subprocess::Wait() {
  while (!reaped_) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, 0);
    if (done == pid_) {
      reaped_ = true;
      status_ = status;
    } else if (done < 0 && errno != EINTR) {
      reaped_ = true;  // not our child any more
    }
  }
  return status_;
}

std::optional<int> Subprocess::TryWait() {
  if (reaped_) return status_;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    status_ = status;
    return status_;
  }
  return std::nullopt;
}

absl::StatusOr<PumpResult> Pump(Subprocess& child, const PumpOptions& options) {
  PumpResult result;
  // Negative descriptors are ignored by poll: a pipe that ended, or that is
  // not read or written, is -1.
  pollfd fds[3] = {{options.input.empty() ? -1 : child.stdin_fd(), POLLOUT, 0},
                   {options.on_stdout ? child.stdout_fd() : -1, POLLIN, 0},
                   {options.on_stderr ? child.stderr_fd() : -1, POLLIN, 0}};
  // The stream whose end ends the exchange.
  const int primary = options.on_stdout ? 1 : 2;
  if (fds[primary].fd < 0) return result;
  while (true) {
    if (options.cancel != nullptr &&
        options.cancel->load(std::memory_order_relaxed)) {
      result.end = PumpEnd::kCancelled;
      return result;
    }
    if (absl::Now() >= options.deadline) {
      result.end = PumpEnd::kTimedOut;
      return result;
    }
    if (poll(fds, 3, PollTimeout(options.deadline)) < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          absl::StrCat("poll failed: ", std::strerror(errno)));
    }
    if (fds[0].fd >= 0 && fds[0].revents != 0) {
      const ssize_t n =
          WriteWithoutSigpipe(fds[0].fd, options.input.data() + result.written,
                              options.input.size() - result.written);
      if (n > 0) {
        result.written += static_cast<size_t>(n);
        if (result.written == options.input.size()) fds[0].fd = -1;
      } else if (errno != EAGAIN && errno != EINTR) {
        // The child closed its end: it is dying, and its output is about to
        // end. Make sure it does.
        fds[0].fd = -1;
        child.Kill();
      }
    }
    char buffer[8192];
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      const ssize_t n = read(fds[2].fd, buffer, sizeof(buffer));
      if (n > 0) {
        options.on_stderr(std::string_view(buffer, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        fds[2].fd = -1;
      }
    }
    if (fds[1].fd >= 0 && fds[1].revents != 0) {
      const ssize_t n = read(fds[1].fd, buffer, sizeof(buffer));
      if (n > 0) {
        if (options.on_stdout(
                std::string_view(buffer, static_cast<size_t>(n)))) {
          result.end = PumpEnd::kComplete;
          return result;
        }
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        fds[1].fd = -1;
      }
    }
    if (fds[primary].fd < 0) {
      result.end = PumpEnd::kClosed;
      return result;
    }
  }
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(signal);
    return absl::StrCat("was killed by ",
                        name != nullptr ? absl::StrCat("SIG", name)
                                        : absl::StrCat("signal ", signal),
                        " (", strsignal(signal), ")");
  }
  return absl::StrCat("ended with wait status ", wait_status);
}

}  // namespace pfor::worker
