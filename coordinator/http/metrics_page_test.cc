#include "metrics_page.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;

TEST(MetricsPageTest, HasEveryCoordinatorMetric) {
  CoordinatorStats stats;
  stats.chunks.chunks_dispatched = 9;
  stats.chunks.chunks_completed = 5;
  stats.chunks.attempts_failed = 3;
  stats.chunks.chunks_retried = 2;
  stats.chunks.chunks_requeued = 1;
  stats.chunks.result_latency.Observe(absl::Milliseconds(2));
  stats.journal_commit.Observe(absl::Milliseconds(7));
  stats.chunks_in_flight = 4;
  stats.jobs_by_state = {1, 2, 3, 0, 5};
  stats.client_sessions = 6;
  WorkerStatus worker;
  worker.id = 3;
  worker.name = "host-1";
  worker.slots = {2, 0, 1};
  worker.chunks_in_flight = 2;
  stats.workers = {worker};

  const std::string page = MetricsPage(stats);
  for (const char* line : {
           "pfor_chunks_dispatched_total 9\n",
           "pfor_chunks_completed_total 5\n",
           "pfor_chunks_failed_total 3\n",
           "pfor_chunks_retried_total 2\n",
           "pfor_chunks_requeued_total 1\n",
           "pfor_chunks_in_flight 4\n",
           "pfor_jobs{state=\"queued\"} 1\n",
           "pfor_jobs{state=\"running\"} 2\n",
           "pfor_jobs{state=\"succeeded\"} 3\n",
           "pfor_jobs{state=\"failed\"} 0\n",
           "pfor_jobs{state=\"cancelled\"} 5\n",
           "pfor_workers 1\n",
           "pfor_worker_slots{worker=\"host-1\",worker_id=\"3\",executor="
           "\"threads\"} 2\n",
           "pfor_worker_slots{worker=\"host-1\",worker_id=\"3\",executor="
           "\"command\"} 1\n",
           "pfor_worker_busy_slots{worker=\"host-1\",worker_id=\"3\"} 2\n",
           "pfor_client_sessions 6\n",
           "pfor_chunk_result_latency_seconds_bucket{le=\"0.0025\"} 1\n",
           "pfor_chunk_result_latency_seconds_count 1\n",
           "pfor_journal_commit_seconds_bucket{le=\"0.01\"} 1\n",
           "pfor_journal_commit_seconds_count 1\n",
       }) {
    EXPECT_THAT(page, HasSubstr(line));
  }
}

}  // namespace
}  // namespace pfor::coordinator
