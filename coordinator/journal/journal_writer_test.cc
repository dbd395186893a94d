#include "journal_writer.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

// Counts what reaches it; fails every write while told to, keeping the
// entries of failed writes for the next, as journals do.
class CountingJournal final : public Journal {
 public:
  absl::Status Write(const std::vector<JournalEntry>& entries) override {
    std::lock_guard lock(mu_);
    pending_ += entries.size();
    if (fail_) return absl::ResourceExhaustedError("disk full");
    written_ += std::exchange(pending_, 0);
    batches_ += 1;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<RecoveredJob>> Load() override {
    return std::vector<RecoveredJob>();
  }
  void Fail(bool fail = true) {
    std::lock_guard lock(mu_);
    fail_ = fail;
  }
  size_t written() {
    std::lock_guard lock(mu_);
    return written_;
  }
  size_t batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  bool fail_ = false;
  size_t pending_ = 0;
  size_t written_ = 0;
  size_t batches_ = 0;
};

std::vector<JournalEntry> Chunks(int count) {
  std::vector<JournalEntry> entries;
  for (int i = 0; i < count; ++i)
    entries.push_back(ChunkDone{
        1, i, i + 1, std::make_shared<const ChunkOutput>(Value(int64_t{1}))});
  return entries;
}

TEST(JournalWriterTest, SyncWaitsUntilEverythingAppendedIsWritten) {
  CountingJournal journal;
  JournalWriter writer(&journal);
  std::vector<std::thread> appenders;
  for (int t = 0; t < 4; ++t) {
    appenders.emplace_back([&] {
      for (int i = 0; i < 250; ++i) writer.Append(Chunks(4));
    });
  }
  for (std::thread& thread : appenders) thread.join();
  ASSERT_TRUE(writer.Sync().ok());
  EXPECT_EQ(journal.written(), 4000u);
  // Entries that arrive while a batch is written share the next one.
  EXPECT_LT(journal.batches(), 1000u);
}

// Polls `condition` every few milliseconds for up to ten seconds.
bool PollUntil(const std::function<bool()>& condition) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A full disk: the failure is reported for as long as it lasts, nothing is
// lost, and the writer catches up by itself once the disk has room, with no
// new entry to push it.
TEST(JournalWriterTest, ReportsAFailureUntilItCatchesUpByItself) {
  CountingJournal journal;
  JournalWriter writer(&journal, absl::Milliseconds(5));
  writer.Append(Chunks(1));
  ASSERT_TRUE(writer.Sync().ok());
  journal.Fail();
  writer.Append(Chunks(2));
  EXPECT_EQ(writer.Sync().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(journal.written(), 1u);
  journal.Fail(false);
  EXPECT_TRUE(PollUntil([&] { return writer.status().ok(); }));
  EXPECT_EQ(journal.written(), 3u);
  EXPECT_TRUE(writer.Sync().ok());
}

TEST(JournalWriterTest, WritesWhatIsQueuedBeforeStopping) {
  CountingJournal journal;
  {
    JournalWriter writer(&journal);
    for (int i = 0; i < 100; ++i) writer.Append(Chunks(10));
  }
  EXPECT_EQ(journal.written(), 1000u);
}

TEST(JournalWriterTest, AppendCountsEntriesSinceTheStart) {
  CountingJournal journal;
  JournalWriter writer(&journal);
  EXPECT_EQ(writer.Append(Chunks(3)), 3u);
  EXPECT_EQ(writer.Append({}), 3u);
  EXPECT_EQ(writer.Append(Chunks(2)), 5u);
}

// Waits for a callback's status, with a deadline.
class Outcome {
 public:
  JournalWriter::Written Callback() {
    return [this](const absl::Status& status) {
      std::lock_guard lock(mu_);
      status_ = status;
      thread_ = std::this_thread::get_id();
      done_ = true;
      changed_.notify_all();
    };
  }
  // Nullopt when no callback came within a few seconds.
  std::optional<absl::Status> Wait() {
    std::unique_lock lock(mu_);
    if (!changed_.wait_for(lock, std::chrono::seconds(10),
                           [&] { return done_; })) {
      return std::nullopt;
    }
    return status_;
  }
  std::thread::id thread() {
    std::lock_guard lock(mu_);
    return thread_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool done_ = false;
  absl::Status status_;
  std::thread::id thread_;
};

TEST(JournalWriterTest, WhenWrittenCallsBackOnTheWritersThreadOnceDurable) {
  CountingJournal journal;
  JournalWriter writer(&journal);
  const uint64_t count = writer.Append(Chunks(10));
  Outcome outcome;
  // The caller holds a lock the callback would take: it must not deadlock.
  std::mutex caller;
  {
    std::lock_guard lock(caller);
    writer.WhenWritten(
        count, [&, done = outcome.Callback()](const absl::Status& status) {
          std::lock_guard taken(caller);
          done(status);
        });
  }
  const std::optional<absl::Status> status = outcome.Wait();
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->ok());
  EXPECT_GE(journal.written(), 10u);
  EXPECT_NE(outcome.thread(), std::this_thread::get_id());
  // Already written: called back all the same, on the writer's thread.
  Outcome again;
  writer.WhenWritten(count, again.Callback());
  ASSERT_TRUE(again.Wait().has_value());
  EXPECT_NE(again.thread(), std::this_thread::get_id());
}

TEST(JournalWriterTest, WhenWrittenReportsTheFailure) {
  CountingJournal journal;
  JournalWriter writer(&journal);
  journal.Fail();
  Outcome outcome;
  writer.WhenWritten(writer.Append(Chunks(1)), outcome.Callback());
  const std::optional<absl::Status> status = outcome.Wait();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kResourceExhausted);
}

TEST(JournalWriterTest, CancelsCallbacksForEntriesNeverAppended) {
  CountingJournal journal;
  Outcome outcome;
  {
    JournalWriter writer(&journal);
    writer.WhenWritten(writer.Append(Chunks(1)) + 1, outcome.Callback());
  }
  const std::optional<absl::Status> status = outcome.Wait();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace pfor::coordinator
