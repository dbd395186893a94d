#include "fake_worker.h"

#include <chrono>

namespace pfor::testing {

v1::WorkerMessage FakeHello(const std::string& name, int threads, int credits) {
  v1::WorkerMessage message;
  v1::Hello* hello = message.mutable_hello();
  hello->set_name(name);
  hello->set_version("0.1.0");
  v1::ExecutorSlots* slots = hello->add_executors();
  slots->set_kind(v1::EXECUTOR_KIND_THREADS);
  slots->set_slots(threads);
  if (credits > 0) {
    v1::ExecutorSlots* asked = message.add_credits();
    asked->set_kind(v1::EXECUTOR_KIND_THREADS);
    asked->set_slots(credits);
  }
  return message;
}

FakeWorker::FakeWorker(const std::string& address,
                       const v1::WorkerMessage& first, bool heartbeat)
    : channel_(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
      stub_(v1::WorkerLink::NewStub(channel_)),
      heartbeat_(heartbeat) {
  stream_ = stub_->Connect(&context_);
  stream_->Write(first);
  reader_ = std::thread([this] { ReadLoop(); });
  heartbeats_ = std::thread([this] { HeartbeatLoop(); });
}

FakeWorker::~FakeWorker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  context_.TryCancel();
  heartbeats_.join();
  reader_.join();
}

void FakeWorker::ReadLoop() {
  v1::CoordinatorMessage message;
  while (stream_->Read(&message)) {
    std::lock_guard lock(mu_);
    received_.push_back(message);
    changed_.notify_all();
  }
  grpc::Status status;
  {
    std::lock_guard write_lock(write_mu_);
    status = stream_->Finish();
  }
  std::lock_guard lock(mu_);
  ended_ = true;
  status_ = status;
  changed_.notify_all();
}

void FakeWorker::HeartbeatLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_ && !ended_) {
    changed_.wait_for(lock, std::chrono::milliseconds(200));
    if (stopping_ || ended_ || !heartbeat_) continue;
    lock.unlock();
    Write(v1::WorkerMessage());
    lock.lock();
  }
}

std::optional<v1::CoordinatorMessage> FakeWorker::Read(absl::Duration timeout) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                    [this] { return !received_.empty() || ended_; });
  if (received_.empty()) return std::nullopt;
  v1::CoordinatorMessage message = std::move(received_.front());
  received_.pop_front();
  return message;
}

bool FakeWorker::Write(const v1::WorkerMessage& message) {
  {
    std::lock_guard lock(mu_);
    if (ended_) return false;
  }
  std::lock_guard write_lock(write_mu_);
  return stream_->Write(message);
}

void FakeWorker::StopHeartbeats() {
  std::lock_guard lock(mu_);
  heartbeat_ = false;
}

std::optional<grpc::Status> FakeWorker::WaitForEnd(absl::Duration timeout) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                    [this] { return ended_; });
  return status_;
}

}  // namespace pfor::testing
