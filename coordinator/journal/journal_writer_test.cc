#include "journal_writer.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

// Counts what reaches it; fails every write once told to.
class CountingJournal final : public Journal {
 public:
  absl::Status Write(const std::vector<JournalEntry>& entries) override {
    std::lock_guard lock(mu_);
    if (fail_) return absl::UnavailableError("disk full");
    written_ += entries.size();
    batches_ += 1;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<RecoveredJob>> Load() override {
    return std::vector<RecoveredJob>();
  }
  void Fail() {
    std::lock_guard lock(mu_);
    fail_ = true;
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
  size_t written_ = 0;
  size_t batches_ = 0;
};

std::vector<JournalEntry> Chunks(int count) {
  std::vector<JournalEntry> entries;
  for (int i = 0; i < count; ++i)
    entries.push_back(ChunkDone{1, i, i + 1, ToProto(Value(int64_t{1}))});
  return entries;
}

TEST(JournalWriterTest, SyncWaitsUntilEverythingAppendedIsWritten) {
  CountingJournal journal;
  JournalWriter writer(&journal, nullptr);
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

TEST(JournalWriterTest, FailureIsReportedAndSticks) {
  CountingJournal journal;
  std::vector<std::string> errors;
  std::mutex errors_mu;
  JournalWriter writer(&journal, [&](const absl::Status& status) {
    std::lock_guard lock(errors_mu);
    errors.push_back(std::string(status.message()));
  });
  writer.Append(Chunks(1));
  ASSERT_TRUE(writer.Sync().ok());
  journal.Fail();
  writer.Append(Chunks(1));
  EXPECT_EQ(writer.Sync().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(writer.Sync().code(), absl::StatusCode::kUnavailable);
  std::lock_guard lock(errors_mu);
  EXPECT_THAT(errors, ::testing::ElementsAre("disk full"));
}

TEST(JournalWriterTest, WritesWhatIsQueuedBeforeStopping) {
  CountingJournal journal;
  {
    JournalWriter writer(&journal, nullptr);
    for (int i = 0; i < 100; ++i) writer.Append(Chunks(10));
  }
  EXPECT_EQ(journal.written(), 1000u);
}

}  // namespace
}  // namespace pfor::coordinator
