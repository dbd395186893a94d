#include "process_runner.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "helper_protocol.h"
#include "pfor/common/wire_job.h"
#include "pfor/common/wire_link.h"
#include "pfor/v1/helper.pb.h"
#include "subprocess.h"

namespace pfor::worker {
namespace {

// The end of a helper's standard error is kept for error messages.
constexpr size_t kStderrTail = 2048;
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

// One slot's helper. Used by the slot's thread only, except `pid`.
struct SlotHelper {
  std::optional<Subprocess> process;
  std::atomic<pid_t> pid{0};
  // The job whose definition the helper was last sent; held so that its
  // address cannot be reused by another job.
  std::shared_ptr<const JobContext> job;
  FrameReader responses;
  std::string stderr_text;
  // A helper was started on this slot before: the next start is a restart.
  bool started_before = false;
  // Reused from chunk to chunk.
  v1::HelperRequest request;
  v1::HelperResponse response;
  std::string frame;

  void AddStderr(std::string_view data) {
    stderr_text.append(data);
    if (stderr_text.size() > 2 * kStderrTail) {
      stderr_text.erase(0, stderr_text.size() - kStderrTail);
    }
  }
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

  absl::StatusOr<ChunkOutput> Run(int slot, const ChunkTask& task,
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

    v1::HelperRequest& request = helper.request;
    request.Clear();
    if (helper.job != task.job) {
      *request.mutable_job() = ToProto(*task.job->definition);
      helper.job = task.job;
    }
    request.set_job_id(task.job->id());
    request.set_begin(task.begin);
    request.set_end(task.end);
    request.set_attempt(task.attempt);
    request.set_index(task.index);
    if (task.tasks != nullptr) {
      // The chunk's tasks, as many as there are: the helper fails a chunk
      // that lacks some.
      const std::vector<Task>& tasks = *task.tasks;
      for (int64_t i = 0; i < task.end - task.begin; ++i) {
        const size_t at = task.first_task + static_cast<size_t>(i);
        if (at >= tasks.size()) break;
        *request.add_tasks() = ToProto(tasks[at]);
      }
    }
    helper.frame.clear();
    AppendFrame(request, helper.frame);
    return Exchange(helper, task, cancel);
  }

  int64_t helper_restarts() const override {
    return restarts_.load(std::memory_order_relaxed);
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
    if (helper.started_before) {
      restarts_.fetch_add(1, std::memory_order_relaxed);
    }
    helper.started_before = true;
    return absl::OkStatus();
  }

  // Kills (the whole process group) and reaps the helper, if any.
  void Retire(SlotHelper& helper) {
    helper.process.reset();
    helper.pid = 0;
    helper.job = nullptr;
    helper.responses.Clear();
  }

  // Sends the request framed in `helper.frame` and waits for the response,
  // the helper's death, the deadline or cancellation.
  absl::StatusOr<ChunkOutput> Exchange(SlotHelper& helper,
                                       const ChunkTask& task,
                                       const std::atomic<bool>& cancel) {
    const absl::Duration timeout = task.job->chunk_timeout();
    absl::Status unreadable;
    PumpOptions pump;
    pump.input = helper.frame;
    pump.on_stdout = [&helper, &unreadable](std::string_view data) {
      helper.responses.Append(data.data(), data.size());
      absl::StatusOr<bool> parsed = helper.responses.Next(helper.response);
      if (!parsed.ok()) unreadable = parsed.status();
      return !parsed.ok() || *parsed;
    };
    pump.on_stderr = [&helper](std::string_view data) {
      helper.AddStderr(data);
    };
    pump.cancel = &cancel;
    pump.deadline = timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                        : absl::Now() + timeout;
    absl::StatusOr<PumpResult> pumped = Pump(*helper.process, pump);
    if (!pumped.ok()) {
      Retire(helper);
      return pumped.status();
    }
    switch (pumped->end) {
      case PumpEnd::kCancelled:
        Retire(helper);
        return absl::CancelledError(
            "the chunk was cancelled; its helper was killed");
      case PumpEnd::kTimedOut:
        Retire(helper);
        return absl::DeadlineExceededError(absl::StrCat(
            "chunk timed out after ", absl::FormatDuration(timeout),
            "; its helper was killed"));
      case PumpEnd::kClosed:
        return Died(helper);
      case PumpEnd::kComplete:
        break;
    }
    if (!unreadable.ok()) {
      Retire(helper);
      return absl::InternalError(absl::StrCat(
          "the helper's response is unreadable: ", unreadable.message()));
    }
    // Anything beyond the one response breaks the protocol: start afresh.
    if (helper.responses.buffered() > 0 ||
        pumped->written < helper.frame.size()) {
      Retire(helper);
    }
    return FromResponse(helper.response, task.begin);
  }

  // Reads what the helper's standard error holds now, keeping its end.
  void ReadStderr(SlotHelper& helper) {
    const int fd = helper.process->stderr_fd();
    char buffer[8192];
    while (true) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n > 0) {
        helper.AddStderr(std::string_view(buffer, static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  }

  // The helper's output ended in the middle of a chunk: it died (or is
  // about to). Reaps it and says why.
  absl::Status Died(SlotHelper& helper) {
    Subprocess& process = *helper.process;
    // Whatever it left running goes with it.
    process.Kill();
    PumpOptions rest;
    rest.on_stderr = [&helper](std::string_view data) {
      helper.AddStderr(data);
    };
    rest.deadline = absl::Now() + kStderrGrace;
    // Whatever it wrote last is what explains its death; a failed poll only
    // loses that.
    (void)Pump(process, rest);
    const int status = process.Wait();
    const std::string tail = Tail(helper.stderr_text);
    Retire(helper);
    return absl::UnknownError(absl::StrCat(
        "helper ", DescribeExit(status), " while running the chunk",
        tail.empty() ? "" : "; stderr: ", tail));
  }

  static absl::StatusOr<ChunkOutput> FromResponse(
      const v1::HelperResponse& response, int64_t first_task) {
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
    absl::StatusOr<ChunkOutput> output =
        ChunkOutputFromProto(response.value(), first_task);
    if (!output.ok()) {
      return absl::InternalError(absl::StrCat(
          "the helper's response is unreadable: ", output.status().message()));
    }
    return output;
  }

  const ProcessOptions options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<SlotHelper>> slots_;  // guarded by mu_
  std::atomic<int64_t> restarts_{0};
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
