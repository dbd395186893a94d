#include "chunk_ledger.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

ChunkLedger Ledger(int64_t begin, int64_t end, int64_t fixed) {
  return ChunkLedger(
      begin, end, *ChunkSizer::Create(ChunkPolicy::Fixed(fixed), begin, end));
}

const absl::Time kNow = absl::UnixEpoch();

TEST(ChunkLedgerTest, CountsAChunkOnlyThroughALiveAttempt) {
  ChunkLedger ledger = Ledger(0, 30, 10);
  const int64_t begin = ledger.TakeNext(1);
  EXPECT_EQ(begin, 0);
  const int32_t attempt = ledger.StartAttempt(begin, 7, kNow).attempts_started;
  EXPECT_EQ(ledger.live_attempts(), 1);
  // Another worker, another attempt number: not live.
  EXPECT_EQ(ledger.Revoke(begin, attempt, 8), nullptr);
  EXPECT_EQ(ledger.Revoke(begin, attempt + 1, 7), nullptr);
  ASSERT_NE(ledger.Revoke(begin, attempt, 7), nullptr);
  EXPECT_TRUE(ledger.Complete(begin, absl::Milliseconds(1)).empty());
  EXPECT_EQ(ledger.chunks_done(), 1);
  EXPECT_EQ(ledger.indices_done(), 10);
  // The same result again finds nothing to count.
  EXPECT_EQ(ledger.Revoke(begin, attempt, 7), nullptr);
  EXPECT_EQ(ledger.chunks_done(), 1);
}

TEST(ChunkLedgerTest, TheFirstResultWinsAndNamesTheOtherCopies) {
  ChunkLedger ledger = Ledger(0, 10, 10);
  const int64_t begin = ledger.TakeNext(1);
  ledger.StartAttempt(begin, 1, kNow);
  ledger.StartAttempt(begin, 2, kNow);  // a backup
  EXPECT_EQ(ledger.live_attempts(), 2);
  ASSERT_NE(ledger.Revoke(begin, 2, 2), nullptr);
  const auto others = ledger.Complete(begin, absl::Milliseconds(1));
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].worker, 1u);
  EXPECT_EQ(others[0].attempt, 1);
  EXPECT_EQ(ledger.live_attempts(), 0);
  EXPECT_TRUE(ledger.Drained());
  EXPECT_EQ(ledger.Revoke(begin, 1, 1), nullptr);
}

TEST(ChunkLedgerTest, RetriesFailedChunksLastAndReleasedOnesFirst) {
  ChunkLedger ledger = Ledger(0, 40, 10);
  for (int i = 0; i < 3; ++i) {
    const int64_t begin = ledger.TakeNext(1);
    ledger.StartAttempt(begin, 1, kNow);
  }
  ChunkInFlight* failed = ledger.Revoke(0, 1, 1);
  ASSERT_NE(failed, nullptr);
  ledger.CountFailure(*failed);
  ledger.Requeue(0, /*first_in_line=*/false);
  ASSERT_NE(ledger.Revoke(10, 1, 1), nullptr);
  ledger.Requeue(10, /*first_in_line=*/true);
  EXPECT_EQ(ledger.attempts_failed(), 1);
  EXPECT_EQ(ledger.TakeNext(1), 10);
  EXPECT_EQ(ledger.TakeNext(1), 0);
  // A retried chunk keeps its number and its attempts.
  const ChunkInFlight& again = ledger.StartAttempt(0, 2, kNow);
  EXPECT_EQ(again.attempts_started, 2);
  EXPECT_EQ(again.failures, 1);
  EXPECT_EQ(again.index, 0);
  EXPECT_EQ(ledger.TakeNext(1), 30);
  EXPECT_FALSE(ledger.HasWork());
}

TEST(ChunkLedgerTest, ResumesWithHolesAfterARestart) {
  ChunkLedger ledger = Ledger(0, 100, 10);
  ledger.RestoreDone(0, 20, 2);
  ledger.RestoreHole(20, 30);
  ledger.RestoreDone(30, 40, 1);
  ledger.ResumeAt(40);
  EXPECT_EQ(ledger.indices_done(), 30);
  EXPECT_EQ(ledger.chunks_done(), 3);
  EXPECT_EQ(ledger.TakeNext(1), 20);
  EXPECT_EQ(ledger.in_flight().at(20).end, 30);
  EXPECT_EQ(ledger.TakeNext(1), 40);
}

TEST(ChunkLedgerTest, QueuesABackupOfEachOverdueChunkOnce) {
  ChunkLedger ledger = Ledger(0, 30, 10);
  for (int worker = 1; worker <= 3; ++worker) {
    ledger.StartAttempt(ledger.TakeNext(1), worker, kNow);
  }
  const auto limit = [](int64_t) { return absl::Seconds(5); };
  EXPECT_TRUE(
      ledger.MarkOverdue(kNow + absl::Seconds(4), absl::Seconds(5), limit)
          .empty());
  EXPECT_FALSE(ledger.WantsBackups());
  const std::vector<LiveAttempt> late =
      ledger.MarkOverdue(kNow + absl::Seconds(5), absl::Seconds(5), limit);
  EXPECT_EQ(late.size(), 3u);
  // Once only.
  EXPECT_TRUE(
      ledger.MarkOverdue(kNow + absl::Seconds(9), absl::Seconds(5), limit)
          .empty());
  // A worker backs up another's chunk, never its own.
  EXPECT_EQ(ledger.PeekBackup(1), 10);
  EXPECT_EQ(ledger.TakeBackup(1), 10);
  ledger.StartAttempt(10, 1, kNow + absl::Seconds(9));
  // The chunk at 20 finished meanwhile: no backup of it.
  ASSERT_NE(ledger.Revoke(20, 1, 3), nullptr);
  ledger.Complete(20, absl::Seconds(9));
  EXPECT_EQ(ledger.TakeBackup(1), std::nullopt);
  EXPECT_EQ(ledger.TakeBackup(2), 0);
  EXPECT_FALSE(ledger.WantsBackups());
}

TEST(ChunkLedgerTest, CountsLiveAttemptsIntoASharedTotal) {
  int64_t total = 5;
  ChunkLedger ledger = Ledger(0, 30, 10);
  ledger.CountLiveIn(&total);
  ledger.StartAttempt(ledger.TakeNext(1), 1, kNow);
  ledger.StartAttempt(ledger.TakeNext(1), 2, kNow);
  EXPECT_EQ(total, 7);
  ASSERT_NE(ledger.Revoke(0, 1, 1), nullptr);
  EXPECT_EQ(total, 6);
  ledger.Clear();
  EXPECT_EQ(total, 5);
}

}  // namespace
}  // namespace pfor::coordinator
