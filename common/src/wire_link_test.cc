#include "pfor/common/wire_link.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "pfor/common/wire.h"
#include "pfor/common/wire_job.h"
#include "test_values.h"

namespace pfor {
namespace {

using ::pfor::test_values::Exact;
using ::pfor::test_values::kInf;
using ::pfor::test_values::kMax;
using ::pfor::test_values::kMin;
using ::testing::HasSubstr;

// --- Attempts and outputs ----------------------------------------------------

TEST(WireAttemptRefTest, RoundTrips) {
  for (const AttemptRef& ref :
       {AttemptRef{}, AttemptRef{7, -3, 2},
        AttemptRef{std::numeric_limits<uint64_t>::max(), kMin,
                   std::numeric_limits<int32_t>::max()}}) {
    EXPECT_EQ(FromProto(ToProto(ref)), ref);
  }
}

TEST(WireChunkOutputTest, RoundTripsValuesKeepingExactSumsExact) {
  for (const Value& value : {Value{int64_t{kMin}}, Value{kMax}, Value{-kInf},
                             Value{Exact({0.1, 0.2, -1e300, 1e300})},
                             Value{ExactSum()}, Value{Exact({kInf, 1.0})}}) {
    const v1::Value wire = ToProto(ChunkOutput(value), 0);
    absl::StatusOr<ChunkOutput> back = ChunkOutputFromProto(wire, 0);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_TRUE(std::holds_alternative<Value>(*back));
    EXPECT_EQ(std::get<Value>(*back), value);
  }
}

TEST(WireChunkOutputTest, RoundTripsTaskResultsNumberedFromTheFirstTask) {
  const std::vector<TaskResult> results = {
      Value{int64_t{1}}, absl::UnknownError("task 101 over [0, 5) failed"),
      Value{Exact({0.1, 0.7})}, absl::UnknownError("")};
  const v1::Value wire = ToProto(ChunkOutput(results), 100);
  ASSERT_TRUE(wire.has_tasks());
  ASSERT_EQ(wire.tasks().results_size(), 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(wire.tasks().results(i).index(), 100 + i);
  // Exact, for the coordinator to combine.
  EXPECT_TRUE(wire.tasks().results(2).value().has_exact_sum());
  // An error always has text, or it would read as success.
  EXPECT_FALSE(wire.tasks().results(3).error().empty());

  absl::StatusOr<ChunkOutput> back = ChunkOutputFromProto(wire, 100);
  ASSERT_TRUE(back.ok()) << back.status();
  const auto& got = std::get<std::vector<TaskResult>>(*back);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], results[0]);
  EXPECT_EQ(got[1], results[1]);
  EXPECT_EQ(got[2], results[2]);
  EXPECT_FALSE(got[3].ok());
}

TEST(WireChunkOutputTest, RoundTripsAnEmptyBatchOutput) {
  const v1::Value wire = ToProto(ChunkOutput(std::vector<TaskResult>{}), 3);
  EXPECT_TRUE(wire.has_tasks());
  absl::StatusOr<ChunkOutput> back = ChunkOutputFromProto(wire, 3);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(std::get<std::vector<TaskResult>>(*back).empty());
}

TEST(WireChunkOutputTest, RejectsMisnumberedTaskResults) {
  const v1::Value wire =
      ToProto(ChunkOutput(std::vector<TaskResult>{Value{1.0}}), 5);
  absl::StatusOr<ChunkOutput> back = ChunkOutputFromProto(wire, 6);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("numbered 5, expected 6"));
}

TEST(WireChunkOutputTest, RejectsATaskWithNeitherValueNorError) {
  v1::Value wire;
  wire.mutable_tasks()->add_results()->set_index(0);
  absl::StatusOr<ChunkOutput> back = ChunkOutputFromProto(wire, 0);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("task 0"));
}

TEST(WireChunkOutputTest, RejectsMalformedValues) {
  v1::Value empty;
  EXPECT_EQ(ChunkOutputFromProto(empty, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Value chunks;
  chunks.mutable_chunks();
  EXPECT_EQ(ChunkOutputFromProto(chunks, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Value task;
  v1::TaskResult* result = task.mutable_tasks()->add_results();
  result->mutable_value()->mutable_exact_sum()->add_limbs(-1);
  absl::StatusOr<ChunkOutput> back = ChunkOutputFromProto(task, 0);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("task 0"));
}

// --- Job definitions ---------------------------------------------------------

TEST(WireJobDefinitionTest, RoundTripsEveryField) {
  JobDefinition definition;
  definition.job = 31;
  definition.kernel = "integrate";
  definition.params = Params({{"f", std::string("x^2")}, {"a", -1.0}});
  definition.reduction = Reduction::kCollect;
  definition.executor = ExecutorKind::kCommand;
  definition.range = {kMin, kMax};
  definition.command.argv = {"sh", "-c", "echo {begin}"};
  definition.command.output = Command::Output::kFloat;
  definition.chunk_timeout = absl::Seconds(30);
  definition.batch = true;
  absl::StatusOr<JobDefinition> back = FromProto(ToProto(definition));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->job, 31u);
  EXPECT_EQ(back->kernel, "integrate");
  EXPECT_EQ(back->params.values(), definition.params.values());
  EXPECT_EQ(back->reduction, Reduction::kCollect);
  EXPECT_EQ(back->executor, ExecutorKind::kCommand);
  EXPECT_EQ(back->range.begin, kMin);
  EXPECT_EQ(back->range.end, kMax);
  EXPECT_EQ(back->command.argv, definition.command.argv);
  EXPECT_EQ(back->command.output, Command::Output::kFloat);
  EXPECT_EQ(back->chunk_timeout, absl::Seconds(30));
  EXPECT_TRUE(back->batch);
}

TEST(WireJobDefinitionTest, NoTimeoutTravelsAsUnset) {
  JobDefinition definition;
  const v1::JobDefinition wire = ToProto(definition);
  EXPECT_FALSE(wire.has_chunk_timeout());
  EXPECT_FALSE(wire.has_command());
  absl::StatusOr<JobDefinition> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->chunk_timeout, absl::InfiniteDuration());
  EXPECT_EQ(back->executor, ExecutorKind::kThreads);
  EXPECT_FALSE(back->batch);
}

TEST(WireJobDefinitionTest, RejectsUnknownNumbersNamingTheJob) {
  v1::JobDefinition wire;
  wire.set_job_id(31);
  wire.set_executor(static_cast<v1::ExecutorKind>(7));
  absl::StatusOr<JobDefinition> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.status().message(),
            "definition of job 31: unknown executor 7; use threads, "
            "processes or command");
  wire.set_executor(v1::EXECUTOR_KIND_THREADS);
  (*wire.mutable_params())["n"];
  EXPECT_THAT(std::string(FromProto(wire).status().message()),
              HasSubstr("definition of job 31: parameter n"));
}

// --- Worker messages ---------------------------------------------------------

WorkerMessage FullWorkerMessage() {
  WorkerMessage message;
  Hello hello;
  hello.name = "host-42";
  hello.slots = {2, 1, 0};
  hello.version = "0.1.0";
  KernelInfo kernel;
  kernel.name = "sleep";
  kernel.params = {ParamSpec{.name = "us",
                             .type = ParamType::kInt,
                             .default_value = ParamValue{int64_t{0}},
                             .min = 0}};
  kernel.executors = {ExecutorKind::kThreads, ExecutorKind::kProcesses};
  hello.kernels = {kernel};
  message.hello = hello;
  message.credits = {3, 0, 1};
  message.results.push_back(ChunkResult{AttemptRef{1, 0, 1},
                                        ChunkOutput(Value{int64_t{10}}),
                                        absl::Microseconds(5)});
  message.results.push_back(
      ChunkResult{AttemptRef{2, 100, 2},
                  ChunkOutput(std::vector<TaskResult>{
                      Value{Exact({0.5})}, absl::UnknownError("task 101: no")}),
                  absl::Milliseconds(1)});
  message.results.push_back(ChunkResult{AttemptRef{3, 7, 3},
                                        absl::InternalError("kernel threw: x"),
                                        absl::ZeroDuration()});
  message.released = {AttemptRef{4, 0, 1}, AttemptRef{4, 10, 2}};
  message.draining = true;
  return message;
}

TEST(WireWorkerMessageTest, RoundTripsEveryField) {
  const WorkerMessage message = FullWorkerMessage();
  absl::StatusOr<WorkerMessage> back = FromProto(ToProto(message));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->hello.has_value());
  EXPECT_EQ(back->hello->name, "host-42");
  EXPECT_EQ(back->hello->slots, message.hello->slots);
  EXPECT_EQ(back->hello->version, "0.1.0");
  ASSERT_EQ(back->hello->kernels.size(), 1u);
  EXPECT_EQ(back->hello->kernels[0].name, "sleep");
  EXPECT_EQ(back->hello->kernels[0].executors,
            message.hello->kernels[0].executors);
  ASSERT_EQ(back->hello->kernels[0].params.size(), 1u);
  EXPECT_EQ(back->hello->kernels[0].params[0].min, 0);
  EXPECT_EQ(back->credits, message.credits);
  ASSERT_EQ(back->results.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back->results[i].attempt, message.results[i].attempt);
    EXPECT_EQ(back->results[i].kernel_time, message.results[i].kernel_time);
  }
  ASSERT_TRUE(back->results[0].output.ok());
  EXPECT_EQ(std::get<Value>(*back->results[0].output), Value{int64_t{10}});
  ASSERT_TRUE(back->results[1].output.ok()) << back->results[1].output.status();
  const auto& tasks =
      std::get<std::vector<TaskResult>>(*back->results[1].output);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0], TaskResult(Value{Exact({0.5})}));
  EXPECT_EQ(tasks[1], TaskResult(absl::UnknownError("task 101: no")));
  ASSERT_FALSE(back->results[2].output.ok());
  EXPECT_EQ(back->results[2].output.status().message(), "kernel threw: x");
  EXPECT_EQ(back->released, message.released);
  EXPECT_TRUE(back->draining);
}

TEST(WireWorkerMessageTest, RoundTripsAnEmptyMessage) {
  const v1::WorkerMessage wire = ToProto(WorkerMessage{});
  EXPECT_EQ(wire.ByteSizeLong(), 0u);
  absl::StatusOr<WorkerMessage> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->empty());
}

TEST(WireWorkerMessageTest, AMalformedValueFailsOnlyItsAttempt) {
  v1::WorkerMessage wire = ToProto(FullWorkerMessage());
  wire.mutable_results(0)->mutable_value()->mutable_exact_sum()->set_offset(
      1000);
  absl::StatusOr<WorkerMessage> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->results.size(), 3u);
  EXPECT_EQ(back->results[0].attempt, (AttemptRef{1, 0, 1}));
  ASSERT_FALSE(back->results[0].output.ok());
  EXPECT_THAT(std::string(back->results[0].output.status().message()),
              HasSubstr("worker sent a malformed value: exact sum offset"));
  EXPECT_TRUE(back->results[1].output.ok());

  // An empty value, and a batch result numbered from elsewhere, too.
  wire.mutable_results(0)->clear_value();
  wire.mutable_results(1)
      ->mutable_value()
      ->mutable_tasks()
      ->mutable_results(0)
      ->set_index(5);
  back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->results[0].output.ok());
  EXPECT_FALSE(back->results[1].output.ok());
  EXPECT_THAT(std::string(back->results[1].output.status().message()),
              HasSubstr("worker sent a malformed value"));
}

TEST(WireWorkerMessageTest, AHelloWithAMalformedKernelFailsNamingIt) {
  v1::WorkerMessage wire = ToProto(FullWorkerMessage());
  wire.mutable_hello()->mutable_kernels(0)->mutable_params(0)->set_type(
      v1::PARAM_TYPE_UNSPECIFIED);
  absl::StatusOr<WorkerMessage> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("kernel sleep has a malformed parameter list"));
}

TEST(WireWorkerMessageTest, CreditsOfOneExecutorAddUpAndUnknownOnesAreIgnored) {
  v1::WorkerMessage wire;
  auto credit = [&](int kind, int32_t slots) {
    v1::ExecutorSlots* entry = wire.add_credits();
    entry->set_kind(static_cast<v1::ExecutorKind>(kind));
    entry->set_slots(slots);
  };
  credit(v1::EXECUTOR_KIND_THREADS, 2);
  credit(v1::EXECUTOR_KIND_UNSPECIFIED, 3);
  credit(v1::EXECUTOR_KIND_COMMAND, std::numeric_limits<int32_t>::max());
  credit(v1::EXECUTOR_KIND_COMMAND, 5);
  credit(42, 1000);
  absl::StatusOr<WorkerMessage> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->credits[static_cast<int>(ExecutorKind::kThreads)], 5);
  EXPECT_EQ(back->credits[static_cast<int>(ExecutorKind::kProcesses)], 0);
  // Saturates instead of overflowing.
  EXPECT_EQ(back->credits[static_cast<int>(ExecutorKind::kCommand)],
            std::numeric_limits<int32_t>::max());
}

// --- Coordinator messages ----------------------------------------------------

TEST(WireCoordinatorMessageTest, RoundTripsEveryField) {
  auto spec_tasks = std::make_shared<std::vector<Task>>();
  for (int64_t i = 0; i < 10; ++i) {
    spec_tasks->push_back(Task{{i * 100, i * 100 + 50}, {{"i", i}}});
  }
  auto definition = std::make_shared<JobDefinition>();
  definition->job = 5;
  definition->kernel = "sleep";
  definition->batch = true;
  definition->range = {0, 10};

  CoordinatorMessage message;
  message.welcome = Welcome{17, absl::Seconds(2)};
  message.jobs = {definition};
  ChunkAssignment batch;
  batch.attempt = {5, 3, 1};
  batch.end = 6;
  batch.index = 1;
  batch.tasks = spec_tasks;
  batch.first_task = 3;
  ChunkAssignment plain;
  plain.attempt = {6, kMin, 2};
  plain.end = kMax;
  plain.index = 0;
  message.chunks = {batch, plain};
  message.ended_jobs = {1, 2, std::numeric_limits<uint64_t>::max()};
  message.cancelled = {AttemptRef{6, 0, 1}};

  const v1::CoordinatorMessage wire = ToProto(message);
  ASSERT_EQ(wire.chunks_size(), 2);
  EXPECT_EQ(wire.chunks(0).tasks_size(), 3);
  EXPECT_EQ(wire.chunks(1).tasks_size(), 0);

  absl::StatusOr<CoordinatorMessage> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->welcome.has_value());
  EXPECT_EQ(back->welcome->worker_id, 17u);
  EXPECT_EQ(back->welcome->heartbeat_interval, absl::Seconds(2));
  ASSERT_EQ(back->jobs.size(), 1u);
  EXPECT_EQ(back->jobs[0]->job, 5u);
  EXPECT_EQ(back->jobs[0]->kernel, "sleep");
  EXPECT_TRUE(back->jobs[0]->batch);
  ASSERT_EQ(back->chunks.size(), 2u);
  const ChunkAssignment& got = back->chunks[0];
  EXPECT_EQ(got.attempt, batch.attempt);
  EXPECT_EQ(got.end, 6);
  EXPECT_EQ(got.index, 1);
  ASSERT_NE(got.tasks, nullptr);
  EXPECT_EQ(got.first_task, 0u);
  ASSERT_EQ(got.tasks->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*got.tasks)[i].range.begin, (*spec_tasks)[3 + i].range.begin);
    EXPECT_EQ((*got.tasks)[i].range.end, (*spec_tasks)[3 + i].range.end);
    EXPECT_EQ((*got.tasks)[i].params, (*spec_tasks)[3 + i].params);
  }
  EXPECT_EQ(back->chunks[1].attempt, plain.attempt);
  EXPECT_EQ(back->chunks[1].end, kMax);
  EXPECT_EQ(back->chunks[1].tasks, nullptr);
  EXPECT_EQ(back->ended_jobs, message.ended_jobs);
  EXPECT_EQ(back->cancelled, message.cancelled);
}

TEST(WireCoordinatorMessageTest, SendsOnlyTheTasksThereAre) {
  ChunkAssignment chunk;
  chunk.attempt = {1, 8, 1};
  chunk.end = 12;
  chunk.tasks = std::make_shared<std::vector<Task>>(10);
  chunk.first_task = 8;
  CoordinatorMessage message;
  message.chunks = {chunk};
  EXPECT_EQ(ToProto(message).chunks(0).tasks_size(), 2);
}

TEST(WireCoordinatorMessageTest, RejectsAMalformedDefinition) {
  v1::CoordinatorMessage wire;
  wire.add_jobs()->set_job_id(4);
  wire.add_jobs()->set_reduction(static_cast<v1::Reduction>(30));
  absl::StatusOr<CoordinatorMessage> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("unknown reduction 30"));
}

TEST(WireCoordinatorMessageTest, RejectsAMalformedTaskNamingChunkAndTask) {
  v1::CoordinatorMessage wire;
  v1::ChunkAssignment* chunk = wire.add_chunks();
  chunk->mutable_chunk()->set_job_id(4);
  chunk->mutable_chunk()->set_begin(20);
  chunk->set_end(22);
  chunk->add_tasks();
  (*chunk->add_tasks()->mutable_params())["us"];
  absl::StatusOr<CoordinatorMessage> back = FromProto(wire);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()),
              HasSubstr("chunk [20, 22) of job 4: task 21: parameter us"));
}

// Damaged bytes decode to an error or to something, never to a crash (the
// sanitizer build checks for the undefined).
TEST(WireLinkFuzzTest, DamagedMessagesNeverCrashTheDecoders) {
  CoordinatorMessage coordinator;
  coordinator.welcome = Welcome{1, absl::Seconds(1)};
  auto definition = std::make_shared<JobDefinition>();
  definition->params = Params({{"a", 1.0}, {"f", std::string("cos")}});
  coordinator.jobs = {definition};
  ChunkAssignment chunk;
  chunk.attempt = {1, 0, 1};
  chunk.end = 2;
  chunk.tasks = std::make_shared<std::vector<Task>>(
      std::vector<Task>{Task{{0, 1}, {{"x", int64_t{1}}}}, Task{{1, 2}, {}}});
  coordinator.chunks = {chunk};
  const std::string coordinator_bytes =
      ToProto(coordinator).SerializeAsString();
  const std::string worker_bytes =
      ToProto(FullWorkerMessage()).SerializeAsString();

  // Damaged strings are not UTF-8; protobuf would log each.
  google::protobuf::LogSilencer quiet;
  std::mt19937_64 random(12345);
  int parsed = 0;
  for (int round = 0; round < 4000; ++round) {
    const std::string& original =
        round % 2 == 0 ? coordinator_bytes : worker_bytes;
    std::string bytes = original;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) {
      bytes[random() % bytes.size()] = static_cast<char>(random());
    }
    if (round % 2 == 0) {
      v1::CoordinatorMessage wire;
      if (!wire.ParseFromString(bytes)) continue;
      ++parsed;
      (void)FromProto(wire);
    } else {
      v1::WorkerMessage wire;
      if (!wire.ParseFromString(bytes)) continue;
      ++parsed;
      absl::StatusOr<WorkerMessage> message = FromProto(wire);
      if (message.ok()) (void)ToProto(*message);
    }
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace pfor
