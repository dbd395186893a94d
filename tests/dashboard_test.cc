// The coordinator's and the workers' HTTP side against real daemons: the
// JSON API follows the cluster, /metrics counts what happened and passes
// `promtool check metrics`, and the log says what happened, one line per
// event, nothing per chunk at the default level.
#include <httplib.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kPromtool[] = "/usr/bin/promtool";

// The port a daemon printed in its "... on http://127.0.0.1:PORT/..." line.
int HttpPort(Process& process) {
  static const std::regex kLine(R"( on http://127\.0\.0\.1:([0-9]+)/)");
  std::optional<std::vector<std::string>> line =
      process.WaitForLine(Stream::kStdout, kLine, absl::Seconds(10));
  int port = 0;
  if (!line || !absl::SimpleAtoi((*line)[1], &port)) return 0;
  return port;
}

std::string Get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10);
  httplib::Result result = client.Get(path.c_str());
  if (!result || result->status != 200) return "";
  return result->body;
}

nlohmann::json GetJson(int port, const std::string& path) {
  const std::string body = Get(port, path);
  return body.empty() ? nlohmann::json() : nlohmann::json::parse(body);
}

// The value of the sample `series` (name and labels as written) on a
// metrics page; -1 when it is missing.
double Sample(const std::string& page, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) {
        return value;
      }
    }
  }
  return -1;
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.StartCoordinator(
        {"--http-listen", "127.0.0.1:0", "--log-format", "json"}));
    http_port_ = HttpPort(cluster_.coordinator());
    ASSERT_GT(http_port_, 0) << cluster_.coordinator().Stdout();
    for (int i = 0; i < 2; ++i) {
      ASSERT_OK_AND_ASSIGN(
          const int worker,
          cluster_.StartWorker(
              2, {"--http-listen", "127.0.0.1:0", "--processes", "-1"}));
      worker_ports_.push_back(HttpPort(cluster_.worker(worker)));
      ASSERT_GT(worker_ports_.back(), 0) << cluster_.worker(worker).Stdout();
    }
    ASSERT_OK(cluster_.WaitForWorkers(2));
  }

  // Runs a job of `chunks` chunks of the noop kernel to its end.
  uint64_t RunJob(int chunks, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"noop", "--range",
                                     absl::StrCat("0:", chunks * 100),
                                     "--chunks", "fixed:100"};
    args.insert(args.end(), extra.begin(), extra.end());
    absl::StatusOr<uint64_t> job = cluster_.Submit(args);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return 0;
    EXPECT_TRUE(cluster_.WaitForStatus(*job, Finished).ok());
    return *job;
  }

  Cluster cluster_;
  int http_port_ = 0;
  std::vector<int> worker_ports_;
};

TEST_F(DashboardTest, ApiFollowsWorkersAndJobsAndDropsAKilledWorker) {
  const uint64_t job = RunJob(20);
  const nlohmann::json status =
      GetJson(http_port_, absl::StrCat("/api/v1/jobs/", job));
  EXPECT_EQ(status["state"], "succeeded");
  EXPECT_EQ(status["result"], 0);
  EXPECT_EQ(status["progress"]["chunks_done"], 20);
  ASSERT_FALSE(status["recent_chunks"].empty());
  EXPECT_TRUE(status["recent_chunks"][0].contains("finish_time"));
  const nlohmann::json jobs = GetJson(http_port_, "/api/v1/jobs");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["id"], job);

  nlohmann::json workers = GetJson(http_port_, "/api/v1/workers");
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[0]["executors"]["threads"], 2);
  cluster_.worker(1).Kill();
  EXPECT_TRUE(PollUntil(
      [&] { return GetJson(http_port_, "/api/v1/workers").size() == 1; },
      absl::Seconds(30)));
  EXPECT_EQ(GetJson(http_port_, "/api/v1/workers")[0]["name"], "w0");
}

TEST_F(DashboardTest, MetricsCountWhatHappened) {
  RunJob(30);
  const std::string page = Get(http_port_, "/metrics");
  EXPECT_EQ(Sample(page, "pfor_chunks_completed_total"), 30);
  EXPECT_GE(Sample(page, "pfor_chunks_dispatched_total"), 30);
  EXPECT_EQ(Sample(page, "pfor_chunks_failed_total"), 0);
  EXPECT_EQ(Sample(page, "pfor_chunks_in_flight"), 0);
  EXPECT_EQ(Sample(page, "pfor_jobs{state=\"succeeded\"}"), 1);
  EXPECT_EQ(Sample(page, "pfor_workers"), 2);
  EXPECT_EQ(Sample(page, "pfor_chunk_result_latency_seconds_count"), 30);
  // The workers ran every chunk between them.
  double kernel_runs = 0;
  for (int port : worker_ports_) {
    const std::string worker_page = Get(port, "/metrics");
    EXPECT_EQ(Sample(worker_page, "pfor_worker_slots{executor=\"threads\"}"),
              2);
    EXPECT_EQ(Sample(worker_page, "pfor_worker_connected"), 1);
    kernel_runs += Sample(worker_page, "pfor_worker_kernel_seconds_count");
  }
  EXPECT_EQ(kernel_runs, 30);
}

TEST_F(DashboardTest, MetricsPassPromtool) {
  if (access(kPromtool, X_OK) != 0) {
    GTEST_SKIP() << kPromtool
                 << " is missing (Debian package prometheus): the format is "
                    "checked by the unit tests only";
  }
  RunJob(5);
  std::vector<std::string> pages = {Get(http_port_, "/metrics")};
  for (int port : worker_ports_) pages.push_back(Get(port, "/metrics"));
  for (size_t i = 0; i < pages.size(); ++i) {
    ASSERT_FALSE(pages[i].empty()) << i;
    const std::string path = absl::StrCat(::testing::TempDir(), "/metrics-",
                                          getpid(), "-", i, ".txt");
    std::ofstream(path) << pages[i];
    RunResult checked = pfor::testing::Run(
        "/bin/sh", {"-c", absl::StrCat(kPromtool, " check metrics < ", path)});
    EXPECT_TRUE(checked.status.ExitedWith(0))
        << Describe(checked) << "\npage:\n"
        << pages[i];
    // promtool also lints names and help texts: it finds nothing to say.
    EXPECT_EQ(checked.out + checked.err, "") << pages[i];
    std::remove(path.c_str());
  }
}

TEST_F(DashboardTest, LogsOneJsonLinePerEventAndNothingPerChunk) {
  const uint64_t job = RunJob(50);
  cluster_.worker(1).Kill();
  ASSERT_OK(cluster_.WaitForWorkers(1));
  std::vector<nlohmann::json> lines;
  for (absl::string_view line : absl::StrSplit(cluster_.coordinator().Stderr(),
                                               '\n', absl::SkipEmpty())) {
    ASSERT_TRUE(nlohmann::json::accept(line)) << line;
    lines.push_back(nlohmann::json::parse(line));
  }
  std::vector<std::string> job_messages;
  int workers_joined = 0;
  for (const nlohmann::json& line : lines) {
    EXPECT_TRUE(line.contains("time") && line.contains("level") &&
                line.contains("msg"))
        << line;
    EXPECT_FALSE(line.contains("chunk"))
        << "a per-chunk line at info: " << line;
    if (line.value("job", uint64_t{0}) == job) {
      job_messages.push_back(line["msg"]);
    }
    const std::string msg = line["msg"];
    if (msg.starts_with("worker joined")) workers_joined += 1;
  }
  EXPECT_EQ(workers_joined, 2);
  ASSERT_EQ(job_messages.size(), 3u) << cluster_.coordinator().Stderr();
  EXPECT_THAT(job_messages[0], HasSubstr("job queued: noop over [0, 5000)"));
  EXPECT_EQ(job_messages[1], "job running");
  EXPECT_THAT(job_messages[2], HasSubstr("job succeeded: 50 chunks"));
  EXPECT_TRUE(PollUntil(
      [&] {
        return cluster_.coordinator().Stderr().find(
                   R"("msg":"worker left (worker link ended: )") !=
               std::string::npos;
      },
      absl::Seconds(10)))
      << cluster_.coordinator().Stderr();
}

TEST(DashboardDebugLogTest, FailedAttemptsAreLoggedWithTheirIdsAtDebugLevel) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator({"--log-level", "debug"}));
  ASSERT_OK(cluster.StartWorker(1).status());
  ASSERT_OK(cluster.WaitForWorkers(1));
  ASSERT_OK_AND_ASSIGN(
      const uint64_t job,
      cluster.Submit({"fault", "--range", "0:100", "--chunks", "fixed:10",
                      "--param", "mode=error", "--param", "at=55",
                      "--max-attempts", "2"}));
  ASSERT_OK(cluster.WaitForStatus(job, Finished).status());
  const std::string log = cluster.coordinator().Stderr();
  EXPECT_THAT(log, HasSubstr(absl::StrCat(" debug pfor-coordinator: job=", job,
                                          " chunk=50 attempt=1 attempt "
                                          "failed: ")));
  EXPECT_THAT(log, HasSubstr(absl::StrCat(" warning pfor-coordinator: job=",
                                          job, " job failed: chunk [50, 60)")));
}

TEST(DashboardFlagsTest, BadHttpAndLogFlagsStopTheDaemonsWithOneLine) {
  for (const auto& [binary, args, message] : std::vector<
           std::tuple<const char*, std::vector<std::string>, std::string>>{
           {CoordinatorBinary(),
            {"--listen", "127.0.0.1:0", "--http-listen", "8080"},
            "pfor-coordinator: --http-listen '8080' is not HOST:PORT; write "
            "it like 127.0.0.1:8080 (port 0 picks a free port)\n"},
           {CoordinatorBinary(),
            {"--listen", "127.0.0.1:0", "--log-format", "xml"},
            "pfor-coordinator: --log-format 'xml' is unknown; pass text or "
            "json\n"},
           {WorkerBinary(),
            {"--coordinator", "127.0.0.1:1", "--log-level", "loud"},
            "pfor-worker: --log-level 'loud' is unknown; pass debug, info, "
            "warning or error\n"},
           {WorkerBinary(),
            {"--coordinator", "127.0.0.1:1", "--http-listen", "127.0.0.1:x"},
            "pfor-worker: --http-listen '127.0.0.1:x' is not HOST:PORT; write "
            "it like 127.0.0.1:8080 (port 0 picks a free port)\n"},
       }) {
    RunResult result =
        pfor::testing::Run(binary, args, ChildEnv(), absl::Seconds(30));
    EXPECT_TRUE(result.status.ExitedWith(2)) << Describe(result);
    EXPECT_EQ(result.err, message);
  }
}

}  // namespace
}  // namespace pfor::testing
