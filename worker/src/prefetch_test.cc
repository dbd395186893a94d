#include "prefetch.h"

#include "gtest/gtest.h"

namespace pfor::worker {
namespace {

constexpr absl::Duration kTarget = absl::Milliseconds(2);

TEST(PrefetchTest, AsksForTwiceTheSlotsUntilAChunkIsMeasured) {
  Prefetch prefetch(4, -1, kTarget);
  EXPECT_EQ(prefetch.Wanted(), 8);
  EXPECT_EQ(prefetch.time_per_chunk(), absl::ZeroDuration());
}

TEST(PrefetchTest, CoversTheTargetAtTheMeasuredTimePerChunk) {
  Prefetch prefetch(2, -1, kTarget);
  for (int i = 0; i < 100; ++i) prefetch.Observe(absl::Microseconds(100));
  // Two slots, 2 ms each at 100 us a chunk: 40 chunks queued.
  EXPECT_EQ(prefetch.Wanted(), 2 + 40);
}

TEST(PrefetchTest, StopsAtTheCapForTinyChunks) {
  Prefetch prefetch(3, -1, kTarget);
  for (int i = 0; i < 100; ++i) prefetch.Observe(absl::Nanoseconds(50));
  EXPECT_EQ(prefetch.Wanted(), 3 + 3 * kMaxPrefetchPerSlot);
  prefetch.Observe(absl::ZeroDuration());
  EXPECT_EQ(prefetch.Wanted(), 3 + 3 * kMaxPrefetchPerSlot);
}

TEST(PrefetchTest, KeepsLongChunksToOneEachPerSlot) {
  Prefetch prefetch(4, -1, kTarget);
  for (int i = 0; i < 10; ++i) prefetch.Observe(absl::Milliseconds(100));
  EXPECT_EQ(prefetch.Wanted(), 8);
  // Even chunks just under the target get one queued per slot.
  Prefetch medium(4, -1, kTarget);
  medium.Observe(absl::Milliseconds(1.9));
  EXPECT_EQ(medium.Wanted(), 4 + 5);
}

TEST(PrefetchTest, FallsBackQuicklyWhenChunksTurnLong) {
  Prefetch prefetch(1, -1, kTarget);
  for (int i = 0; i < 1000; ++i) prefetch.Observe(absl::Microseconds(1));
  EXPECT_EQ(prefetch.Wanted(), 1 + kMaxPrefetchPerSlot);
  // One 100 ms chunk is enough to stop asking for many more.
  prefetch.Observe(absl::Milliseconds(100));
  EXPECT_EQ(prefetch.Wanted(), 2);
}

TEST(PrefetchTest, RisesWithinAFewHundredShortChunks) {
  Prefetch prefetch(1, -1, kTarget);
  prefetch.Observe(absl::Milliseconds(100));
  int chunks = 0;
  while (prefetch.Wanted() < 1 + kMaxPrefetchPerSlot && chunks < 10'000) {
    prefetch.Observe(absl::Microseconds(1));
    ++chunks;
  }
  EXPECT_LT(chunks, 400);
}

TEST(PrefetchTest, AFixedPrefetchIgnoresTheMeasurements) {
  Prefetch prefetch(4, 3, kTarget);
  EXPECT_EQ(prefetch.Wanted(), 7);
  for (int i = 0; i < 100; ++i) prefetch.Observe(absl::Nanoseconds(10));
  EXPECT_EQ(prefetch.Wanted(), 7);
  Prefetch none(2, 0, kTarget);
  EXPECT_EQ(none.Wanted(), 2);
}

}  // namespace
}  // namespace pfor::worker
