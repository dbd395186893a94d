// pfor-coordinator: accepts jobs from clients and hands their chunks to the
// workers that dial in.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <tuple>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "dashboard_server.h"
#include "pfor/common/daemon.h"
#include "pfor/common/http_server.h"
#include "pfor/common/log.h"
#include "pfor/common/security_flags.h"
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
      "`pfor submit --coordinator HOST:PORT ...`.\n"
      "Without --tokens it listens on loopback only (or, with --insecure, "
      "lets anyone in). A token table has one line per token, NAME ROLES "
      "SHA256: roles among submit, admin, worker and commands, and the "
      "SHA-256 of the secret (`printf %s SECRET | sha256sum`); "
      "deploy/make-credentials.sh makes a CA, certificates and tokens in one "
      "step (docs/security.md).",
      "pfor-coordinator");
  pfor::coordinator::ServerOptions options;
  pfor::coordinator::SchedulerOptions& scheduling = options.scheduling;
  // Durations are flags as text (5s, 500ms); their defaults are the
  // options' own.
  std::string heartbeat_timeout =
      absl::FormatDuration(scheduling.heartbeat_timeout);
  std::string queue_timeout = absl::FormatDuration(scheduling.queue_timeout);
  std::string quarantine_time =
      absl::FormatDuration(scheduling.quarantine_time);
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
  app.add_option("--quarantine-after", scheduling.quarantine_after,
                 "Give a worker no chunks once this many of its attempts in "
                 "a row ran past their deadline (far longer than the job's "
                 "other chunks take, or --chunk-timeout); their chunks run "
                 "elsewhere meanwhile")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--quarantine-time", quarantine_time,
                 "How long such a worker gets no chunks (it is let back "
                 "sooner when it finishes one of its attempts)")
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
  std::string keep_bytes = "256MiB";
  app.add_option("--keep-bytes", keep_bytes,
                 "Memory the finished jobs kept may hold (a batch's tasks and "
                 "task results, a collect job's values), such as 256MiB; the "
                 "oldest are forgotten beyond it, the newest never")
      ->capture_default_str();
  pfor::coordinator::SecurityOptions& security = options.security;
  pfor::AddTlsFlags(app, security.tls, pfor::FlagSide::kServer);
  app.add_flag("--tls-verify-workers", security.require_worker_certificates,
               "Take only workers whose certificate is signed by --tls-ca "
               "(mutual TLS)")
      ->group("Security");
  app.add_option("--tokens", security.tokens_file,
                 "Token table: who may submit, administer, join as a worker "
                 "and run commands (read again when it changes)")
      ->group("Security");
  app.add_flag("--insecure", security.insecure,
               "Listen beyond loopback without --tokens: anyone who reaches "
               "the port may do anything")
      ->group("Security");
  app.add_option("--max-auth-failures", security.max_auth_failures_per_minute,
                 "Failed authentications a host may make in a minute before "
                 "it is refused for the rest of it")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000))
      ->group("Limits");
  app.add_option("--max-streams-per-client", security.max_streams_per_client,
                 "Sessions and WatchJob streams one token (or, without "
                 "tokens, one host) may hold open")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000))
      ->group("Limits");
  std::string max_message_size = "64MiB";
  app.add_option("--max-message-size", max_message_size,
                 "Largest message received or sent, such as 64MiB")
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-jobs-per-token", scheduling.max_active_jobs_per_token,
                 "Jobs one token may have queued or running")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000))
      ->group("Limits");
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

  // A size flag of at least `min` bytes, or nullopt once it said why not.
  const auto size_flag = [](const char* flag, const std::string& text,
                            int64_t min) -> std::optional<int64_t> {
    absl::StatusOr<int64_t> bytes = pfor::ParseBytes(text);
    if (bytes.ok() && *bytes >= min) return *bytes;
    std::fprintf(stderr,
                 "pfor-coordinator: %s '%s' is not a size of at least %lld "
                 "bytes; write it like 64MiB\n",
                 flag, text.c_str(), static_cast<long long>(min));
    return std::nullopt;
  };
  std::optional<int64_t> message_bytes =
      size_flag("--max-message-size", max_message_size, 4096);
  std::optional<int64_t> kept_bytes = size_flag("--keep-bytes", keep_bytes, 0);
  if (!message_bytes || !kept_bytes) return 2;
  security.max_message_bytes = *message_bytes;
  scheduling.keep_bytes = *kept_bytes;

  absl::StatusOr<pfor::Logger::Options> log_options =
      log_flags.LoggerOptions("pfor-coordinator");
  if (!log_options.ok()) {
    std::fprintf(stderr, "pfor-coordinator: %s\n",
                 std::string(log_options.status().message()).c_str());
    return 2;
  }
  const pfor::Logger logger(*log_options);
  options.logger = &logger;

  for (const auto& [flag, text, example, out] :
       {std::tuple{"--heartbeat-timeout", &heartbeat_timeout, "5s or 500ms",
                   &scheduling.heartbeat_timeout},
        {"--queue-timeout", &queue_timeout, "10m or 30s",
         &scheduling.queue_timeout},
        {"--quarantine-time", &quarantine_time, "1m or 30s",
         &scheduling.quarantine_time}}) {
    if (!absl::ParseDuration(*text, out) || *out <= absl::ZeroDuration()) {
      std::fprintf(stderr,
                   "pfor-coordinator: %s '%s' is not a positive duration; "
                   "write it like %s\n",
                   flag, text->c_str(), example);
      return 2;
    }
  }

  if (!http_listen.empty()) {
    absl::Status valid =
        pfor::HttpServer::CheckAddress(http_listen, "--http-listen");
    if (!valid.ok()) {
      std::fprintf(stderr, "pfor-coordinator: %s\n",
                   std::string(valid.message()).c_str());
      return 2;
    }
  }
  auto server = pfor::coordinator::CoordinatorServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "pfor-coordinator: %s\n",
                 std::string(server.status().message()).c_str());
    return server.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
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
