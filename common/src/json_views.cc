#include "pfor/common/json_views.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace pfor {
namespace {

// The job's spec; an empty one when the coordinator left it out.
const JobSpec& Spec(const JobStatus& job) {
  static const JobSpec* const kNone = new JobSpec();
  return job.spec != nullptr ? *job.spec : *kNone;
}

nlohmann::json ParamJson(const ParamValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  if (const auto* d = std::get_if<double>(&value)) return *d;
  return std::get<std::string>(value);
}

std::string TimeText(absl::Time time) {
  return time == absl::InfinitePast()
             ? ""
             : absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone());
}

}  // namespace

std::string ChunkPolicyText(const ChunkPolicy& policy) {
  switch (policy.kind) {
    case ChunkPolicy::Kind::kFixed:
      return absl::StrCat("fixed:", policy.value);
    case ChunkPolicy::Kind::kCount:
      return absl::StrCat("count:", policy.value);
    case ChunkPolicy::Kind::kAuto:
      break;
  }
  return absl::StrCat("auto:", absl::FormatDuration(policy.target));
}

nlohmann::json ValueJson(const Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  const double d = ToDouble(value);
  if (!std::isfinite(d)) return FormatValue(value);  // JSON has no inf or nan
  return d;
}

nlohmann::json ToJson(const JobStatus& job) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [name, value] : Spec(job).params)
    params[name] = ParamJson(value);
  nlohmann::json out = {
      {"id", job.id},
      {"name", Spec(job).name},
      {"kernel", Spec(job).kernel},
      {"begin", Spec(job).begin},
      {"end", Spec(job).end},
      {"params", params},
      {"chunks", ChunkPolicyText(Spec(job).chunks)},
      {"reduce", ReductionName(Spec(job).reduction)},
      {"executor", ExecutorName(Spec(job).executor)},
      {"submitted_by", Spec(job).submitted_by},
      {"state", JobStateName(job.state)},
      {"progress",
       {{"indices_total", job.progress.indices_total},
        {"indices_done", job.progress.indices_done},
        {"chunks_done", job.progress.chunks_done},
        {"chunks_in_flight", job.progress.chunks_in_flight},
        {"attempts_failed", job.progress.attempts_failed},
        {"chunks_requeued", job.progress.chunks_requeued},
        {"rate", job.progress.rate}}},
      {"submit_time", TimeText(job.submit_time)},
      {"start_time", TimeText(job.start_time)},
      {"end_time", TimeText(job.end_time)},
  };
  if (Spec(job).executor == ExecutorKind::kCommand) {
    out["command"] = {{"argv", Spec(job).command.argv},
                      {"shell", Spec(job).command.shell}};
  }
  if (job.value) out["result"] = ValueJson(*job.value);
  if (!job.chunk_values.empty()) {
    nlohmann::json chunks = nlohmann::json::array();
    for (const ChunkValue& chunk : job.chunk_values) {
      chunks.push_back({{"begin", chunk.begin},
                        {"end", chunk.end},
                        {"value", ValueJson(chunk.value)}});
    }
    out["result"] = chunks;
  }
  if (!job.task_results.empty()) {
    nlohmann::json tasks = nlohmann::json::array();
    for (size_t i = 0; i < job.task_results.size(); ++i) {
      const absl::StatusOr<Value>& result = job.task_results[i];
      const int64_t task = job.first_task + static_cast<int64_t>(i);
      tasks.push_back(
          result.ok()
              ? nlohmann::json{{"task", task}, {"value", ValueJson(*result)}}
              : nlohmann::json{{"task", task},
                               {"error", result.status().message()}});
    }
    out["result"] = tasks;
  }
  if (!job.error.empty()) out["error"] = job.error;
  if (!job.waiting_reason.empty()) out["waiting_reason"] = job.waiting_reason;
  if (!job.recent_chunks.empty()) {
    nlohmann::json chunks = nlohmann::json::array();
    for (const ChunkAttempt& chunk : job.recent_chunks) {
      nlohmann::json attempt = {
          {"begin", chunk.begin},
          {"end", chunk.end},
          {"attempt", chunk.attempt},
          {"worker", chunk.worker},
          {"seconds", absl::ToDoubleSeconds(chunk.kernel_time)}};
      if (!chunk.error.empty()) attempt["error"] = chunk.error;
      if (chunk.finished != absl::InfinitePast()) {
        attempt["finish_time"] = TimeText(chunk.finished);
      }
      chunks.push_back(attempt);
    }
    out["recent_chunks"] = chunks;
  }
  return out;
}

nlohmann::json ToJson(const WorkerStatus& worker) {
  return {{"id", worker.id},
          {"name", worker.name},
          {"peer", worker.peer},
          {"slots", worker.total_slots()},
          {"chunks_in_flight", worker.chunks_in_flight},
          {"chunks_done", worker.chunks_done},
          {"connected_time", TimeText(worker.connected_time)},
          {"seconds_since_last_message",
           absl::ToDoubleSeconds(worker.since_last_message)},
          {"kernels", worker.kernels},
          {"draining", worker.draining},
          {"quarantined", worker.quarantined},
          {"attempts_timed_out", worker.attempts_timed_out},
          {"executors",
           {{"threads", worker.slots[0]},
            {"processes", worker.slots[1]},
            {"command", worker.slots[2]}}},
          {"credits", worker.credits}};
}

nlohmann::json ToJson(const KernelInfo& kernel) {
  nlohmann::json params = nlohmann::json::array();
  for (const ParamSpec& spec : kernel.params) {
    nlohmann::json param = {
        {"name", spec.name},
        {"type", spec.type == ParamType::kInt     ? "int"
                 : spec.type == ParamType::kFloat ? "float"
                                                  : "string"},
        {"help", spec.help}};
    if (spec.default_value) param["default"] = ParamJson(*spec.default_value);
    if (!spec.choices.empty()) param["choices"] = spec.choices;
    if (!spec.expression_variable.empty())
      param["expression_variable"] = spec.expression_variable;
    params.push_back(param);
  }
  return {{"name", kernel.name}, {"help", kernel.help}, {"params", params}};
}

}  // namespace pfor
