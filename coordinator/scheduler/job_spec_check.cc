#include "job_spec_check.h"

#include <map>
#include <optional>
#include <variant>

#include "absl/strings/str_cat.h"
#include "job_result.h"

namespace pfor::coordinator {
namespace {

constexpr int kMaxAttemptsLimit = 100;
constexpr size_t kMaxParams = 64;
constexpr size_t kMaxNameLength = 256;
constexpr size_t kMaxStringParamLength = 4096;
constexpr size_t kMaxCommandArgs = 256;
constexpr size_t kMaxCommandArgLength = 4096;
constexpr size_t kMaxTasks = 1'000'000;

absl::Status ValidateRange(const JobSpec& spec) {
  const int64_t begin = spec.begin;
  const int64_t end = spec.end;
  if (end < begin) {
    return absl::InvalidArgumentError(
        absl::StrCat("range end ", end, " is before begin ", begin,
                     "; pass --range BEGIN:END with BEGIN < END"));
  }
  if (end == begin) {
    return absl::InvalidArgumentError(
        absl::StrCat("range ", RangeText(begin, end),
                     " is empty; pass --range BEGIN:END with BEGIN < END"));
  }
  int64_t size;
  if (__builtin_sub_overflow(end, begin, &size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "range ", RangeText(begin, end),
        " has more than 2^63-1 indices; split it into smaller jobs"));
  }
  return absl::OkStatus();
}

bool IsKnown(Command::Output output) {
  switch (output) {
    case Command::Output::kAuto:
    case Command::Output::kInteger:
    case Command::Output::kFloat:
    case Command::Output::kJson:
      return true;
  }
  return false;
}

absl::Status ValidateCommand(const JobSpec& spec) {
  const Command& command = spec.command;
  if (spec.executor != ExecutorKind::kCommand) {
    if (!command.argv.empty()) {
      return absl::InvalidArgumentError(
          "a command runs only on the command executor; pass --executor "
          "command");
    }
    return absl::OkStatus();
  }
  if (!spec.kernel.empty() || !spec.params.empty()) {
    return absl::InvalidArgumentError(
        "a command job runs its command, not a kernel: drop the kernel name "
        "and the --param flags");
  }
  if (command.argv.empty() || command.argv[0].empty()) {
    return absl::InvalidArgumentError(
        "a command job needs a command; pass --command 'PROGRAM ARGS...' "
        "with {begin}, {end} or {chunk} where the chunk goes");
  }
  if (command.shell && command.argv.size() != 1) {
    return absl::InvalidArgumentError(
        "a shell command is one script string; pass it as one --command");
  }
  if (command.argv.size() > kMaxCommandArgs) {
    return absl::InvalidArgumentError(
        absl::StrCat("a command has at most ", kMaxCommandArgs, " arguments"));
  }
  for (const std::string& arg : command.argv) {
    if (arg.size() > kMaxCommandArgLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("command arguments are limited to ",
                       kMaxCommandArgLength, " characters"));
    }
  }
  if (!IsKnown(command.output)) {
    return absl::InvalidArgumentError(
        "unknown command output; use auto, integer, float or json");
  }
  return absl::OkStatus();
}

absl::Status ValidateTasks(const JobSpec& spec) {
  if (spec.max_parallel < 0) {
    return absl::InvalidArgumentError(
        "max parallel chunks must not be negative; pass 0 for no limit");
  }
  if (spec.tasks.empty()) return absl::OkStatus();
  const size_t tasks = spec.tasks.size();
  if (tasks > kMaxTasks) {
    return absl::InvalidArgumentError(
        absl::StrCat("a batch has at most ", kMaxTasks, " tasks, not ", tasks,
                     "; split it into several jobs"));
  }
  if (spec.begin != 0 || spec.end != static_cast<int64_t>(tasks)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a batch's range must be [0, number of tasks) = [0, ", tasks, ")"));
  }
  if (spec.executor == ExecutorKind::kCommand) {
    return absl::InvalidArgumentError(
        "batches run kernels; the command executor takes a plain range");
  }
  if (spec.reduction == Reduction::kCollect) {
    return absl::InvalidArgumentError(
        "a batch already returns one value per task; drop the collect "
        "reduction");
  }
  for (size_t i = 0; i < tasks; ++i) {
    const Task& task = spec.tasks[i];
    int64_t size;
    if (task.range.end <= task.range.begin ||
        __builtin_sub_overflow(task.range.end, task.range.begin, &size)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "task ", i, " has range [", task.range.begin, ", ", task.range.end,
          "); give every task a non-empty range of at most 2^63-1 indices"));
    }
    if (task.params.size() > kMaxParams) {
      return absl::InvalidArgumentError(absl::StrCat(
          "task ", i, " has more than ", kMaxParams, " parameters"));
    }
  }
  return absl::OkStatus();
}

bool IsKnown(Reduction reduction) {
  switch (reduction) {
    case Reduction::kSum:
    case Reduction::kMin:
    case Reduction::kMax:
    case Reduction::kCount:
    case Reduction::kCollect:
      return true;
  }
  return false;
}

bool IsKnown(ExecutorKind executor) {
  switch (executor) {
    case ExecutorKind::kThreads:
    case ExecutorKind::kProcesses:
    case ExecutorKind::kCommand:
      return true;
  }
  return false;
}

}  // namespace

absl::Status ValidateJobSpec(const JobSpec& spec) {
  if (spec.kernel.empty() && spec.executor != ExecutorKind::kCommand) {
    return absl::InvalidArgumentError(
        "job has no kernel; name one, such as count_primes (pfor kernels lists "
        "them)");
  }
  if (spec.kernel.size() > kMaxNameLength ||
      spec.name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel and job names are limited to ", kMaxNameLength, " characters"));
  }
  if (absl::Status status = ValidateRange(spec); !status.ok()) return status;
  if (!IsKnown(spec.reduction)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown reduction ", static_cast<int>(spec.reduction),
                     "; use sum, min, max, count or collect"));
  }
  if (!IsKnown(spec.executor)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown executor ", static_cast<int>(spec.executor),
                     "; use threads, processes or command"));
  }
  if (absl::Status status = ValidateCommand(spec); !status.ok()) return status;
  if (absl::Status status = ValidateTasks(spec); !status.ok()) return status;
  if (spec.max_attempts < 0 || spec.max_attempts > kMaxAttemptsLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("max attempts ", spec.max_attempts,
                     " is out of range; pass --max-attempts between 1 and ",
                     kMaxAttemptsLimit));
  }
  if (spec.chunk_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "chunk timeout must be positive; pass --chunk-timeout such as 30s");
  }
  if (spec.params.size() > kMaxParams) {
    return absl::InvalidArgumentError(
        absl::StrCat("job has ", spec.params.size(), " parameters; at most ",
                     kMaxParams, " are allowed"));
  }
  for (const auto& [name, value] : spec.params) {
    if (name.empty() || name.size() > kMaxNameLength) {
      return absl::InvalidArgumentError(
          "parameter names must have 1 to 256 characters; pass --param "
          "NAME=VALUE");
    }
    const auto* text = std::get_if<std::string>(&value);
    if (text != nullptr && text->size() > kMaxStringParamLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter ", name, " is longer than ",
                       kMaxStringParamLength, " characters"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ChunkSizer> CheckJob(const JobSpec& spec) {
  if (absl::Status status = ValidateJobSpec(spec); !status.ok()) {
    return status;
  }
  absl::StatusOr<ChunkSizer> sizer =
      ChunkSizer::Create(spec.chunks, spec.begin, spec.end);
  if (!sizer.ok()) return sizer.status();
  if (spec.reduction == Reduction::kCollect &&
      sizer->PlannedChunks() > JobResult::kMaxCollected) {
    return absl::InvalidArgumentError(
        absl::StrCat("collect keeps at most ", JobResult::kMaxCollected,
                     " chunk values but the job has ", sizer->PlannedChunks(),
                     " chunks; use larger chunks or another reduction"));
  }
  return sizer;
}

absl::StatusOr<Params> CheckParams(const JobSpec& spec,
                                   const KernelInfo& kernel) {
  if (spec.tasks.empty()) {
    return ValidateParams(spec.kernel, kernel.params, spec.params);
  }
  // Tasks without parameters of their own all check as the job's do: once.
  std::optional<absl::Status> job_params;
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    absl::Status status;
    if (spec.tasks[i].params.empty()) {
      if (!job_params) {
        job_params =
            ValidateParams(spec.kernel, kernel.params, spec.params).status();
      }
      status = *job_params;
    } else {
      std::map<std::string, ParamValue> merged = spec.params;
      for (const auto& [name, value] : spec.tasks[i].params) {
        merged[name] = value;
      }
      status = ValidateParams(spec.kernel, kernel.params, merged).status();
    }
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("task ", i, ": ", status.message()));
    }
  }
  return Params(spec.params);
}

std::string RangeText(int64_t begin, int64_t end) {
  return absl::StrCat("[", begin, ", ", end, ")");
}

}  // namespace pfor::coordinator
