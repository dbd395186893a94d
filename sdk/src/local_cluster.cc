#include "local_cluster.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pfor/builtin_kernels.h"

namespace pfor {
namespace {

constexpr absl::Duration kJoinTimeout = absl::Seconds(10);

}  // namespace

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(
    int threads, bool test_kernels) {
  if (absl::Status status = RegisterBuiltinKernelsOnce(); !status.ok()) {
    return status;
  }
  if (test_kernels) {
    if (absl::Status status = RegisterTestKernelsOnce(); !status.ok()) {
      return status;
    }
  }
  std::unique_ptr<LocalCluster> cluster(new LocalCluster());
  coordinator::ServerOptions server_options;
  server_options.listen = "";
  absl::StatusOr<std::unique_ptr<coordinator::CoordinatorServer>> server =
      coordinator::CoordinatorServer::Start(server_options);
  if (!server.ok()) return server.status();
  cluster->coordinator_ = *std::move(server);

  worker::WorkerOptions worker_options;
  worker_options.link = cluster->coordinator_->LocalWorkerLinks();
  worker_options.threads = threads;
  worker_options.name = "embedded";
  // Kernels this program registers itself are not in pfor-helper.
  worker_options.helper_kernels = BuiltinKernelNames();
  if (test_kernels) {
    for (std::string& name : TestKernelNames()) {
      worker_options.helper_kernels.push_back(std::move(name));
    }
  }
  absl::StatusOr<std::unique_ptr<worker::Worker>> worker =
      worker::Worker::Start(std::move(worker_options));
  if (!worker.ok()) return worker.status();
  cluster->worker_ = *std::move(worker);
  // An in-process link joins at once; waiting covers a slow start anyway.
  const absl::Time deadline = absl::Now() + kJoinTimeout;
  while (!cluster->worker_->connected()) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the embedded worker did not join within ",
                       absl::FormatDuration(kJoinTimeout)));
    }
    absl::SleepFor(absl::Microseconds(100));
  }
  return cluster;
}

LocalCluster::~LocalCluster() {
  StopWorker();
  if (coordinator_ != nullptr) coordinator_->Shutdown();
}

void LocalCluster::StopWorker() {
  if (worker_ == nullptr) return;
  worker_->Stop();
  worker_.reset();
}

}  // namespace pfor
