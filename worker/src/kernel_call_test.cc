#include "kernel_call.h"

#include <atomic>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::worker {
namespace {

using ::testing::HasSubstr;

// "scale": sum over the range of `factor` (an integer, required) times the
// index plus `offset` (a float, default 0), as a float when offset is set.
const KernelRegistry& Kernels() {
  static const KernelRegistry* const registry = [] {
    auto* registry = new KernelRegistry;
    ParamSpec factor{.name = "factor", .type = ParamType::kInt};
    ParamSpec offset{.name = "offset",
                     .type = ParamType::kFloat,
                     .default_value = ParamValue(0.0)};
    absl::Status added = registry->Add(
        {.name = "scale",
         .params = {factor, offset},
         .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
           IndexFold fold(chunk.reduction);
           const double offset = chunk.params->Float("offset");
           for (int64_t i = chunk.begin; i < chunk.end; ++i) {
             const int64_t value = chunk.params->Int("factor") * i;
             if (offset == 0) {
               fold.Add(value);
             } else {
               fold.Add(static_cast<double>(value) + offset);
             }
           }
           return fold.Finish();
         }});
    if (!added.ok()) std::abort();
    return registry;
  }();
  return *registry;
}

std::shared_ptr<const JobDefinition> Definition(
    std::map<std::string, ParamValue> params, bool batch) {
  auto definition = std::make_shared<JobDefinition>();
  definition->job = 9;
  definition->kernel = "scale";
  definition->params = Params(std::move(params));
  definition->range = {0, 100};
  definition->batch = batch;
  return definition;
}

ChunkTask Batch(std::shared_ptr<const JobContext> job, std::vector<Task> tasks,
                int64_t begin) {
  const auto count = static_cast<int64_t>(tasks.size());
  return {std::move(job),
          begin,
          begin + count,
          1,
          0,
          std::make_shared<const std::vector<Task>>(std::move(tasks)),
          0};
}

const std::vector<TaskResult>& Results(
    const absl::StatusOr<ChunkOutput>& output) {
  return std::get<std::vector<TaskResult>>(*output);
}

const std::atomic<bool> kRunning{false};

TEST(RunChunkTest, RunsAPlainChunkWithTheJobsParameters) {
  auto job = MakeJobContext(
      Definition({{"factor", int64_t{2}}, {"offset", 0.0}}, false), Kernels());
  absl::StatusOr<ChunkOutput> output = RunChunk({job, 10, 13, 1}, kRunning);
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(std::get<int64_t>(std::get<Value>(*output)), 2 * (10 + 11 + 12));
}

TEST(RunChunkTest, ChecksABatchsParametersOncePerJob) {
  auto job =
      MakeJobContext(Definition({{"factor", int64_t{3}}}, true), Kernels());
  ASSERT_TRUE(job->params.has_value());
  ASSERT_TRUE(job->params->ok()) << job->params->status();
  // Defaults filled in.
  EXPECT_EQ((*job->params)->Float("offset"), 0.0);
  absl::StatusOr<ChunkOutput> output =
      RunChunk(Batch(job, {{{0, 2}}, {{5, 6}}}, 4), kRunning);
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_EQ(Results(output).size(), 2u);
  EXPECT_EQ(std::get<int64_t>(*Results(output)[0]), 3);
  EXPECT_EQ(std::get<int64_t>(*Results(output)[1]), 15);
}

TEST(RunChunkTest, LaysATasksParametersOverTheJobsAndChecksThem) {
  // The job's parameters lack `factor`: every task brings its own.
  auto job = MakeJobContext(Definition({}, true), Kernels());
  ASSERT_FALSE(job->params->ok());
  absl::StatusOr<ChunkOutput> output =
      RunChunk(Batch(job,
                     {{{1, 3}, {{"factor", int64_t{10}}}},
                      {{1, 3}},
                      {{1, 3}, {{"factor", std::string("ten")}}}},
                     100),
               kRunning);
  ASSERT_TRUE(output.ok()) << output.status();
  const std::vector<TaskResult>& results = Results(output);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(*results[0]), 30);
  EXPECT_THAT(std::string(results[1].status().message()),
              HasSubstr("task 101 over [1, 3) failed (chunk of tasks [100, "
                        "103), attempt 1): "));
  EXPECT_THAT(std::string(results[1].status().message()), HasSubstr("factor"));
  // UNKNOWN, as the wire carries it; the message says what went wrong.
  EXPECT_EQ(results[2].status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(std::string(results[2].status().message()),
              HasSubstr("task 102 over [1, 3) failed"));
  EXPECT_THAT(std::string(results[2].status().message()), HasSubstr("ten"));
}

TEST(RunChunkTest, RoundsATasksFloatSumToADouble) {
  auto job = MakeJobContext(
      Definition({{"factor", int64_t{1}}, {"offset", 0.1}}, true), Kernels());
  absl::StatusOr<ChunkOutput> output =
      RunChunk(Batch(job, {{{0, 3}}}, 0), kRunning);
  ASSERT_TRUE(output.ok()) << output.status();
  const TaskResult& result = Results(output)[0];
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(std::holds_alternative<double>(*result));
  ExactSum exact;
  for (double x : {0.1, 1.1, 2.1}) exact.Add(x);
  EXPECT_EQ(std::get<double>(*result), exact.Round());
}

TEST(RunChunkTest, KeepsAPlainChunksExactSum) {
  auto job = MakeJobContext(
      Definition({{"factor", int64_t{1}}, {"offset", 0.1}}, false), Kernels());
  absl::StatusOr<ChunkOutput> output = RunChunk({job, 0, 3, 1}, kRunning);
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_TRUE(std::holds_alternative<ExactSum>(std::get<Value>(*output)));
}

TEST(RunChunkTest, FailsABatchChunkThatLacksItsTasks) {
  auto job =
      MakeJobContext(Definition({{"factor", int64_t{1}}}, true), Kernels());
  ChunkTask chunk = Batch(job, {{{0, 1}}}, 0);
  chunk.end = 3;
  EXPECT_EQ(RunChunk(chunk, kRunning).status().code(),
            absl::StatusCode::kInternal);
}

TEST(RunChunkTest, StopsABatchWhenCancelled) {
  auto job =
      MakeJobContext(Definition({{"factor", int64_t{1}}}, true), Kernels());
  const std::atomic<bool> cancelled{true};
  EXPECT_EQ(RunChunk(Batch(job, {{{0, 1}}}, 0), cancelled).status().code(),
            absl::StatusCode::kCancelled);
}

TEST(RunChunkTest, FillsInThisWorkersOwnDefaults) {
  // Another worker's declaration had no `offset`: the coordinator sent none.
  auto job =
      MakeJobContext(Definition({{"factor", int64_t{2}}}, false), Kernels());
  absl::StatusOr<ChunkOutput> output = RunChunk({job, 10, 13, 1}, kRunning);
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(std::get<int64_t>(std::get<Value>(*output)), 2 * (10 + 11 + 12));
}

TEST(RunChunkTest, FailsTheChunkWhenThisWorkersKernelRefusesTheParameters) {
  // Another worker's declaration had no required `factor`: nothing the kernel
  // reads is there. The chunk fails; the worker does not abort.
  auto job =
      MakeJobContext(Definition({{"speed", int64_t{1}}}, false), Kernels());
  absl::StatusOr<ChunkOutput> output = RunChunk({job, 0, 1, 1}, kRunning);
  EXPECT_EQ(output.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(output.status().message()),
              HasSubstr("this worker's kernel scale does not take the job's "
                        "parameters"));
}

TEST(RunChunkTest, TurnsAKernelReadingAnUndeclaredParameterIntoAFailedChunk) {
  KernelRegistry registry;
  ASSERT_TRUE(
      registry
          .Add({.name = "sloppy",
                .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
                  return Value(chunk.params->Int("n"));
                }})
          .ok());
  auto definition = std::make_shared<JobDefinition>();
  definition->job = 3;
  definition->kernel = "sloppy";
  definition->range = {0, 1};
  auto job = MakeJobContext(definition, registry);
  absl::StatusOr<ChunkOutput> output = RunChunk({job, 0, 1, 1}, kRunning);
  EXPECT_EQ(output.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(output.status().message()),
              HasSubstr("reads parameter n"));
}

TEST(RunChunkTest, SaysWhichKernelIsMissing) {
  auto definition = std::make_shared<JobDefinition>();
  definition->job = 1;
  definition->kernel = "nowhere";
  auto job = MakeJobContext(definition, Kernels());
  EXPECT_EQ(job->kernel, nullptr);
  absl::StatusOr<ChunkOutput> output = RunChunk({job, 0, 1, 1}, kRunning);
  EXPECT_EQ(output.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(output.status().message()),
              HasSubstr("no kernel named nowhere"));
}

}  // namespace
}  // namespace pfor::worker
