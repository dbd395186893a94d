// A worker link driven by hand over gRPC, for tests that play a worker the
// coordinator must not trust blindly: one that declares a kernel
// differently, sends a hello too large, or takes chunks and never finishes
// them. It speaks pfor.v1.WorkerLink directly; nothing of the worker daemon
// is used.
#ifndef PFOR_TESTS_FAKE_WORKER_H_
#define PFOR_TESTS_FAKE_WORKER_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "pfor/v1/worker_link.grpc.pb.h"

namespace pfor::testing {

// A hello for `name` with `threads` thread slots asking for `credits`
// chunks, and no kernels.
v1::WorkerMessage FakeHello(const std::string& name, int threads, int credits);

// Thread-safe.
class FakeWorker {
 public:
  // Opens a link to `address` and sends `first`. While `heartbeat` is set,
  // an empty message goes every 200 ms, as a live worker's would.
  FakeWorker(const std::string& address, const v1::WorkerMessage& first,
             bool heartbeat = true);
  // Cancels the link and joins its threads.
  ~FakeWorker();
  FakeWorker(const FakeWorker&) = delete;
  FakeWorker& operator=(const FakeWorker&) = delete;

  // The next message from the coordinator, waiting up to `timeout`;
  // nullopt when the link ended or nothing came.
  std::optional<v1::CoordinatorMessage> Read(absl::Duration timeout);
  // Sends a message; false once the link is down.
  bool Write(const v1::WorkerMessage& message);
  // Stops the heartbeats: the worker turns silent but keeps its link.
  void StopHeartbeats();
  // Waits up to `timeout` for the coordinator to end the link; its status
  // then, or nullopt while it is still open.
  std::optional<grpc::Status> WaitForEnd(absl::Duration timeout);

 private:
  void ReadLoop();
  void HeartbeatLoop();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WorkerLink::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::WorkerMessage, v1::CoordinatorMessage>>
      stream_;
  std::mutex write_mu_;  // one write at a time

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<v1::CoordinatorMessage> received_;  // guarded by mu_
  bool ended_ = false;                           // guarded by mu_
  std::optional<grpc::Status> status_;           // guarded by mu_
  bool heartbeat_ = true;                        // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  std::thread reader_;
  std::thread heartbeats_;
};

}  // namespace pfor::testing

#endif  // PFOR_TESTS_FAKE_WORKER_H_
