#include "command_runner.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "pfor/common/wire.h"
#include "subprocess.h"

namespace pfor::worker {
namespace {

// A chunk's value is one number: more output than this is a mistake.
constexpr size_t kMaxStdout = 1 << 20;
// The end of standard error is kept for the error message.
constexpr size_t kStderrTail = 2048;
// How often a running command checks for cancellation.
constexpr int kPollMillis = 10;

std::string Quote(const std::string& text) {
  constexpr size_t kShown = 80;
  std::string shown =
      text.size() > kShown ? text.substr(0, kShown) + "..." : text;
  return absl::StrCat("'", absl::CEscape(shown), "'");
}

std::string Tail(const std::string& text) {
  std::string tail = text.size() > kStderrTail
                         ? "..." + text.substr(text.size() - kStderrTail)
                         : text;
  return std::string(absl::StripAsciiWhitespace(tail));
}

class CommandRunner final : public ChunkRunner {
 public:
  absl::StatusOr<v1::Value> Run(int, const ChunkTask& task,
                                const std::atomic<bool>& cancel) override {
    const v1::CommandSpec& command = task.job->definition.command();
    if (command.argv().empty()) {
      return absl::InvalidArgumentError("the job has no command to run");
    }
    const std::string begin = absl::StrCat(task.begin);
    const std::string end = absl::StrCat(task.end);
    const std::string chunk = absl::StrCat(task.index);
    SpawnOptions spawn;
    for (const std::string& arg : command.argv()) {
      spawn.argv.push_back(absl::StrReplaceAll(
          arg, {{"{begin}", begin}, {"{end}", end}, {"{chunk}", chunk}}));
    }
    if (command.shell()) spawn.argv = {"/bin/sh", "-c", spawn.argv[0]};
    spawn.environment = {"PFOR_BEGIN=" + begin, "PFOR_END=" + end,
                         "PFOR_CHUNK=" + chunk,
                         absl::StrCat("PFOR_JOB=", task.job->id)};
    absl::StatusOr<Subprocess> child = Subprocess::Spawn(spawn);
    if (!child.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("command ", child.status().message()));
    }
    std::string out;
    std::string err;
    const absl::Time deadline =
        task.job->chunk_timeout == absl::InfiniteDuration()
            ? absl::InfiniteFuture()
            : absl::Now() + task.job->chunk_timeout;
    // Negative descriptors are ignored by poll: a closed pipe becomes -1.
    pollfd fds[2] = {{child->stdout_fd(), POLLIN, 0},
                     {child->stderr_fd(), POLLIN, 0}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
      if (cancel.load(std::memory_order_relaxed)) {
        child->Kill();
        return absl::CancelledError("the chunk was cancelled");
      }
      if (absl::Now() >= deadline) {
        child->Kill();
        return absl::DeadlineExceededError(
            absl::StrCat("command timed out after ",
                         absl::FormatDuration(task.job->chunk_timeout)));
      }
      if (poll(fds, 2, kPollMillis) < 0 && errno != EINTR) {
        return absl::InternalError(
            absl::StrCat("poll failed: ", std::strerror(errno)));
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        char buffer[8192];
        const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
        if (n > 0) {
          std::string& sink = i == 0 ? out : err;
          sink.append(buffer, static_cast<size_t>(n));
          if (i == 1 && err.size() > 2 * kStderrTail)
            err.erase(0, err.size() - kStderrTail);
        } else if (n == 0 || errno != EINTR) {
          fds[i].fd = -1;
        }
      }
      if (out.size() > kMaxStdout) {
        child->Kill();
        return absl::ResourceExhaustedError(
            absl::StrCat("command printed more than ", kMaxStdout / 1024,
                         " KiB; it should print only the chunk's value"));
      }
    }
    const int status = child->Wait();
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      const std::string tail = Tail(err);
      return absl::UnknownError(
          absl::StrCat("command ", DescribeExit(status),
                       tail.empty() ? "" : "; stderr: ", tail));
    }
    absl::StatusOr<Value> value = ParseCommandOutput(out, command.output());
    if (!value.ok()) return value.status();
    return ToProto(*value);
  }
};

}  // namespace

absl::StatusOr<Value> ParseCommandOutput(const std::string& text,
                                         v1::CommandSpec::Output output) {
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  auto bad = [&](const char* expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "command printed ", trimmed.empty() ? "nothing" : Quote(trimmed),
        ", which is not ", expected, "; print only the chunk's value"));
  };
  if (output == v1::CommandSpec::OUTPUT_JSON) {
    const nlohmann::json json = nlohmann::json::parse(trimmed, nullptr, false);
    if (json.is_number_integer()) return json.get<int64_t>();
    if (json.is_number_float()) return json.get<double>();
    return bad("a JSON number");
  }
  int64_t integer;
  if (output != v1::CommandSpec::OUTPUT_FLOAT &&
      absl::SimpleAtoi(trimmed, &integer)) {
    return integer;
  }
  if (output == v1::CommandSpec::OUTPUT_INTEGER) return bad("an integer");
  double number;
  if (absl::SimpleAtod(trimmed, &number)) return number;
  return bad("a number");
}

std::unique_ptr<ChunkRunner> NewCommandRunner() {
  return std::make_unique<CommandRunner>();
}

}  // namespace pfor::worker
