#include "local_cluster.h"

#include <mutex>

#include "grpcpp/grpcpp.h"
#include "pfor/builtin_kernels.h"
#include "pfor/v1/coordinator.grpc.pb.h"

namespace pfor {
namespace {

constexpr absl::Duration kJoinTimeout = absl::Seconds(10);

// The worker has joined once the coordinator lists its kernels.
absl::Status AwaitWorker(grpc::Channel& channel) {
  auto stub = v1::Coordinator::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](auto*) {}));
  const absl::Time deadline = absl::Now() + kJoinTimeout;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline));
    v1::ListKernelsResponse response;
    if (stub->ListKernels(&context, v1::ListKernelsRequest(), &response).ok() &&
        response.kernels_size() > 0) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::DeadlineExceededError(
      "the embedded worker did not join within 10s");
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(int threads) {
  if (absl::Status status = RegisterBuiltinKernelsOnce(); !status.ok())
    return status;
  std::unique_ptr<LocalCluster> cluster(new LocalCluster());
  coordinator::ServerOptions server_options;
  server_options.listen = "";
  absl::StatusOr<std::unique_ptr<coordinator::CoordinatorServer>> server =
      coordinator::CoordinatorServer::Start(server_options);
  if (!server.ok()) return server.status();
  cluster->coordinator_ = *std::move(server);
  cluster->channel_ = cluster->coordinator_->InProcessChannel();

  worker::WorkerOptions worker_options;
  worker_options.channel = cluster->coordinator_->InProcessChannel();
  worker_options.threads = threads;
  worker_options.name = "embedded";
  // Kernels this program registers itself are not in pfor-helper.
  worker_options.helper_kernels = BuiltinKernelNames();
  absl::StatusOr<std::unique_ptr<worker::Worker>> worker =
      worker::Worker::Start(std::move(worker_options));
  if (!worker.ok()) return worker.status();
  cluster->worker_ = *std::move(worker);
  if (absl::Status status = AwaitWorker(*cluster->channel_); !status.ok())
    return status;
  return cluster;
}

LocalCluster::~LocalCluster() {
  if (worker_ != nullptr) worker_->Stop();
  if (coordinator_ != nullptr) coordinator_->Shutdown();
}

}  // namespace pfor
