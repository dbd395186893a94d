#include "pfor/common/wire_job.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/wire.h"
#include "test_values.h"

namespace pfor {
namespace {

using ::pfor::test_values::Exact;
using ::pfor::test_values::kInf;
using ::pfor::test_values::kMax;
using ::pfor::test_values::kMin;
using ::testing::HasSubstr;

void ExpectSameTask(const Task& got, const Task& want) {
  EXPECT_EQ(got.range.begin, want.range.begin);
  EXPECT_EQ(got.range.end, want.range.end);
  EXPECT_EQ(got.params, want.params);
}

void ExpectSameSpec(const JobSpec& got, const JobSpec& want) {
  EXPECT_EQ(got.kernel, want.kernel);
  EXPECT_EQ(got.begin, want.begin);
  EXPECT_EQ(got.end, want.end);
  EXPECT_EQ(got.params, want.params);
  EXPECT_EQ(got.chunks.kind, want.chunks.kind);
  EXPECT_EQ(got.chunks.value, want.chunks.value);
  EXPECT_EQ(got.chunks.target, want.chunks.target);
  EXPECT_EQ(got.reduction, want.reduction);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.max_attempts, want.max_attempts);
  EXPECT_EQ(got.chunk_timeout, want.chunk_timeout);
  EXPECT_EQ(got.executor, want.executor);
  EXPECT_EQ(got.command.argv, want.command.argv);
  EXPECT_EQ(got.command.shell, want.command.shell);
  EXPECT_EQ(got.command.output, want.command.output);
  ASSERT_EQ(got.tasks.size(), want.tasks.size());
  for (size_t i = 0; i < want.tasks.size(); ++i) {
    ExpectSameTask(got.tasks[i], want.tasks[i]);
  }
  EXPECT_EQ(got.max_parallel, want.max_parallel);
  EXPECT_EQ(got.submitted_by, want.submitted_by);
}

JobSpec RoundTrip(const JobSpec& spec) {
  absl::StatusOr<JobSpec> back = FromProto(ToProto(spec));
  EXPECT_TRUE(back.ok()) << back.status();
  return back.ok() ? *std::move(back) : JobSpec{};
}

JobSpec FullSpec() {
  JobSpec spec;
  spec.kernel = "integrate";
  spec.begin = -5;
  spec.end = 1'000'000;
  spec.params = {{"f", std::string("cos")}, {"a", 0.0}, {"n", int64_t{3}}};
  spec.chunks = ChunkPolicy::Fixed(4096);
  spec.reduction = Reduction::kMax;
  spec.name = "a label";
  spec.max_attempts = 5;
  spec.chunk_timeout = absl::Milliseconds(2500);
  spec.executor = ExecutorKind::kProcesses;
  spec.max_parallel = 7;
  spec.submitted_by = "alice";
  return spec;
}

// --- Tasks and specs ---------------------------------------------------------

TEST(WireTaskTest, RoundTripsRangeAndParameters) {
  const Task task{{kMin, kMax}, {{"x", 1.5}, {"s", std::string("")}}};
  absl::StatusOr<Task> back = FromProto(ToProto(task));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameTask(*back, task);
}

TEST(WireTaskTest, RejectsAnEmptyParameterNamingIt) {
  v1::Task wire;
  (*wire.mutable_params())["depth"];
  absl::StatusOr<Task> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("depth"));
}

TEST(WireJobSpecTest, RoundTripsEveryField) {
  const JobSpec spec = FullSpec();
  ExpectSameSpec(RoundTrip(spec), spec);
}

TEST(WireJobSpecTest, RoundTripsEachChunkPolicy) {
  for (const ChunkPolicy& policy :
       {ChunkPolicy::Auto(), ChunkPolicy::Auto(absl::Microseconds(250)),
        ChunkPolicy::Auto(absl::ZeroDuration()), ChunkPolicy::Fixed(1),
        ChunkPolicy::Fixed(kMax), ChunkPolicy::Count(0),
        ChunkPolicy::Count(-2)}) {
    JobSpec spec;
    spec.chunks = policy;
    ExpectSameSpec(RoundTrip(spec), spec);
  }
}

TEST(WireJobSpecTest, RoundTripsExtremeRanges) {
  for (auto [begin, end] : {std::pair{kMin, kMax}, std::pair{kMax, kMin},
                            std::pair{int64_t{0}, int64_t{0}}}) {
    JobSpec spec;
    spec.begin = begin;
    spec.end = end;
    ExpectSameSpec(RoundTrip(spec), spec);
  }
}

TEST(WireJobSpecTest, RoundTripsACommandJob) {
  JobSpec spec;
  spec.executor = ExecutorKind::kCommand;
  spec.command.argv = {"./run.sh", "{begin}", "{end}", ""};
  spec.command.shell = true;
  spec.command.output = Command::Output::kJson;
  ExpectSameSpec(RoundTrip(spec), spec);
  EXPECT_EQ(ToProto(spec).command().output(), v1::CommandSpec::OUTPUT_JSON);
}

TEST(WireJobSpecTest, RoundTripsABatchOfManyTasks) {
  JobSpec spec;
  spec.kernel = "sleep";
  for (int64_t i = 0; i < 5000; ++i) {
    spec.tasks.push_back(Task{{i, i + 10}, {}});
    if (i % 7 == 0) spec.tasks.back().params["us"] = i;
  }
  spec.end = static_cast<int64_t>(spec.tasks.size());
  ExpectSameSpec(RoundTrip(spec), spec);
}

TEST(WireJobSpecTest, RoundTripsHugeParameters) {
  JobSpec spec;
  spec.params["expression"] = std::string(4 << 20, '1');
  for (int i = 0; i < 1000; ++i) spec.params[absl::StrCat("p", i)] = 1.0 / i;
  ExpectSameSpec(RoundTrip(spec), spec);
}

TEST(WireJobSpecTest, InfiniteTimeoutTravelsAsUnset) {
  JobSpec spec;
  ASSERT_EQ(spec.chunk_timeout, absl::InfiniteDuration());
  const v1::JobSpec wire = ToProto(spec);
  EXPECT_FALSE(wire.retry().has_chunk_timeout());
  ExpectSameSpec(RoundTrip(spec), spec);
}

TEST(WireJobSpecTest, DecodesTheDefaultsOfAnEmptySpec) {
  absl::StatusOr<JobSpec> spec = FromProto(v1::JobSpec());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->executor, ExecutorKind::kThreads);
  EXPECT_EQ(spec->reduction, Reduction::kSum);
  EXPECT_EQ(spec->chunks.kind, ChunkPolicy::Kind::kAuto);
  EXPECT_EQ(spec->chunks.target, absl::Milliseconds(100));
  EXPECT_EQ(spec->chunk_timeout, absl::InfiniteDuration());
  EXPECT_EQ(spec->max_attempts, 0);
  EXPECT_EQ(spec->command.output, Command::Output::kAuto);
  EXPECT_TRUE(spec->tasks.empty());

  // An auto policy without a target aims for 100 ms too.
  v1::JobSpec wire;
  wire.mutable_chunking()->mutable_auto_size();
  absl::StatusOr<JobSpec> auto_spec = FromProto(wire);
  ASSERT_TRUE(auto_spec.ok()) << auto_spec.status();
  EXPECT_EQ(auto_spec->chunks.target, absl::Milliseconds(100));
}

TEST(WireJobSpecTest, RejectsAnUnknownExecutor) {
  v1::JobSpec wire;
  wire.set_executor(static_cast<v1::ExecutorKind>(7));
  absl::StatusOr<JobSpec> spec = FromProto(wire);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(),
            "job spec: unknown executor 7; use threads, processes or command");
}

TEST(WireJobSpecTest, RejectsAnUnknownReduction) {
  v1::JobSpec wire;
  wire.set_reduction(static_cast<v1::Reduction>(6));
  absl::StatusOr<JobSpec> spec = FromProto(wire);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("job spec: unknown reduction 6"));
}

TEST(WireJobSpecTest, RejectsAnUnknownCommandOutput) {
  v1::JobSpec wire;
  wire.mutable_command()->set_output(static_cast<v1::CommandSpec::Output>(4));
  absl::StatusOr<JobSpec> spec = FromProto(wire);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("job spec: unknown command output 4"));
}

TEST(WireJobSpecTest, RejectsAnEmptyParameterNamingIt) {
  v1::JobSpec wire;
  (*wire.mutable_params())["points"];
  absl::StatusOr<JobSpec> spec = FromProto(wire);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("job spec: parameter points has no value"));
}

TEST(WireJobSpecTest, RejectsAMalformedTaskNamingIt) {
  v1::JobSpec wire;
  wire.add_tasks();
  (*wire.add_tasks()->mutable_params())["us"];
  absl::StatusOr<JobSpec> spec = FromProto(wire);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("job spec: task 1: parameter us"));
}

// --- Progress and task results ---------------------------------------------

TEST(WireJobProgressTest, RoundTripsEveryField) {
  const JobProgress progress{kMax, 2, 3, 4, 5, 6, 12345.5};
  const JobProgress back = FromProto(ToProto(progress));
  EXPECT_EQ(back.indices_total, kMax);
  EXPECT_EQ(back.indices_done, 2);
  EXPECT_EQ(back.chunks_done, 3);
  EXPECT_EQ(back.chunks_in_flight, 4);
  EXPECT_EQ(back.attempts_failed, 5);
  EXPECT_EQ(back.chunks_requeued, 6);
  EXPECT_EQ(back.rate, 12345.5);
}

TEST(WireTaskResultTest, RoundTripsValuesAndErrors) {
  const v1::TaskResult good = ToProto(41, TaskResult(Value{int64_t{-7}}));
  EXPECT_EQ(good.index(), 41);
  EXPECT_EQ(FromProto(good), TaskResult(Value{int64_t{-7}}));

  const v1::TaskResult bad =
      ToProto(3, TaskResult(absl::InternalError("kernel threw: boom")));
  EXPECT_EQ(bad.error(), "kernel threw: boom");
  const TaskResult back = FromProto(bad);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(back.status().message(), "kernel threw: boom");
}

TEST(WireTaskResultTest, AnErrorWithoutTextStillReadsAsAnError) {
  const v1::TaskResult wire =
      ToProto(0, TaskResult(absl::Status(absl::StatusCode::kCancelled, "")));
  EXPECT_FALSE(wire.error().empty());
  EXPECT_FALSE(FromProto(wire).ok());
}

TEST(WireTaskResultTest, RoundsExactSumsForClients) {
  const v1::TaskResult wire = ToProto(0, TaskResult(Value{Exact({0.1, 0.2})}));
  ASSERT_TRUE(wire.value().has_float_value());
  EXPECT_EQ(wire.value().float_value(), Exact({0.1, 0.2}).Round());
}

TEST(WireTaskResultTest, AMalformedValueFailsOnlyThatTask) {
  v1::TaskResult wire;
  wire.set_index(9);
  const TaskResult back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("task 9"));
}

// --- Jobs --------------------------------------------------------------------

JobStatus RoundTrip(const JobStatus& status) {
  absl::StatusOr<JobStatus> back = FromProto(ToProto(status));
  EXPECT_TRUE(back.ok()) << back.status();
  return back.ok() ? *std::move(back) : JobStatus{};
}

TEST(WireJobTest, RoundTripsEveryField) {
  JobStatus status;
  status.id = std::numeric_limits<uint64_t>::max();
  status.spec = std::make_shared<const JobSpec>(FullSpec());
  status.state = JobState::kSucceeded;
  status.progress = {100, 100, 10, 0, 2, 1, 0};
  status.value = Value{int64_t{kMin}};
  status.error = "";
  status.waiting_reason = "waiting for a free slot";
  status.submit_time = absl::FromUnixNanos(1'700'000'000'123'456'789);
  status.start_time = status.submit_time + absl::Seconds(1);
  status.end_time = status.start_time + absl::Nanoseconds(1);
  status.recent_chunks = {
      {0, 10, 1, "host-1", absl::Milliseconds(12), ""},
      {10, 20, 3, "host-2", absl::InfiniteDuration(), "kernel threw"}};

  const JobStatus back = RoundTrip(status);
  EXPECT_EQ(back.id, status.id);
  ASSERT_NE(back.spec, nullptr);
  ExpectSameSpec(*back.spec, *status.spec);
  EXPECT_EQ(back.state, JobState::kSucceeded);
  EXPECT_EQ(back.progress.indices_total, 100);
  EXPECT_EQ(back.progress.attempts_failed, 2);
  EXPECT_EQ(back.value, status.value);
  EXPECT_TRUE(back.chunk_values.empty());
  EXPECT_TRUE(back.task_results.empty());
  EXPECT_EQ(back.waiting_reason, status.waiting_reason);
  EXPECT_EQ(back.submit_time, status.submit_time);
  EXPECT_EQ(back.start_time, status.start_time);
  EXPECT_EQ(back.end_time, status.end_time);
  ASSERT_EQ(back.recent_chunks.size(), 2u);
  EXPECT_EQ(back.recent_chunks[0].worker, "host-1");
  EXPECT_EQ(back.recent_chunks[0].kernel_time, absl::Milliseconds(12));
  EXPECT_EQ(back.recent_chunks[1].begin, 10);
  EXPECT_EQ(back.recent_chunks[1].end, 20);
  EXPECT_EQ(back.recent_chunks[1].attempt, 3);
  EXPECT_EQ(back.recent_chunks[1].error, "kernel threw");
  // Clamped to the longest duration the wire holds.
  EXPECT_GT(back.recent_chunks[1].kernel_time, absl::Hours(24 * 365 * 9999));
}

TEST(WireJobTest, LeavesOutANullSpecAndUnsetTimes) {
  JobStatus status;
  status.id = 4;
  status.state = JobState::kFailed;
  status.error = "chunk [0, 10) failed 3 times: boom";
  const v1::Job wire = ToProto(status);
  EXPECT_FALSE(wire.has_spec());
  EXPECT_FALSE(wire.has_submit_time());
  EXPECT_FALSE(wire.has_start_time());
  EXPECT_FALSE(wire.has_end_time());
  EXPECT_FALSE(wire.has_result());
  const JobStatus back = RoundTrip(status);
  EXPECT_EQ(back.spec, nullptr);
  EXPECT_EQ(back.state, JobState::kFailed);
  EXPECT_EQ(back.error, status.error);
  EXPECT_EQ(back.submit_time, absl::InfinitePast());
  EXPECT_EQ(back.end_time, absl::InfinitePast());
  EXPECT_FALSE(back.value.has_value());
}

TEST(WireJobTest, RoundsFloatSumsForClients) {
  JobStatus status;
  status.state = JobState::kSucceeded;
  status.value = Exact({0.1, 0.2, 0.3});
  const v1::Job wire = ToProto(status);
  ASSERT_TRUE(wire.result().has_float_value());
  const JobStatus back = RoundTrip(status);
  ASSERT_TRUE(back.value.has_value());
  ASSERT_TRUE(std::holds_alternative<double>(*back.value));
  EXPECT_EQ(std::get<double>(*back.value), Exact({0.1, 0.2, 0.3}).Round());
}

TEST(WireJobTest, RoundTripsNonFiniteResultsBitForBit) {
  for (double d : {kInf, -kInf, std::numeric_limits<double>::quiet_NaN()}) {
    JobStatus status;
    status.state = JobState::kSucceeded;
    status.value = Exact({1.0, d});
    const JobStatus back = RoundTrip(status);
    ASSERT_TRUE(back.value.has_value());
    const double got = std::get<double>(*back.value);
    EXPECT_EQ(std::bit_cast<uint64_t>(got),
              std::bit_cast<uint64_t>(Exact({1.0, d}).Round()));
  }
}

TEST(WireJobTest, RoundTripsCollectedChunkValues) {
  JobStatus status;
  status.state = JobState::kSucceeded;
  status.chunk_values = {{0, 5, Value{int64_t{3}}},
                         {5, 9, Value{Exact({0.5, 0.25})}},
                         {9, 10, Value{-0.0}}};
  const JobStatus back = RoundTrip(status);
  ASSERT_EQ(back.chunk_values.size(), 3u);
  EXPECT_EQ(back.chunk_values[0].value, Value{int64_t{3}});
  EXPECT_EQ(back.chunk_values[1].begin, 5);
  EXPECT_EQ(back.chunk_values[1].end, 9);
  EXPECT_EQ(back.chunk_values[1].value, Value{0.75});
  EXPECT_TRUE(std::signbit(std::get<double>(back.chunk_values[2].value)));
}

TEST(WireJobTest, AnEmptyCollectOrBatchResultIsStillAList) {
  JobSpec collect;
  collect.reduction = Reduction::kCollect;
  JobStatus status;
  status.state = JobState::kSucceeded;
  status.spec = std::make_shared<const JobSpec>(collect);
  EXPECT_TRUE(ToProto(status).result().has_chunks());

  JobSpec batch;
  batch.tasks = {Task{}};
  status.spec = std::make_shared<const JobSpec>(batch);
  EXPECT_TRUE(ToProto(status).result().has_tasks());

  status.state = JobState::kRunning;
  EXPECT_FALSE(ToProto(status).has_result());
}

TEST(WireJobTest, RoundTripsTaskResultsWithErrors) {
  JobStatus status;
  status.state = JobState::kSucceeded;
  status.task_results = {TaskResult(Value{int64_t{1}}),
                         TaskResult(absl::UnknownError("task 1 failed: no")),
                         TaskResult(Value{2.5})};
  const v1::Job wire = ToProto(status);
  ASSERT_EQ(wire.result().tasks().results_size(), 3);
  EXPECT_EQ(wire.result().tasks().results(2).index(), 2);
  const JobStatus back = RoundTrip(status);
  EXPECT_EQ(back.task_results, status.task_results);
}

TEST(WireJobTest, RejectsAMalformedResultNamingTheJob) {
  v1::Job wire;
  wire.set_id(42);
  wire.mutable_result()->mutable_exact_sum()->set_offset(-1);
  absl::StatusOr<JobStatus> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("job 42: result: exact sum offset -1"));
}

TEST(WireJobTest, RejectsAMalformedChunkValue) {
  v1::Job wire;
  wire.set_id(42);
  v1::ChunkValue* chunk = wire.mutable_result()->mutable_chunks()->add_values();
  chunk->set_begin(3);
  chunk->set_end(4);
  absl::StatusOr<JobStatus> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("job 42: chunk [3, 4)"));
}

TEST(WireJobTest, RejectsTaskResultsOutOfOrder) {
  v1::Job wire;
  wire.set_id(42);
  wire.mutable_result()->mutable_tasks()->add_results()->set_index(1);
  wire.mutable_result()->mutable_tasks()->add_results()->set_index(3);
  absl::StatusOr<JobStatus> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WireJobTest, ReadsAPageOfTaskResultsFromItsFirstTask) {
  JobStatus page;
  page.id = 42;
  page.state = JobState::kSucceeded;
  page.task_count = 10;
  page.first_task = 5;
  page.task_results = {Value(int64_t{5}), absl::UnknownError("six")};
  const v1::Job wire = ToProto(page);
  EXPECT_EQ(wire.result().tasks().results(0).index(), 5);
  absl::StatusOr<JobStatus> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->first_task, 5);
  EXPECT_EQ(back->task_count, 10);
  ASSERT_EQ(back->task_results.size(), 2u);
  EXPECT_EQ(back->task_results[1].status().message(), "six");
}

TEST(WireJobTest, RejectsABadSpecNamingTheJob) {
  v1::Job wire;
  wire.set_id(42);
  wire.mutable_spec()->set_executor(static_cast<v1::ExecutorKind>(9));
  absl::StatusOr<JobStatus> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("job 42: job spec: unknown executor 9"));
}

// --- Events ------------------------------------------------------------------

TEST(WireJobEventTest, RoundTripsStateProgressStatusAndTaskRuns) {
  JobEvent event;
  event.job = 12;
  event.state = JobState::kRunning;
  event.progress.indices_done = 77;
  auto status = std::make_shared<JobStatus>();
  status->id = 12;
  status->state = JobState::kRunning;
  event.status = status;
  event.tasks = {
      TaskRun{4, std::make_shared<const std::vector<TaskResult>>(
                     std::vector<TaskResult>{
                         Value{int64_t{4}}, absl::UnknownError("task 5: no")})},
      TaskRun{10, std::make_shared<const std::vector<TaskResult>>(
                      std::vector<TaskResult>{Value{Exact({1.0, 1e-20})}})},
      TaskRun{11, nullptr}};

  const v1::JobEvent wire = ToProto(event);
  ASSERT_EQ(wire.tasks_size(), 3);
  EXPECT_EQ(wire.tasks(0).index(), 4);
  EXPECT_EQ(wire.tasks(1).index(), 5);
  EXPECT_EQ(wire.tasks(2).index(), 10);
  // Clients see doubles.
  EXPECT_TRUE(wire.tasks(2).value().has_float_value());

  absl::StatusOr<JobEvent> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->job, 12u);
  EXPECT_EQ(back->state, JobState::kRunning);
  EXPECT_EQ(back->progress.indices_done, 77);
  ASSERT_NE(back->status, nullptr);
  EXPECT_EQ(back->status->id, 12u);
  EXPECT_FALSE(back->missing);
  ASSERT_EQ(back->tasks.size(), 2u);
  EXPECT_EQ(back->tasks[0].first_task, 4);
  EXPECT_EQ(*back->tasks[0].results, (*event.tasks[0].results));
  EXPECT_EQ(back->tasks[1].first_task, 10);
  ASSERT_EQ(back->tasks[1].results->size(), 1u);
  EXPECT_EQ((*back->tasks[1].results)[0], TaskResult(Value{1.0}));
}

TEST(WireJobEventTest, RoundTripsAMissingJob) {
  JobEvent event;
  event.job = 99;
  event.missing = true;
  absl::StatusOr<JobEvent> back = FromProto(ToProto(event));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->missing);
  EXPECT_EQ(back->status, nullptr);
  EXPECT_TRUE(back->tasks.empty());
}

TEST(WireJobEventTest, RejectsANegativeTaskNumber) {
  v1::JobEvent wire;
  wire.set_job_id(3);
  wire.add_tasks()->set_index(-1);
  absl::StatusOr<JobEvent> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("job 3"));
}

TEST(WireJobEventTest, RejectsAMalformedStatus) {
  v1::JobEvent wire;
  wire.set_job_id(3);
  wire.mutable_job()->set_id(3);
  wire.mutable_job()->mutable_spec()->set_reduction(
      static_cast<v1::Reduction>(17));
  EXPECT_EQ(FromProto(wire).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Kernels and workers -----------------------------------------------------

TEST(WireKernelInfoTest, RoundTripsEveryField) {
  KernelInfo kernel;
  kernel.name = "integrate";
  kernel.help = "integrates f over [a, b]";
  kernel.params = {ParamSpec{.name = "a", .type = ParamType::kFloat}};
  kernel.executors = {ExecutorKind::kThreads, ExecutorKind::kProcesses};
  absl::StatusOr<KernelInfo> back = FromProto(ToProto(kernel));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->name, kernel.name);
  EXPECT_EQ(back->help, kernel.help);
  ASSERT_EQ(back->params.size(), 1u);
  EXPECT_EQ(back->params[0].name, "a");
  EXPECT_EQ(back->executors, kernel.executors);
}

TEST(WireKernelInfoTest, SkipsUnknownExecutorsAndReadsUnspecifiedAsThreads) {
  v1::KernelInfo wire;
  wire.set_name("k");
  wire.add_executors(static_cast<v1::ExecutorKind>(12));
  wire.add_executors(v1::EXECUTOR_KIND_UNSPECIFIED);
  wire.add_executors(v1::EXECUTOR_KIND_THREADS);
  wire.add_executors(v1::EXECUTOR_KIND_COMMAND);
  absl::StatusOr<KernelInfo> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->executors,
            (std::vector<ExecutorKind>{ExecutorKind::kThreads,
                                       ExecutorKind::kCommand}));
}

TEST(WireKernelInfoTest, RejectsAMalformedParameterListNamingTheKernel) {
  v1::KernelInfo wire;
  wire.set_name("integrate");
  wire.add_params()->set_name("a");
  absl::StatusOr<KernelInfo> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("kernel integrate has a malformed parameter list: "
                        "parameter a has no type"));
}

TEST(WireWorkerInfoTest, RoundTripsEveryField) {
  WorkerStatus worker;
  worker.id = 8;
  worker.name = "host-12";
  worker.peer = "ipv4:127.0.0.1:5000";
  worker.slots = {4, 0, 2};
  worker.chunks_in_flight = 3;
  worker.chunks_done = kMax;
  worker.connected_time = absl::FromUnixSeconds(1'700'000'000);
  worker.since_last_message = absl::Milliseconds(40);
  worker.kernels = {"integrate", "sleep"};
  worker.draining = true;
  worker.credits = 5;
  const v1::WorkerInfo wire = ToProto(worker);
  EXPECT_EQ(wire.slots(), 6);
  EXPECT_EQ(wire.executors_size(), 2);
  const WorkerStatus back = FromProto(wire);
  EXPECT_EQ(back.id, worker.id);
  EXPECT_EQ(back.name, worker.name);
  EXPECT_EQ(back.peer, worker.peer);
  EXPECT_EQ(back.slots, worker.slots);
  EXPECT_EQ(back.chunks_in_flight, 3);
  EXPECT_EQ(back.chunks_done, kMax);
  EXPECT_EQ(back.connected_time, worker.connected_time);
  EXPECT_EQ(back.since_last_message, worker.since_last_message);
  EXPECT_EQ(back.kernels, worker.kernels);
  EXPECT_TRUE(back.draining);
  EXPECT_EQ(back.credits, 5);
}

}  // namespace
}  // namespace pfor
