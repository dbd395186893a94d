// pfor-coordinator: accepts jobs from clients and hands their chunks to the
// workers that dial in.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "pfor/common/daemon.h"
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
  CLI11_PARSE(app, argc, argv);

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

  options.log = [](const std::string& line) {
    std::fprintf(stderr, "pfor-coordinator: %s\n", line.c_str());
  };
  auto server = pfor::coordinator::CoordinatorServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "pfor-coordinator: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  if ((*server)->resumed_jobs() > 0) {
    std::fprintf(stderr,
                 "pfor-coordinator: resumed %d unfinished jobs from %s\n",
                 (*server)->resumed_jobs(), options.state_dir.c_str());
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  // Tests and scripts wait for this line to learn the port.
  std::printf("pfor-coordinator listening on %s:%d\n", host.c_str(),
              (*server)->port());
  std::fflush(stdout);

  pfor::coordinator::CoordinatorServer* raw = server->get();
  std::thread signals = pfor::WatchTerminationSignals([raw](const char* name) {
    std::fprintf(stderr, "pfor-coordinator: %s received, shutting down\n",
                 name);
    std::thread([raw] { raw->Shutdown(); }).detach();
  });
  signals.detach();
  raw->Wait();
  return 0;
}
