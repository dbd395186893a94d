#include "scheduler_host.h"

#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal_writer.h"
#include "local_links.h"
#include "pfor/common/clock.h"

namespace pfor::coordinator {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kKernel[] = "count";

Hello WorkerHello(const std::string& name, int threads) {
  Hello hello;
  hello.name = name;
  hello.slots[static_cast<int>(ExecutorKind::kThreads)] = threads;
  hello.kernels.push_back(
      KernelInfo{kKernel, "counts indices", {}, {ExecutorKind::kThreads}});
  return hello;
}

// A worker's end of a link, recording what the coordinator sends. Its
// handler may be given a reaction, run inside OnMessage.
class FakeWorker final : public WorkerLinkHandler {
 public:
  void Connect(const WorkerLinkOpener& opener, Hello hello, int credits) {
    WorkerMessage first;
    first.hello = std::move(hello);
    first.credits[0] = credits;
    link_ = opener(std::move(first), this);
  }

  void OnMessage(CoordinatorMessage message) override {
    std::function<void(const CoordinatorMessage&)> react;
    {
      std::lock_guard lock(mu_);
      if (message.welcome) worker_id_ = message.welcome->worker_id;
      for (const auto& chunk : message.chunks) chunks_.push_back(chunk);
      for (uint64_t job : message.ended_jobs) ended_.push_back(job);
      react = react_;
    }
    if (react) react(message);
  }
  void OnClosed(const absl::Status& status) override {
    std::lock_guard lock(mu_);
    closed_ = status;
  }

  // Reports chunk `i` done with the number of its indices as its value.
  void Finish(size_t i) {
    ChunkAssignment chunk = chunks().at(i);
    WorkerMessage message;
    message.results.push_back(
        {chunk.attempt, ChunkOutput(Value(chunk.end - chunk.attempt.begin)),
         absl::Milliseconds(1)});
    message.credits[0] = 1;
    link_->Send(std::move(message));
  }

  // Reports chunk `i` started on a slot.
  void Start(size_t i) {
    WorkerMessage message;
    message.started.push_back(chunks().at(i).attempt);
    link_->Send(std::move(message));
  }

  std::vector<ChunkAssignment> chunks() {
    std::lock_guard lock(mu_);
    return chunks_;
  }
  std::optional<absl::Status> closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }
  uint64_t worker_id() {
    std::lock_guard lock(mu_);
    return worker_id_;
  }
  void React(std::function<void(const CoordinatorMessage&)> react) {
    std::lock_guard lock(mu_);
    react_ = std::move(react);
  }
  WorkerLink& link() { return *link_; }

 private:
  std::mutex mu_;
  uint64_t worker_id_ = 0;
  std::vector<ChunkAssignment> chunks_;
  std::vector<uint64_t> ended_;
  std::optional<absl::Status> closed_;
  std::function<void(const CoordinatorMessage&)> react_;
  std::shared_ptr<WorkerLink> link_;
};

// A client's session handler, recording answers and events.
class FakeClient final : public SessionHandler {
 public:
  void OnSubmitted(uint64_t call, absl::StatusOr<JobStatus> job) override {
    std::lock_guard lock(mu_);
    answers_.emplace_back(call, std::move(job));
    changed_.notify_all();
  }
  void OnEvents(std::vector<JobEvent> events) override {
    std::lock_guard lock(mu_);
    for (JobEvent& event : events) events_.push_back(std::move(event));
    changed_.notify_all();
  }
  void OnClosed(const absl::Status& status) override {
    std::lock_guard lock(mu_);
    closed_ = status;
    changed_.notify_all();
  }

  absl::StatusOr<JobStatus> AnswerTo(uint64_t call) {
    std::unique_lock lock(mu_);
    const bool answered =
        changed_.wait_for(lock, std::chrono::seconds(10), [&] {
          for (const auto& [id, job] : answers_) {
            if (id == call) return true;
          }
          return false;
        });
    if (!answered) return absl::DeadlineExceededError("no answer");
    for (const auto& [id, job] : answers_) {
      if (id == call) return job;
    }
    return absl::InternalError("unreachable");
  }
  std::vector<JobEvent> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

  // The last event of `job`, if any.
  std::optional<JobEvent> Last(uint64_t job) {
    std::lock_guard lock(mu_);
    for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
      if (it->job == job) return *it;
    }
    return std::nullopt;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::pair<uint64_t, absl::StatusOr<JobStatus>>> answers_;
  std::vector<JobEvent> events_;
  std::optional<absl::Status> closed_;
};

std::shared_ptr<const JobSpec> CountJob(int64_t end, int64_t chunk) {
  auto spec = std::make_shared<JobSpec>();
  spec->kernel = kKernel;
  spec->end = end;
  spec->chunks = ChunkPolicy::Fixed(chunk);
  return spec;
}

class SchedulerHostTest : public ::testing::Test {
 protected:
  SchedulerHostTest() : host_(Options(), clock_, nullptr) {}

  static ServerOptions Options() {
    ServerOptions options;
    options.listen = "";
    options.scheduling.heartbeat_timeout = absl::Seconds(5);
    return options;
  }

  FakeClock clock_;
  SchedulerHost host_;
  WorkerLinkOpener links_ = LocalWorkerLinks(&host_);
  std::unique_ptr<CoordinatorCalls> calls_ = NewLocalCalls(&host_);
};

TEST_F(SchedulerHostTest, SubmittedJobRunsOnALinkedWorkerAndEndsWithItsSum) {
  FakeWorker worker;
  worker.Connect(links_, WorkerHello("w1", 1), 2);
  ASSERT_NE(worker.worker_id(), 0u);
  FakeClient client;
  std::shared_ptr<Session> session = calls_->OpenSession(&client);
  session->Submit(1, CountJob(10, 5), /*follow=*/true);
  absl::StatusOr<JobStatus> job = client.AnswerTo(1);
  ASSERT_TRUE(job.ok()) << job.status();
  // Two credits, two chunks, at once.
  ASSERT_EQ(worker.chunks().size(), 2u);
  worker.Finish(0);
  worker.Finish(1);
  std::optional<JobEvent> last = client.Last(job->id);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->state, JobState::kSucceeded);
  ASSERT_NE(last->status, nullptr);
  ASSERT_TRUE(last->status->value.has_value());
  EXPECT_EQ(std::get<int64_t>(*last->status->value), 10);
  session->Close();
}

TEST_F(SchedulerHostTest, AnswerComesBeforeTheJobsEvents) {
  FakeWorker worker;
  worker.Connect(links_, WorkerHello("w1", 1), 1);
  FakeClient client;
  std::shared_ptr<Session> session = calls_->OpenSession(&client);
  session->Submit(7, CountJob(1, 1), true);
  ASSERT_TRUE(client.AnswerTo(7).ok());
  std::vector<JobEvent> events = client.events();
  ASSERT_FALSE(events.empty());
  // The first event of a follow holds the job's status.
  EXPECT_NE(events.front().status, nullptr);
  session->Close();
}

TEST_F(SchedulerHostTest, RejectedJobIsAnsweredWithTheReason) {
  FakeWorker worker;
  worker.Connect(links_, WorkerHello("w1", 1), 1);
  FakeClient client;
  std::shared_ptr<Session> session = calls_->OpenSession(&client);
  auto spec = std::make_shared<JobSpec>();
  spec->kernel = kKernel;
  spec->begin = 10;
  spec->end = 5;
  session->Submit(3, spec, true);
  absl::StatusOr<JobStatus> job = client.AnswerTo(3);
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(job.status().message(), HasSubstr("before begin"));
  session->Close();
}

TEST_F(SchedulerHostTest, SilentWorkerIsDroppedAndItsChunkRunsElsewhere) {
  FakeWorker silent;
  silent.Connect(links_, WorkerHello("silent", 1), 1);
  absl::StatusOr<JobStatus> job = calls_->Submit(*CountJob(4, 4));
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(silent.chunks().size(), 1u);

  clock_.Advance(absl::Seconds(6));
  host_.Tick();
  ASSERT_TRUE(silent.closed().has_value());
  EXPECT_EQ(silent.closed()->code(), absl::StatusCode::kUnavailable);

  FakeWorker other;
  other.Connect(links_, WorkerHello("other", 1), 1);
  ASSERT_EQ(other.chunks().size(), 1u);
  EXPECT_EQ(other.chunks()[0].attempt.begin, 0);
  EXPECT_EQ(other.chunks()[0].attempt.attempt, 2);
  // The lost attempt's late result counts for nothing; the new one does.
  silent.Finish(0);
  other.Finish(0);
  absl::StatusOr<JobStatus> done = calls_->Get(job->id, false, {});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kSucceeded);
  EXPECT_EQ(std::get<int64_t>(*done->value), 4);
  EXPECT_EQ(done->progress.chunks_requeued, 1);
}

TEST_F(SchedulerHostTest, HeartbeatsKeepAWorkerThatRunsLong) {
  FakeWorker worker;
  worker.Connect(links_, WorkerHello("w1", 1), 1);
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(3));
    worker.link().Send(WorkerMessage());  // a heartbeat
    host_.Tick();
  }
  EXPECT_FALSE(worker.closed().has_value());
}

TEST_F(SchedulerHostTest, ProgressComesAtMostOnceAnInterval) {
  FakeWorker worker;
  worker.Connect(links_, WorkerHello("w1", 1), 10);
  absl::StatusOr<JobStatus> job = calls_->Submit(*CountJob(10, 1));
  ASSERT_TRUE(job.ok());
  FakeClient client;
  std::shared_ptr<Session> session = calls_->OpenSession(&client);
  session->Follow(job->id, absl::Seconds(1));
  // The job runs: a state change, which goes out at once.
  worker.Start(0);
  const size_t first = client.events().size();
  ASSERT_EQ(first, 2u);
  EXPECT_EQ(client.events().back().state, JobState::kRunning);
  // Chunks finish within the interval: their progress is held back...
  for (size_t i = 0; i < 4; ++i) worker.Finish(i);
  host_.Tick();
  EXPECT_EQ(client.events().size(), first);
  // ...and goes out once it has passed, as one event with the newest
  // numbers.
  clock_.Advance(absl::Seconds(1));
  host_.Tick();
  ASSERT_EQ(client.events().size(), first + 1);
  EXPECT_EQ(client.events().back().progress.chunks_done, 4);
  session->Close();
}

TEST_F(SchedulerHostTest, WorkerMaySendFromInsideItsHandler) {
  // An in-process worker's handler runs on the thread that flushed; a Send
  // from there must not deadlock (it re-enters the host).
  FakeWorker worker;
  worker.React([&worker](const CoordinatorMessage& message) {
    for (const ChunkAssignment& chunk : message.chunks) {
      WorkerMessage result;
      result.results.push_back(
          {chunk.attempt, ChunkOutput(Value(chunk.end - chunk.attempt.begin)),
           absl::ZeroDuration()});
      result.credits[0] = 1;
      worker.link().Send(std::move(result));
    }
  });
  worker.Connect(links_, WorkerHello("w1", 1), 1);
  absl::StatusOr<JobStatus> job = calls_->Submit(*CountJob(100, 1));
  ASSERT_TRUE(job.ok());
  absl::StatusOr<JobStatus> done = calls_->Get(job->id, false, {});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kSucceeded);
  EXPECT_EQ(std::get<int64_t>(*done->value), 100);
  EXPECT_EQ(done->progress.chunks_done, 100);
}

// An outbox that only records: what a gRPC stream would write on Flush.
class RecordingOutbox final : public WorkerOutbox {
 public:
  void Queue(CoordinatorMessage message) override {
    queued_.Merge(std::move(message));
  }
  void Close(const std::string& reason) override { closed_ = reason; }
  void Flush() override { flushed_.Merge(std::exchange(queued_, {})); }
  const CoordinatorMessage& flushed() const { return flushed_; }

 private:
  CoordinatorMessage queued_;
  CoordinatorMessage flushed_;
  std::string closed_;
};

TEST_F(SchedulerHostTest, JoiningFlushesTheWelcomeAndTheFirstChunks) {
  absl::StatusOr<JobStatus> job = calls_->Submit(*CountJob(4, 2));
  ASSERT_TRUE(job.ok());
  auto outbox = std::make_shared<RecordingOutbox>();
  WorkerMessage first;
  first.hello = WorkerHello("w1", 1);
  first.credits[0] = 2;
  absl::StatusOr<WorkerId> id = host_.Join(std::move(first), "peer", outbox);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(outbox->flushed().welcome.has_value());
  EXPECT_EQ(outbox->flushed().welcome->worker_id, *id);
  EXPECT_EQ(outbox->flushed().jobs.size(), 1u);
  EXPECT_EQ(outbox->flushed().chunks.size(), 2u);
}

// Records the batches a session hands on, in order; the first hand-over
// waits (up to a limit) for a second flush to overtake it.
class OvertakenSink final : public SessionSink {
 public:
  void Flush() override {
    TakeOutbox([this](SessionOutbox::Batch batch) {
      if (calls_.fetch_add(1) == 0) {
        entered_.Notify();
        overtaken_.WaitForNotificationWithTimeout(absl::Milliseconds(200));
      }
      std::lock_guard lock(mu_);
      handed_.push_back(std::move(batch));
      return true;
    });
  }
  void Close(const absl::Status&) override {}

  absl::Notification entered_;
  absl::Notification overtaken_;
  std::vector<SessionOutbox::Batch> handed() {
    std::lock_guard lock(mu_);
    return handed_;
  }

 private:
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::vector<SessionOutbox::Batch> handed_;
};

TEST(SessionSinkTest, HandsBatchesOnInTheOrderTheyLeftTheOutbox) {
  // Two threads flush one session at once (the submitter its answer, a
  // worker's thread the job's end): the later batch must not get ahead, or
  // the older event would merge over the final one downstream.
  OvertakenSink sink;
  JobEvent running;
  running.job = 1;
  running.state = JobState::kRunning;
  sink.outbox().Follow(1, absl::ZeroDuration(), running, absl::UnixEpoch());
  std::thread first([&] { sink.Flush(); });
  sink.entered_.WaitForNotification();
  JobEvent done = running;
  done.state = JobState::kSucceeded;
  done.status = std::make_shared<const JobStatus>();
  sink.outbox().Add(done, absl::UnixEpoch());
  std::thread second([&] {
    sink.Flush();
    sink.overtaken_.Notify();
  });
  first.join();
  second.join();
  std::vector<SessionOutbox::Batch> handed = sink.handed();
  ASSERT_EQ(handed.size(), 2u);
  ASSERT_EQ(handed[0].events.size(), 1u);
  EXPECT_EQ(handed[0].events[0].state, JobState::kRunning);
  ASSERT_EQ(handed[1].events.size(), 1u);
  EXPECT_EQ(handed[1].events[0].state, JobState::kSucceeded);
}

TEST_F(SchedulerHostTest, BadHelloClosesTheLinkWithTheReason) {
  FakeWorker worker;
  worker.Connect(links_, WorkerHello("w1", 0), 1);
  ASSERT_TRUE(worker.closed().has_value());
  EXPECT_EQ(worker.closed()->code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(worker.closed()->message(), HasSubstr("slots"));
}

TEST_F(SchedulerHostTest, FollowingAnUnknownJobSaysItIsMissing) {
  FakeClient client;
  std::shared_ptr<Session> session = calls_->OpenSession(&client);
  session->Follow(12345);
  std::optional<JobEvent> last = client.Last(12345);
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->missing);
  session->Close();
}

// A journal that fails every write after the first `good` ones, as a full
// disk does, until healed; it keeps what it could not write for the next.
class FlakyJournal final : public Journal {
 public:
  explicit FlakyJournal(int good) : good_(good) {}
  absl::Status Write(const std::vector<JournalEntry>& entries) override {
    std::lock_guard lock(mu_);
    pending_ += entries.size();
    if (good_-- <= 0) {
      return absl::ResourceExhaustedError(
          "journal /state/journal.sqlite: database or disk is full");
    }
    written_ += std::exchange(pending_, 0);
    return absl::OkStatus();
  }
  void Heal() {
    std::lock_guard lock(mu_);
    good_ = std::numeric_limits<int>::max();
  }
  absl::StatusOr<std::vector<RecoveredJob>> Load() override {
    return std::vector<RecoveredJob>();
  }
  size_t written() {
    std::lock_guard lock(mu_);
    return written_;
  }

 private:
  std::mutex mu_;
  int good_;
  size_t pending_ = 0;
  size_t written_ = 0;
};

TEST(SchedulerHostJournalTest, AcceptsAJobOnlyOnceItIsDurable) {
  FakeClock clock;
  FlakyJournal journal(/*good=*/1000);
  JournalWriter writer(&journal);
  ServerOptions options;
  SchedulerHost host(options, clock, &writer);
  std::unique_ptr<CoordinatorCalls> calls = NewLocalCalls(&host);
  absl::StatusOr<JobStatus> job = calls->Submit(*CountJob(10, 5));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_GE(journal.written(), 1u);
}

TEST(SchedulerHostJournalTest, RefusesAndCancelsAJobTheJournalCannotKeep) {
  FakeClock clock;
  FlakyJournal journal(/*good=*/0);
  JournalWriter writer(&journal);
  ServerOptions options;
  SchedulerHost host(options, clock, &writer);
  std::unique_ptr<CoordinatorCalls> calls = NewLocalCalls(&host);
  absl::StatusOr<JobStatus> job = calls->Submit(*CountJob(10, 5));
  EXPECT_EQ(job.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(job.status().message(),
              AllOf(HasSubstr("cancelled"), HasSubstr("disk is full"),
                    HasSubstr("--state-dir")));
  absl::StatusOr<std::vector<JobStatus>> jobs = calls->ListJobs(0);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state, JobState::kCancelled);
}

// While the disk is full no job is taken (before, every submission was
// acknowledged and almost none survived a restart); once it has room again
// the coordinator catches up and takes jobs by itself.
TEST(SchedulerHostJournalTest, TakesNoJobWhileTheJournalCannotWrite) {
  FakeClock clock;
  FlakyJournal journal(/*good=*/0);
  JournalWriter writer(&journal, absl::Milliseconds(5));
  ServerOptions options;
  SchedulerHost host(options, clock, &writer);
  std::unique_ptr<CoordinatorCalls> calls = NewLocalCalls(&host);
  ASSERT_FALSE(calls->Submit(*CountJob(10, 5)).ok());
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<JobStatus> refused = calls->Submit(*CountJob(10, 5));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(refused.status().message(),
                HasSubstr("it accepts no jobs until it can"));
  }
  EXPECT_EQ(calls->ListJobs(0)->size(), 1u);

  journal.Heal();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!writer.status().ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  absl::StatusOr<JobStatus> accepted = calls->Submit(*CountJob(10, 5));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(writer.Sync().ok());
  // Everything written: the cancelled job and the accepted one.
  EXPECT_GE(journal.written(), 3u);
}

}  // namespace
}  // namespace pfor::coordinator
