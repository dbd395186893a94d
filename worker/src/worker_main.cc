#include "pfor/worker/worker_main.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "pfor/builtin_kernels.h"
#include "pfor/common/credentials.h"
#include "pfor/common/daemon.h"
#include "pfor/common/log.h"
#include "pfor/common/security_flags.h"
#include "pfor/worker/worker.h"
#include "plugin_loader.h"
#include "worker_http.h"

namespace pfor::worker {

int WorkerMain(int argc, char** argv, const WorkerMainOptions& main_options) {
  pfor::BlockTerminationSignals();
  const char* program = main_options.program_name.c_str();
  CLI::App app(
      "pfor-worker: runs the chunks of parallel-for jobs for a pfor "
      "coordinator.\n"
      "It dials the coordinator (so it works behind NAT and in pods), redials "
      "with backoff when the coordinator goes away, and on SIGTERM gives back "
      "queued chunks, finishes running ones and exits.\n"
      "Executors: threads (kernels run in this daemon), processes (kernels "
      "run in helper processes: a crash costs one helper, never the daemon) "
      "and command (an external program per chunk, only with "
      "--allow-commands).",
      main_options.program_name);
  pfor::worker::WorkerOptions options;
  const char* env = std::getenv("PFOR_COORDINATOR");
  options.coordinator = env != nullptr ? env : "";
  std::string grace = "30s";
  app.add_option("--coordinator", options.coordinator,
                 "Coordinator address HOST:PORT (default: $PFOR_COORDINATOR)");
  app.add_option("--threads", options.threads,
                 "Slots of the threads executor; 0 means one per core")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  app.add_option("--processes", options.processes,
                 "Slots of the processes executor (helpers start on first "
                 "use); 0 means one per core, -1 none")
      ->capture_default_str()
      ->check(CLI::Range(-1, 4096));
  bool allow_commands = false;
  app.add_flag("--allow-commands", allow_commands,
               "Run command jobs: an external program per chunk, as this "
               "worker's user");
  int command_slots = 0;
  app.add_option("--command-slots", command_slots,
                 "Slots of the command executor with --allow-commands; 0 "
                 "means one per core")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  app.add_option("--prefetch", options.prefetch,
                 "Chunks queued beyond each executor's slots; -1 adapts to "
                 "the measured time per chunk (about 2 ms of work, at least "
                 "its slots, at most 256 per slot)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 4096));
  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins,
                 "Shared library of kernels to serve too (PFOR_PLUGIN, see "
                 "docs/plugins.md); repeatable");
  app.add_option("--helper", options.helper_path,
                 "The pfor-helper binary (default: beside pfor-worker)");
  std::string memory_limit = "0";
  app.add_option("--memory-limit", memory_limit,
                 "Address space each helper process may use, such as 2GiB or "
                 "512MiB; 0 means no limit")
      ->capture_default_str();
  app.add_option("--name", options.name,
                 "Name shown by `pfor workers` (default: host-pid)");
  app.add_option("--drain-timeout", grace,
                 "On SIGTERM, how long running chunks may take to finish")
      ->capture_default_str();
  std::vector<std::string> command_env;
  app.add_option("--command-env", command_env,
                 "An environment variable of this worker that commands may "
                 "see, on top of PATH, HOME, LANG, LC_ALL, TZ, TMPDIR, USER "
                 "and LOGNAME; repeatable");
  bool test_kernels = false;
  app.add_flag("--enable-test-kernels", test_kernels,
               "Also offer the test-only kernels (fault: crashes, hangs and "
               "fails on purpose); never on a shared cluster");
  pfor::AddTlsFlags(app, options.credentials.tls, pfor::FlagSide::kClient);
  std::string token_file;
  pfor::AddTokenFileFlag(app, token_file);
  std::string http_listen;
  app.add_option("--http-listen", http_listen,
                 "Serve Prometheus metrics (/metrics) over HTTP on HOST:PORT; "
                 "port 0 picks a free port. Off by default");
  LogFlags log_flags;
  log_flags.AddTo(app, "Least level logged: debug, info, warning or error");
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<std::string> token = pfor::ReadToken(token_file);
  if (!token.ok()) {
    std::fprintf(stderr, "%s: %s\n", program,
                 std::string(token.status().message()).c_str());
    return 2;
  }
  options.credentials.token = *std::move(token);
  for (std::string& name : command_env) {
    options.command_environment.push_back(std::move(name));
  }

  absl::StatusOr<Logger::Options> log_options =
      log_flags.LoggerOptions(main_options.program_name);
  if (!log_options.ok()) {
    std::fprintf(stderr, "%s: %s\n", program,
                 std::string(log_options.status().message()).c_str());
    return 2;
  }
  const Logger logger(*log_options);

  absl::StatusOr<int64_t> memory_limit_bytes = pfor::ParseBytes(memory_limit);
  if (!memory_limit_bytes.ok()) {
    std::fprintf(stderr, "%s: --memory-limit: %s\n", program,
                 std::string(memory_limit_bytes.status().message()).c_str());
    return 2;
  }
  options.helper_memory_limit_bytes = *memory_limit_bytes;
  const int cores =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (allow_commands)
    options.commands = command_slots == 0 ? cores : command_slots;

  absl::Duration drain_timeout;
  if (!absl::ParseDuration(grace, &drain_timeout) ||
      drain_timeout < absl::ZeroDuration()) {
    std::fprintf(stderr,
                 "%s: --drain-timeout '%s' is not a duration; write "
                 "it like 30s\n",
                 program, grace.c_str());
    return 2;
  }
  options.helper_kernels = main_options.helper_kernels;
  absl::Status registered = pfor::RegisterBuiltinKernelsOnce();
  if (registered.ok() && test_kernels) {
    registered = pfor::RegisterTestKernelsOnce();
  }
  if (!registered.ok()) {
    std::fprintf(stderr, "%s: %s\n", program,
                 std::string(registered.message()).c_str());
    return 1;
  }
  for (const std::string& path : plugins) {
    absl::StatusOr<pfor::worker::LoadedPlugin> plugin =
        pfor::worker::LoadPlugin(path, pfor::KernelRegistry::Global());
    if (!plugin.ok()) {
      std::fprintf(stderr, "%s: %s\n", program,
                   std::string(plugin.status().message()).c_str());
      return 2;
    }
    // Helpers load the same file, so its kernels run on processes too.
    options.plugins.push_back(plugin->path);
  }
  options.logger = &logger;
  auto worker = pfor::worker::Worker::Start(options);
  if (!worker.ok()) {
    std::fprintf(stderr, "%s: %s\n", program,
                 std::string(worker.status().message()).c_str());
    return 2;
  }
  std::unique_ptr<HttpServer> http;
  if (!http_listen.empty()) {
    absl::StatusOr<std::unique_ptr<HttpServer>> started =
        StartWorkerHttp(http_listen, worker->get());
    if (!started.ok()) {
      std::fprintf(stderr, "%s: %s\n", program,
                   std::string(started.status().message()).c_str());
      return started.status().code() == absl::StatusCode::kInvalidArgument ? 2
                                                                           : 1;
    }
    http = *std::move(started);
    // Tests and scripts wait for this line to learn the port.
    std::printf("%s metrics on http://%s/metrics\n", program,
                http->address().c_str());
    std::fflush(stdout);
  }
  // The first signal drains; a second one stops at once.
  absl::Notification first;
  std::thread signals = pfor::WatchTerminationSignals([&](const char* name) {
    if (first.HasBeenNotified()) {
      logger.Log(LogLevel::kWarning,
                 absl::StrCat(name, " again, stopping now"));
      std::_Exit(1);
    }
    logger.Log(LogLevel::kInfo, absl::StrCat(name, " received, draining"));
    first.Notify();
  });
  signals.detach();
  first.WaitForNotification();
  (*worker)->Drain(drain_timeout);
  return 0;
}

}  // namespace pfor::worker
