#include "engine.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kPatience = std::chrono::seconds(10);

// The coordinator's end of a link within the process: records what the
// worker sends, and lets the test (or a hook, from inside Send, as an
// in-process coordinator does) answer.
class FakeLink final : public WorkerLink {
 public:
  using SendHook = std::function<void(FakeLink&, const WorkerMessage&)>;

  FakeLink(WorkerLinkHandler* handler, WorkerMessage hello, SendHook hook)
      : handler_(handler), hello_(std::move(hello)), hook_(std::move(hook)) {}

  void Send(WorkerMessage message) override {
    {
      std::lock_guard lock(mu_);
      if (closed_ || writes_closed_) return;
      results_ += message.results.size();
      messages_.push_back(message);
    }
    changed_.notify_all();
    if (hook_) hook_(*this, message);
  }
  void CloseWrites() override {
    {
      std::lock_guard lock(mu_);
      writes_closed_ = true;
    }
    changed_.notify_all();
  }
  // As an in-process link may: OnClosed on the caller's thread.
  void Cancel() override { Close(absl::CancelledError("cancelled")); }

  // Calls the worker's handler, one call at a time.
  void Deliver(CoordinatorMessage message) {
    std::lock_guard calls(calls_);
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
    }
    handler_->OnMessage(std::move(message));
  }
  void Close(const absl::Status& status) {
    std::lock_guard calls(calls_);
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    handler_->OnClosed(status);
    changed_.notify_all();
  }

  // Waits (up to 10 s) until `condition` holds for what was sent.
  bool Await(
      const std::function<bool(const std::vector<WorkerMessage>&)>& condition) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience,
                             [&] { return condition(messages_); });
  }
  // Waits (up to 10 s) until `count` results have come.
  bool AwaitResults(size_t count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience,
                             [&] { return results_ >= count; });
  }
  bool AwaitWritesClosed() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience, [&] { return writes_closed_; });
  }
  std::vector<WorkerMessage> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  const WorkerMessage& hello() const { return hello_; }

 private:
  WorkerLinkHandler* const handler_;
  const WorkerMessage hello_;
  const SendHook hook_;
  std::recursive_mutex calls_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<WorkerMessage> messages_;  // guarded by mu_
  size_t results_ = 0;                   // guarded by mu_
  bool writes_closed_ = false;           // guarded by mu_
  bool closed_ = false;                  // guarded by mu_
};

// Hands out fake links and keeps them.
class FakeCoordinator {
 public:
  // Called on the worker's thread as each link opens, before the opener
  // returns.
  std::function<void(FakeLink&)> on_open;
  FakeLink::SendHook on_send;

  WorkerLinkOpener Opener() {
    return [this](WorkerMessage hello, WorkerLinkHandler* handler) {
      auto link =
          std::make_shared<FakeLink>(handler, std::move(hello), on_send);
      {
        std::lock_guard lock(mu_);
        links_.push_back(link);
      }
      changed_.notify_all();
      if (on_open) on_open(*link);
      return link;
    };
  }

  // The `n`-th link opened (from 1), waiting up to 10 s for it; nullptr if
  // it never came.
  std::shared_ptr<FakeLink> Link(size_t n) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, kPatience, [&] { return links_.size() >= n; });
    return links_.size() >= n ? links_[n - 1] : nullptr;
  }
  size_t opened() {
    std::lock_guard lock(mu_);
    return links_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<FakeLink>> links_;  // guarded by mu_
};

// Runs chunks that block until the gate opens or they are cancelled.
class GateRunner final : public ChunkRunner {
 public:
  absl::StatusOr<ChunkOutput> Run(int, const ChunkTask& task,
                                  const std::atomic<bool>& cancel) override {
    std::unique_lock lock(mu_);
    started_.push_back(task.begin);
    changed_.notify_all();
    // The cancel flag is polled, as kernels poll it.
    while (!open_ && !cancel.load()) {
      changed_.wait_for(lock, std::chrono::milliseconds(1));
    }
    if (!open_) return absl::CancelledError("the chunk was cancelled");
    return ChunkOutput(Value(task.begin));
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // Waits (up to 10 s) until `count` chunks have started.
  bool AwaitStarted(size_t count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience,
                             [&] { return started_.size() >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<int64_t> started_;  // guarded by mu_
  bool open_ = false;             // guarded by mu_
};

// Runs chunks in no time, or in `per_chunk` of a fake clock's time.
class ClockRunner final : public ChunkRunner {
 public:
  ClockRunner(FakeClock& clock, absl::Duration per_chunk)
      : clock_(clock), per_chunk_(per_chunk) {}
  absl::StatusOr<ChunkOutput> Run(int, const ChunkTask& task,
                                  const std::atomic<bool>&) override {
    clock_.Advance(per_chunk_);
    return ChunkOutput(Value(task.end - task.begin));
  }

 private:
  FakeClock& clock_;
  const absl::Duration per_chunk_;
};

CoordinatorMessage Welcome(absl::Duration heartbeat = absl::Seconds(1)) {
  CoordinatorMessage message;
  message.welcome = pfor::Welcome{17, heartbeat};
  return message;
}

std::shared_ptr<const JobDefinition> Job(
    uint64_t id, ExecutorKind executor = ExecutorKind::kThreads) {
  auto definition = std::make_shared<JobDefinition>();
  definition->job = id;
  definition->kernel = "noop";
  definition->executor = executor;
  definition->range = {0, 1'000'000};
  return definition;
}

ChunkAssignment Chunk(uint64_t job, int64_t begin, int32_t attempt = 1) {
  ChunkAssignment chunk;
  chunk.attempt = {job, begin, attempt};
  chunk.end = begin + 1;
  chunk.index = begin;
  return chunk;
}

CoordinatorMessage Chunks(uint64_t job, int64_t first, int count,
                          bool define = false) {
  CoordinatorMessage message;
  if (define) message.jobs.push_back(Job(job));
  for (int i = 0; i < count; ++i)
    message.chunks.push_back(Chunk(job, first + i));
  return message;
}

std::vector<ChunkResult> ResultsOf(const std::vector<WorkerMessage>& sent) {
  std::vector<ChunkResult> results;
  for (const WorkerMessage& message : sent) {
    results.insert(results.end(), message.results.begin(),
                   message.results.end());
  }
  return results;
}

int CreditsOf(const std::vector<WorkerMessage>& sent, ExecutorKind kind) {
  int credits = 0;
  for (const WorkerMessage& message : sent) {
    credits += message.credits[static_cast<int>(kind)];
  }
  return credits;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() {
    const absl::Status added = kernels_.AddAll(
        {{.name = "noop",
          .help = "Does nothing.",
          .run = [](const ChunkContext&) -> absl::StatusOr<Value> {
            return int64_t{0};
          }},
         {.name = "solo",
          .help = "Runs on threads only.",
          .params = {{.name = "n", .type = ParamType::kInt}},
          .run = [](const ChunkContext&) -> absl::StatusOr<Value> {
            return int64_t{0};
          }}});
    EXPECT_TRUE(added.ok()) << added;
  }

  // A worker with `runners` (and as many slots as given for each).
  std::unique_ptr<Engine> Start(
      std::array<int, kExecutorKinds> slots,
      std::array<std::unique_ptr<ChunkRunner>, kExecutorKinds> runners,
      int prefetch = -1) {
    EngineOptions options;
    options.name = "test-worker";
    options.version = "9.9.9";
    options.slots = slots;
    options.runners = std::move(runners);
    options.prefetch = prefetch;
    options.kernels = &kernels_;
    options.helper_kernels = {"noop"};
    options.opener = coordinator_.Opener();
    options.reconnect_min = absl::Milliseconds(1);
    options.reconnect_max = absl::Milliseconds(5);
    options.log = [this](LogLevel, const std::string& line) {
      std::lock_guard lock(log_mu_);
      log_.push_back(line);
    };
    options.clock = &clock_;
    return std::make_unique<Engine>(std::move(options));
  }

  // A one-slot threads worker running chunks with `runner`.
  std::unique_ptr<Engine> StartThreads(std::unique_ptr<ChunkRunner> runner,
                                       int slots = 1) {
    std::array<std::unique_ptr<ChunkRunner>, kExecutorKinds> runners;
    runners[0] = std::move(runner);
    return Start({slots, 0, 0}, std::move(runners));
  }

  std::vector<std::string> log() {
    std::lock_guard lock(log_mu_);
    return log_;
  }

  FakeClock clock_;
  KernelRegistry kernels_;
  FakeCoordinator coordinator_;
  std::mutex log_mu_;
  std::vector<std::string> log_;  // guarded by log_mu_
};

TEST_F(EngineTest, SaysHelloWithItsSlotsKernelsAndCredits) {
  std::array<std::unique_ptr<ChunkRunner>, kExecutorKinds> runners;
  runners[0] = std::make_unique<GateRunner>();
  runners[2] = std::make_unique<GateRunner>();
  auto engine = Start({3, 0, 2}, std::move(runners));
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  const WorkerMessage& hello = link->hello();
  ASSERT_TRUE(hello.hello.has_value());
  EXPECT_EQ(hello.hello->name, "test-worker");
  EXPECT_EQ(hello.hello->version, "9.9.9");
  EXPECT_THAT(hello.hello->slots, ElementsAre(3, 0, 2));
  ASSERT_EQ(hello.hello->kernels.size(), 2u);
  EXPECT_EQ(hello.hello->kernels[0].name, "noop");
  EXPECT_EQ(hello.hello->kernels[0].help, "Does nothing.");
  EXPECT_THAT(hello.hello->kernels[0].executors,
              ElementsAre(ExecutorKind::kThreads, ExecutorKind::kProcesses));
  EXPECT_EQ(hello.hello->kernels[1].name, "solo");
  EXPECT_EQ(hello.hello->kernels[1].params.size(), 1u);
  EXPECT_THAT(hello.hello->kernels[1].executors,
              ElementsAre(ExecutorKind::kThreads));
  // Before any chunk is measured: the slots, and as many again.
  EXPECT_THAT(hello.credits, ElementsAre(6, 0, 4));
  EXPECT_FALSE(engine->connected());
  link->Deliver(Welcome());
  EXPECT_TRUE(engine->connected());
  EXPECT_EQ(engine->slots(), 5);
  EXPECT_THAT(log(), ElementsAre(HasSubstr(
                         "connected as worker 17 with 3 threads, 0 processes "
                         "and 2 command slots")));
}

TEST_F(EngineTest, AFixedPrefetchAsksForSlotsPlusPrefetch) {
  std::array<std::unique_ptr<ChunkRunner>, kExecutorKinds> runners;
  runners[1] = std::make_unique<GateRunner>();
  auto engine = Start({0, 4, 0}, std::move(runners), /*prefetch=*/1);
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  EXPECT_THAT(link->hello().credits, ElementsAre(0, 5, 0));
}

TEST_F(EngineTest, RunsAssignedChunksAndSendsTheirResults) {
  // One slot: the fake clock moves for one chunk at a time.
  auto engine = StartThreads(
      std::make_unique<ClockRunner>(clock_, absl::Milliseconds(100)));
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  ASSERT_EQ(link->hello().credits[0], 2);
  link->Deliver(Welcome());
  CoordinatorMessage chunks = Chunks(5, 10, 2, /*define=*/true);
  chunks.chunks[1].end = 20;
  link->Deliver(std::move(chunks));
  ASSERT_TRUE(link->AwaitResults(2));
  std::vector<ChunkResult> results = ResultsOf(link->messages());
  std::set<int64_t> begins;
  for (const ChunkResult& result : results) {
    ASSERT_TRUE(result.output.ok()) << result.output.status();
    EXPECT_EQ(result.attempt.job, 5u);
    EXPECT_EQ(result.attempt.attempt, 1);
    EXPECT_EQ(result.kernel_time, absl::Milliseconds(100));
    const int64_t length = std::get<int64_t>(std::get<Value>(*result.output));
    EXPECT_EQ(length, result.attempt.begin == 11 ? 9 : 1);
    begins.insert(result.attempt.begin);
  }
  EXPECT_THAT(begins, ElementsAre(10, 11));
  // Idle again, it has asked for its whole window (one slot, one chunk
  // queued) beyond the two chunks it was sent.
  EXPECT_EQ(link->hello().credits[0] +
                CreditsOf(link->messages(), ExecutorKind::kThreads) - 2,
            2);
}

TEST_F(EngineTest, StatsCountBusySlotsAndKernelTimes) {
  auto gate = std::make_unique<GateRunner>();
  GateRunner* runner = gate.get();
  auto engine = StartThreads(std::move(gate), /*slots=*/3);
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  link->Deliver(Welcome());
  link->Deliver(Chunks(5, 0, 2, /*define=*/true));
  ASSERT_TRUE(runner->AwaitStarted(2));
  WorkerStats stats = engine->Stats();
  EXPECT_THAT(stats.slots, ElementsAre(3, 0, 0));
  EXPECT_THAT(stats.busy_slots, ElementsAre(2, 0, 0));
  EXPECT_TRUE(stats.connected);
  EXPECT_EQ(stats.kernel_time.count(), 0u);
  runner->Open();
  ASSERT_TRUE(link->AwaitResults(2));
  stats = engine->Stats();
  EXPECT_EQ(stats.kernel_time.count(), 2u);
  EXPECT_EQ(stats.helper_restarts, 0);
}

TEST_F(EngineTest, FailsChunksItCannotRun) {
  auto engine = StartThreads(std::make_unique<GateRunner>());
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  CoordinatorMessage message = Welcome();
  message.jobs.push_back(Job(2, ExecutorKind::kProcesses));
  message.chunks.push_back(Chunk(2, 0));   // no processes executor here
  message.chunks.push_back(Chunk(99, 0));  // never defined
  link->Deliver(std::move(message));
  ASSERT_TRUE(link->AwaitResults(2));
  for (const ChunkResult& result : ResultsOf(link->messages())) {
    EXPECT_EQ(result.output.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(std::string(result.output.status().message()),
                HasSubstr("sent a chunk it cannot run"));
  }
}

// A coordinator that, from inside Send, hands out a chunk for every credit
// until `total` chunks are out, and measures the worker's window: chunks
// asked for and not sent, plus chunks sent and not finished.
class Dispatcher {
 public:
  explicit Dispatcher(int total) : left_(total) {}

  void Attach(FakeCoordinator& coordinator) {
    coordinator.on_open = [this](FakeLink& link) {
      CoordinatorMessage welcome = Welcome();
      welcome.jobs.push_back(Job(1));
      link.Deliver(std::move(welcome));
      Handle(link, link.hello());
    };
    coordinator.on_send = [this](FakeLink& link, const WorkerMessage& sent) {
      Handle(link, sent);
    };
  }

  int max_window() {
    std::lock_guard lock(mu_);
    return max_window_;
  }

 private:
  void Handle(FakeLink& link, const WorkerMessage& sent) {
    CoordinatorMessage chunks;
    {
      std::lock_guard lock(mu_);
      finished_ += static_cast<int>(sent.results.size());
      credits_ += sent.credits[0];
      const int window = credits_ + (given_ - finished_);
      max_window_ = std::max(max_window_, window);
      const int grant = std::min(credits_, left_);
      for (int i = 0; i < grant; ++i)
        chunks.chunks.push_back(Chunk(1, given_ + i));
      credits_ -= grant;
      left_ -= grant;
      given_ += grant;
    }
    if (!chunks.chunks.empty()) link.Deliver(std::move(chunks));
  }

  std::mutex mu_;
  int left_;            // guarded by mu_
  int credits_ = 0;     // guarded by mu_
  int given_ = 0;       // guarded by mu_
  int finished_ = 0;    // guarded by mu_
  int max_window_ = 0;  // guarded by mu_
};

TEST_F(EngineTest, ShortChunksRaiseTheAskUpToTheCap) {
  constexpr int kChunks = 5'000;
  Dispatcher dispatcher(kChunks);
  dispatcher.Attach(coordinator_);
  auto engine =
      StartThreads(std::make_unique<ClockRunner>(clock_, absl::ZeroDuration()));
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  ASSERT_TRUE(link->AwaitResults(kChunks));
  // It rose well beyond the slots, and never beyond the cap.
  EXPECT_GT(dispatcher.max_window(), 100);
  EXPECT_LE(dispatcher.max_window(), 1 + kMaxPrefetchPerSlot);
  std::vector<ChunkResult> results = ResultsOf(link->messages());
  std::set<int64_t> begins;
  for (const ChunkResult& result : results) begins.insert(result.attempt.begin);
  EXPECT_EQ(begins.size(), static_cast<size_t>(kChunks));
}

TEST_F(EngineTest, LongChunksKeepTheAskAtTheSlots) {
  Dispatcher dispatcher(200);
  dispatcher.Attach(coordinator_);
  auto engine = StartThreads(
      std::make_unique<ClockRunner>(clock_, absl::Milliseconds(100)), 2);
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  ASSERT_TRUE(link->AwaitResults(200));
  // Two slots, and one chunk queued for each.
  EXPECT_EQ(dispatcher.max_window(), 4);
}

TEST_F(EngineTest, NoLockIsHeldWhileSending) {
  // The coordinator asks the worker something from inside Send, as an
  // in-process coordinator may: a lock held around Send would deadlock.
  std::atomic<int> asked{0};
  Engine* worker = nullptr;
  std::mutex worker_mu;
  Dispatcher dispatcher(500);
  dispatcher.Attach(coordinator_);
  const FakeLink::SendHook dispatch = coordinator_.on_send;
  coordinator_.on_send = [&](FakeLink& link, const WorkerMessage& sent) {
    {
      std::lock_guard lock(worker_mu);
      if (worker != nullptr) {
        worker->connected();
        asked += 1;
      }
    }
    dispatch(link, sent);
  };
  auto engine = StartThreads(
      std::make_unique<ClockRunner>(clock_, absl::ZeroDuration()), 2);
  {
    std::lock_guard lock(worker_mu);
    worker = engine.get();
  }
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  ASSERT_TRUE(link->AwaitResults(500));
  EXPECT_GT(asked.load(), 0);
  {
    std::lock_guard lock(worker_mu);
    worker = nullptr;
  }
}

TEST_F(EngineTest, EndedJobsDropQueuedChunksAndCancelRunningOnes) {
  auto gate = std::make_unique<GateRunner>();
  GateRunner& runner = *gate;
  auto engine = StartThreads(std::move(gate));
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  link->Deliver(Welcome());
  link->Deliver(Chunks(1, 0, 3, /*define=*/true));
  ASSERT_TRUE(runner.AwaitStarted(1));
  CoordinatorMessage ended;
  ended.ended_jobs.push_back(1);
  link->Deliver(std::move(ended));
  ASSERT_TRUE(link->AwaitResults(1));
  // A later job's chunk runs next: the dropped ones never ran before it.
  runner.Open();
  link->Deliver(Chunks(2, 50, 1, /*define=*/true));
  ASSERT_TRUE(link->AwaitResults(2));
  std::vector<ChunkResult> results = ResultsOf(link->messages());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].attempt, (AttemptRef{1, 0, 1}));
  EXPECT_EQ(results[0].output.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(results[1].attempt, (AttemptRef{2, 50, 1}));
  EXPECT_TRUE(results[1].output.ok());
}

TEST_F(EngineTest, CancelledAttemptsStopOnlyThoseChunks) {
  auto gate = std::make_unique<GateRunner>();
  GateRunner& runner = *gate;
  auto engine = StartThreads(std::move(gate), 2);
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  link->Deliver(Welcome());
  link->Deliver(Chunks(1, 0, 3, /*define=*/true));
  ASSERT_TRUE(runner.AwaitStarted(2));
  CoordinatorMessage cancel;
  cancel.cancelled = {{1, 0, 1}, {1, 2, 1}};  // one running, one queued
  link->Deliver(std::move(cancel));
  ASSERT_TRUE(link->AwaitResults(1));
  runner.Open();
  ASSERT_TRUE(link->AwaitResults(2));
  std::vector<ChunkResult> results = ResultsOf(link->messages());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].attempt, (AttemptRef{1, 0, 1}));
  EXPECT_EQ(results[0].output.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(results[1].attempt, (AttemptRef{1, 1, 1}));
  EXPECT_TRUE(results[1].output.ok());
  engine.reset();
  EXPECT_EQ(ResultsOf(link->messages()).size(), 2u);
}

TEST_F(EngineTest, DrainingGivesQueuedChunksBackAndReportsRunningOnes) {
  auto gate = std::make_unique<GateRunner>();
  GateRunner& runner = *gate;
  auto engine = StartThreads(std::move(gate));
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  link->Deliver(Welcome());
  link->Deliver(Chunks(1, 0, 3, /*define=*/true));
  ASSERT_TRUE(runner.AwaitStarted(1));
  std::thread drain([&] { engine->Drain(absl::Seconds(30)); });
  auto draining = [](const std::vector<WorkerMessage>& sent) {
    return std::any_of(sent.begin(), sent.end(),
                       [](const WorkerMessage& m) { return m.draining; });
  };
  ASSERT_TRUE(link->Await(draining));
  // Sent before the coordinator read that the worker drains: given back.
  link->Deliver(Chunks(1, 3, 1));
  auto released = [](const std::vector<WorkerMessage>& sent) {
    size_t count = 0;
    for (const WorkerMessage& m : sent) count += m.released.size();
    return count >= 3;
  };
  ASSERT_TRUE(link->Await(released));
  runner.Open();
  ASSERT_TRUE(link->AwaitWritesClosed());
  link->Close(absl::OkStatus());
  drain.join();

  std::vector<WorkerMessage> sent = link->messages();
  std::vector<AttemptRef> given_back;
  bool drained = false;
  for (const WorkerMessage& message : sent) {
    given_back.insert(given_back.end(), message.released.begin(),
                      message.released.end());
    // No credits once draining.
    if (drained) {
      EXPECT_THAT(message.credits, ElementsAre(0, 0, 0));
    }
    drained = drained || message.draining;
  }
  EXPECT_THAT(given_back, ElementsAre(AttemptRef{1, 1, 1}, AttemptRef{1, 2, 1},
                                      AttemptRef{1, 3, 1}));
  std::vector<ChunkResult> results = ResultsOf(sent);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].attempt, (AttemptRef{1, 0, 1}));
  EXPECT_TRUE(results[0].output.ok());
  EXPECT_FALSE(engine->connected());
  // Drained workers do not redial.
  EXPECT_EQ(coordinator_.opened(), 1u);
}

TEST_F(EngineTest, ReconnectsAfterTheLinkCloses) {
  auto gate = std::make_unique<GateRunner>();
  GateRunner& runner = *gate;
  auto engine = StartThreads(std::move(gate));
  std::shared_ptr<FakeLink> first = coordinator_.Link(1);
  ASSERT_NE(first, nullptr);
  first->Deliver(Welcome());
  first->Deliver(Chunks(1, 0, 2, /*define=*/true));
  ASSERT_TRUE(runner.AwaitStarted(1));
  first->Close(absl::UnavailableError("coordinator went away"));
  EXPECT_FALSE(engine->connected());

  std::shared_ptr<FakeLink> second = coordinator_.Link(2);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->hello().hello.has_value());
  // What the first link held is gone: once its cancelled chunk is out of
  // the slot, the worker has asked the second for a full window.
  const int hello_credits = second->hello().credits[0];
  EXPECT_TRUE(second->Await([&](const std::vector<WorkerMessage>& sent) {
    return hello_credits + CreditsOf(sent, ExecutorKind::kThreads) == 2;
  }));
  second->Deliver(Welcome());
  EXPECT_TRUE(engine->connected());
  runner.Open();
  second->Deliver(Chunks(1, 7, 1, /*define=*/true));
  ASSERT_TRUE(second->AwaitResults(1));
  // The first link's cancelled chunk is not reported on the second.
  std::vector<ChunkResult> results = ResultsOf(second->messages());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].attempt, (AttemptRef{1, 7, 1}));
  EXPECT_THAT(log(), testing::Contains(HasSubstr(
                         "lost the coordinator (coordinator went away); "
                         "redialing")));
}

TEST_F(EngineTest, RetriesWithBackoffWhileTheCoordinatorIsOutOfReach) {
  coordinator_.on_open = [](FakeLink& link) {
    link.Close(absl::UnavailableError("connection refused"));
  };
  auto engine = StartThreads(std::make_unique<GateRunner>());
  ASSERT_NE(coordinator_.Link(4), nullptr);
  EXPECT_FALSE(engine->connected());
  engine->Stop();
  // Said once, not at every attempt.
  EXPECT_THAT(log(), ElementsAre(HasSubstr(
                         "cannot reach the coordinator (connection refused); "
                         "retrying with backoff up to 5ms")));
}

TEST_F(EngineTest, SendsHeartbeatsWhenIdle) {
  auto engine = StartThreads(std::make_unique<GateRunner>());
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  link->Deliver(Welcome(absl::Milliseconds(50)));
  ASSERT_TRUE(link->Await([](const std::vector<WorkerMessage>& sent) {
    return std::count_if(sent.begin(), sent.end(),
                         [](const WorkerMessage& m) { return m.empty(); }) >= 2;
  }));
}

TEST_F(EngineTest, StopCancelsRunningChunksAndEndsTheLink) {
  auto gate = std::make_unique<GateRunner>();
  GateRunner& runner = *gate;
  auto engine = StartThreads(std::move(gate));
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  link->Deliver(Welcome());
  link->Deliver(Chunks(1, 0, 2, /*define=*/true));
  ASSERT_TRUE(runner.AwaitStarted(1));
  engine->Stop();
  engine->Stop();  // idempotent
  EXPECT_FALSE(engine->connected());
  // Destroying the worker joins its slots: the running chunk was cancelled
  // (a gate never opened would block it forever).
  engine.reset();
  EXPECT_EQ(coordinator_.opened(), 1u);
}

TEST_F(EngineTest, ResultsOfChunksSentWhileTheLinkOpensAreSent) {
  // An in-process coordinator answers before the opener has returned.
  coordinator_.on_open = [](FakeLink& link) {
    CoordinatorMessage message = Welcome();
    message.jobs.push_back(Job(3));
    message.chunks.push_back(Chunk(3, 0));
    link.Deliver(std::move(message));
  };
  auto engine =
      StartThreads(std::make_unique<ClockRunner>(clock_, absl::ZeroDuration()));
  std::shared_ptr<FakeLink> link = coordinator_.Link(1);
  ASSERT_NE(link, nullptr);
  ASSERT_TRUE(link->AwaitResults(1));
  EXPECT_EQ(ResultsOf(link->messages())[0].attempt, (AttemptRef{3, 0, 1}));
}

}  // namespace
}  // namespace pfor::worker
