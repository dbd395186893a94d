#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace pfor::testing {
namespace {

// util-linux, in every Debian system.
constexpr char kSetpriv[] = "/usr/bin/setpriv";

ExitStatus FromWaitStatus(int status) {
  ExitStatus out;
  if (WIFSIGNALED(status)) {
    out.signaled = true;
    out.signal = WTERMSIG(status);
  } else {
    out.code = WEXITSTATUS(status);
  }
  return out;
}

std::vector<std::string> BuildEnv(const EnvChanges& changes) {
  std::map<std::string, std::string> vars;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals == std::string::npos) continue;
    vars[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [name, value] : changes) {
    if (value) {
      vars[name] = *value;
    } else {
      vars.erase(name);
    }
  }
  std::vector<std::string> out;
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

// Complete lines of `text` (the part after the last '\n' is still being
// written).
std::vector<std::string> CompleteLines(const std::string& text) {
  const size_t last = text.rfind('\n');
  if (last == std::string::npos) return {};
  return absl::StrSplit(text.substr(0, last), '\n');
}

}  // namespace

std::string Describe(const ExitStatus& status) {
  if (status.signaled) {
    return absl::StrCat("signal ", status.signal, " (",
                        strsignal(status.signal), ")");
  }
  return absl::StrCat("exit ", status.code);
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(
    const std::string& path, const std::vector<std::string>& args,
    const EnvChanges& env) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return absl::ErrnoToStatus(error, "pipe2");
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  // dup2 clears close-on-exec on the copies; the originals close on exec.
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);

  // The child starts with no blocked signals and default dispositions,
  // whatever the test runner set.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) {
    sigaddset(&defaults, signal);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  // A test binary that crashes runs no destructor: its daemons would
  // outlive it. setpriv makes the child die with the thread that started
  // it, so only children of the main thread (which lives as long as the
  // binary) get it.
  std::vector<std::string> argv_strings;
  if (gettid() == getpid() && access(kSetpriv, X_OK) == 0 &&
      access(path.c_str(), X_OK) == 0) {
    argv_strings = {kSetpriv, "--pdeathsig", "KILL", "--"};
  }
  argv_strings.push_back(path);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = BuildEnv(env);
  std::vector<char*> envp;
  for (std::string& var : env_strings) envp.push_back(var.data());
  envp.push_back(nullptr);

  pid_t pid;
  const int error = posix_spawn(&pid, argv_strings[0].c_str(), &actions, &attr,
                                argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (error != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return absl::ErrnoToStatus(error, absl::StrCat("posix_spawn ", path));
  }
  return std::unique_ptr<Process>(new Process(pid, out_pipe[0], err_pipe[0]));
}

Process::Process(pid_t pid, int out_fd, int err_fd)
    : pid_(pid), out_fd_(out_fd), err_fd_(err_fd) {
  reader_ = std::thread([this] { ReadLoop(); });
}

Process::~Process() {
  Kill();
  // The pipes end when the child dies, unless a grandchild kept them open:
  // then stop reading anyway.
  WaitForOutputEnd(absl::Seconds(2));
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_reading_ = true;
  }
  reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void Process::ReadLoop() {
  char buffer[65536];
  while (true) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    const int ready = poll(fds, 2, /*timeout_ms=*/100);
    if (ready < 0 && errno != EINTR) break;
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < 2 && ready > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? out_ : err_).append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        (i == 0 ? out_fd_ : err_fd_) = -1;
      }
    }
    const bool ended = out_fd_ < 0 && err_fd_ < 0;
    if (ended) output_ended_ = true;
    changed_.notify_all();
    if (ended || stop_reading_) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  output_ended_ = true;
  changed_.notify_all();
}

std::optional<std::vector<std::string>> Process::WaitForLine(
    Stream stream, const std::regex& pattern, absl::Duration timeout,
    int skip) {
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    int seen = 0;
    for (const std::string& line : CompleteLines(Buffer(stream))) {
      std::smatch match;
      if (!std::regex_search(line, match, pattern)) continue;
      if (seen++ < skip) continue;
      return std::vector<std::string>(match.begin(), match.end());
    }
    if (output_ended_) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    changed_.wait_until(lock, deadline);
  }
}

int Process::CountLines(Stream stream, const std::regex& pattern) {
  std::lock_guard<std::mutex> lock(mu_);
  int count = 0;
  for (const std::string& line : CompleteLines(Buffer(stream))) {
    if (std::regex_search(line, pattern)) ++count;
  }
  return count;
}

bool Process::Signal(int signal) {
  if (exit_) return false;
  return kill(pid_, signal) == 0;
}

std::optional<ExitStatus> Process::Wait(absl::Duration timeout) {
  if (exit_) return exit_;
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    int status;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_ = FromWaitStatus(status);
      return exit_;
    }
    if (done < 0 && errno != EINTR) {
      // Not our child any more (should not happen): report it as lost.
      exit_ = ExitStatus{.signaled = true, .code = -1, .signal = 0};
      return exit_;
    }
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

ExitStatus Process::Kill() {
  if (exit_) return *exit_;
  kill(pid_, SIGKILL);
  while (true) {
    int status;
    const pid_t done = waitpid(pid_, &status, 0);
    if (done == pid_) {
      exit_ = FromWaitStatus(status);
      return *exit_;
    }
    if (done < 0 && errno != EINTR) {
      exit_ = ExitStatus{.signaled = true, .code = -1, .signal = SIGKILL};
      return *exit_;
    }
  }
}

bool Process::Running() { return !Wait(absl::ZeroDuration()).has_value(); }

std::string Process::Stdout() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string Process::Stderr() {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

bool Process::WaitForOutputEnd(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [this] { return output_ended_; });
}

RunResult Run(const std::string& path, const std::vector<std::string>& args,
              const EnvChanges& env, absl::Duration timeout) {
  RunResult result;
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start(path, args, env);
  if (!process.ok()) {
    result.status.code = -1;
    result.err = std::string(process.status().message());
    return result;
  }
  std::optional<ExitStatus> status = (*process)->Wait(timeout);
  if (!status) {
    result.timed_out = true;
    status = (*process)->Kill();
  }
  result.status = *status;
  (*process)->WaitForOutputEnd(absl::Seconds(5));
  result.out = (*process)->Stdout();
  result.err = (*process)->Stderr();
  return result;
}

std::string Describe(const RunResult& result) {
  return absl::StrCat(Describe(result.status),
                      result.timed_out ? " (timed out)" : "", "\nstdout: <<",
                      result.out, ">>\nstderr: <<", result.err, ">>");
}

int64_t ResidentKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    std::vector<std::string> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t kb;
    if (words.size() >= 2 && absl::SimpleAtoi(words[1], &kb)) return kb;
  }
  return -1;
}

}  // namespace pfor::testing
