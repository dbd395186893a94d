#include "job_spec_check.h"

#include "absl/strings/str_cat.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

constexpr int kMaxAttemptsLimit = 100;
constexpr int kMaxParams = 64;
constexpr size_t kMaxNameLength = 256;
constexpr size_t kMaxStringParamLength = 4096;

absl::Status ValidateRange(const v1::JobSpec& spec) {
  const int64_t begin = spec.begin();
  const int64_t end = spec.end();
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

constexpr int kMaxCommandArgs = 256;
constexpr size_t kMaxCommandArgLength = 4096;

absl::Status ValidateCommand(const v1::JobSpec& spec) {
  const v1::CommandSpec& command = spec.command();
  if (spec.executor() != v1::EXECUTOR_KIND_COMMAND) {
    if (command.argv_size() > 0) {
      return absl::InvalidArgumentError(
          "a command runs only on the command executor; pass --executor "
          "command");
    }
    return absl::OkStatus();
  }
  if (!spec.kernel().empty() || spec.params_size() > 0) {
    return absl::InvalidArgumentError(
        "a command job runs its command, not a kernel: drop the kernel name "
        "and the --param flags");
  }
  if (command.argv().empty() || command.argv(0).empty()) {
    return absl::InvalidArgumentError(
        "a command job needs a command; pass --command 'PROGRAM ARGS...' "
        "with {begin}, {end} or {chunk} where the chunk goes");
  }
  if (command.shell() && command.argv_size() != 1) {
    return absl::InvalidArgumentError(
        "a shell command is one script string; pass it as one --command");
  }
  if (command.argv_size() > kMaxCommandArgs) {
    return absl::InvalidArgumentError(
        absl::StrCat("a command has at most ", kMaxCommandArgs, " arguments"));
  }
  for (const std::string& arg : command.argv()) {
    if (arg.size() > kMaxCommandArgLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("command arguments are limited to ",
                       kMaxCommandArgLength, " characters"));
    }
  }
  if (!v1::CommandSpec::Output_IsValid(command.output())) {
    return absl::InvalidArgumentError(
        "unknown command output; use auto, integer, float or json");
  }
  return absl::OkStatus();
}

constexpr int kMaxTasks = 1'000'000;

absl::Status ValidateTasks(const v1::JobSpec& spec) {
  if (spec.max_parallel() < 0) {
    return absl::InvalidArgumentError(
        "max parallel chunks must not be negative; pass 0 for no limit");
  }
  if (spec.tasks().empty()) return absl::OkStatus();
  if (spec.tasks_size() > kMaxTasks) {
    return absl::InvalidArgumentError(
        absl::StrCat("a batch has at most ", kMaxTasks, " tasks, not ",
                     spec.tasks_size(), "; split it into several jobs"));
  }
  if (spec.begin() != 0 || spec.end() != spec.tasks_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a batch's range must be [0, number of tasks) = [0, ",
                     spec.tasks_size(), ")"));
  }
  if (spec.executor() == v1::EXECUTOR_KIND_COMMAND) {
    return absl::InvalidArgumentError(
        "batches run kernels; the command executor takes a plain range");
  }
  if (spec.reduction() == v1::REDUCTION_COLLECT) {
    return absl::InvalidArgumentError(
        "a batch already returns one value per task; drop the collect "
        "reduction");
  }
  for (int i = 0; i < spec.tasks_size(); ++i) {
    const v1::Task& task = spec.tasks(i);
    int64_t size;
    if (task.end() <= task.begin() ||
        __builtin_sub_overflow(task.end(), task.begin(), &size)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "task ", i, " has range [", task.begin(), ", ", task.end(),
          "); give every task a non-empty range of at most 2^63-1 indices"));
    }
    if (task.params_size() > kMaxParams) {
      return absl::InvalidArgumentError(absl::StrCat(
          "task ", i, " has more than ", kMaxParams, " parameters"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateJobSpec(const v1::JobSpec& spec) {
  if (spec.kernel().empty() && spec.executor() != v1::EXECUTOR_KIND_COMMAND) {
    return absl::InvalidArgumentError(
        "job has no kernel; name one, such as count_primes (pfor kernels lists "
        "them)");
  }
  if (spec.kernel().size() > kMaxNameLength ||
      spec.name().size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel and job names are limited to ", kMaxNameLength, " characters"));
  }
  if (absl::Status status = ValidateRange(spec); !status.ok()) return status;
  if (!v1::Reduction_IsValid(spec.reduction())) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown reduction ", spec.reduction(),
                     "; use sum, min, max, count or collect"));
  }
  if (!v1::ExecutorKind_IsValid(spec.executor())) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown executor ", spec.executor(),
                     "; use threads, processes or command"));
  }
  if (absl::Status status = ValidateCommand(spec); !status.ok()) return status;
  if (absl::Status status = ValidateTasks(spec); !status.ok()) return status;
  const int32_t attempts = spec.retry().max_attempts();
  if (attempts < 0 || attempts > kMaxAttemptsLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("max attempts ", attempts,
                     " is out of range; pass --max-attempts between 1 and ",
                     kMaxAttemptsLimit));
  }
  if (spec.retry().has_chunk_timeout()) {
    const auto& timeout = spec.retry().chunk_timeout();
    if (timeout.seconds() < 0 || timeout.nanos() < 0 ||
        timeout.nanos() >= 1000000000 ||
        (timeout.seconds() == 0 && timeout.nanos() == 0)) {
      return absl::InvalidArgumentError(
          "chunk timeout must be positive; pass --chunk-timeout such as 30s");
    }
  }
  if (spec.params_size() > kMaxParams) {
    return absl::InvalidArgumentError(
        absl::StrCat("job has ", spec.params_size(), " parameters; at most ",
                     kMaxParams, " are allowed"));
  }
  for (const auto& [name, value] : spec.params()) {
    if (name.empty() || name.size() > kMaxNameLength) {
      return absl::InvalidArgumentError(
          "parameter names must have 1 to 256 characters; pass --param "
          "NAME=VALUE");
    }
    if (value.string_value().size() > kMaxStringParamLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter ", name, " is longer than ",
                       kMaxStringParamLength, " characters"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Params> CheckParams(const v1::JobSpec& spec,
                                   const v1::KernelInfo& kernel) {
  absl::StatusOr<std::map<std::string, ParamValue>> given =
      FromProto(spec.params());
  if (!given.ok()) return given.status();
  absl::StatusOr<std::vector<ParamSpec>> specs = FromProto(kernel.params());
  if (!specs.ok()) return specs.status();
  if (spec.tasks().empty())
    return ValidateParams(spec.kernel(), *specs, *given);
  for (int i = 0; i < spec.tasks_size(); ++i) {
    absl::StatusOr<std::map<std::string, ParamValue>> overlay =
        FromProto(spec.tasks(i).params());
    if (!overlay.ok()) return overlay.status();
    std::map<std::string, ParamValue> merged = *given;
    for (auto& [name, value] : *overlay) merged[name] = std::move(value);
    absl::Status status =
        ValidateParams(spec.kernel(), *specs, merged).status();
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("task ", i, ": ", status.message()));
    }
  }
  return Params(*std::move(given));
}

std::string RangeText(int64_t begin, int64_t end) {
  return absl::StrCat("[", begin, ", ", end, ")");
}

}  // namespace pfor::coordinator
