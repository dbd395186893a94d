#include "pfor/common/wire.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace pfor {

v1::ExecutorKind ToProto(ExecutorKind executor) {
  switch (executor) {
    case ExecutorKind::kThreads:
      return v1::EXECUTOR_KIND_THREADS;
    case ExecutorKind::kProcesses:
      return v1::EXECUTOR_KIND_PROCESSES;
    case ExecutorKind::kCommand:
      return v1::EXECUTOR_KIND_COMMAND;
  }
  return v1::EXECUTOR_KIND_THREADS;
}

absl::StatusOr<ExecutorKind> FromProto(v1::ExecutorKind executor) {
  switch (executor) {
    case v1::EXECUTOR_KIND_UNSPECIFIED:
    case v1::EXECUTOR_KIND_THREADS:
      return ExecutorKind::kThreads;
    case v1::EXECUTOR_KIND_PROCESSES:
      return ExecutorKind::kProcesses;
    case v1::EXECUTOR_KIND_COMMAND:
      return ExecutorKind::kCommand;
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown executor ", static_cast<int>(executor),
                   "; use threads, processes or command"));
}

v1::Reduction ToProto(Reduction reduction) {
  switch (reduction) {
    case Reduction::kSum:
      return v1::REDUCTION_SUM;
    case Reduction::kMin:
      return v1::REDUCTION_MIN;
    case Reduction::kMax:
      return v1::REDUCTION_MAX;
    case Reduction::kCount:
      return v1::REDUCTION_COUNT;
    case Reduction::kCollect:
      return v1::REDUCTION_COLLECT;
  }
  return v1::REDUCTION_SUM;
}

absl::StatusOr<Reduction> FromProto(v1::Reduction reduction) {
  switch (reduction) {
    case v1::REDUCTION_UNSPECIFIED:
    case v1::REDUCTION_SUM:
      return Reduction::kSum;
    case v1::REDUCTION_MIN:
      return Reduction::kMin;
    case v1::REDUCTION_MAX:
      return Reduction::kMax;
    case v1::REDUCTION_COUNT:
      return Reduction::kCount;
    case v1::REDUCTION_COLLECT:
      return Reduction::kCollect;
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown reduction ", static_cast<int>(reduction),
                   "; use sum, min, max, count or collect"));
}

v1::JobState ToProto(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return v1::JOB_STATE_QUEUED;
    case JobState::kRunning:
      return v1::JOB_STATE_RUNNING;
    case JobState::kSucceeded:
      return v1::JOB_STATE_SUCCEEDED;
    case JobState::kFailed:
      return v1::JOB_STATE_FAILED;
    case JobState::kCancelled:
      return v1::JOB_STATE_CANCELLED;
  }
  return v1::JOB_STATE_QUEUED;
}

JobState FromProto(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_RUNNING:
      return JobState::kRunning;
    case v1::JOB_STATE_SUCCEEDED:
      return JobState::kSucceeded;
    case v1::JOB_STATE_FAILED:
      return JobState::kFailed;
    case v1::JOB_STATE_CANCELLED:
      return JobState::kCancelled;
    default:
      // A state this build does not know is shown as waiting: it is never
      // final, so nobody stops following the job because of it.
      return JobState::kQueued;
  }
}

void ToProto(const Value& value, v1::Value& out) {
  if (const auto* i = std::get_if<int64_t>(&value)) {
    out.set_int_value(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    out.set_float_value(*d);
  } else {
    const ExactSum::Parts parts = std::get<ExactSum>(value).ToParts();
    v1::ExactSum* sum = out.mutable_exact_sum();
    sum->set_negative(parts.negative);
    sum->set_offset(parts.offset);
    sum->mutable_limbs()->Add(parts.limbs.begin(), parts.limbs.end());
    sum->set_nan_count(parts.nan_count);
    sum->set_pos_inf_count(parts.pos_inf_count);
    sum->set_neg_inf_count(parts.neg_inf_count);
  }
}

v1::Value ToProto(const Value& value) {
  v1::Value out;
  ToProto(value, out);
  return out;
}

absl::StatusOr<Value> FromProto(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kIntValue:
      return value.int_value();
    case v1::Value::kFloatValue:
      return value.float_value();
    case v1::Value::kExactSum: {
      const v1::ExactSum& sum = value.exact_sum();
      ExactSum::Parts parts;
      parts.negative = sum.negative();
      parts.offset = sum.offset();
      parts.limbs.assign(sum.limbs().begin(), sum.limbs().end());
      parts.nan_count = sum.nan_count();
      parts.pos_inf_count = sum.pos_inf_count();
      parts.neg_inf_count = sum.neg_inf_count();
      absl::StatusOr<ExactSum> exact = ExactSum::FromParts(parts);
      if (!exact.ok()) return exact.status();
      return *std::move(exact);
    }
    case v1::Value::kChunks:
      return absl::InvalidArgumentError(
          "a chunk list is a job result, not a chunk value");
    case v1::Value::kTasks:
      return absl::InvalidArgumentError(
          "task results are a batch's value, not a single value");
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("value is empty");
}

v1::ParamValue ToProto(const ParamValue& value) {
  v1::ParamValue out;
  if (const auto* i = std::get_if<int64_t>(&value)) {
    out.set_int_value(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    out.set_float_value(*d);
  } else {
    out.set_string_value(std::get<std::string>(value));
  }
  return out;
}

absl::StatusOr<ParamValue> FromProto(const v1::ParamValue& value) {
  switch (value.kind_case()) {
    case v1::ParamValue::kIntValue:
      return value.int_value();
    case v1::ParamValue::kFloatValue:
      return value.float_value();
    case v1::ParamValue::kStringValue:
      return value.string_value();
    case v1::ParamValue::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("parameter value is empty");
}

google::protobuf::RepeatedPtrField<v1::ParamSpec> ToProto(
    const std::vector<ParamSpec>& specs) {
  google::protobuf::RepeatedPtrField<v1::ParamSpec> out;
  out.Reserve(static_cast<int>(specs.size()));
  for (const ParamSpec& spec : specs) {
    v1::ParamSpec* p = out.Add();
    p->set_name(spec.name);
    switch (spec.type) {
      case ParamType::kInt:
        p->set_type(v1::PARAM_TYPE_INT);
        break;
      case ParamType::kFloat:
        p->set_type(v1::PARAM_TYPE_FLOAT);
        break;
      case ParamType::kString:
        p->set_type(v1::PARAM_TYPE_STRING);
        break;
    }
    p->set_help(spec.help);
    if (spec.default_value) {
      *p->mutable_default_value() = ToProto(*spec.default_value);
    }
    if (spec.min) p->set_min(*spec.min);
    if (spec.max) p->set_max(*spec.max);
    p->mutable_choices()->Reserve(static_cast<int>(spec.choices.size()));
    for (const std::string& choice : spec.choices) p->add_choices(choice);
    p->set_expression_variable(spec.expression_variable);
  }
  return out;
}

absl::StatusOr<std::vector<ParamSpec>> FromProto(
    const google::protobuf::RepeatedPtrField<v1::ParamSpec>& specs) {
  std::vector<ParamSpec> out;
  out.reserve(static_cast<size_t>(specs.size()));
  for (const v1::ParamSpec& p : specs) {
    ParamSpec spec;
    spec.name = p.name();
    switch (p.type()) {
      case v1::PARAM_TYPE_INT:
        spec.type = ParamType::kInt;
        break;
      case v1::PARAM_TYPE_FLOAT:
        spec.type = ParamType::kFloat;
        break;
      case v1::PARAM_TYPE_STRING:
        spec.type = ParamType::kString;
        break;
      case v1::PARAM_TYPE_UNSPECIFIED:
        return absl::InvalidArgumentError(
            absl::StrCat("parameter ", p.name(), " has no type"));
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            "parameter ", p.name(), " has unknown type ",
            static_cast<int>(p.type()), "; use int, float or string"));
    }
    spec.help = p.help();
    if (p.has_default_value()) {
      absl::StatusOr<ParamValue> value = FromProto(p.default_value());
      if (!value.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "parameter ", p.name(), " has an empty default value"));
      }
      spec.default_value = *std::move(value);
    }
    if (p.has_min()) spec.min = p.min();
    if (p.has_max()) spec.max = p.max();
    spec.choices.assign(p.choices().begin(), p.choices().end());
    spec.expression_variable = p.expression_variable();
    out.push_back(std::move(spec));
  }
  return out;
}

absl::StatusOr<std::map<std::string, ParamValue>> FromProto(
    const google::protobuf::Map<std::string, v1::ParamValue>& params) {
  std::map<std::string, ParamValue> out;
  for (const auto& [name, value] : params) {
    absl::StatusOr<ParamValue> converted = FromProto(value);
    if (!converted.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter ", name, " has no value; pass ", name, "=VALUE"));
    }
    out.emplace(name, *std::move(converted));
  }
  return out;
}

void ToProto(const std::map<std::string, ParamValue>& params,
             google::protobuf::Map<std::string, v1::ParamValue>& out) {
  for (const auto& [name, value] : params) out[name] = ToProto(value);
}

namespace {

// The ranges google/protobuf/{duration,timestamp}.proto allow: about +-10,000
// years, and 0001-01-01 to 9999-12-31. Values past them (such as
// absl::InfiniteDuration()) are clamped to the nearest end.
constexpr int64_t kMaxDurationSeconds = 315'576'000'000;
constexpr int64_t kMinTimestampSeconds = -62'135'596'800;
constexpr int64_t kMaxTimestampSeconds = 253'402'300'799;

}  // namespace

google::protobuf::Duration ToProto(absl::Duration duration) {
  google::protobuf::Duration out;
  // The common case (every kernel time, timeout and interval) in one
  // division: an int64 nanosecond count holds +-292 years exactly.
  constexpr absl::Duration kNanosecondsHold = absl::Hours(24 * 365 * 290);
  if (duration > -kNanosecondsHold && duration < kNanosecondsHold) {
    const int64_t nanos = absl::ToInt64Nanoseconds(duration);
    out.set_seconds(nanos / 1'000'000'000);
    out.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
    return out;
  }
  duration = std::clamp(duration, -absl::Seconds(kMaxDurationSeconds),
                        absl::Seconds(kMaxDurationSeconds));
  // Whole seconds and the remainder, both truncated toward zero so that they
  // share a sign as google.protobuf.Duration requires; no int64 nanosecond
  // count, which would saturate past 292 years.
  absl::Duration remainder;
  const int64_t seconds =
      absl::IDivDuration(duration, absl::Seconds(1), &remainder);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::IDivDuration(remainder, absl::Nanoseconds(1), &remainder)));
  return out;
}

absl::Duration FromProto(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) +
         absl::Nanoseconds(duration.nanos());
}

google::protobuf::Timestamp ToProto(absl::Time time) {
  // google.protobuf.Timestamp wants nanos in [0, 1e9) even before 1970, so
  // the seconds round toward the past (ToUnixSeconds does).
  time = std::clamp(time, absl::FromUnixSeconds(kMinTimestampSeconds),
                    absl::FromUnixSeconds(kMaxTimestampSeconds) +
                        absl::Nanoseconds(999'999'999));
  const int64_t seconds = absl::ToUnixSeconds(time);
  absl::Duration remainder = time - absl::FromUnixSeconds(seconds);
  google::protobuf::Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::IDivDuration(remainder, absl::Nanoseconds(1), &remainder)));
  return out;
}

absl::Time FromProto(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) +
         absl::Nanoseconds(time.nanos());
}

}  // namespace pfor
