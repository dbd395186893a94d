#include "pfor/common/metrics_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/histogram.h"

namespace pfor {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTextTest, WritesHelpTypeAndSampleOfEachFamily) {
  MetricsText page;
  page.Counter("pfor_chunks_completed_total", "Chunks completed.", 42);
  page.Gauge("pfor_chunks_in_flight", "Chunks running.", 3);
  EXPECT_EQ(page.Take(),
            "# HELP pfor_chunks_completed_total Chunks completed.\n"
            "# TYPE pfor_chunks_completed_total counter\n"
            "pfor_chunks_completed_total 42\n"
            "# HELP pfor_chunks_in_flight Chunks running.\n"
            "# TYPE pfor_chunks_in_flight gauge\n"
            "pfor_chunks_in_flight 3\n");
  EXPECT_EQ(page.Take(), "");
}

TEST(MetricsTextTest, EscapesLabelValuesAndHelp) {
  MetricsText page;
  page.Gauges("pfor_worker_slots", "Slots\\per \"worker\"\nand executor.",
              {{{{"worker", "a\"b\\c\nd"}, {"executor", "threads"}}, 2}});
  EXPECT_EQ(page.Take(),
            "# HELP pfor_worker_slots Slots\\\\per \"worker\"\\nand "
            "executor.\n"
            "# TYPE pfor_worker_slots gauge\n"
            "pfor_worker_slots{worker=\"a\\\"b\\\\c\\nd\",executor="
            "\"threads\"} 2\n");
}

TEST(MetricsTextTest, LeavesOutAGaugeFamilyWithoutSamples) {
  MetricsText page;
  page.Gauges("pfor_worker_slots", "Slots.", {});
  EXPECT_EQ(page.Take(), "");
}

TEST(MetricsTextTest, WritesNumbersThatReadBackExactly) {
  MetricsText page;
  page.Gauge("a", "a", 0.1);
  page.Gauge("b", "b", 123456789012);
  page.Gauge("c", "c", 1e300);
  const std::string text = page.Take();
  EXPECT_THAT(text, HasSubstr("\na 0.1\n"));
  EXPECT_THAT(text, HasSubstr("\nb 123456789012\n"));
  EXPECT_THAT(text, HasSubstr("\nc 1e+300\n"));
}

TEST(MetricsTextTest, HistogramBucketsAreCumulativeAndEndWithInf) {
  DurationHistogram histogram;
  histogram.Observe(absl::Microseconds(50));   // <= 0.0001
  histogram.Observe(absl::Milliseconds(1));    // <= 0.001, on the bound
  histogram.Observe(absl::Milliseconds(300));  // <= 0.5
  histogram.Observe(absl::Seconds(1000));      // above every bound
  MetricsText page;
  page.Histogram("pfor_kernel_seconds", "Kernel time.", histogram);
  const std::string text = page.Take();
  EXPECT_THAT(text, HasSubstr("# TYPE pfor_kernel_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("pfor_kernel_seconds_bucket{le=\"0.0001\"} 1\n"
                              "pfor_kernel_seconds_bucket{le=\"0.00025\"} 1\n"
                              "pfor_kernel_seconds_bucket{le=\"0.0005\"} 1\n"
                              "pfor_kernel_seconds_bucket{le=\"0.001\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("pfor_kernel_seconds_bucket{le=\"0.5\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("pfor_kernel_seconds_bucket{le=\"300\"} 3\n"
                              "pfor_kernel_seconds_bucket{le=\"+Inf\"} 4\n"
                              "pfor_kernel_seconds_sum 1000.30105\n"
                              "pfor_kernel_seconds_count 4\n"));
}

TEST(DurationHistogramTest, MergeAddsEveryBucket) {
  DurationHistogram a;
  DurationHistogram b;
  a.Observe(absl::Milliseconds(2));
  b.Observe(absl::Milliseconds(2));
  b.Observe(absl::Seconds(2));
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.CumulativeCount(4), 2u);  // <= 2.5 ms
  EXPECT_EQ(a.CumulativeCount(DurationHistogram::kBounds.size() - 1), 3u);
  EXPECT_DOUBLE_EQ(a.sum_seconds(), 2.004);
}

}  // namespace
}  // namespace pfor
