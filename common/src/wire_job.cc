#include "pfor/common/wire_job.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "pfor/common/wire.h"

namespace pfor {
namespace {

constexpr absl::Duration kDefaultAutoTarget = absl::Milliseconds(100);

// `status` (a decoding error) as INVALID_ARGUMENT, its message prefixed with
// where it happened.
absl::Status In(absl::string_view where, const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": ", status.message()));
}

// Clients see plain numbers: an exact sum travels rounded to a double.
void RoundedToProto(const Value& value, v1::Value& out) {
  if (const auto* sum = std::get_if<ExactSum>(&value)) {
    out.set_float_value(sum->Round());
  } else {
    ToProto(value, out);
  }
}

// An error's text for the wire, which carries no code: never empty, since an
// empty error reads as success.
std::string ErrorText(const absl::Status& status) {
  if (!status.message().empty()) return std::string(status.message());
  return absl::StatusCodeToString(status.code());
}

bool IsDefault(const Command& command) {
  return command.argv.empty() && !command.shell &&
         command.output == Command::Output::kAuto;
}

v1::ChunkRecord AttemptToProto(const ChunkAttempt& attempt) {
  v1::ChunkRecord out;
  out.set_begin(attempt.begin);
  out.set_end(attempt.end);
  out.set_attempt(attempt.attempt);
  out.set_worker(attempt.worker);
  *out.mutable_duration() = ToProto(attempt.kernel_time);
  out.set_error(attempt.error);
  return out;
}

ChunkAttempt AttemptFromProto(const v1::ChunkRecord& record) {
  return ChunkAttempt{record.begin(),
                      record.end(),
                      record.attempt(),
                      record.worker(),
                      FromProto(record.duration()),
                      record.error()};
}

// Unset times read as "never" (InfinitePast), and are left unset.
void SetTime(absl::Time time, google::protobuf::Timestamp* (v1::Job::*field)(),
             v1::Job& job) {
  if (time != absl::InfinitePast()) *(job.*field)() = ToProto(time);
}

absl::Time TimeOrPast(bool present, const google::protobuf::Timestamp& time) {
  return present ? FromProto(time) : absl::InfinitePast();
}

}  // namespace

v1::CommandSpec ToProto(const Command& command) {
  v1::CommandSpec out;
  out.mutable_argv()->Reserve(static_cast<int>(command.argv.size()));
  for (const std::string& arg : command.argv) out.add_argv(arg);
  out.set_shell(command.shell);
  // Command::Output is numbered as on the wire.
  out.set_output(static_cast<v1::CommandSpec::Output>(command.output));
  return out;
}

absl::StatusOr<Command> FromProto(const v1::CommandSpec& command) {
  Command out;
  out.argv.assign(command.argv().begin(), command.argv().end());
  out.shell = command.shell();
  switch (command.output()) {
    case v1::CommandSpec::OUTPUT_UNSPECIFIED:
      out.output = Command::Output::kAuto;
      break;
    case v1::CommandSpec::OUTPUT_INTEGER:
      out.output = Command::Output::kInteger;
      break;
    case v1::CommandSpec::OUTPUT_FLOAT:
      out.output = Command::Output::kFloat;
      break;
    case v1::CommandSpec::OUTPUT_JSON:
      out.output = Command::Output::kJson;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown command output ", static_cast<int>(command.output()),
          "; use auto, integer, float or json"));
  }
  return out;
}

void ToProto(const Task& task, v1::Task& out) {
  out.set_begin(task.range.begin);
  out.set_end(task.range.end);
  ToProto(task.params, *out.mutable_params());
}

v1::Task ToProto(const Task& task) {
  v1::Task out;
  ToProto(task, out);
  return out;
}

absl::StatusOr<Task> FromProto(const v1::Task& task) {
  absl::StatusOr<std::map<std::string, ParamValue>> params =
      FromProto(task.params());
  if (!params.ok()) return params.status();
  return Task{{task.begin(), task.end()}, *std::move(params)};
}

namespace {

void EncodeSpec(const JobSpec& spec, bool with_tasks, v1::JobSpec& out) {
  out.set_kernel(spec.kernel);
  out.set_begin(spec.begin);
  out.set_end(spec.end);
  ToProto(spec.params, *out.mutable_params());
  switch (spec.chunks.kind) {
    case ChunkPolicy::Kind::kFixed:
      out.mutable_chunking()->set_fixed_size(spec.chunks.value);
      break;
    case ChunkPolicy::Kind::kCount:
      out.mutable_chunking()->set_chunk_count(spec.chunks.value);
      break;
    case ChunkPolicy::Kind::kAuto:
      *out.mutable_chunking()->mutable_auto_size()->mutable_target() =
          ToProto(spec.chunks.target);
      break;
  }
  out.set_reduction(ToProto(spec.reduction));
  out.set_executor(ToProto(spec.executor));
  if (spec.max_attempts != 0) {
    out.mutable_retry()->set_max_attempts(spec.max_attempts);
  }
  if (spec.chunk_timeout != absl::InfiniteDuration()) {
    *out.mutable_retry()->mutable_chunk_timeout() = ToProto(spec.chunk_timeout);
  }
  out.set_name(spec.name);
  if (!IsDefault(spec.command)) *out.mutable_command() = ToProto(spec.command);
  if (with_tasks) {
    out.mutable_tasks()->Reserve(static_cast<int>(spec.tasks.size()));
    for (const Task& task : spec.tasks) ToProto(task, *out.add_tasks());
  }
  out.set_max_parallel(spec.max_parallel);
  out.set_submitted_by(spec.submitted_by);
}

}  // namespace

void ToProto(const JobSpec& spec, v1::JobSpec& out) {
  EncodeSpec(spec, /*with_tasks=*/true, out);
}

v1::JobSpec ToProto(const JobSpec& spec) {
  v1::JobSpec out;
  ToProto(spec, out);
  return out;
}

absl::StatusOr<JobSpec> FromProto(const v1::JobSpec& spec) {
  JobSpec out;
  out.kernel = spec.kernel();
  out.begin = spec.begin();
  out.end = spec.end();
  absl::StatusOr<std::map<std::string, ParamValue>> params =
      FromProto(spec.params());
  if (!params.ok()) return In("job spec", params.status());
  out.params = *std::move(params);
  switch (spec.chunking().policy_case()) {
    case v1::ChunkPolicy::kFixedSize:
      out.chunks = ChunkPolicy::Fixed(spec.chunking().fixed_size());
      break;
    case v1::ChunkPolicy::kChunkCount:
      out.chunks = ChunkPolicy::Count(spec.chunking().chunk_count());
      break;
    case v1::ChunkPolicy::kAutoSize:
    case v1::ChunkPolicy::POLICY_NOT_SET:
      out.chunks = ChunkPolicy::Auto(
          spec.chunking().auto_size().has_target()
              ? FromProto(spec.chunking().auto_size().target())
              : kDefaultAutoTarget);
      break;
  }
  absl::StatusOr<Reduction> reduction = FromProto(spec.reduction());
  if (!reduction.ok()) return In("job spec", reduction.status());
  out.reduction = *reduction;
  absl::StatusOr<ExecutorKind> executor = FromProto(spec.executor());
  if (!executor.ok()) return In("job spec", executor.status());
  out.executor = *executor;
  out.max_attempts = spec.retry().max_attempts();
  if (spec.retry().has_chunk_timeout()) {
    out.chunk_timeout = FromProto(spec.retry().chunk_timeout());
  }
  out.name = spec.name();
  absl::StatusOr<Command> command = FromProto(spec.command());
  if (!command.ok()) return In("job spec", command.status());
  out.command = *std::move(command);
  out.tasks.reserve(static_cast<size_t>(spec.tasks_size()));
  for (int i = 0; i < spec.tasks_size(); ++i) {
    absl::StatusOr<Task> task = FromProto(spec.tasks(i));
    if (!task.ok()) {
      return In(absl::StrCat("job spec: task ", i), task.status());
    }
    out.tasks.push_back(*std::move(task));
  }
  out.max_parallel = spec.max_parallel();
  out.submitted_by = spec.submitted_by();
  return out;
}

v1::JobProgress ToProto(const JobProgress& progress) {
  v1::JobProgress out;
  out.set_indices_total(progress.indices_total);
  out.set_indices_done(progress.indices_done);
  out.set_chunks_done(progress.chunks_done);
  out.set_chunks_in_flight(progress.chunks_in_flight);
  out.set_attempts_failed(progress.attempts_failed);
  out.set_chunks_requeued(progress.chunks_requeued);
  out.set_rate(progress.rate);
  return out;
}

JobProgress FromProto(const v1::JobProgress& progress) {
  return JobProgress{progress.indices_total(),
                     progress.indices_done(),
                     progress.chunks_done(),
                     progress.chunks_in_flight(),
                     progress.attempts_failed(),
                     progress.chunks_requeued(),
                     progress.rate()};
}

void ToProto(int64_t index, const TaskResult& result, v1::TaskResult& out) {
  out.set_index(index);
  if (result.ok()) {
    RoundedToProto(*result, *out.mutable_value());
  } else {
    out.set_error(ErrorText(result.status()));
  }
}

v1::TaskResult ToProto(int64_t index, const TaskResult& result) {
  v1::TaskResult out;
  ToProto(index, result, out);
  return out;
}

TaskResult FromProto(const v1::TaskResult& result) {
  if (!result.error().empty()) return absl::UnknownError(result.error());
  absl::StatusOr<Value> value = FromProto(result.value());
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("task ", result.index(),
                     " has a malformed value: ", value.status().message()));
  }
  return value;
}

namespace {

void EncodeStatus(const JobStatus& status, bool with_tasks, v1::Job& out) {
  out.set_id(status.id);
  if (status.spec != nullptr) {
    EncodeSpec(*status.spec, with_tasks, *out.mutable_spec());
  }
  out.set_state(ToProto(status.state));
  *out.mutable_progress() = ToProto(status.progress);
  // A succeeded batch or collect job has its (maybe empty) list; the spec
  // tells which, when there is one.
  const bool succeeded = status.state == JobState::kSucceeded;
  const bool batch = status.spec != nullptr && !status.spec->tasks.empty();
  const bool collect = status.spec != nullptr && !batch &&
                       status.spec->reduction == Reduction::kCollect;
  if (status.value) {
    RoundedToProto(*status.value, *out.mutable_result());
  } else if (!status.task_results.empty() || (succeeded && batch)) {
    v1::TaskResults* tasks = out.mutable_result()->mutable_tasks();
    tasks->mutable_results()->Reserve(
        static_cast<int>(status.task_results.size()));
    for (size_t i = 0; i < status.task_results.size(); ++i) {
      ToProto(status.first_task + static_cast<int64_t>(i),
              status.task_results[i], *tasks->add_results());
    }
  } else if (!status.chunk_values.empty() || (succeeded && collect)) {
    v1::ChunkValues* chunks = out.mutable_result()->mutable_chunks();
    chunks->mutable_values()->Reserve(
        static_cast<int>(status.chunk_values.size()));
    for (const ChunkValue& chunk : status.chunk_values) {
      v1::ChunkValue* value = chunks->add_values();
      value->set_begin(chunk.begin);
      value->set_end(chunk.end);
      RoundedToProto(chunk.value, *value->mutable_value());
    }
  }
  out.set_task_count(status.task_count);
  out.set_error(status.error);
  out.set_waiting_reason(status.waiting_reason);
  SetTime(status.submit_time, &v1::Job::mutable_submit_time, out);
  SetTime(status.start_time, &v1::Job::mutable_start_time, out);
  SetTime(status.end_time, &v1::Job::mutable_end_time, out);
  out.mutable_recent_chunks()->Reserve(
      static_cast<int>(status.recent_chunks.size()));
  for (const ChunkAttempt& attempt : status.recent_chunks) {
    *out.add_recent_chunks() = AttemptToProto(attempt);
  }
}

}  // namespace

v1::Job ToProto(const JobStatus& status) {
  v1::Job out;
  EncodeStatus(status, /*with_tasks=*/true, out);
  return out;
}

void ToProtoWithoutTasks(const JobStatus& status, v1::Job& out) {
  EncodeStatus(status, /*with_tasks=*/false, out);
}

v1::Job ToProtoWithoutTasks(const JobStatus& status) {
  v1::Job out;
  ToProtoWithoutTasks(status, out);
  return out;
}

absl::StatusOr<JobStatus> FromProto(const v1::Job& job) {
  const std::string where = absl::StrCat("job ", job.id());
  JobStatus out;
  out.id = job.id();
  if (job.has_spec()) {
    absl::StatusOr<JobSpec> spec = FromProto(job.spec());
    if (!spec.ok()) return In(where, spec.status());
    out.spec = std::make_shared<const JobSpec>(*std::move(spec));
  }
  out.state = FromProto(job.state());
  out.progress = FromProto(job.progress());
  const v1::Value& result = job.result();
  switch (result.kind_case()) {
    case v1::Value::kTasks: {
      const auto& results = result.tasks().results();
      // Every task result, or a page of them: numbered on from the first.
      out.first_task = results.empty() ? 0 : results[0].index();
      if (out.first_task < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": task result 0 is numbered ", out.first_task,
                         "; tasks are numbered from 0"));
      }
      out.task_results.reserve(static_cast<size_t>(results.size()));
      for (int i = 0; i < results.size(); ++i) {
        if (results[i].index() != out.first_task + i) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": task result ", i, " is numbered ", results[i].index(),
              "; a job's task results come in task order"));
        }
        out.task_results.push_back(FromProto(results[i]));
      }
      break;
    }
    case v1::Value::kChunks:
      out.chunk_values.reserve(
          static_cast<size_t>(result.chunks().values_size()));
      for (const v1::ChunkValue& chunk : result.chunks().values()) {
        absl::StatusOr<Value> value = FromProto(chunk.value());
        if (!value.ok()) {
          return In(absl::StrCat(where, ": chunk [", chunk.begin(), ", ",
                                 chunk.end(), ")"),
                    value.status());
        }
        out.chunk_values.push_back(
            ChunkValue{chunk.begin(), chunk.end(), *std::move(value)});
      }
      break;
    case v1::Value::KIND_NOT_SET:
      break;
    default: {
      absl::StatusOr<Value> value = FromProto(result);
      if (!value.ok())
        return In(absl::StrCat(where, ": result"), value.status());
      out.value = *std::move(value);
      break;
    }
  }
  // Journals written before the count was kept have the tasks.
  out.task_count = job.task_count() != 0 || out.spec == nullptr
                       ? job.task_count()
                       : static_cast<int64_t>(out.spec->tasks.size());
  out.error = job.error();
  out.waiting_reason = job.waiting_reason();
  out.submit_time = TimeOrPast(job.has_submit_time(), job.submit_time());
  out.start_time = TimeOrPast(job.has_start_time(), job.start_time());
  out.end_time = TimeOrPast(job.has_end_time(), job.end_time());
  out.recent_chunks.reserve(static_cast<size_t>(job.recent_chunks_size()));
  for (const v1::ChunkRecord& record : job.recent_chunks()) {
    out.recent_chunks.push_back(AttemptFromProto(record));
  }
  return out;
}

void ToProto(const JobEvent& event, v1::JobEvent& out) {
  out.set_job_id(event.job);
  out.set_state(ToProto(event.state));
  *out.mutable_progress() = ToProto(event.progress);
  // A follower has the job's tasks (it submitted them, or asks for the
  // job with GetJob): events leave them out.
  if (event.status != nullptr) {
    EncodeStatus(*event.status, /*with_tasks=*/false, *out.mutable_job());
  }
  size_t tasks = 0;
  for (const TaskRun& run : event.tasks) {
    if (run.results != nullptr) tasks += run.results->size();
  }
  out.mutable_tasks()->Reserve(static_cast<int>(tasks));
  for (const TaskRun& run : event.tasks) {
    if (run.results == nullptr) continue;
    for (size_t i = 0; i < run.results->size(); ++i) {
      ToProto(run.first_task + static_cast<int64_t>(i), (*run.results)[i],
              *out.add_tasks());
    }
  }
  out.set_missing(event.missing);
}

v1::JobEvent ToProto(const JobEvent& event) {
  v1::JobEvent out;
  ToProto(event, out);
  return out;
}

absl::StatusOr<JobEvent> FromProto(const v1::JobEvent& event) {
  JobEvent out;
  out.job = event.job_id();
  out.state = FromProto(event.state());
  out.progress = FromProto(event.progress());
  if (event.has_job()) {
    absl::StatusOr<JobStatus> status = FromProto(event.job());
    if (!status.ok()) {
      return In(absl::StrCat("event of job ", event.job_id()), status.status());
    }
    out.status = std::make_shared<const JobStatus>(*std::move(status));
  }
  // Consecutive task numbers make one run.
  std::vector<TaskResult> run;
  int64_t first = 0;
  auto flush = [&] {
    if (run.empty()) return;
    out.tasks.push_back(TaskRun{
        first,
        std::make_shared<const std::vector<TaskResult>>(std::move(run))});
    run = {};
  };
  for (const v1::TaskResult& result : event.tasks()) {
    const int64_t index = result.index();
    if (index < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("event of job ", event.job_id(), ": task result ",
                       "numbered ", index, "; tasks are numbered from 0"));
    }
    if (run.empty() || index != first + static_cast<int64_t>(run.size())) {
      flush();
      first = index;
    }
    run.push_back(FromProto(result));
  }
  flush();
  out.missing = event.missing();
  return out;
}

v1::KernelInfo ToProto(const KernelInfo& kernel) {
  v1::KernelInfo out;
  out.set_name(kernel.name);
  out.set_help(kernel.help);
  *out.mutable_params() = ToProto(kernel.params);
  out.mutable_executors()->Reserve(static_cast<int>(kernel.executors.size()));
  for (ExecutorKind executor : kernel.executors) {
    out.add_executors(ToProto(executor));
  }
  return out;
}

absl::StatusOr<KernelInfo> FromProto(const v1::KernelInfo& kernel) {
  KernelInfo out;
  out.name = kernel.name();
  out.help = kernel.help();
  absl::StatusOr<std::vector<ParamSpec>> params = FromProto(kernel.params());
  if (!params.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel ", kernel.name(),
        " has a malformed parameter list: ", params.status().message()));
  }
  out.params = *std::move(params);
  for (int number : kernel.executors()) {
    // An executor this build does not know cannot run here: skip it.
    absl::StatusOr<ExecutorKind> executor =
        FromProto(static_cast<v1::ExecutorKind>(number));
    if (!executor.ok()) continue;
    if (std::find(out.executors.begin(), out.executors.end(), *executor) ==
        out.executors.end()) {
      out.executors.push_back(*executor);
    }
  }
  return out;
}

v1::WorkerInfo ToProto(const WorkerStatus& worker) {
  v1::WorkerInfo out;
  out.set_id(worker.id);
  out.set_name(worker.name);
  out.set_peer(worker.peer);
  out.set_slots(
      static_cast<int32_t>(std::min<int64_t>(worker.total_slots(), INT32_MAX)));
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    if (worker.slots[kind] == 0) continue;
    v1::ExecutorSlots* executor = out.add_executors();
    executor->set_kind(ToProto(static_cast<ExecutorKind>(kind)));
    executor->set_slots(worker.slots[kind]);
  }
  out.set_chunks_in_flight(worker.chunks_in_flight);
  out.set_chunks_done(worker.chunks_done);
  *out.mutable_connected_time() = ToProto(worker.connected_time);
  *out.mutable_since_last_message() = ToProto(worker.since_last_message);
  out.mutable_kernels()->Reserve(static_cast<int>(worker.kernels.size()));
  for (const std::string& kernel : worker.kernels) out.add_kernels(kernel);
  out.set_draining(worker.draining);
  out.set_quarantined(worker.quarantined);
  out.set_attempts_timed_out(worker.attempts_timed_out);
  out.set_credits(worker.credits);
  return out;
}

WorkerStatus FromProto(const v1::WorkerInfo& worker) {
  WorkerStatus out;
  out.id = worker.id();
  out.name = worker.name();
  out.peer = worker.peer();
  for (const v1::ExecutorSlots& executor : worker.executors()) {
    absl::StatusOr<ExecutorKind> kind = FromProto(executor.kind());
    // Listings only: slots of an executor this build does not know are left
    // out rather than failing the listing.
    if (!kind.ok()) continue;
    out.slots[static_cast<int>(*kind)] = executor.slots();
  }
  out.chunks_in_flight = worker.chunks_in_flight();
  out.chunks_done = worker.chunks_done();
  out.connected_time = FromProto(worker.connected_time());
  out.since_last_message = FromProto(worker.since_last_message());
  out.kernels.assign(worker.kernels().begin(), worker.kernels().end());
  out.draining = worker.draining();
  out.quarantined = worker.quarantined();
  out.attempts_timed_out = worker.attempts_timed_out();
  out.credits = worker.credits();
  return out;
}

}  // namespace pfor
