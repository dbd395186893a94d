// A real pfor cluster for integration tests: one pfor-coordinator on
// 127.0.0.1 (port 0 unless told), pfor-worker daemons dialling it, and the
// `pfor` command line pointed at it. Every process is reaped when the
// Cluster is destroyed.
#ifndef PFOR_TESTS_CLUSTER_H_
#define PFOR_TESTS_CLUSTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "process.h"

namespace pfor::testing {

// Paths of the binaries under test, from the build.
const char* CoordinatorBinary();
const char* WorkerBinary();
const char* CliBinary();

// Environment of every child: the caller's PFOR_COORDINATOR must not leak
// in, addresses are always passed explicitly.
EnvChanges ChildEnv();

// Runs `pfor ARGS...` with no coordinator configured.
RunResult RunCli(const std::vector<std::string>& args,
                 absl::Duration timeout = absl::Seconds(60));

// Calls `condition` every `every` until it returns true or `timeout` passes;
// returns whether it did.
bool PollUntil(const std::function<bool()>& condition, absl::Duration timeout,
               absl::Duration every = absl::Milliseconds(50));

// A directory under the temporary directory, removed with everything in it
// at scope exit. path() is empty when it could not be made.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Cluster {
 public:
  Cluster() = default;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts a coordinator with `args` after `--listen 127.0.0.1:PORT` and
  // waits for its readiness line. Replaces (after killing) any previous one.
  absl::Status StartCoordinator(const std::vector<std::string>& args = {},
                                int port = 0);

  // Starts a worker named "wN" (N its index) dialling the coordinator with
  // `--threads threads` plus `args`, and waits until it logs that it is
  // connected. Returns its index.
  absl::StatusOr<int> StartWorker(int threads = 1,
                                  const std::vector<std::string>& args = {});

  // Polls `pfor workers --json` until it lists exactly `count` workers.
  absl::Status WaitForWorkers(int count,
                              absl::Duration timeout = absl::Seconds(30));

  Process& coordinator() { return *coordinator_; }
  Process& worker(int index) { return *workers_.at(index); }
  int port() const { return port_; }
  std::string address() const;

  // Runs `pfor --coordinator ADDRESS ARGS...`.
  RunResult Cli(const std::vector<std::string>& args,
                absl::Duration timeout = absl::Seconds(60));

  // Runs `pfor --coordinator ADDRESS --json ARGS...`, requires exit 0 and
  // returns stdout parsed as JSON.
  absl::StatusOr<nlohmann::json> CliJson(
      const std::vector<std::string>& args,
      absl::Duration timeout = absl::Seconds(60));

  // `pfor submit ARGS...` without --wait; returns the printed job id.
  absl::StatusOr<uint64_t> Submit(const std::vector<std::string>& args);

  // `pfor status JOB --json`.
  absl::StatusOr<nlohmann::json> Status(uint64_t job);

  // `pfor workers --json`.
  absl::StatusOr<nlohmann::json> Workers();

  // Whether the coordinator's standard gRPC health check says SERVING.
  absl::StatusOr<bool> Serving();

  // Polls the job's status until `condition` holds for it (returned) or
  // `timeout` passes (an error naming the last status seen).
  absl::StatusOr<nlohmann::json> WaitForStatus(
      uint64_t job, const std::function<bool(const nlohmann::json&)>& condition,
      absl::Duration timeout = absl::Seconds(60));

 private:
  std::unique_ptr<Process> coordinator_;
  std::vector<std::unique_ptr<Process>> workers_;
  int port_ = 0;
};

// The usual fixture: a coordinator and `workers` one-thread workers, both
// listed by `pfor workers`.
absl::StatusOr<std::unique_ptr<Cluster>> StartCluster(
    int workers = 2, const std::vector<std::string>& coordinator_args = {});

// Accessors for `pfor status --json` output.
std::string State(const nlohmann::json& status);
int64_t Progress(const nlohmann::json& status, const char* field);
bool Finished(const nlohmann::json& status);

}  // namespace pfor::testing

#define PFOR_CONCAT_INNER(a, b) a##b
#define PFOR_CONCAT(a, b) PFOR_CONCAT_INNER(a, b)

// ASSERT that a StatusOr is ok and move its value into `lhs`.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(PFOR_CONCAT(status_or_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(var, lhs, expr) \
  auto var = (expr);                              \
  ASSERT_TRUE(var.ok()) << var.status();          \
  lhs = *std::move(var)

#define ASSERT_OK(expr)                             \
  do {                                              \
    const absl::Status pfor_status_ = (expr);       \
    ASSERT_TRUE(pfor_status_.ok()) << pfor_status_; \
  } while (false)

#endif  // PFOR_TESTS_CLUSTER_H_
