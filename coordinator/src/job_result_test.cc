#include "job_result.h"

#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

TEST(JobResultTest, SumsFloatsExactlyWhateverTheOrder) {
  JobResult forward(Reduction::kSum);
  JobResult backward(Reduction::kSum);
  const std::vector<double> terms = {1e16, 1.0, -1e16, 3.5, 1e-300};
  for (size_t i = 0; i < terms.size(); ++i) {
    ExactSum sum;
    sum.Add(terms[i]);
    ASSERT_TRUE(
        forward.Add(static_cast<int64_t>(i), static_cast<int64_t>(i) + 1, sum)
            .ok());
  }
  for (size_t i = terms.size(); i-- > 0;) {
    ExactSum sum;
    sum.Add(terms[i]);
    ASSERT_TRUE(
        backward.Add(static_cast<int64_t>(i), static_cast<int64_t>(i) + 1, sum)
            .ok());
  }
  EXPECT_EQ(forward.ToProto().float_value(), 4.5);
  EXPECT_EQ(backward.ToProto().float_value(), 4.5);
}

TEST(JobResultTest, ReportsIntegerOverflow) {
  JobResult result(Reduction::kSum);
  ASSERT_TRUE(result.Add(0, 1, Value(INT64_MAX)).ok());
  EXPECT_EQ(result.Add(1, 2, Value(int64_t{1})).code(),
            absl::StatusCode::kOutOfRange);
}

TEST(JobResultTest, KeepsMinimumAndMaximum) {
  JobResult min(Reduction::kMin);
  JobResult max(Reduction::kMax);
  for (int64_t v : {5, -3, 9}) {
    ASSERT_TRUE(min.Add(v, v + 1, Value(v)).ok());
    ASSERT_TRUE(max.Add(v, v + 1, Value(v)).ok());
  }
  EXPECT_EQ(min.ToProto().int_value(), -3);
  EXPECT_EQ(max.ToProto().int_value(), 9);
}

TEST(JobResultTest, CollectOrdersByChunkBegin) {
  JobResult result(Reduction::kCollect);
  ASSERT_TRUE(result.Add(10, 20, Value(int64_t{2})).ok());
  ASSERT_TRUE(result.Add(0, 10, Value(int64_t{1})).ok());
  const v1::Value value = result.ToProto();
  ASSERT_EQ(value.chunks().values_size(), 2);
  EXPECT_EQ(value.chunks().values(0).begin(), 0);
  EXPECT_EQ(value.chunks().values(0).value().int_value(), 1);
  EXPECT_EQ(value.chunks().values(1).end(), 20);
}

}  // namespace
}  // namespace pfor::coordinator
