#include "cluster.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace pfor::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);

absl::Status Failed(const std::string& what, const RunResult& result) {
  return absl::InternalError(absl::StrCat(what, ": ", Describe(result)));
}

}  // namespace

const char* CoordinatorBinary() { return PFOR_COORDINATOR_BIN; }
const char* WorkerBinary() { return PFOR_WORKER_BIN; }
const char* CliBinary() { return PFOR_CLI_BIN; }

EnvChanges ChildEnv() {
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in a 256 MiB quarantine, which would read as
  // growth in the memory tests; a small one keeps them meaningful.
  return {{"PFOR_COORDINATOR", std::nullopt},
          {"ASAN_OPTIONS", std::string("quarantine_size_mb=4")}};
#else
  return {{"PFOR_COORDINATOR", std::nullopt}};
#endif
}

RunResult RunCli(const std::vector<std::string>& args, absl::Duration timeout) {
  return Run(CliBinary(), args, ChildEnv(), timeout);
}

bool PollUntil(const std::function<bool()>& condition, absl::Duration timeout,
               absl::Duration every) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(every);
  }
}

TempDir::TempDir() {
  std::string name =
      (std::filesystem::temp_directory_path() / "pfor-test-XXXXXX").string();
  path_ = mkdtemp(name.data()) != nullptr ? name : "";
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

absl::Status Cluster::StartCoordinator(const std::vector<std::string>& args,
                                       int port) {
  if (coordinator_ != nullptr) coordinator_->Kill();
  std::vector<std::string> argv = {"--listen",
                                   absl::StrCat("127.0.0.1:", port)};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start(CoordinatorBinary(), argv, ChildEnv());
  if (!process.ok()) return process.status();
  coordinator_ = *std::move(process);
  static const std::regex kReady(
      R"(^pfor-coordinator listening on 127\.0\.0\.1:([0-9]+)$)");
  std::optional<std::vector<std::string>> ready =
      coordinator_->WaitForLine(Stream::kStdout, kReady, kStartTimeout);
  if (!ready) {
    return absl::DeadlineExceededError(absl::StrCat(
        "coordinator printed no readiness line; stdout: <<",
        coordinator_->Stdout(), ">> stderr: <<", coordinator_->Stderr(), ">>"));
  }
  if (!absl::SimpleAtoi((*ready)[1], &port_) || port_ <= 0 ||
      (port != 0 && port_ != port)) {
    return absl::InternalError(
        absl::StrCat("bad port in readiness line: ", (*ready)[0]));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Cluster::Serving() {
  // grpc.health.v1.Health/Check by hand: the request (no service name) is
  // empty; the response is field 1, the status (1 SERVING, 2 NOT_SERVING).
  auto channel =
      grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", {}, &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("health check failed: ", status.error_message()));
  }
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) {
    return absl::InternalError("unreadable health check response");
  }
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  if (bytes.size() != 2 || bytes[0] != 0x08) {
    return absl::InternalError("unexpected health check response");
  }
  return bytes[1] == 1;
}

absl::StatusOr<int> Cluster::StartWorker(int threads,
                                         const std::vector<std::string>& args) {
  const int index = static_cast<int>(workers_.size());
  std::vector<std::string> argv = {"--coordinator", address(),
                                   "--threads",     absl::StrCat(threads),
                                   "--name",        absl::StrCat("w", index)};
  // Thread slots only, unless the test asks for processes: slot counts and
  // credits then do not depend on the machine's cores.
  if (std::find(args.begin(), args.end(), "--processes") == args.end()) {
    argv.insert(argv.end(), {"--processes", "-1"});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start(WorkerBinary(), argv, ChildEnv());
  if (!process.ok()) return process.status();
  workers_.push_back(*std::move(process));
  static const std::regex kConnected(
      R"(pfor-worker: connected as worker [0-9]+ with )");
  if (!workers_.back()->WaitForLine(Stream::kStderr, kConnected,
                                    kStartTimeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("worker w", index, " did not connect; stderr: <<",
                     workers_.back()->Stderr(), ">>"));
  }
  return index;
}

absl::Status Cluster::WaitForWorkers(int count, absl::Duration timeout) {
  std::string last;
  const bool listed = PollUntil(
      [&] {
        absl::StatusOr<nlohmann::json> workers = Workers();
        last = workers.ok() ? workers->dump() : workers.status().ToString();
        return workers.ok() && workers->is_array() &&
               static_cast<int>(workers->size()) == count;
      },
      timeout, absl::Milliseconds(100));
  if (listed) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(
      "pfor workers did not list ", count, " workers; last: ", last));
}

std::string Cluster::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

RunResult Cluster::Cli(const std::vector<std::string>& args,
                       absl::Duration timeout) {
  std::vector<std::string> argv = {"--coordinator", address()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCli(argv, timeout);
}

absl::StatusOr<nlohmann::json> Cluster::CliJson(
    const std::vector<std::string>& args, absl::Duration timeout) {
  std::vector<std::string> argv = {"--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult result = Cli(argv, timeout);
  if (!result.status.ExitedWith(0)) {
    return Failed(absl::StrCat("pfor --json ", args.empty() ? "" : args[0]),
                  result);
  }
  nlohmann::json parsed = nlohmann::json::parse(result.out, nullptr,
                                                /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Failed("output is not JSON", result);
  return parsed;
}

absl::StatusOr<uint64_t> Cluster::Submit(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"submit"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult result = Cli(argv);
  uint64_t id;
  if (!result.status.ExitedWith(0) ||
      !absl::SimpleAtoi(absl::StripTrailingAsciiWhitespace(result.out), &id)) {
    return Failed("pfor submit", result);
  }
  return id;
}

absl::StatusOr<nlohmann::json> Cluster::Status(uint64_t job) {
  return CliJson({"status", absl::StrCat(job)});
}

absl::StatusOr<nlohmann::json> Cluster::Workers() {
  return CliJson({"workers"});
}

absl::StatusOr<nlohmann::json> Cluster::WaitForStatus(
    uint64_t job, const std::function<bool(const nlohmann::json&)>& condition,
    absl::Duration timeout) {
  nlohmann::json found;
  std::string last;
  const bool met = PollUntil(
      [&] {
        absl::StatusOr<nlohmann::json> status = Status(job);
        if (!status.ok()) {
          last = status.status().ToString();
          return false;
        }
        last = status->dump();
        if (!condition(*status)) return false;
        found = *std::move(status);
        return true;
      },
      timeout);
  if (met) return found;
  return absl::DeadlineExceededError(absl::StrCat(
      "job ", job, " did not reach the awaited status; last: ", last));
}

absl::StatusOr<std::unique_ptr<Cluster>> StartCluster(
    int workers, const std::vector<std::string>& coordinator_args) {
  auto cluster = std::make_unique<Cluster>();
  if (absl::Status status = cluster->StartCoordinator(coordinator_args);
      !status.ok()) {
    return status;
  }
  for (int i = 0; i < workers; ++i) {
    absl::StatusOr<int> worker = cluster->StartWorker();
    if (!worker.ok()) return worker.status();
  }
  if (absl::Status status = cluster->WaitForWorkers(workers); !status.ok()) {
    return status;
  }
  return cluster;
}

std::string State(const nlohmann::json& status) {
  return status.value("state", std::string());
}

int64_t Progress(const nlohmann::json& status, const char* field) {
  if (!status.contains("progress") || !status["progress"].contains(field) ||
      !status["progress"][field].is_number_integer()) {
    return -1;
  }
  return status["progress"][field].get<int64_t>();
}

bool Finished(const nlohmann::json& status) {
  const std::string state = State(status);
  return state == "succeeded" || state == "failed" || state == "cancelled";
}

}  // namespace pfor::testing
