#include "job_result.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

ChunkOutput Exact(double term) {
  ExactSum sum;
  sum.Add(term);
  return Value(sum);
}

ChunkOutput Int(int64_t value) { return Value(value); }

TEST(JobResultTest, SumsFloatsExactlyWhateverTheOrder) {
  JobResult forward(Reduction::kSum);
  JobResult backward(Reduction::kSum);
  const std::vector<double> terms = {1e16, 1.0, -1e16, 3.5, 1e-300};
  for (size_t i = 0; i < terms.size(); ++i) {
    ASSERT_TRUE(forward
                    .Add(static_cast<int64_t>(i), static_cast<int64_t>(i) + 1,
                         Exact(terms[i]))
                    .ok());
  }
  for (size_t i = terms.size(); i-- > 0;) {
    ASSERT_TRUE(backward
                    .Add(static_cast<int64_t>(i), static_cast<int64_t>(i) + 1,
                         Exact(terms[i]))
                    .ok());
  }
  // Clients see the exact sum rounded once, as a double.
  ASSERT_TRUE(forward.value().has_value());
  ASSERT_TRUE(std::holds_alternative<double>(*forward.value()));
  EXPECT_EQ(std::get<double>(*forward.value()), 4.5);
  EXPECT_EQ(std::get<double>(*backward.value()), 4.5);
}

TEST(JobResultTest, SumsMixedIntegersAndFloatsExactly) {
  JobResult result(Reduction::kSum);
  ASSERT_TRUE(result.Add(0, 1, Int(int64_t{1} << 53)).ok());
  ASSERT_TRUE(result.Add(1, 2, Exact(1.0)).ok());
  ASSERT_TRUE(result.Add(2, 3, Int(1)).ok());
  ASSERT_TRUE(result.Add(3, 4, Value(0.5)).ok());
  // Exactly 2^53 + 2.5, rounded once: 2^53 + 2 (a double sum would have
  // lost the 1 and the 1.0 to rounding on the way).
  EXPECT_EQ(std::get<double>(*result.value()), 9007199254740994.0);
}

TEST(JobResultTest, ReportsIntegerOverflow) {
  JobResult result(Reduction::kSum);
  ASSERT_TRUE(result.Add(0, 1, Int(INT64_MAX)).ok());
  EXPECT_EQ(result.Add(1, 2, Int(1)).code(), absl::StatusCode::kOutOfRange);
}

TEST(JobResultTest, KeepsMinimumAndMaximum) {
  JobResult min(Reduction::kMin);
  JobResult max(Reduction::kMax);
  for (int64_t v : {5, -3, 9}) {
    ASSERT_TRUE(min.Add(v, v + 1, Int(v)).ok());
    ASSERT_TRUE(max.Add(v, v + 1, Int(v)).ok());
  }
  EXPECT_EQ(std::get<int64_t>(*min.value()), -3);
  EXPECT_EQ(std::get<int64_t>(*max.value()), 9);
}

TEST(JobResultTest, HasNoValueBeforeTheFirstChunk) {
  EXPECT_FALSE(JobResult(Reduction::kSum).value().has_value());
}

TEST(JobResultTest, CollectOrdersByChunkBegin) {
  JobResult result(Reduction::kCollect);
  ASSERT_TRUE(result.Add(10, 20, Int(2)).ok());
  ASSERT_TRUE(result.Add(0, 10, Int(1)).ok());
  const std::vector<ChunkValue> values = result.chunk_values();
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].begin, 0);
  EXPECT_EQ(std::get<int64_t>(values[0].value), 1);
  EXPECT_EQ(values[1].end, 20);
  EXPECT_FALSE(result.value().has_value());
}

TEST(JobResultTest, CollectRoundsExactSums) {
  JobResult result(Reduction::kCollect);
  ASSERT_TRUE(result.Add(0, 10, Exact(0.25)).ok());
  const std::vector<ChunkValue> values = result.chunk_values();
  ASSERT_EQ(values.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<double>(values[0].value));
  EXPECT_EQ(std::get<double>(values[0].value), 0.25);
}

std::vector<TaskResult> TaskValues(std::vector<double> values) {
  std::vector<TaskResult> out;
  for (double value : values) {
    ExactSum sum;
    sum.Add(value);
    out.emplace_back(Value(sum));
  }
  return out;
}

TEST(JobResultTest, BatchKeepsTaskResultsByIndex) {
  JobResult result(Reduction::kSum, 3);
  ASSERT_TRUE(result.Add(1, 3, TaskValues({0.1, 0.2})).ok());
  ASSERT_TRUE(
      result.Add(0, 1, std::vector<TaskResult>{absl::UnknownError("boom")})
          .ok());
  const std::vector<TaskResult> out = result.task_results();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].status().message(), "boom");
  // Exact sums reach clients rounded.
  ASSERT_TRUE(out[1].ok());
  EXPECT_EQ(std::get<double>(*out[1]), 0.1);
  EXPECT_EQ(std::get<double>(*out[2]), 0.2);
}

TEST(JobResultTest, BatchRejectsResultsOfOtherTasks) {
  JobResult result(Reduction::kSum, 3);
  // Two results for one task.
  EXPECT_EQ(result.Add(1, 2, TaskValues({1, 2})).code(),
            absl::StatusCode::kInvalidArgument);
  // A plain value where task results belong.
  EXPECT_EQ(result.Add(1, 2, Int(1)).code(),
            absl::StatusCode::kInvalidArgument);
  // Tasks the job does not have.
  EXPECT_EQ(result.Add(3, 4, TaskValues({1})).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(JobResultTest, PlainJobRejectsTaskResults) {
  JobResult result(Reduction::kSum);
  EXPECT_EQ(result.Add(0, 1, TaskValues({1})).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(JobResultTest, BatchSharesTaskResultsWithoutExactSums) {
  JobResult result(Reduction::kSum, 2);
  auto output = std::make_shared<const ChunkOutput>(
      std::vector<TaskResult>{Value(int64_t{7}), Value(int64_t{8})});
  absl::StatusOr<TaskRun> run = result.AddShared(0, 2, output);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->first_task, 0);
  // The run is the output's own vector: nothing was copied.
  EXPECT_EQ(run->results.get(), &std::get<1>(*output));
  ASSERT_EQ(result.task_runs().size(), 1u);
  EXPECT_EQ(result.task_runs()[0].results.get(), run->results.get());
}

TEST(JobResultTest, BatchRoundsExactSumsOnceForItsRuns) {
  JobResult result(Reduction::kSum, 2);
  auto output = std::make_shared<const ChunkOutput>(TaskValues({0.5, 1.5}));
  absl::StatusOr<TaskRun> run = result.AddShared(0, 2, output);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->results->size(), 2u);
  EXPECT_EQ(std::get<double>(*(*run->results)[0]), 0.5);
  EXPECT_EQ(std::get<double>(*(*run->results)[1]), 1.5);
}

}  // namespace
}  // namespace pfor::coordinator
