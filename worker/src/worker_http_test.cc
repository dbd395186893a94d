#include "worker_http.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::worker {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(WorkerMetricsPageTest, ShowsSlotsBusySlotsRestartsAndKernelTimes) {
  WorkerStats stats;
  stats.slots = {4, 2, 0};
  stats.busy_slots = {3, 0, 0};
  stats.helper_restarts = 5;
  stats.connected = true;
  stats.kernel_time.Observe(absl::Milliseconds(20));
  stats.kernel_time.Observe(absl::Milliseconds(200));
  const std::string page = WorkerMetricsPage(stats);
  EXPECT_THAT(page, HasSubstr("pfor_worker_slots{executor=\"threads\"} 4\n"
                              "pfor_worker_slots{executor=\"processes\"} 2\n"));
  EXPECT_THAT(page, Not(HasSubstr("executor=\"command\"")));
  EXPECT_THAT(page,
              HasSubstr("pfor_worker_busy_slots{executor=\"threads\"} 3\n"
                        "pfor_worker_busy_slots{executor=\"processes\"} 0\n"));
  EXPECT_THAT(page,
              HasSubstr("# TYPE pfor_worker_helper_restarts_total "
                        "counter\npfor_worker_helper_restarts_total 5\n"));
  EXPECT_THAT(page, HasSubstr("pfor_worker_connected 1\n"));
  EXPECT_THAT(page,
              HasSubstr("pfor_worker_kernel_seconds_bucket{le=\"0.025\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("pfor_worker_kernel_seconds_count 2\n"));
}

}  // namespace
}  // namespace pfor::worker
