// The gRPC link and the public worker against a stand-in coordinator on
// loopback. gRPC is not instrumented for ThreadSanitizer: run under ASan.
#include "grpc_link.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pfor/common/wire_link.h"
#include "pfor/v1/worker_link.grpc.pb.h"
#include "pfor/worker/worker.h"

namespace pfor::worker {
namespace {

using ::testing::HasSubstr;

constexpr auto kPatience = std::chrono::seconds(10);

// The coordinator's side of WorkerLink.Connect, one stream at a time:
// records what the worker sends (decoded) and writes what the test says.
class StandInCoordinator final : public v1::WorkerLink::CallbackService {
 public:
  StandInCoordinator() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~StandInCoordinator() override {
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(1));
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Writes `message` on the open stream; false when there is none.
  bool Send(const CoordinatorMessage& message) {
    std::lock_guard lock(mu_);
    if (stream_ == nullptr) return false;
    stream_->Write(ToProto(message));
    return true;
  }

  // Waits (up to 10 s) until `count` messages have come on all streams.
  std::vector<WorkerMessage> Await(size_t count) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, kPatience,
                      [&] { return received_.size() >= count; });
    return received_;
  }
  // The addresses the streams came from, such as ipv4:127.0.0.1:40000.
  std::set<std::string> peers() {
    std::lock_guard lock(mu_);
    return peers_;
  }
  // Waits (up to 10 s) until `count` streams have ended.
  bool AwaitEnded(int count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience, [&] { return ended_ >= count; });
  }

 private:
  class Stream final : public grpc::ServerBidiReactor<v1::WorkerMessage,
                                                      v1::CoordinatorMessage> {
   public:
    explicit Stream(StandInCoordinator* owner) : owner_(owner) {
      StartRead(&in_);
    }
    void Write(v1::CoordinatorMessage message) {
      std::lock_guard lock(mu_);
      out_.push_back(std::move(message));
      if (out_.size() == 1) StartWrite(&out_.front());
    }
    void OnReadDone(bool ok) override {
      if (ok) {
        owner_->Received(in_);
        StartRead(&in_);
        return;
      }
      // The worker closed its writes (or went): end the call once what is
      // queued is written.
      std::lock_guard lock(mu_);
      finish_ = true;
      if (out_.empty()) Finish(grpc::Status::OK);
    }
    void OnWriteDone(bool ok) override {
      std::lock_guard lock(mu_);
      out_.pop_front();
      if (!ok) out_.clear();
      if (!out_.empty()) {
        StartWrite(&out_.front());
      } else if (finish_) {
        Finish(grpc::Status::OK);
      }
    }
    void OnDone() override {
      owner_->Ended(this);
      delete this;
    }

   private:
    StandInCoordinator* const owner_;
    v1::WorkerMessage in_;
    std::mutex mu_;
    std::deque<v1::CoordinatorMessage> out_;  // guarded by mu_
    bool finish_ = false;                     // guarded by mu_
  };

  grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>* Connect(
      grpc::CallbackServerContext* context) override {
    auto* stream = new Stream(this);
    std::lock_guard lock(mu_);
    stream_ = stream;
    peers_.insert(context->peer());
    return stream;
  }

  void Received(const v1::WorkerMessage& wire) {
    absl::StatusOr<WorkerMessage> message = FromProto(wire);
    EXPECT_TRUE(message.ok()) << message.status();
    {
      std::lock_guard lock(mu_);
      if (message.ok()) received_.push_back(*std::move(message));
    }
    changed_.notify_all();
  }
  void Ended(Stream* stream) {
    {
      std::lock_guard lock(mu_);
      if (stream_ == stream) stream_ = nullptr;
      ended_ += 1;
    }
    changed_.notify_all();
  }

  int port_ = 0;
  std::mutex mu_;
  std::condition_variable changed_;
  Stream* stream_ = nullptr;             // guarded by mu_
  std::vector<WorkerMessage> received_;  // guarded by mu_
  int ended_ = 0;                        // guarded by mu_
  std::set<std::string> peers_;          // guarded by mu_
  // Last: its streams report to the members above until it has gone.
  std::unique_ptr<grpc::Server> server_;
};

// What the worker's end hears.
class Recorder final : public WorkerLinkHandler {
 public:
  void OnMessage(CoordinatorMessage message) override {
    {
      std::lock_guard lock(mu_);
      messages_.push_back(std::move(message));
    }
    changed_.notify_all();
  }
  void OnClosed(const absl::Status& status) override {
    {
      std::lock_guard lock(mu_);
      closed_ = status;
    }
    changed_.notify_all();
  }
  std::vector<CoordinatorMessage> Await(size_t count) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, kPatience,
                      [&] { return messages_.size() >= count; });
    return messages_;
  }
  std::optional<absl::Status> AwaitClosed() {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, kPatience, [&] { return closed_.has_value(); });
    return closed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<CoordinatorMessage> messages_;  // guarded by mu_
  std::optional<absl::Status> closed_;        // guarded by mu_
};

ChunkAssignment Chunk(AttemptRef attempt, int64_t end, int64_t index) {
  ChunkAssignment chunk;
  chunk.attempt = attempt;
  chunk.end = end;
  chunk.index = index;
  return chunk;
}

WorkerMessage Hello(std::string name) {
  WorkerMessage hello;
  hello.hello.emplace();
  hello.hello->name = std::move(name);
  hello.hello->version = "1.2.3";
  hello.hello->slots[0] = 2;
  hello.credits[0] = 4;
  return hello;
}

TEST(GrpcLinkTest, CarriesMessagesBothWaysAndHalfCloses) {
  StandInCoordinator coordinator;
  Recorder recorder;
  WorkerLinkOpener opener = *GrpcLinkOpener(coordinator.address(), {});
  std::shared_ptr<WorkerLink> link = opener(Hello("w1"), &recorder);

  std::vector<WorkerMessage> received = coordinator.Await(1);
  ASSERT_EQ(received.size(), 1u);
  ASSERT_TRUE(received[0].hello.has_value());
  EXPECT_EQ(received[0].hello->name, "w1");
  EXPECT_EQ(received[0].hello->version, "1.2.3");
  EXPECT_EQ(received[0].credits[0], 4);

  CoordinatorMessage message;
  message.welcome = Welcome{5, absl::Seconds(1)};
  auto job = std::make_shared<JobDefinition>();
  job->job = 8;
  job->kernel = "noop";
  job->range = {0, 100};
  job->batch = true;
  message.jobs.push_back(job);
  ChunkAssignment chunk = Chunk({8, 10, 2}, 12, 3);
  chunk.tasks = std::make_shared<const std::vector<Task>>(
      std::vector<Task>{{{0, 5}}, {{5, 9}}});
  message.chunks.push_back(chunk);
  ASSERT_TRUE(coordinator.Send(message));
  std::vector<CoordinatorMessage> heard = recorder.Await(1);
  ASSERT_EQ(heard.size(), 1u);
  ASSERT_TRUE(heard[0].welcome.has_value());
  EXPECT_EQ(heard[0].welcome->worker_id, 5u);
  ASSERT_EQ(heard[0].jobs.size(), 1u);
  EXPECT_TRUE(heard[0].jobs[0]->batch);
  ASSERT_EQ(heard[0].chunks.size(), 1u);
  EXPECT_EQ(heard[0].chunks[0].attempt, (AttemptRef{8, 10, 2}));
  ASSERT_NE(heard[0].chunks[0].tasks, nullptr);
  EXPECT_EQ(heard[0].chunks[0].tasks->size(), 2u);
  EXPECT_EQ((*heard[0].chunks[0].tasks)[1].range.end, 9);

  WorkerMessage result;
  result.results.push_back(
      {{8, 10, 2},
       ChunkOutput(std::vector<TaskResult>{Value(int64_t{1}),
                                           absl::InternalError("bad task")}),
       absl::Milliseconds(3)});
  result.credits[0] = 1;
  link->Send(result);
  link->Send(WorkerMessage());  // a heartbeat
  link->CloseWrites();
  link->Send(result);  // after CloseWrites: dropped

  // The coordinator ends the call once it has read the worker's writes.
  std::optional<absl::Status> closed = recorder.AwaitClosed();
  ASSERT_TRUE(closed.has_value());
  EXPECT_TRUE(closed->ok()) << *closed;
  received = coordinator.Await(2);
  ASSERT_GE(received.size(), 2u);
  // The result and the heartbeat may travel merged.
  int results = 0;
  for (const WorkerMessage& m : received) {
    for (const ChunkResult& r : m.results) {
      ++results;
      EXPECT_EQ(r.attempt, (AttemptRef{8, 10, 2}));
      ASSERT_TRUE(r.output.ok()) << r.output.status();
      const auto& tasks = std::get<std::vector<TaskResult>>(*r.output);
      ASSERT_EQ(tasks.size(), 2u);
      EXPECT_THAT(std::string(tasks[1].status().message()),
                  HasSubstr("bad task"));
      EXPECT_EQ(r.kernel_time, absl::Milliseconds(3));
    }
  }
  EXPECT_EQ(results, 1);
  link.reset();
  opener = nullptr;
}

TEST(GrpcLinkTest, SendsHeartbeatsAsEmptyMessages) {
  StandInCoordinator coordinator;
  Recorder recorder;
  WorkerLinkOpener opener = *GrpcLinkOpener(coordinator.address(), {});
  std::shared_ptr<WorkerLink> link = opener(Hello("w2"), &recorder);
  ASSERT_EQ(coordinator.Await(1).size(), 1u);
  link->Send(WorkerMessage());
  std::vector<WorkerMessage> received = coordinator.Await(2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_TRUE(received[1].empty());
  link->Cancel();
  ASSERT_TRUE(recorder.AwaitClosed().has_value());
}

// Opens a link on each of two openers and returns how many connections
// carried them.
size_t ConnectionsOfTwoOpeners(const GrpcLinkOptions& options) {
  StandInCoordinator coordinator;
  Recorder first;
  Recorder second;
  WorkerLinkOpener a = *GrpcLinkOpener(coordinator.address(), {}, options);
  WorkerLinkOpener b = *GrpcLinkOpener(coordinator.address(), {}, options);
  std::shared_ptr<WorkerLink> one = a(Hello("w-a"), &first);
  std::shared_ptr<WorkerLink> two = b(Hello("w-b"), &second);
  EXPECT_EQ(coordinator.Await(2).size(), 2u);
  one->Cancel();
  two->Cancel();
  EXPECT_TRUE(first.AwaitClosed().has_value());
  EXPECT_TRUE(second.AwaitClosed().has_value());
  return coordinator.peers().size();
}

TEST(GrpcLinkTest, OpenersShareAConnectionUnlessToldOtherwise) {
  EXPECT_EQ(ConnectionsOfTwoOpeners({}), 1u);
  EXPECT_EQ(ConnectionsOfTwoOpeners({.own_connection = true}), 2u);
}

TEST(GrpcLinkTest, ReportsACancelledLink) {
  StandInCoordinator coordinator;
  Recorder recorder;
  WorkerLinkOpener opener = *GrpcLinkOpener(coordinator.address(), {});
  std::shared_ptr<WorkerLink> link = opener(Hello("w3"), &recorder);
  ASSERT_EQ(coordinator.Await(1).size(), 1u);
  link->Cancel();
  std::optional<absl::Status> closed = recorder.AwaitClosed();
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(coordinator.AwaitEnded(1));
}

TEST(GrpcLinkTest, ACoordinatorOutOfReachClosesTheLinkAsUnavailable) {
  Recorder recorder;
  WorkerLinkOpener opener;
  {
    // A port that was just free: nothing listens there now.
    StandInCoordinator gone;
    opener = *GrpcLinkOpener(gone.address(), {});
  }
  std::shared_ptr<WorkerLink> link = opener(Hello("w4"), &recorder);
  std::optional<absl::Status> closed = recorder.AwaitClosed();
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->code(), absl::StatusCode::kUnavailable) << *closed;
}

TEST(GrpcLinkTest, TheOpenerWaitsForItsStreamsToEnd) {
  StandInCoordinator coordinator;
  Recorder recorder;
  WorkerLinkOpener opener = *GrpcLinkOpener(coordinator.address(), {});
  std::shared_ptr<WorkerLink> link = opener(Hello("w5"), &recorder);
  ASSERT_EQ(coordinator.Await(1).size(), 1u);
  link.reset();
  // Cancels the stream still open and waits for its end.
  opener = nullptr;
  ASSERT_TRUE(recorder.AwaitClosed().has_value());
}

// --- The public worker over gRPC --------------------------------------------

TEST(WorkerTest, RunsChunksForACoordinatorOverGrpcAndDrains) {
  StandInCoordinator coordinator;
  KernelRegistry kernels;
  ASSERT_TRUE(
      kernels
          .Add({.name = "length",
                .run = [](const ChunkContext& chunk) -> absl::StatusOr<Value> {
                  return chunk.end - chunk.begin;
                }})
          .ok());
  WorkerOptions options;
  options.coordinator = coordinator.address();
  options.threads = 2;
  options.processes = -1;
  options.name = "grpc-worker";
  options.kernels = &kernels;
  absl::StatusOr<std::unique_ptr<Worker>> worker = Worker::Start(options);
  ASSERT_TRUE(worker.ok()) << worker.status();

  std::vector<WorkerMessage> received = coordinator.Await(1);
  ASSERT_EQ(received.size(), 1u);
  ASSERT_TRUE(received[0].hello.has_value());
  EXPECT_EQ(received[0].hello->name, "grpc-worker");
  EXPECT_EQ(received[0].credits[0], 4);

  CoordinatorMessage message;
  message.welcome = Welcome{1, absl::Seconds(1)};
  auto job = std::make_shared<JobDefinition>();
  job->job = 3;
  job->kernel = "length";
  job->range = {0, 100};
  message.jobs.push_back(job);
  for (int64_t begin = 0; begin < 100; begin += 25) {
    message.chunks.push_back(Chunk({3, begin, 1}, begin + 25, begin / 25));
  }
  ASSERT_TRUE(coordinator.Send(message));
  int64_t total = 0;
  int results = 0;
  for (size_t count = 2; results < 4 && count < 100; ++count) {
    received = coordinator.Await(count);
    if (received.size() < count) break;
    const WorkerMessage& m = received[count - 1];
    for (const ChunkResult& r : m.results) {
      ASSERT_TRUE(r.output.ok()) << r.output.status();
      total += std::get<int64_t>(std::get<Value>(*r.output));
      ++results;
    }
  }
  EXPECT_EQ(results, 4);
  EXPECT_EQ(total, 100);
  EXPECT_TRUE((*worker)->connected());
  // The stand-in ends the call when the worker's writes end.
  (*worker)->Drain(absl::Seconds(5));
  EXPECT_FALSE((*worker)->connected());
  EXPECT_TRUE(coordinator.AwaitEnded(1));
  received = coordinator.Await(1);
  bool draining = false;
  for (const WorkerMessage& m : received) draining = draining || m.draining;
  EXPECT_TRUE(draining);
}

TEST(WorkerTest, RefusesBadOptions) {
  WorkerOptions none;
  EXPECT_EQ(Worker::Start(none).status().code(),
            absl::StatusCode::kInvalidArgument);
  WorkerOptions both;
  both.coordinator = "127.0.0.1:1";
  both.link = [](WorkerMessage, WorkerLinkHandler*) {
    return std::shared_ptr<WorkerLink>();
  };
  EXPECT_THAT(std::string(Worker::Start(both).status().message()),
              HasSubstr("pass one of them"));
  WorkerOptions slots;
  slots.coordinator = "127.0.0.1:1";
  slots.threads = 5000;
  EXPECT_THAT(std::string(Worker::Start(slots).status().message()),
              HasSubstr("--threads 5000 is out of range"));
  WorkerOptions prefetch;
  prefetch.coordinator = "127.0.0.1:1";
  prefetch.prefetch = -2;
  EXPECT_EQ(Worker::Start(prefetch).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pfor::worker
