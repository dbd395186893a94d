#include "job_result.h"

#include "gtest/gtest.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

TEST(JobResultTest, SumsFloatsExactlyWhateverTheOrder) {
  JobResult forward(Reduction::kSum);
  JobResult backward(Reduction::kSum);
  const std::vector<double> terms = {1e16, 1.0, -1e16, 3.5, 1e-300};
  for (size_t i = 0; i < terms.size(); ++i) {
    ExactSum sum;
    sum.Add(terms[i]);
    ASSERT_TRUE(forward
                    .Add(static_cast<int64_t>(i), static_cast<int64_t>(i) + 1,
                         ToProto(Value(sum)))
                    .ok());
  }
  for (size_t i = terms.size(); i-- > 0;) {
    ExactSum sum;
    sum.Add(terms[i]);
    ASSERT_TRUE(backward
                    .Add(static_cast<int64_t>(i), static_cast<int64_t>(i) + 1,
                         ToProto(Value(sum)))
                    .ok());
  }
  EXPECT_EQ(forward.ToProto().float_value(), 4.5);
  EXPECT_EQ(backward.ToProto().float_value(), 4.5);
}

TEST(JobResultTest, ReportsIntegerOverflow) {
  JobResult result(Reduction::kSum);
  ASSERT_TRUE(result.Add(0, 1, ToProto(Value(INT64_MAX))).ok());
  EXPECT_EQ(result.Add(1, 2, ToProto(Value(int64_t{1}))).code(),
            absl::StatusCode::kOutOfRange);
}

TEST(JobResultTest, KeepsMinimumAndMaximum) {
  JobResult min(Reduction::kMin);
  JobResult max(Reduction::kMax);
  for (int64_t v : {5, -3, 9}) {
    ASSERT_TRUE(min.Add(v, v + 1, ToProto(Value(v))).ok());
    ASSERT_TRUE(max.Add(v, v + 1, ToProto(Value(v))).ok());
  }
  EXPECT_EQ(min.ToProto().int_value(), -3);
  EXPECT_EQ(max.ToProto().int_value(), 9);
}

TEST(JobResultTest, CollectOrdersByChunkBegin) {
  JobResult result(Reduction::kCollect);
  ASSERT_TRUE(result.Add(10, 20, ToProto(Value(int64_t{2}))).ok());
  ASSERT_TRUE(result.Add(0, 10, ToProto(Value(int64_t{1}))).ok());
  const v1::Value value = result.ToProto();
  ASSERT_EQ(value.chunks().values_size(), 2);
  EXPECT_EQ(value.chunks().values(0).begin(), 0);
  EXPECT_EQ(value.chunks().values(0).value().int_value(), 1);
  EXPECT_EQ(value.chunks().values(1).end(), 20);
}

TEST(JobResultTest, BatchKeepsTaskResultsByIndex) {
  JobResult result(Reduction::kSum, 3);
  v1::Value tail;
  for (int64_t task : {1, 2}) {
    v1::TaskResult* r = tail.mutable_tasks()->add_results();
    r->set_index(task);
    ExactSum sum;
    sum.Add(0.1 * static_cast<double>(task));
    *r->mutable_value() = ToProto(Value(sum));
  }
  ASSERT_TRUE(result.Add(1, 3, tail).ok());
  v1::Value head;
  head.mutable_tasks()->add_results()->set_error("boom");
  ASSERT_TRUE(result.Add(0, 1, head).ok());
  const v1::Value out = result.ToProto();
  ASSERT_EQ(out.tasks().results_size(), 3);
  EXPECT_EQ(out.tasks().results(0).error(), "boom");
  // Exact sums reach clients rounded.
  EXPECT_EQ(out.tasks().results(1).value().float_value(), 0.1);
  EXPECT_EQ(out.tasks().results(2).value().float_value(), 0.2);
}

TEST(JobResultTest, BatchRejectsResultsOfOtherTasks) {
  JobResult result(Reduction::kSum, 3);
  v1::Value shifted;
  shifted.mutable_tasks()->add_results()->set_index(2);
  EXPECT_EQ(result.Add(1, 2, shifted).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.Add(1, 2, ToProto(Value(int64_t{1}))).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pfor::coordinator
