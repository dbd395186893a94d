#include "pfor/common/wire_link.h"

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "pfor/common/wire.h"
#include "pfor/common/wire_job.h"

namespace pfor {
namespace {

// An error's text for the wire, which carries no code: never empty, since an
// empty error reads as success.
std::string ErrorText(const absl::Status& status) {
  if (!status.message().empty()) return std::string(status.message());
  return absl::StatusCodeToString(status.code());
}

// Sums slot or credit counts without overflowing int32 on hostile input.
int32_t SaturatingAdd(int32_t a, int32_t b) {
  const int64_t sum = int64_t{a} + b;
  if (sum > std::numeric_limits<int32_t>::max()) {
    return std::numeric_limits<int32_t>::max();
  }
  if (sum < std::numeric_limits<int32_t>::min()) {
    return std::numeric_limits<int32_t>::min();
  }
  return static_cast<int32_t>(sum);
}

// Per-executor counts as repeated ExecutorSlots, leaving out zeros.
void ToProto(const std::array<int32_t, kExecutorKinds>& counts,
             google::protobuf::RepeatedPtrField<v1::ExecutorSlots>& out) {
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    if (counts[kind] == 0) continue;
    v1::ExecutorSlots* slots = out.Add();
    slots->set_kind(pfor::ToProto(static_cast<ExecutorKind>(kind)));
    slots->set_slots(counts[kind]);
  }
}

// Entries of one executor add up; executors this build does not know are
// skipped (a newer peer's, which nothing here can use).
std::array<int32_t, kExecutorKinds> FromProto(
    const google::protobuf::RepeatedPtrField<v1::ExecutorSlots>& entries) {
  std::array<int32_t, kExecutorKinds> counts{};
  for (const v1::ExecutorSlots& entry : entries) {
    absl::StatusOr<ExecutorKind> kind = pfor::FromProto(entry.kind());
    if (!kind.ok()) continue;
    int32_t& count = counts[static_cast<int>(*kind)];
    count = SaturatingAdd(count, entry.slots());
  }
  return counts;
}

void SetAttempt(const AttemptRef& attempt, v1::AttemptRef& out) {
  out.set_job_id(attempt.job);
  out.set_begin(attempt.begin);
  out.set_attempt(attempt.attempt);
}

// Written in place: this runs for every chunk.
void ToProto(const ChunkResult& result, v1::ChunkResult& out) {
  SetAttempt(result.attempt, *out.mutable_chunk());
  if (result.output.ok()) {
    pfor::ToProto(*result.output, result.attempt.begin, *out.mutable_value());
  } else {
    out.set_error(ErrorText(result.output.status()));
  }
  *out.mutable_duration() = pfor::ToProto(result.kernel_time);
}

ChunkResult FromProto(const v1::ChunkResult& result) {
  ChunkResult out;
  out.attempt = pfor::FromProto(result.chunk());
  out.kernel_time = pfor::FromProto(result.duration());
  if (!result.error().empty()) {
    out.output = absl::UnknownError(result.error());
    return out;
  }
  // A batch chunk's tasks are numbered from its begin.
  absl::StatusOr<ChunkOutput> output =
      ChunkOutputFromProto(result.value(), out.attempt.begin);
  if (output.ok()) {
    out.output = *std::move(output);
  } else {
    out.output = absl::InvalidArgumentError(absl::StrCat(
        "worker sent a malformed value: ", output.status().message()));
  }
  return out;
}

absl::StatusOr<Hello> FromProto(const v1::Hello& hello) {
  Hello out;
  out.name = hello.name();
  out.slots = FromProto(hello.executors());
  out.kernels.reserve(static_cast<size_t>(hello.kernels_size()));
  for (const v1::KernelInfo& kernel : hello.kernels()) {
    absl::StatusOr<KernelInfo> info = pfor::FromProto(kernel);
    if (!info.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("hello: ", info.status().message()));
    }
    out.kernels.push_back(*std::move(info));
  }
  out.version = hello.version();
  return out;
}

// Written in place: this runs for every chunk.
void ToProto(const ChunkAssignment& chunk, v1::ChunkAssignment& out) {
  SetAttempt(chunk.attempt, *out.mutable_chunk());
  out.set_end(chunk.end);
  out.set_index(chunk.index);
  if (chunk.tasks != nullptr) {
    // The chunk's tasks are those its range numbers; a range past the
    // vector is a coordinator bug, and sends only the tasks there are (the
    // worker then fails the attempt for the missing ones).
    const std::vector<Task>& tasks = *chunk.tasks;
    const int64_t count = chunk.end - chunk.attempt.begin;
    size_t last = chunk.first_task;
    if (count > 0) last += static_cast<size_t>(count);
    if (last > tasks.size()) last = tasks.size();
    if (chunk.first_task < last) {
      out.mutable_tasks()->Reserve(static_cast<int>(last - chunk.first_task));
      for (size_t i = chunk.first_task; i < last; ++i) {
        pfor::ToProto(tasks[i], *out.add_tasks());
      }
    }
  }
}

absl::StatusOr<ChunkAssignment> FromProto(const v1::ChunkAssignment& chunk) {
  ChunkAssignment out;
  out.attempt = pfor::FromProto(chunk.chunk());
  out.end = chunk.end();
  out.index = chunk.index();
  if (chunk.tasks_size() > 0) {
    auto tasks = std::make_shared<std::vector<Task>>();
    tasks->reserve(static_cast<size_t>(chunk.tasks_size()));
    for (int i = 0; i < chunk.tasks_size(); ++i) {
      absl::StatusOr<Task> task = pfor::FromProto(chunk.tasks(i));
      if (!task.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("chunk [", out.attempt.begin, ", ", out.end,
                         ") of job ", out.attempt.job, ": task ",
                         out.attempt.begin + i, ": ", task.status().message()));
      }
      tasks->push_back(*std::move(task));
    }
    out.tasks = std::move(tasks);
    out.first_task = 0;
  }
  return out;
}

}  // namespace

v1::AttemptRef ToProto(const AttemptRef& attempt) {
  v1::AttemptRef out;
  SetAttempt(attempt, out);
  return out;
}

AttemptRef FromProto(const v1::AttemptRef& attempt) {
  return AttemptRef{attempt.job_id(), attempt.begin(), attempt.attempt()};
}

void ToProto(const ChunkOutput& output, int64_t first_task, v1::Value& out) {
  if (const auto* value = std::get_if<Value>(&output)) {
    ToProto(*value, out);
    return;
  }
  const auto& results = std::get<std::vector<TaskResult>>(output);
  auto* wire = out.mutable_tasks()->mutable_results();
  wire->Reserve(static_cast<int>(results.size()));
  for (size_t i = 0; i < results.size(); ++i) {
    v1::TaskResult* result = wire->Add();
    result->set_index(first_task + static_cast<int64_t>(i));
    // Exact sums stay exact: the coordinator still combines and journals
    // them; clients get them rounded.
    if (results[i].ok()) {
      ToProto(*results[i], *result->mutable_value());
    } else {
      result->set_error(ErrorText(results[i].status()));
    }
  }
}

v1::Value ToProto(const ChunkOutput& output, int64_t first_task) {
  v1::Value out;
  ToProto(output, first_task, out);
  return out;
}

absl::StatusOr<ChunkOutput> ChunkOutputFromProto(const v1::Value& value,
                                                 int64_t first_task) {
  if (!value.has_tasks()) {
    absl::StatusOr<Value> single = FromProto(value);
    if (!single.ok()) return single.status();
    return ChunkOutput(std::in_place_type<Value>, *std::move(single));
  }
  const auto& wire = value.tasks().results();
  std::vector<TaskResult> results;
  results.reserve(static_cast<size_t>(wire.size()));
  for (int i = 0; i < wire.size(); ++i) {
    const v1::TaskResult& result = wire[i];
    const int64_t expected = first_task + i;
    if (result.index() != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("task result ", i, " is numbered ", result.index(),
                       ", expected ", expected));
    }
    if (!result.error().empty()) {
      results.push_back(absl::UnknownError(result.error()));
      continue;
    }
    if (!result.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("task ", expected, " has neither a value nor an error"));
    }
    absl::StatusOr<Value> task_value = FromProto(result.value());
    if (!task_value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("task ", expected, ": ", task_value.status().message()));
    }
    results.push_back(*std::move(task_value));
  }
  return ChunkOutput(std::move(results));
}

v1::JobDefinition ToProto(const JobDefinition& definition) {
  v1::JobDefinition out;
  out.set_job_id(definition.job);
  out.set_kernel(definition.kernel);
  ToProto(definition.params.values(), *out.mutable_params());
  out.set_reduction(ToProto(definition.reduction));
  out.set_executor(ToProto(definition.executor));
  out.set_begin(definition.range.begin);
  out.set_end(definition.range.end);
  const Command& command = definition.command;
  if (!command.argv.empty() || command.shell ||
      command.output != Command::Output::kAuto) {
    *out.mutable_command() = ToProto(command);
  }
  if (definition.chunk_timeout != absl::InfiniteDuration()) {
    *out.mutable_chunk_timeout() = ToProto(definition.chunk_timeout);
  }
  out.set_batch(definition.batch);
  return out;
}

absl::StatusOr<JobDefinition> FromProto(const v1::JobDefinition& definition) {
  const std::string where =
      absl::StrCat("definition of job ", definition.job_id());
  auto fail = [&](const absl::Status& status) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", status.message()));
  };
  JobDefinition out;
  out.job = definition.job_id();
  out.kernel = definition.kernel();
  absl::StatusOr<std::map<std::string, ParamValue>> params =
      FromProto(definition.params());
  if (!params.ok()) return fail(params.status());
  out.params = Params(*std::move(params));
  absl::StatusOr<Reduction> reduction = FromProto(definition.reduction());
  if (!reduction.ok()) return fail(reduction.status());
  out.reduction = *reduction;
  absl::StatusOr<ExecutorKind> executor = FromProto(definition.executor());
  if (!executor.ok()) return fail(executor.status());
  out.executor = *executor;
  out.range = Range{definition.begin(), definition.end()};
  absl::StatusOr<Command> command = FromProto(definition.command());
  if (!command.ok()) return fail(command.status());
  out.command = *std::move(command);
  if (definition.has_chunk_timeout()) {
    out.chunk_timeout = FromProto(definition.chunk_timeout());
  }
  out.batch = definition.batch();
  return out;
}

void ToProto(const WorkerMessage& message, v1::WorkerMessage& out) {
  if (message.hello) {
    const Hello& hello = *message.hello;
    v1::Hello* wire = out.mutable_hello();
    wire->set_name(hello.name);
    ToProto(hello.slots, *wire->mutable_executors());
    wire->mutable_kernels()->Reserve(static_cast<int>(hello.kernels.size()));
    for (const KernelInfo& kernel : hello.kernels) {
      *wire->add_kernels() = ToProto(kernel);
    }
    wire->set_version(hello.version);
  }
  ToProto(message.credits, *out.mutable_credits());
  out.mutable_results()->Reserve(static_cast<int>(message.results.size()));
  for (const ChunkResult& result : message.results) {
    ToProto(result, *out.add_results());
  }
  out.mutable_started()->Reserve(static_cast<int>(message.started.size()));
  for (const AttemptRef& attempt : message.started) {
    SetAttempt(attempt, *out.add_started());
  }
  out.mutable_released()->Reserve(static_cast<int>(message.released.size()));
  for (const AttemptRef& attempt : message.released) {
    SetAttempt(attempt, *out.add_released());
  }
  out.set_draining(message.draining);
}

v1::WorkerMessage ToProto(const WorkerMessage& message) {
  v1::WorkerMessage out;
  ToProto(message, out);
  return out;
}

absl::StatusOr<WorkerMessage> FromProto(const v1::WorkerMessage& message) {
  WorkerMessage out;
  if (message.has_hello()) {
    absl::StatusOr<Hello> hello = FromProto(message.hello());
    if (!hello.ok()) return hello.status();
    out.hello = *std::move(hello);
  }
  out.credits = FromProto(message.credits());
  out.results.reserve(static_cast<size_t>(message.results_size()));
  for (const v1::ChunkResult& result : message.results()) {
    out.results.push_back(FromProto(result));
  }
  out.started.reserve(static_cast<size_t>(message.started_size()));
  for (const v1::AttemptRef& attempt : message.started()) {
    out.started.push_back(FromProto(attempt));
  }
  out.released.reserve(static_cast<size_t>(message.released_size()));
  for (const v1::AttemptRef& attempt : message.released()) {
    out.released.push_back(FromProto(attempt));
  }
  out.draining = message.draining();
  return out;
}

void ToProto(const CoordinatorMessage& message, v1::CoordinatorMessage& out) {
  if (message.welcome) {
    v1::Welcome* welcome = out.mutable_welcome();
    welcome->set_worker_id(message.welcome->worker_id);
    *welcome->mutable_heartbeat_interval() =
        ToProto(message.welcome->heartbeat_interval);
  }
  out.mutable_jobs()->Reserve(static_cast<int>(message.jobs.size()));
  for (const std::shared_ptr<const JobDefinition>& job : message.jobs) {
    if (job != nullptr) *out.add_jobs() = ToProto(*job);
  }
  out.mutable_chunks()->Reserve(static_cast<int>(message.chunks.size()));
  for (const ChunkAssignment& chunk : message.chunks) {
    ToProto(chunk, *out.add_chunks());
  }
  out.mutable_ended_jobs()->Add(message.ended_jobs.begin(),
                                message.ended_jobs.end());
  out.mutable_cancelled_chunks()->Reserve(
      static_cast<int>(message.cancelled.size()));
  for (const AttemptRef& attempt : message.cancelled) {
    SetAttempt(attempt, *out.add_cancelled_chunks());
  }
}

v1::CoordinatorMessage ToProto(const CoordinatorMessage& message) {
  v1::CoordinatorMessage out;
  ToProto(message, out);
  return out;
}

absl::StatusOr<CoordinatorMessage> FromProto(
    const v1::CoordinatorMessage& message) {
  CoordinatorMessage out;
  if (message.has_welcome()) {
    out.welcome = Welcome{message.welcome().worker_id(),
                          FromProto(message.welcome().heartbeat_interval())};
  }
  out.jobs.reserve(static_cast<size_t>(message.jobs_size()));
  for (const v1::JobDefinition& job : message.jobs()) {
    absl::StatusOr<JobDefinition> definition = FromProto(job);
    if (!definition.ok()) return definition.status();
    out.jobs.push_back(
        std::make_shared<const JobDefinition>(*std::move(definition)));
  }
  out.chunks.reserve(static_cast<size_t>(message.chunks_size()));
  for (const v1::ChunkAssignment& chunk : message.chunks()) {
    absl::StatusOr<ChunkAssignment> assignment = FromProto(chunk);
    if (!assignment.ok()) return assignment.status();
    out.chunks.push_back(*std::move(assignment));
  }
  out.ended_jobs.assign(message.ended_jobs().begin(),
                        message.ended_jobs().end());
  out.cancelled.reserve(static_cast<size_t>(message.cancelled_chunks_size()));
  for (const v1::AttemptRef& attempt : message.cancelled_chunks()) {
    out.cancelled.push_back(FromProto(attempt));
  }
  return out;
}

}  // namespace pfor
