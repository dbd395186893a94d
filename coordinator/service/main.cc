// pfor-coordinator: accepts jobs from clients and hands their chunks to the
// workers that dial in.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "dashboard_server.h"
#include "pfor/common/daemon.h"
#include "pfor/common/log.h"
#include "pfor/coordinator/server.h"

int main(int argc, char** argv) {
  pfor::BlockTerminationSignals();
  // A file size limit reached is a full disk to the journal (its writes
  // fail and are retried), not a reason to die.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app(
      "pfor-coordinator: accepts parallel-for jobs from clients and hands "
      "their chunks to "
      "workers.\nWorkers dial in with `pfor-worker --coordinator HOST:PORT`; "
      "clients use "
      "`pfor submit --coordinator HOST:PORT ...`.",
      "pfor-coordinator");
  pfor::coordinator::ServerOptions options;
  pfor::coordinator::SchedulerOptions& scheduling = options.scheduling;
  // Durations are flags as text (5s, 500ms); their defaults are the
  // options' own.
  std::string heartbeat_timeout =
      absl::FormatDuration(scheduling.heartbeat_timeout);
  std::string queue_timeout = absl::FormatDuration(scheduling.queue_timeout);
  app.add_option("--listen", options.listen,
                 "Address to serve on, HOST:PORT; port 0 picks a free port")
      ->capture_default_str();
  app.add_option(
         "--heartbeat-timeout", heartbeat_timeout,
         "Declare a silent worker lost after this long (e.g. 5s, 500ms)")
      ->capture_default_str();
  app.add_option("--queue-timeout", queue_timeout,
                 "Fail a job no connected worker can run (its kernel or "
                 "executor is missing) after waiting this long")
      ->capture_default_str();
  app.add_option("--state-dir", options.state_dir,
                 "Directory of the journal (created if missing): jobs and "
                 "completed chunks "
                 "survive restarts. Without it nothing does");
  app.add_flag("--recover", options.recover,
               "Start even when the journal in --state-dir does not add up "
               "(lost writes, a damaged database, impossible rows): log what "
               "was lost, fail the jobs whose rows do not add up, and go on "
               "from the rest. Without it such a journal stops the start");
  app.add_option("--keep-jobs", scheduling.keep_jobs,
                 "Finished jobs kept for listings")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  std::string http_listen;
  app.add_option("--http-listen", http_listen,
                 "Serve the dashboard (/), its JSON API (/api/v1/) and "
                 "Prometheus metrics (/metrics) over HTTP on HOST:PORT; port 0 "
                 "picks a free port. Off by default");
  bool allow_cancel = false;
  app.add_flag("--http-allow-cancel", allow_cancel,
               "Let anyone who reaches --http-listen cancel jobs from the "
               "dashboard; without it the dashboard is read-only");
  pfor::LogFlags log_flags;
  log_flags.AddTo(app,
                  "Least level logged: debug (also every failed attempt), "
                  "info, warning or error");
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<pfor::Logger::Options> log_options =
      log_flags.LoggerOptions("pfor-coordinator");
  if (!log_options.ok()) {
    std::fprintf(stderr, "pfor-coordinator: %s\n",
                 std::string(log_options.status().message()).c_str());
    return 2;
  }
  const pfor::Logger logger(*log_options);
  options.logger = &logger;

  if (!absl::ParseDuration(heartbeat_timeout, &scheduling.heartbeat_timeout) ||
      scheduling.heartbeat_timeout <= absl::ZeroDuration()) {
    std::fprintf(stderr,
                 "pfor-coordinator: --heartbeat-timeout '%s' is not a "
                 "positive duration; write it like 5s or 500ms\n",
                 heartbeat_timeout.c_str());
    return 2;
  }
  if (!absl::ParseDuration(queue_timeout, &scheduling.queue_timeout) ||
      scheduling.queue_timeout <= absl::ZeroDuration()) {
    std::fprintf(stderr,
                 "pfor-coordinator: --queue-timeout '%s' is not a positive "
                 "duration; write it like 10m or 30s\n",
                 queue_timeout.c_str());
    return 2;
  }

  auto server = pfor::coordinator::CoordinatorServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "pfor-coordinator: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  if ((*server)->resumed_jobs() > 0) {
    logger.Log(pfor::LogLevel::kInfo,
               absl::StrCat("resumed ", (*server)->resumed_jobs(),
                            " unfinished jobs from ", options.state_dir));
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  // Tests and scripts wait for this line to learn the port.
  std::printf("pfor-coordinator listening on %s:%d\n", host.c_str(),
              (*server)->port());
  std::unique_ptr<pfor::HttpServer> dashboard;
  if (!http_listen.empty()) {
    pfor::coordinator::DashboardOptions dashboard_options;
    dashboard_options.listen = http_listen;
    if (allow_cancel) {
      dashboard_options.authorize_cancel = [](const std::string&, uint64_t) {
        return absl::OkStatus();
      };
    }
    absl::StatusOr<std::unique_ptr<pfor::HttpServer>> started =
        pfor::coordinator::StartDashboard(dashboard_options,
                                          &(*server)->view());
    if (!started.ok()) {
      std::fprintf(stderr, "pfor-coordinator: %s\n",
                   std::string(started.status().message()).c_str());
      return started.status().code() == absl::StatusCode::kInvalidArgument ? 2
                                                                           : 1;
    }
    dashboard = *std::move(started);
    // Tests and scripts wait for this line to learn the port.
    std::printf("pfor-coordinator dashboard on http://%s/\n",
                dashboard->address().c_str());
  }
  std::fflush(stdout);

  pfor::coordinator::CoordinatorServer* raw = server->get();
  std::thread signals =
      pfor::WatchTerminationSignals([raw, &logger](const char* name) {
        logger.Log(pfor::LogLevel::kInfo,
                   absl::StrCat(name, " received, shutting down"));
        std::thread([raw] { raw->Shutdown(); }).detach();
      });
  signals.detach();
  raw->Wait();
  return 0;
}
