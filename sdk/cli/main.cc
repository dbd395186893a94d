// pfor: run, submit and follow parallel-for jobs.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "output.h"
#include "parse.h"
#include "pfor/client.h"
#include "pfor/common/security_flags.h"

namespace pfor::cli {
namespace {

// Exit codes, documented in --help and the README.
constexpr int kExitJobFailed = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitError = 3;
constexpr int kExitInterrupted = 130;

// Prints one line, "pfor: MESSAGE", and returns the exit code for `status`.
int Fail(const absl::Status& status) {
  std::fprintf(stderr, "pfor: %s\n", std::string(status.message()).c_str());
  // A kernel no worker has is bad input too (FAILED_PRECONDITION).
  return status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kFailedPrecondition
             ? kExitBadInput
             : kExitError;
}

struct GlobalFlags {
  std::string coordinator;
  bool json = false;
  std::string timeout = "10s";
  TlsFiles tls;
  std::string token_file;
};

struct JobFlags {
  std::string kernel;
  std::string range;
  std::string points;
  std::vector<std::string> params;
  std::string chunks = "auto";
  std::string reduce = "sum";
  std::string name;
  int max_attempts = 3;
  std::string chunk_timeout;
  std::string executor;
  std::string command;
  bool shell = false;
  std::string output = "auto";
  bool wait = false;
  bool no_progress = false;
  int threads = 0;
};

void AddJobFlags(CLI::App& command, JobFlags& flags) {
  command.add_option(
      "kernel", flags.kernel,
      "Kernel to run (`pfor kernels` lists them); none with --command");
  command.add_option("--range", flags.range,
                     "Index range BEGIN:END, END excluded (e.g. 1:1e10)");
  command.add_option("--points", flags.points,
                     "Shorthand for --range 0:N (e.g. integrate)");
  command.add_option(
      "--param", flags.params,
      "Kernel parameter NAME=VALUE, repeatable (e.g. --param b=pi/2)");
  command
      .add_option("--chunks", flags.chunks,
                  "auto, auto:TARGET, fixed:N or count:N")
      ->capture_default_str();
  command
      .add_option("--reduce", flags.reduce, "sum, min, max, count or collect")
      ->capture_default_str();
  command.add_option("--name", flags.name, "Label shown in listings");
  command
      .add_option("--max-attempts", flags.max_attempts,
                  "Attempts per chunk before the job fails (a worker lost "
                  "while running the chunk does not count)")
      ->capture_default_str();
  command.add_option("--chunk-timeout", flags.chunk_timeout,
                     "Fail an attempt that runs longer (e.g. 30s); without "
                     "it, an attempt far slower than the job's other chunks "
                     "gets a backup copy on another worker");
  command.add_option("--executor", flags.executor,
                     "threads (default), processes (helper processes: a "
                     "crashing kernel costs one helper) or command");
  command.add_option("--command", flags.command,
                     "Program to run per chunk instead of a kernel, with "
                     "{begin} {end} {chunk} placeholders (e.g. 'python3 "
                     "count.py {begin} {end}'); implies --executor command");
  command.add_flag("--shell", flags.shell,
                   "Run --command with /bin/sh (pipes, variables) instead of "
                   "splitting it into arguments");
  command
      .add_option("--output", flags.output,
                  "How a command's output reads: auto, integer, float, json")
      ->capture_default_str();
  command.add_flag("--no-progress", flags.no_progress, "Do not show progress");
}

absl::StatusOr<std::unique_ptr<Client>> Connect(const GlobalFlags& global,
                                                int threads) {
  absl::StatusOr<absl::Duration> timeout =
      ParseDurationFlag(global.timeout, "--timeout");
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<std::string> token = ReadToken(global.token_file);
  if (!token.ok()) return token.status();
  // A coordinator that cannot be reached is waited for as long as one
  // call: `pfor wait` and `submit --wait` end by then, saying so.
  return Client::Connect({.coordinator = global.coordinator,
                          .embedded_threads = threads,
                          .timeout = *timeout,
                          .reconnect_timeout = *timeout,
                          .tls_ca = global.tls.ca,
                          .tls_cert = global.tls.cert,
                          .tls_key = global.tls.key,
                          .token = *std::move(token)});
}

// The executor and, for commands, what to run.
absl::Status AddExecutor(const JobFlags& flags, JobSpec& request) {
  if (!flags.executor.empty()) {
    absl::StatusOr<ExecutorKind> executor = ParseExecutor(flags.executor);
    if (!executor.ok()) return executor.status();
    request.executor = *executor;
  } else if (!flags.command.empty()) {
    request.executor = ExecutorKind::kCommand;
  }
  if (request.executor != ExecutorKind::kCommand) {
    if (!flags.command.empty()) {
      return absl::InvalidArgumentError(
          "--command runs on the command executor; drop --executor or pass "
          "--executor command");
    }
    if (flags.shell || flags.output != "auto") {
      return absl::InvalidArgumentError(absl::StrCat(
          flags.shell ? "--shell" : "--output",
          " applies to a --command only; pass --command 'PROGRAM {begin} "
          "{end}' or drop it"));
    }
    if (flags.kernel.empty()) {
      return absl::InvalidArgumentError(
          "no kernel; name one (pfor kernels lists them), or pass --command "
          "'PROGRAM {begin} {end}' to run a program per chunk");
    }
    return absl::OkStatus();
  }
  if (flags.command.empty()) {
    return absl::InvalidArgumentError(
        "--executor command needs --command 'PROGRAM {begin} {end}'");
  }
  if (!flags.kernel.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a command job runs its --command, not kernel ",
                     flags.kernel, "; drop the kernel name"));
  }
  if (flags.shell) {
    request.command.argv = {flags.command};
    request.command.shell = true;
  } else {
    absl::StatusOr<std::vector<std::string>> argv =
        SplitCommandLine(flags.command);
    if (!argv.ok()) return argv.status();
    request.command.argv = *std::move(argv);
  }
  absl::StatusOr<Command::Output> output = ParseCommandOutput(flags.output);
  if (!output.ok()) return output.status();
  request.command.output = *output;
  return absl::OkStatus();
}

absl::StatusOr<JobSpec> BuildRequest(const JobFlags& flags, Client& client) {
  JobSpec request;
  request.kernel = flags.kernel;
  if (absl::Status status = AddExecutor(flags, request); !status.ok()) {
    return status;
  }
  if (!flags.range.empty() && !flags.points.empty()) {
    return absl::InvalidArgumentError(
        "pass either --range or --points, not both");
  }
  if (!flags.points.empty()) {
    absl::StatusOr<int64_t> points = ParseIndex(flags.points, "--points");
    if (!points.ok()) return points.status();
    if (*points < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--points ", flags.points,
                       " is not positive; pass at least 1 point"));
    }
    request.end = *points;
  } else if (!flags.range.empty()) {
    absl::StatusOr<std::pair<int64_t, int64_t>> range = ParseRange(flags.range);
    if (!range.ok()) return range.status();
    std::tie(request.begin, request.end) = *range;
  } else {
    return absl::InvalidArgumentError(
        "no range; pass --range BEGIN:END (or --points N for integrate)");
  }
  // The kernel's declared parameters decide how values are read; without
  // them (no worker yet) values are read by their look.
  std::optional<std::vector<ParamSpec>> specs;
  if (absl::StatusOr<std::vector<KernelInfo>> kernels = client.ListKernels();
      kernels.ok()) {
    for (KernelInfo& kernel : *kernels) {
      if (kernel.name == flags.kernel) specs = std::move(kernel.params);
    }
  } else {
    return kernels.status();
  }
  for (const std::string& text : flags.params) {
    auto param = ParseParam(text, specs ? &*specs : nullptr);
    if (!param.ok()) return param.status();
    request.params[param->first] = param->second;
  }
  absl::StatusOr<ChunkPolicy> chunks = ParseChunkPolicy(flags.chunks);
  if (!chunks.ok()) return chunks.status();
  request.chunks = *chunks;
  absl::StatusOr<Reduction> reduction = ParseReduction(flags.reduce);
  if (!reduction.ok()) return reduction.status();
  request.reduction = *reduction;
  request.name = flags.name;
  // 0 would mean the coordinator's default; the upper bound is its to say.
  if (flags.max_attempts < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-attempts ", flags.max_attempts,
        " is not positive; pass 1 to run each chunk once, or more"));
  }
  request.max_attempts = flags.max_attempts;
  if (!flags.chunk_timeout.empty()) {
    absl::StatusOr<absl::Duration> timeout =
        ParseDurationFlag(flags.chunk_timeout, "--chunk-timeout");
    if (!timeout.ok()) return timeout.status();
    request.chunk_timeout = *timeout;
  }
  return request;
}

int PrintFinal(const GlobalFlags& global, const JobStatus& job) {
  if (global.json) {
    std::printf("%s\n", ToJson(job).dump(2).c_str());
  } else if (job.state == JobState::kSucceeded) {
    std::printf("%s\n", FormatResult(job).c_str());
  }
  if (job.state == JobState::kSucceeded) return 0;
  std::fprintf(stderr, "pfor: job %llu %s: %s\n",
               static_cast<unsigned long long>(job.id), JobStateName(job.state),
               job.error.c_str());
  return kExitJobFailed;
}

// Ctrl-C, at any moment: the handler only writes to a pipe; a thread reads
// it, cancels the job `pfor run` follows (if any) and exits with 130.
struct Interrupt {
  static inline int pipe_fds[2] = {-1, -1};
  static inline std::atomic<bool> raised{false};
  static inline std::atomic<Client*> client{nullptr};
  static inline std::atomic<uint64_t> job{0};

  static void Install() {
    if (pipe(pipe_fds) != 0) return;
    struct sigaction action = {};
    action.sa_handler = [](int) {
      const char byte = 1;
      [[maybe_unused]] ssize_t n = write(pipe_fds[1], &byte, 1);
    };
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    std::thread([] {
      char byte;
      while (read(pipe_fds[0], &byte, 1) != 1) {
      }
      // Set before cancelling, so the main thread never reports the
      // cancellation it causes as a failure.
      raised = true;
      if (Client* c = client.load(); c != nullptr) {
        std::fprintf(stderr, "\npfor: interrupted; cancelling job %llu\n",
                     static_cast<unsigned long long>(job.load()));
        (void)c->Cancel(job.load());
      } else {
        std::fprintf(stderr, "\npfor: interrupted\n");
      }
      std::_Exit(kExitInterrupted);
    }).detach();
  }
};

// Follows a job to its end with a progress view; Ctrl-C cancels it when
// `cancel_on_interrupt`, and otherwise leaves it running. `submitted` is the
// job as this process submitted it (its id alone for `pfor wait`).
int Follow(Client& client, const GlobalFlags& global,
           const JobStatus& submitted, bool show_progress,
           bool cancel_on_interrupt) {
  if (cancel_on_interrupt) {
    Interrupt::job = submitted.id;
    Interrupt::client = &client;
  }
  ProgressView progress(stderr, isatty(STDERR_FILENO) != 0);
  absl::StatusOr<JobStatus> done =
      client.Wait(submitted, [&](const JobStatus& state) {
        if (show_progress && !Interrupt::raised) progress.Update(state);
      });
  Interrupt::client = nullptr;
  // The interrupt thread owns the exit from here.
  while (Interrupt::raised) pause();
  progress.Done();
  if (!done.ok()) return Fail(done.status());
  return PrintFinal(global, *done);
}

int RunJob(const GlobalFlags& global, const JobFlags& flags,
           bool require_coordinator) {
  if (require_coordinator && global.coordinator.empty() &&
      std::getenv("PFOR_COORDINATOR") == nullptr) {
    return Fail(absl::InvalidArgumentError(
        "submit needs a coordinator; pass --coordinator HOST:PORT or set "
        "PFOR_COORDINATOR "
        "(or use `pfor run` for an embedded cluster)"));
  }
  absl::StatusOr<std::unique_ptr<Client>> client =
      Connect(global, flags.threads);
  if (!client.ok()) return Fail(client.status());
  absl::StatusOr<JobSpec> request = BuildRequest(flags, **client);
  if (!request.ok()) return Fail(request.status());
  absl::StatusOr<JobStatus> submitted = (*client)->Submit(*request);
  if (!submitted.ok()) return Fail(submitted.status());
  if (require_coordinator && !flags.wait) {
    if (global.json) {
      std::printf("%s\n", ToJson(*submitted).dump(2).c_str());
    } else {
      std::printf("%llu\n", static_cast<unsigned long long>(submitted->id));
    }
    return 0;
  }
  return Follow(**client, global, *submitted,
                !flags.no_progress && !global.json,
                /*cancel_on_interrupt=*/!require_coordinator);
}

absl::StatusOr<uint64_t> ParseJobId(const std::string& text) {
  uint64_t id;
  if (!absl::SimpleAtoi(text, &id) || id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("job id '", text,
                     "' is not a positive integer; `pfor jobs` lists the ids"));
  }
  return id;
}

}  // namespace

int Main(int argc, char** argv) {
  Interrupt::Install();

  CLI::App app(
      "pfor: run parallel-for jobs on every core of every machine.\n"
      "Without --coordinator (or PFOR_COORDINATOR), `pfor run` starts an "
      "embedded cluster "
      "that uses every local core.\n"
      "Exit codes: 0 success, 1 job failed or cancelled, 2 bad input (also a "
      "job no connected worker can run), 3 other errors "
      "(such as an unreachable coordinator), 130 interrupted.",
      "pfor");
  app.require_subcommand(1);
  app.fallthrough();
  GlobalFlags global;
  if (const char* env = std::getenv("PFOR_COORDINATOR"))
    global.coordinator = env;
  app.add_option("--coordinator", global.coordinator,
                 "Coordinator HOST:PORT (default: $PFOR_COORDINATOR)");
  app.add_flag("--json", global.json, "Print JSON for scripts");
  app.add_option("--timeout", global.timeout,
                 "Deadline of each call to the coordinator, and how long "
                 "`wait` and `submit --wait` try to reach one they lost or "
                 "never reached")
      ->capture_default_str();
  AddTlsFlags(app, global.tls, FlagSide::kClient);
  AddTokenFileFlag(app, global.token_file);

  JobFlags run_flags;
  CLI::App* run = app.add_subcommand(
      "run",
      "Run a job and print its result (embedded cluster unless --coordinator)");
  AddJobFlags(*run, run_flags);
  run->add_option("--threads", run_flags.threads,
                  "Embedded cluster: threads (0: one per core)");

  JobFlags submit_flags;
  CLI::App* submit = app.add_subcommand(
      "submit", "Submit a job to a coordinator; print its id");
  AddJobFlags(*submit, submit_flags);
  submit->add_flag("--wait", submit_flags.wait,
                   "Wait for the result and print it");

  std::string job_id;
  CLI::App* status = app.add_subcommand("status", "Show a job");
  status->add_option("job", job_id, "Job id")->required();
  TaskPage tasks;
  status
      ->add_option("--tasks", tasks.count,
                   "A batch's task results to fetch (--json prints them all; "
                   "the text, the first 20)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, TaskPage::kMaxCount));
  status
      ->add_option("--from", tasks.first,
                   "Number of the first task result to fetch")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  CLI::App* wait =
      app.add_subcommand("wait", "Wait for a job and print its result");
  wait->add_option("job", job_id, "Job id")->required();
  bool wait_no_progress = false;
  wait->add_flag("--no-progress", wait_no_progress, "Do not show progress");
  CLI::App* cancel = app.add_subcommand("cancel", "Cancel a job");
  cancel->add_option("job", job_id, "Job id")->required();
  int limit = 20;
  CLI::App* jobs = app.add_subcommand("jobs", "List jobs, newest first");
  jobs->add_option("--limit", limit, "How many")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  CLI::App* workers = app.add_subcommand("workers", "List connected workers");
  CLI::App* kernels =
      app.add_subcommand("kernels", "List the kernels workers offer");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "pfor: %s; see pfor --help\n", e.what());
    return kExitBadInput;
  }

  if (run->parsed()) return RunJob(global, run_flags, false);
  if (submit->parsed()) return RunJob(global, submit_flags, true);

  // The remaining commands talk to a running coordinator; `kernels` may also
  // list what an embedded cluster offers.
  if (global.coordinator.empty() && !kernels->parsed()) {
    return Fail(
        absl::InvalidArgumentError("no coordinator; pass --coordinator "
                                   "HOST:PORT or set PFOR_COORDINATOR"));
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Connect(global, 0);
  if (!client.ok()) return Fail(client.status());
  Client& c = **client;

  if (status->parsed() || wait->parsed() || cancel->parsed()) {
    absl::StatusOr<uint64_t> id = ParseJobId(job_id);
    if (!id.ok()) return Fail(id.status());
    if (wait->parsed()) {
      JobStatus followed;
      followed.id = *id;  // submitted at a time this process does not know
      return Follow(c, global, followed, !wait_no_progress && !global.json,
                    false);
    }
    absl::StatusOr<JobStatus> job =
        cancel->parsed() ? c.Cancel(*id) : c.Get(*id, tasks);
    if (!job.ok()) return Fail(job.status());
    if (global.json) {
      std::printf("%s\n", ToJson(*job).dump(2).c_str());
    } else if (cancel->parsed()) {
      std::printf("job %llu: %s\n", static_cast<unsigned long long>(job->id),
                  JobStateName(job->state));
    } else {
      std::printf("%s", FormatStatus(*job).c_str());
      std::printf("%s", FormatTaskPage(*job).c_str());
    }
    return 0;
  }
  if (jobs->parsed()) {
    absl::StatusOr<std::vector<JobStatus>> list = c.ListJobs(limit);
    if (!list.ok()) return Fail(list.status());
    nlohmann::json out = nlohmann::json::array();
    for (const JobStatus& job : *list) {
      if (global.json) {
        out.push_back(ToJson(job));
      } else {
        std::printf("%s\n", FormatJobLine(job).c_str());
      }
    }
    if (global.json) std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (workers->parsed()) {
    absl::StatusOr<std::vector<WorkerStatus>> list = c.ListWorkers();
    if (!list.ok()) return Fail(list.status());
    nlohmann::json out = nlohmann::json::array();
    for (const WorkerStatus& worker : *list) {
      if (global.json) {
        out.push_back(ToJson(worker));
      } else {
        std::printf("%s\n", FormatWorkerLine(worker).c_str());
      }
    }
    if (global.json) std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (kernels->parsed()) {
    absl::StatusOr<std::vector<KernelInfo>> list = c.ListKernels();
    if (!list.ok()) return Fail(list.status());
    nlohmann::json out = nlohmann::json::array();
    for (const KernelInfo& kernel : *list) {
      if (global.json) {
        out.push_back(ToJson(kernel));
      } else {
        std::printf("%s", FormatKernel(kernel).c_str());
      }
    }
    if (global.json) std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  return kExitBadInput;
}

}  // namespace pfor::cli

int main(int argc, char** argv) { return pfor::cli::Main(argc, argv); }
