#include "command_runner.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "subprocess.h"

namespace pfor::worker {
namespace {

// A chunk's value is one number: more output than this is a mistake.
constexpr size_t kMaxStdout = 1 << 20;
// The end of standard error is kept for the error message.
constexpr size_t kStderrTail = 2048;

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
  explicit CommandRunner(std::vector<std::string> environment)
      : environment_(std::move(environment)) {}

  absl::StatusOr<ChunkOutput> Run(int, const ChunkTask& task,
                                  const std::atomic<bool>& cancel) override {
    const Command& command = task.job->definition->command;
    if (command.argv.empty()) {
      return absl::InvalidArgumentError("the job has no command to run");
    }
    const std::string begin = absl::StrCat(task.begin);
    const std::string end = absl::StrCat(task.end);
    const std::string chunk = absl::StrCat(task.index);
    SpawnOptions spawn;
    for (const std::string& arg : command.argv) {
      spawn.argv.push_back(absl::StrReplaceAll(
          arg, {{"{begin}", begin}, {"{end}", end}, {"{chunk}", chunk}}));
    }
    if (command.shell) spawn.argv = {"/bin/sh", "-c", spawn.argv[0]};
    spawn.environment = {"PFOR_BEGIN=" + begin, "PFOR_END=" + end,
                         "PFOR_CHUNK=" + chunk,
                         absl::StrCat("PFOR_JOB=", task.job->id())};
    spawn.inherit = environment_;
    absl::StatusOr<Subprocess> child = Subprocess::Spawn(spawn);
    if (!child.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("command ", child.status().message()));
    }
    const absl::Duration timeout = task.job->chunk_timeout();
    std::string out;
    std::string err;
    PumpOptions pump;
    // More than a value's worth of output ends the exchange early.
    pump.on_stdout = [&out](std::string_view data) {
      out.append(data);
      return out.size() > kMaxStdout;
    };
    pump.on_stderr = [&err](std::string_view data) {
      err.append(data);
      if (err.size() > 2 * kStderrTail) err.erase(0, err.size() - kStderrTail);
    };
    pump.cancel = &cancel;
    pump.deadline = timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                        : absl::Now() + timeout;
    absl::StatusOr<PumpResult> pumped = Pump(*child, pump);
    // Once its output ends, the command may still write errors and run.
    if (pumped.ok() && pumped->end == PumpEnd::kClosed) {
      pump.on_stdout = nullptr;
      pumped = Pump(*child, pump);
    }
    if (!pumped.ok()) return pumped.status();
    switch (pumped->end) {
      case PumpEnd::kCancelled:
        child->Kill();
        return absl::CancelledError("the chunk was cancelled");
      case PumpEnd::kTimedOut:
        child->Kill();
        return absl::DeadlineExceededError(absl::StrCat(
            "command timed out after ", absl::FormatDuration(timeout)));
      case PumpEnd::kComplete:
        child->Kill();
        return absl::ResourceExhaustedError(
            absl::StrCat("command printed more than ", kMaxStdout / 1024,
                         " KiB; it should print only the chunk's value"));
      case PumpEnd::kClosed:
        break;
    }
    const int status = child->Wait();
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      const std::string tail = Tail(err);
      return absl::UnknownError(
          absl::StrCat("command ", DescribeExit(status),
                       tail.empty() ? "" : "; stderr: ", tail));
    }
    absl::StatusOr<Value> value = ParseCommandOutput(out, command.output);
    if (!value.ok()) return value.status();
    return ChunkOutput(std::in_place_type<Value>, *std::move(value));
  }

 private:
  const std::vector<std::string> environment_;
};

}  // namespace

absl::StatusOr<Value> ParseCommandOutput(const std::string& text,
                                         Command::Output output) {
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  auto bad = [&](const char* expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "command printed ", trimmed.empty() ? "nothing" : Quote(trimmed),
        ", which is not ", expected, "; print only the chunk's value"));
  };
  if (output == Command::Output::kJson) {
    const nlohmann::json json = nlohmann::json::parse(trimmed, nullptr, false);
    if (json.is_number_integer()) return json.get<int64_t>();
    if (json.is_number_float()) return json.get<double>();
    return bad("a JSON number");
  }
  int64_t integer;
  if (output != Command::Output::kFloat &&
      absl::SimpleAtoi(trimmed, &integer)) {
    return integer;
  }
  if (output == Command::Output::kInteger) return bad("an integer");
  double number;
  if (absl::SimpleAtod(trimmed, &number)) return number;
  return bad("a number");
}

std::unique_ptr<ChunkRunner> NewCommandRunner(
    std::vector<std::string> environment) {
  return std::make_unique<CommandRunner>(std::move(environment));
}

}  // namespace pfor::worker
