#include "dashboard_server.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A cluster of one worker and two jobs, the second a batch of five tasks.
class FakeCluster final : public ClusterView {
 public:
  FakeCluster() {
    worker_.id = 7;
    worker_.name = "w7";
    worker_.peer = "ipv4:127.0.0.1:5000";
    worker_.slots = {2, 1, 0};
    worker_.chunks_in_flight = 5;  // more than its slots: some queued
    worker_.chunks_done = 12;

    auto spec = std::make_shared<JobSpec>();
    spec->kernel = "count_primes";
    spec->end = 1000;
    job_.id = 1;
    job_.spec = spec;
    job_.state = JobState::kRunning;
    job_.progress.indices_total = 1000;
    job_.progress.indices_done = 400;
    job_.recent_chunks.push_back({0, 100, 1, "w7", absl::Milliseconds(30), "",
                                  absl::FromUnixSeconds(1795000000)});
    job_.recent_chunks.push_back({100, 200, 1, "w7", absl::Milliseconds(5),
                                  "kernel threw: boom",
                                  absl::FromUnixSeconds(1795000001)});

    auto batch_spec = std::make_shared<JobSpec>();
    batch_spec->kernel = "sleep";
    batch_spec->end = 5;
    batch_spec->tasks.resize(5);
    batch_.id = 2;
    batch_.spec = batch_spec;
    batch_.state = JobState::kSucceeded;
    for (int i = 0; i < 5; ++i) {
      batch_.task_results.push_back(Value(int64_t{i * 10}));
    }
    batch_.task_results[3] = absl::InternalError("task 3 failed");
  }

  std::vector<WorkerStatus> ListWorkers() override { return {worker_}; }
  absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit) override {
    last_limit = limit;
    return std::vector<JobStatus>{batch_, job_};
  }
  absl::StatusOr<JobStatus> GetJob(uint64_t job, TaskPage tasks) override {
    last_first = tasks.first;
    last_count = tasks.count;
    if (job == 1) return job_;
    if (job == 2) {
      JobStatus page = batch_;
      const auto first = std::min<size_t>(tasks.first, 5);
      const auto count = std::min<size_t>(tasks.count, 5 - first);
      page.task_results.assign(batch_.task_results.begin() + first,
                               batch_.task_results.begin() + first + count);
      page.first_task = static_cast<int64_t>(first);
      return page;
    }
    return absl::NotFoundError(absl::StrCat("no job ", job));
  }
  absl::StatusOr<JobStatus> CancelJob(uint64_t job) override {
    cancelled += 1;
    JobStatus status = job_;
    status.id = job;
    status.state = JobState::kCancelled;
    return status;
  }
  CoordinatorStats Stats() override {
    CoordinatorStats stats;
    stats.chunks.chunks_completed = 12;
    stats.workers = {worker_};
    return stats;
  }

  std::atomic<int> cancelled{0};
  std::atomic<int> last_limit{-1};
  std::atomic<int64_t> last_first{-1};
  std::atomic<int64_t> last_count{-1};

 private:
  WorkerStatus worker_;
  JobStatus job_;
  JobStatus batch_;
};

class DashboardServerTest : public ::testing::Test {
 protected:
  void Start(CancelAuthorizer authorize = nullptr) {
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        StartDashboard({"127.0.0.1:0", std::move(authorize)}, &cluster_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  // GET `path`: the status and the body parsed as JSON.
  std::pair<int, nlohmann::json> GetJson(const std::string& path) {
    httplib::Result result = client_->Get(path.c_str());
    EXPECT_TRUE(result) << path;
    if (!result) return {0, nullptr};
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    return {result->status, nlohmann::json::parse(result->body)};
  }
  std::pair<int, nlohmann::json> PostJson(const std::string& path,
                                          const httplib::Headers& headers) {
    httplib::Result result =
        client_->Post(path.c_str(), headers, "", "text/plain");
    EXPECT_TRUE(result) << path;
    if (!result) return {0, nullptr};
    return {result->status, nlohmann::json::parse(result->body)};
  }

  FakeCluster cluster_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(DashboardServerTest, ServesThePageWithEverythingInIt) {
  Start();
  httplib::Result page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(page->body, HasSubstr("<title>pfor</title>"));
  EXPECT_THAT(page->body, HasSubstr("/api/v1/workers"));
  // Nothing is fetched from elsewhere: no CDN, no external script or font.
  EXPECT_THAT(page->body, Not(HasSubstr("src=\"http")));
  EXPECT_THAT(page->body, Not(HasSubstr("href=\"http")));
  EXPECT_THAT(page->body, Not(HasSubstr("@import")));
}

TEST_F(DashboardServerTest, ListsWorkersWithTheirBusySlots) {
  Start();
  auto [status, workers] = GetJson("/api/v1/workers");
  EXPECT_EQ(status, 200);
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0]["name"], "w7");
  EXPECT_EQ(workers[0]["slots"], 3);
  // Five chunks held, three slots: three busy, two queued.
  EXPECT_EQ(workers[0]["busy_slots"], 3);
  EXPECT_EQ(workers[0]["executors"]["threads"], 2);
  EXPECT_EQ(workers[0]["chunks_done"], 12);
}

TEST_F(DashboardServerTest, ListsJobsAsTheCommandLinePrintsThem) {
  Start();
  auto [status, jobs] = GetJson("/api/v1/jobs?limit=20");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(cluster_.last_limit, 20);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[1]["id"], 1);
  EXPECT_EQ(jobs[1]["state"], "running");
  EXPECT_EQ(jobs[1]["progress"]["indices_done"], 400);
}

TEST_F(DashboardServerTest, RefusesABadLimitSayingWhatToPass) {
  Start();
  for (const char* path : {"/api/v1/jobs?limit=abc", "/api/v1/jobs?limit=-1"}) {
    auto [status, body] = GetJson(path);
    EXPECT_EQ(status, 400) << path;
    EXPECT_THAT(body["error"].get<std::string>(),
                HasSubstr("is not a number from 0 to 10000; pass ?limit=N"));
  }
}

TEST_F(DashboardServerTest, JobHasItsRecentAttemptsWithErrorsAndFinishTimes) {
  Start();
  auto [status, job] = GetJson("/api/v1/jobs/1");
  EXPECT_EQ(status, 200);
  ASSERT_EQ(job["recent_chunks"].size(), 2u);
  EXPECT_EQ(job["recent_chunks"][1]["error"], "kernel threw: boom");
  EXPECT_EQ(job["recent_chunks"][0]["finish_time"],
            "2026-11-18T11:06:40+00:00");
  EXPECT_DOUBLE_EQ(job["recent_chunks"][0]["seconds"].get<double>(), 0.03);
}

TEST_F(DashboardServerTest, BatchTaskResultsComeAPageAtATime) {
  Start();
  auto [status, all] = GetJson("/api/v1/jobs/2");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(cluster_.last_first, 0);
  EXPECT_EQ(cluster_.last_count, TaskPage::kDefaultCount);
  ASSERT_EQ(all["result"].size(), 5u);
  EXPECT_EQ(all["result"][3]["error"], "task 3 failed");
  EXPECT_EQ(all["result"][4]["value"], 40);
  auto [page_status, page] = GetJson("/api/v1/jobs/2?tasks=2&from=3");
  EXPECT_EQ(page_status, 200);
  EXPECT_EQ(cluster_.last_first, 3);
  EXPECT_EQ(cluster_.last_count, 2);
  ASSERT_EQ(page["result"].size(), 2u);
  EXPECT_EQ(page["result"][0]["task"], 3);
  EXPECT_EQ(page["result"][1]["value"], 40);
  EXPECT_EQ(page["task_count"], 5);
  auto [big_status, big] = GetJson("/api/v1/jobs/2?tasks=1000000");
  EXPECT_EQ(big_status, 400);
  EXPECT_THAT(big["error"].get<std::string>(), HasSubstr("tasks"));
}

TEST_F(DashboardServerTest, UnknownOrMalformedJobIdsGetAClearError) {
  Start();
  auto [missing_status, missing] = GetJson("/api/v1/jobs/99");
  EXPECT_EQ(missing_status, 404);
  EXPECT_EQ(missing["error"], "no job 99");
  auto [bad_status, bad] = GetJson("/api/v1/jobs/x1");
  EXPECT_EQ(bad_status, 400);
  EXPECT_THAT(bad["error"].get<std::string>(),
              HasSubstr("job id 'x1' is not a job id"));
  auto [none_status, none] = GetJson("/api/v2/nothing");
  EXPECT_EQ(none_status, 404);
  EXPECT_THAT(none["error"].get<std::string>(),
              HasSubstr("no such page: GET /api/v2/nothing"));
}

TEST_F(DashboardServerTest, IsReadOnlyWithoutAnAuthorizer) {
  Start();
  auto [info_status, info] = GetJson("/api/v1/info");
  EXPECT_EQ(info_status, 200);
  EXPECT_EQ(info["cancel"], false);
  auto [status, body] = PostJson("/api/v1/jobs/1/cancel", {});
  EXPECT_EQ(status, 403);
  EXPECT_THAT(body["error"].get<std::string>(),
              HasSubstr("the dashboard is read-only; start the coordinator "
                        "with --http-allow-cancel"));
  EXPECT_EQ(cluster_.cancelled, 0);
}

TEST_F(DashboardServerTest, CancelsWhenTheAuthorizerAllowsIt) {
  Start([](const std::string& authorization, uint64_t job) {
    if (authorization != "Bearer admin") {
      return absl::PermissionDeniedError(
          absl::StrCat("job ", job, ": this token may not cancel it"));
    }
    return absl::OkStatus();
  });
  auto [info_status, info] = GetJson("/api/v1/info");
  EXPECT_EQ(info["cancel"], true);
  auto [refused_status, refused] =
      PostJson("/api/v1/jobs/1/cancel", {{"Authorization", "Bearer guest"}});
  EXPECT_EQ(refused_status, 403);
  EXPECT_EQ(refused["error"], "job 1: this token may not cancel it");
  EXPECT_EQ(cluster_.cancelled, 0);
  auto [status, job] =
      PostJson("/api/v1/jobs/1/cancel", {{"Authorization", "Bearer admin"}});
  EXPECT_EQ(status, 200);
  EXPECT_EQ(job["state"], "cancelled");
  EXPECT_EQ(cluster_.cancelled, 1);
}

TEST_F(DashboardServerTest, ServesMetricsInTheTextFormat) {
  Start();
  httplib::Result metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"),
            "text/plain; version=0.0.4");
  EXPECT_THAT(metrics->body, HasSubstr("\npfor_chunks_completed_total 12\n"));
}

TEST(StartDashboardTest, NamesTheFlagForABadOrBusyAddress) {
  FakeCluster cluster;
  absl::StatusOr<std::unique_ptr<HttpServer>> bad =
      StartDashboard({"localhost", nullptr}, &cluster);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("--http-listen 'localhost' is not HOST:PORT"));
  absl::StatusOr<std::unique_ptr<HttpServer>> first =
      StartDashboard({"127.0.0.1:0", nullptr}, &cluster);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<HttpServer>> busy = StartDashboard(
      {absl::StrCat("127.0.0.1:", (*first)->port()), nullptr}, &cluster);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(busy.status().message(), HasSubstr("is another process using"));
}

}  // namespace
}  // namespace pfor::coordinator
