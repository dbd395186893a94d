#include "pfor/common/wire.h"

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_values.h"

namespace pfor {
namespace {

using ::pfor::test_values::Exact;
using ::pfor::test_values::kInf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Value RoundTrip(const Value& value) {
  absl::StatusOr<Value> back = FromProto(ToProto(value));
  EXPECT_TRUE(back.ok()) << back.status();
  return back.ok() ? *back : Value{int64_t{-424242}};
}

TEST(WireExecutorTest, RoundTripsAndUnspecifiedMeansThreads) {
  for (ExecutorKind e : {ExecutorKind::kThreads, ExecutorKind::kProcesses,
                         ExecutorKind::kCommand}) {
    absl::StatusOr<ExecutorKind> back = FromProto(ToProto(e));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, e);
  }
  EXPECT_EQ(ToProto(ExecutorKind::kThreads), v1::EXECUTOR_KIND_THREADS);
  EXPECT_EQ(ToProto(ExecutorKind::kProcesses), v1::EXECUTOR_KIND_PROCESSES);
  EXPECT_EQ(ToProto(ExecutorKind::kCommand), v1::EXECUTOR_KIND_COMMAND);
  absl::StatusOr<ExecutorKind> unspecified =
      FromProto(v1::EXECUTOR_KIND_UNSPECIFIED);
  ASSERT_TRUE(unspecified.ok());
  EXPECT_EQ(*unspecified, ExecutorKind::kThreads);
}

TEST(WireExecutorTest, RejectsAnUnknownNumberNamingTheChoices) {
  absl::StatusOr<ExecutorKind> back =
      FromProto(static_cast<v1::ExecutorKind>(7));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.status().message(),
            "unknown executor 7; use threads, processes or command");
}

TEST(WireReductionTest, RoundTripsAndUnspecifiedMeansSum) {
  for (Reduction r : {Reduction::kSum, Reduction::kMin, Reduction::kMax,
                      Reduction::kCount, Reduction::kCollect}) {
    absl::StatusOr<Reduction> back = FromProto(ToProto(r));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, r);
  }
  EXPECT_EQ(ToProto(Reduction::kMax), v1::REDUCTION_MAX);
  absl::StatusOr<Reduction> unspecified = FromProto(v1::REDUCTION_UNSPECIFIED);
  ASSERT_TRUE(unspecified.ok());
  EXPECT_EQ(*unspecified, Reduction::kSum);
}

TEST(WireReductionTest, RejectsAnUnknownNumberNamingTheChoices) {
  absl::StatusOr<Reduction> back = FromProto(static_cast<v1::Reduction>(-3));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.status().message(),
            "unknown reduction -3; use sum, min, max, count or collect");
}

TEST(WireJobStateTest, RoundTripsAndUnknownMeansQueued) {
  for (JobState s :
       {JobState::kQueued, JobState::kRunning, JobState::kSucceeded,
        JobState::kFailed, JobState::kCancelled}) {
    EXPECT_EQ(FromProto(ToProto(s)), s) << JobStateName(s);
  }
  EXPECT_EQ(ToProto(JobState::kCancelled), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(FromProto(v1::JOB_STATE_UNSPECIFIED), JobState::kQueued);
  EXPECT_EQ(FromProto(static_cast<v1::JobState>(99)), JobState::kQueued);
}

TEST(WireValueTest, RoundTripsIntegers) {
  for (int64_t i : {int64_t{0}, int64_t{-1}, int64_t{42},
                    std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    const Value back = RoundTrip(i);
    ASSERT_TRUE(std::holds_alternative<int64_t>(back));
    EXPECT_EQ(std::get<int64_t>(back), i);
  }
  EXPECT_EQ(ToProto(Value{int64_t{7}}).int_value(), 7);
}

TEST(WireValueTest, RoundTripsFloatsBitForBit) {
  for (double d : {0.0, -0.0, 0.1, -1e-310, DBL_MAX, kInf, -kInf,
                   std::numeric_limits<double>::quiet_NaN()}) {
    const Value back = RoundTrip(d);
    ASSERT_TRUE(std::holds_alternative<double>(back));
    EXPECT_EQ(std::bit_cast<uint64_t>(std::get<double>(back)),
              std::bit_cast<uint64_t>(d));
  }
}

TEST(WireValueTest, RoundTripsExactSums) {
  const std::vector<ExactSum> sums = {
      ExactSum(),
      Exact({0.1, 0.2}),
      Exact({-1.0, 1e-300}),
      Exact({DBL_MAX, DBL_MAX, DBL_MAX}),
      Exact({-5e-324}),
      Exact({1.0, kInf, -kInf, std::nan("")}),
  };
  for (const ExactSum& sum : sums) {
    const Value back = RoundTrip(sum);
    ASSERT_TRUE(std::holds_alternative<ExactSum>(back));
    EXPECT_TRUE(std::get<ExactSum>(back) == sum);
  }
  const v1::Value wire = ToProto(Exact({-1.0}));
  ASSERT_TRUE(wire.has_exact_sum());
  EXPECT_TRUE(wire.exact_sum().negative());
  EXPECT_EQ(wire.exact_sum().offset(), 33);
  EXPECT_THAT(wire.exact_sum().limbs(), ElementsAre(int64_t{1} << 18));
  const v1::Value counts = ToProto(Exact({kInf, kInf, -kInf, std::nan("")}));
  EXPECT_EQ(counts.exact_sum().pos_inf_count(), 2);
  EXPECT_EQ(counts.exact_sum().neg_inf_count(), 1);
  EXPECT_EQ(counts.exact_sum().nan_count(), 1);
}

TEST(WireValueTest, RejectsEmptyAndChunkListValues) {
  absl::StatusOr<Value> empty = FromProto(v1::Value());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("empty"));

  v1::Value chunks;
  chunks.mutable_chunks()->add_values()->set_begin(0);
  absl::StatusOr<Value> list = FromProto(chunks);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);

  v1::Value tasks;
  tasks.mutable_tasks()->add_results()->set_index(0);
  absl::StatusOr<Value> batch = FromProto(tasks);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WireValueTest, RejectsMalformedExactSums) {
  v1::Value value;
  value.mutable_exact_sum()->set_offset(500);
  EXPECT_EQ(FromProto(value).status().code(),
            absl::StatusCode::kInvalidArgument);
  value.mutable_exact_sum()->set_offset(0);
  value.mutable_exact_sum()->add_limbs(-3);
  EXPECT_EQ(FromProto(value).status().code(),
            absl::StatusCode::kInvalidArgument);
  value.mutable_exact_sum()->clear_limbs();
  value.mutable_exact_sum()->add_limbs(int64_t{1} << 32);
  EXPECT_EQ(FromProto(value).status().code(),
            absl::StatusCode::kInvalidArgument);
  value.mutable_exact_sum()->clear_limbs();
  value.mutable_exact_sum()->set_nan_count(-1);
  EXPECT_EQ(FromProto(value).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WireParamValueTest, RoundTripsEachType) {
  for (const ParamValue& value :
       {ParamValue{int64_t{-9}}, ParamValue{2.5}, ParamValue{std::string("")},
        ParamValue{std::string("4/(1+x^2)")}}) {
    absl::StatusOr<ParamValue> back = FromProto(ToProto(value));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, value);
  }
  // An empty string is still a string, not an empty value.
  EXPECT_TRUE(ToProto(ParamValue{std::string("")}).has_string_value());
}

TEST(WireParamValueTest, RejectsAnEmptyValue) {
  absl::StatusOr<ParamValue> back = FromProto(v1::ParamValue());
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WireParamsTest, RoundTripsAParameterMap) {
  const std::map<std::string, ParamValue> params = {
      {"a", 0.0}, {"n", int64_t{1000}}, {"f", std::string("cos")}};
  google::protobuf::Map<std::string, v1::ParamValue> wire;
  ToProto(params, wire);
  EXPECT_EQ(wire.size(), 3u);
  absl::StatusOr<std::map<std::string, ParamValue>> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, params);
}

TEST(WireParamsTest, RoundTripsEmptyAndHugeMaps) {
  google::protobuf::Map<std::string, v1::ParamValue> empty_wire;
  ToProto({}, empty_wire);
  EXPECT_TRUE(empty_wire.empty());
  absl::StatusOr<std::map<std::string, ParamValue>> empty =
      FromProto(empty_wire);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());

  std::map<std::string, ParamValue> huge;
  for (int i = 0; i < 10000; ++i) {
    huge.emplace(absl::StrCat("p", i),
                 i % 3 == 0   ? ParamValue{int64_t{i}}
                 : i % 3 == 1 ? ParamValue{i * 0.5}
                              : ParamValue{std::string(i % 1000, 'x')});
  }
  huge.emplace("long", std::string(1 << 20, 'y'));
  google::protobuf::Map<std::string, v1::ParamValue> wire;
  ToProto(huge, wire);
  absl::StatusOr<std::map<std::string, ParamValue>> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, huge);
}

TEST(WireParamsTest, EmptyValueErrorNamesTheParameter) {
  google::protobuf::Map<std::string, v1::ParamValue> wire;
  wire["points"];
  absl::StatusOr<std::map<std::string, ParamValue>> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("points"));
}

TEST(WireParamSpecTest, RoundTripsEveryField) {
  ParamSpec full;
  full.name = "f";
  full.type = ParamType::kString;
  full.help = "the integrand";
  full.default_value = std::string("cos");
  full.choices = {"cos", "sin"};
  full.expression_variable = "x";
  ParamSpec bounded;
  bounded.name = "n";
  bounded.type = ParamType::kInt;
  bounded.default_value = int64_t{10};
  bounded.min = 0;  // zero must survive as a bound, not as "unset"
  bounded.max = 1e12;
  ParamSpec required;
  required.name = "a";
  required.type = ParamType::kFloat;

  const std::vector<ParamSpec> specs = {full, bounded, required};
  absl::StatusOr<std::vector<ParamSpec>> back = FromProto(ToProto(specs));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 3u);
  for (size_t i = 0; i < specs.size(); ++i) {
    const ParamSpec& want = specs[i];
    const ParamSpec& got = (*back)[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.help, want.help);
    EXPECT_EQ(got.default_value, want.default_value) << want.name;
    EXPECT_EQ(got.min, want.min) << want.name;
    EXPECT_EQ(got.max, want.max) << want.name;
    EXPECT_EQ(got.choices, want.choices);
    EXPECT_EQ(got.expression_variable, want.expression_variable);
  }
  EXPECT_FALSE((*back)[2].default_value.has_value());
  EXPECT_FALSE((*back)[2].min.has_value());
}

TEST(WireParamSpecTest, RejectsASpecWithoutType) {
  google::protobuf::RepeatedPtrField<v1::ParamSpec> wire;
  wire.Add()->set_name("n");
  absl::StatusOr<std::vector<ParamSpec>> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("n"));
}

TEST(WireParamSpecTest, RejectsAnUnknownTypeNamingTheParameter) {
  google::protobuf::RepeatedPtrField<v1::ParamSpec> wire;
  v1::ParamSpec* spec = wire.Add();
  spec->set_name("points");
  spec->set_type(static_cast<v1::ParamType>(9));
  absl::StatusOr<std::vector<ParamSpec>> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.status().message(),
            "parameter points has unknown type 9; use int, float or string");
}

TEST(WireParamSpecTest, RoundTripsAnEmptyList) {
  absl::StatusOr<std::vector<ParamSpec>> back =
      FromProto(ToProto(std::vector<ParamSpec>{}));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->empty());
}

TEST(WireParamSpecTest, RejectsAnEmptyDefault) {
  google::protobuf::RepeatedPtrField<v1::ParamSpec> wire;
  v1::ParamSpec* spec = wire.Add();
  spec->set_name("n");
  spec->set_type(v1::PARAM_TYPE_INT);
  spec->mutable_default_value();
  absl::StatusOr<std::vector<ParamSpec>> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("parameter n has an empty default"));
}

TEST(WireDurationTest, RoundTrips) {
  for (absl::Duration d :
       {absl::ZeroDuration(), absl::Milliseconds(100), absl::Seconds(3),
        absl::Nanoseconds(1), -absl::Nanoseconds(1), -absl::Milliseconds(1500),
        absl::Hours(24 * 365 * 1000) + absl::Nanoseconds(7)}) {
    EXPECT_EQ(FromProto(ToProto(d)), d) << d;
  }
}

TEST(WireDurationTest, SecondsAndNanosShareTheSign) {
  const google::protobuf::Duration positive = ToProto(absl::Milliseconds(1500));
  EXPECT_EQ(positive.seconds(), 1);
  EXPECT_EQ(positive.nanos(), 500000000);
  const google::protobuf::Duration negative =
      ToProto(-absl::Milliseconds(1500));
  EXPECT_EQ(negative.seconds(), -1);
  EXPECT_EQ(negative.nanos(), -500000000);
}

TEST(WireDurationTest, ClampsInfiniteDurations) {
  const google::protobuf::Duration forever = ToProto(absl::InfiniteDuration());
  EXPECT_EQ(forever.seconds(), 315576000000);
  EXPECT_EQ(forever.nanos(), 0);
  const google::protobuf::Duration never = ToProto(-absl::InfiniteDuration());
  EXPECT_EQ(never.seconds(), -315576000000);
  EXPECT_EQ(never.nanos(), 0);
}

TEST(WireTimestampTest, RoundTrips) {
  for (absl::Time t :
       {absl::UnixEpoch(), absl::FromUnixNanos(1700000000123456789),
        absl::FromUnixNanos(-1), absl::FromUnixMillis(-1500),
        absl::FromCivil(absl::CivilSecond(2500, 1, 1, 0, 0, 0),
                        absl::UTCTimeZone()) +
            absl::Nanoseconds(3),
        absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0),
                        absl::UTCTimeZone())}) {
    EXPECT_EQ(FromProto(ToProto(t)), t) << t;
  }
}

TEST(WireTimestampTest, NanosAreNonNegativeBeforeTheEpoch) {
  const google::protobuf::Timestamp t = ToProto(absl::FromUnixMillis(-1500));
  EXPECT_EQ(t.seconds(), -2);
  EXPECT_EQ(t.nanos(), 500000000);
  const google::protobuf::Timestamp u = ToProto(absl::FromUnixNanos(-1));
  EXPECT_EQ(u.seconds(), -1);
  EXPECT_EQ(u.nanos(), 999999999);
}

TEST(WireTimestampTest, ClampsInfiniteTimes) {
  const google::protobuf::Timestamp future = ToProto(absl::InfiniteFuture());
  EXPECT_EQ(future.seconds(), 253402300799);
  EXPECT_EQ(future.nanos(), 999999999);
  const google::protobuf::Timestamp past = ToProto(absl::InfinitePast());
  EXPECT_EQ(past.seconds(), -62135596800);
  EXPECT_EQ(past.nanos(), 0);
}

}  // namespace
}  // namespace pfor
