#include "process_runner.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "helper_protocol.h"
#include "pfor/common/wire.h"
#include "pfor/v1/helper.pb.h"
#include "subprocess.h"

namespace pfor::worker {
namespace {

// The end of a helper's standard error is kept for error messages.
constexpr size_t kStderrTail = 2048;
// How often a waiting slot checks for cancellation and its deadline.
constexpr int kPollMillis = 10;
// Once a helper's standard output ends, how long its standard error may take
// to end too (something it started could hold it open).
constexpr absl::Duration kStderrGrace = absl::Milliseconds(200);
// How long idle helpers get to exit when the runner goes.
constexpr absl::Duration kExitGrace = absl::Milliseconds(200);

std::string Tail(const std::string& text) {
  std::string tail = text.size() > kStderrTail
                         ? "..." + text.substr(text.size() - kStderrTail)
                         : text;
  return std::string(absl::StripAsciiWhitespace(tail));
}

void SetNonBlocking(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

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

// One slot's helper. Used by the slot's thread only, except `pid`.
struct SlotHelper {
  std::optional<Subprocess> process;
  std::atomic<pid_t> pid{0};
  // The job whose definition the helper was last sent; held so that its
  // address cannot be reused by another job.
  std::shared_ptr<const JobContext> job;
  FrameReader responses;
  std::string stderr_text;
};

class ProcessRunnerImpl final : public ProcessRunner {
 public:
  explicit ProcessRunnerImpl(ProcessOptions options)
      : options_(std::move(options)) {}

  // Idle helpers exit by themselves once their input closes; the rest are
  // killed when their Subprocess goes.
  ~ProcessRunnerImpl() override {
    for (auto& slot : slots_) {
      if (slot->process.has_value()) slot->process->CloseStdin();
    }
    const absl::Time until = absl::Now() + kExitGrace;
    for (auto& slot : slots_) {
      while (slot->process.has_value() &&
             !slot->process->TryWait().has_value() && absl::Now() < until) {
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
  }

  absl::StatusOr<v1::Value> Run(int slot, const ChunkTask& task,
                                const std::atomic<bool>& cancel) override {
    // Cancelled before it started: no reason to lose a warm helper.
    if (cancel.load(std::memory_order_relaxed)) {
      return absl::CancelledError("the chunk was cancelled");
    }
    SlotHelper& helper = Slot(slot);
    // One that died between chunks (killed from outside, say) is replaced
    // before it is given the chunk.
    if (helper.process.has_value() && helper.process->TryWait().has_value())
      Retire(helper);
    if (!helper.process.has_value()) {
      if (absl::Status started = Start(helper); !started.ok()) return started;
    }
    // Whatever it wrote after its last response belongs to no chunk.
    ReadStderr(helper);
    helper.stderr_text.clear();

    v1::HelperRequest request;
    if (helper.job != task.job) {
      *request.mutable_job() = task.job->definition;
      helper.job = task.job;
    }
    request.set_job_id(task.job->id);
    request.set_begin(task.begin);
    request.set_end(task.end);
    request.set_attempt(task.attempt);
    request.set_index(task.index);
    for (const v1::Task& batch_task : task.tasks)
      *request.add_tasks() = batch_task;
    std::string frame;
    AppendFrame(request, frame);
    return Exchange(helper, frame, task.job->chunk_timeout, cancel);
  }

  pid_t HelperPid(int slot) const override {
    std::lock_guard lock(mu_);
    if (slot < 0 || static_cast<size_t>(slot) >= slots_.size()) return 0;
    return slots_[slot]->pid.load();
  }

 private:
  SlotHelper& Slot(int slot) {
    std::lock_guard lock(mu_);
    while (slots_.size() <= static_cast<size_t>(slot)) {
      slots_.push_back(std::make_unique<SlotHelper>());
    }
    return *slots_[slot];
  }

  absl::Status Start(SlotHelper& helper) {
    SpawnOptions spawn;
    spawn.argv = {options_.helper_path, "--parent", absl::StrCat(getpid())};
    if (options_.memory_limit_bytes > 0) {
      spawn.argv.push_back("--memory-limit");
      spawn.argv.push_back(absl::StrCat(options_.memory_limit_bytes));
    }
    for (const std::string& plugin : options_.plugins) {
      spawn.argv.push_back("--plugin");
      spawn.argv.push_back(plugin);
    }
    spawn.pipe_stdin = true;
    absl::StatusOr<Subprocess> child = Subprocess::Spawn(spawn);
    if (!child.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot start the helper: ", child.status().message(),
                       "; pass pfor-worker --helper PATH or set PFOR_HELPER"));
    }
    for (int fd : {child->stdin_fd(), child->stdout_fd(), child->stderr_fd()}) {
      SetNonBlocking(fd);
    }
    helper.pid = child->pid();
    helper.process = *std::move(child);
    return absl::OkStatus();
  }

  // Kills (the whole process group) and reaps the helper, if any.
  void Retire(SlotHelper& helper) {
    helper.process.reset();
    helper.pid = 0;
    helper.job = nullptr;
    helper.responses.Clear();
  }

  // Sends `frame` and waits for the response, the helper's death, the
  // deadline or cancellation.
  absl::StatusOr<v1::Value> Exchange(SlotHelper& helper,
                                     const std::string& frame,
                                     absl::Duration timeout,
                                     const std::atomic<bool>& cancel) {
    const absl::Time deadline = timeout == absl::InfiniteDuration()
                                    ? absl::InfiniteFuture()
                                    : absl::Now() + timeout;
    Subprocess& process = *helper.process;
    size_t written = 0;
    // Negative descriptors are ignored by poll.
    pollfd fds[3] = {{process.stdin_fd(), POLLOUT, 0},
                     {process.stdout_fd(), POLLIN, 0},
                     {process.stderr_fd(), POLLIN, 0}};
    while (true) {
      if (cancel.load(std::memory_order_relaxed)) {
        Retire(helper);
        return absl::CancelledError(
            "the chunk was cancelled; its helper was killed");
      }
      if (absl::Now() >= deadline) {
        Retire(helper);
        return absl::DeadlineExceededError(absl::StrCat(
            "chunk timed out after ", absl::FormatDuration(timeout),
            "; its helper was killed"));
      }
      fds[0].fd = written < frame.size() ? process.stdin_fd() : -1;
      if (poll(fds, 3, kPollMillis) < 0 && errno != EINTR) {
        const std::string reason = std::strerror(errno);
        Retire(helper);
        return absl::InternalError(absl::StrCat("poll failed: ", reason));
      }
      if (fds[0].fd >= 0 && fds[0].revents != 0) {
        const ssize_t n = WriteWithoutSigpipe(fds[0].fd, frame.data() + written,
                                              frame.size() - written);
        if (n > 0) {
          written += static_cast<size_t>(n);
        } else if (errno != EAGAIN && errno != EINTR) {
          // The helper's end is closed: it is dying, and its output is about
          // to end. Make sure it does.
          written = frame.size();
          process.Kill();
        }
      }
      if (fds[2].fd >= 0 && fds[2].revents != 0 && !ReadStderr(helper))
        fds[2].fd = -1;
      if (fds[1].revents == 0) continue;
      char buffer[8192];
      const ssize_t n = read(fds[1].fd, buffer, sizeof(buffer));
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return Died(helper);
      helper.responses.Append(buffer, static_cast<size_t>(n));
      v1::HelperResponse response;
      absl::StatusOr<bool> parsed = helper.responses.Next(response);
      if (!parsed.ok()) {
        Retire(helper);
        return absl::InternalError(
            absl::StrCat("the helper's response is unreadable: ",
                         parsed.status().message()));
      }
      if (!*parsed) continue;
      // Anything beyond the one response breaks the protocol: start afresh.
      if (helper.responses.buffered() > 0 || written < frame.size())
        Retire(helper);
      return FromResponse(response);
    }
  }

  // Reads what the helper's standard error holds now, keeping its end.
  // Returns false once it has ended.
  bool ReadStderr(SlotHelper& helper) {
    const int fd = helper.process->stderr_fd();
    char buffer[8192];
    while (true) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n > 0) {
        helper.stderr_text.append(buffer, static_cast<size_t>(n));
        if (helper.stderr_text.size() > 2 * kStderrTail) {
          helper.stderr_text.erase(0, helper.stderr_text.size() - kStderrTail);
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && errno == EAGAIN;
    }
  }

  // The helper's output ended in the middle of a chunk: it died (or is
  // about to). Reaps it and says why.
  absl::Status Died(SlotHelper& helper) {
    Subprocess& process = *helper.process;
    // Whatever it left running goes with it.
    process.Kill();
    const absl::Time until = absl::Now() + kStderrGrace;
    pollfd err = {process.stderr_fd(), POLLIN, 0};
    while (absl::Now() < until && poll(&err, 1, kPollMillis) >= 0) {
      if (err.revents != 0 && !ReadStderr(helper)) break;
    }
    const int status = process.Wait();
    const std::string tail = Tail(helper.stderr_text);
    Retire(helper);
    return absl::UnknownError(absl::StrCat(
        "helper ", DescribeExit(status), " while running the chunk",
        tail.empty() ? "" : "; stderr: ", tail));
  }

  static absl::StatusOr<v1::Value> FromResponse(
      const v1::HelperResponse& response) {
    if (response.code() != 0) {
      const bool known = response.code() > 0 && response.code() <= 16;
      return absl::Status(known ? static_cast<absl::StatusCode>(response.code())
                                : absl::StatusCode::kUnknown,
                          response.error());
    }
    if (!response.has_value()) {
      return absl::InternalError(
          "the helper answered with neither a value nor an error");
    }
    return response.value();
  }

  const ProcessOptions options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<SlotHelper>> slots_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<ProcessRunner> NewProcessRunner(ProcessOptions options) {
  return std::make_unique<ProcessRunnerImpl>(std::move(options));
}

std::string DefaultHelperPath() {
  if (const char* path = std::getenv("PFOR_HELPER");
      path != nullptr && *path != '\0') {
    return path;
  }
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string beside(self, static_cast<size_t>(n));
    beside = beside.substr(0, beside.rfind('/') + 1) + "pfor-helper";
    if (access(beside.c_str(), X_OK) == 0) return beside;
  }
#ifdef PFOR_HELPER_FROM_LIBDIR
  // This code in a shared library (an installed libpfor.so): the helper
  // installed with it, wherever the installed tree was moved. The main
  // program's link map has an empty name.
  Dl_info info;
  link_map* library = nullptr;
  if (dladdr1(reinterpret_cast<void*>(&DefaultHelperPath), &info,
              reinterpret_cast<void**>(&library), RTLD_DL_LINKMAP) != 0 &&
      library != nullptr && library->l_name != nullptr &&
      library->l_name[0] == '/') {
    std::string installed = library->l_name;
    installed =
        installed.substr(0, installed.rfind('/') + 1) + PFOR_HELPER_FROM_LIBDIR;
    if (access(installed.c_str(), X_OK) == 0) return installed;
  }
#endif
  // The build tree's helper before the default install location's: a program
  // of this build tree must not pick up the helper of an older install.
#ifdef PFOR_HELPER_BUILD_PATH
  if (access(PFOR_HELPER_BUILD_PATH, X_OK) == 0) return PFOR_HELPER_BUILD_PATH;
#endif
#ifdef PFOR_HELPER_INSTALL_PATH
  if (access(PFOR_HELPER_INSTALL_PATH, X_OK) == 0) {
    return PFOR_HELPER_INSTALL_PATH;
  }
#endif
  return "pfor-helper";
}

}  // namespace pfor::worker
