#include "primes.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kernel_test_util.h"
#include "primesieve.hpp"

namespace pfor {
namespace {

using kernel_test::ExpectSameForEveryCut;
using kernel_test::ExpectStopsPromptly;
using kernel_test::RunJob;

constexpr int64_t kMax = INT64_MAX;

// Deterministic Miller-Rabin for 64-bit n: an oracle independent of both
// kernels that stays fast far out.
uint64_t MulMod(uint64_t a, uint64_t b, uint64_t m) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b % m);
}

uint64_t PowMod(uint64_t base, uint64_t exponent, uint64_t m) {
  uint64_t result = 1;
  for (base %= m; exponent > 0; exponent >>= 1) {
    if (exponent & 1) result = MulMod(result, base, m);
    base = MulMod(base, base, m);
  }
  return result;
}

bool IsPrimeMillerRabin(int64_t signed_n) {
  if (signed_n < 2) return false;
  const uint64_t n = static_cast<uint64_t>(signed_n);
  for (uint64_t p : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int r = 0;
  for (; d % 2 == 0; d /= 2) ++r;
  for (uint64_t a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    uint64_t x = PowMod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int i = 1; i < r && composite; ++i) {
      x = MulMod(x, x, n);
      composite = x != n - 1;
    }
    if (composite) return false;
  }
  return true;
}

int64_t CountMillerRabin(int64_t begin, int64_t end) {
  int64_t count = 0;
  for (int64_t n = begin; n < end; ++n) count += IsPrimeMillerRabin(n);
  return count;
}

// Primes below `limit` by the plainest sieve of Eratosthenes.
std::vector<bool> NaiveSieve(int64_t limit) {
  std::vector<bool> prime(limit, true);
  prime[0] = prime[1] = false;
  for (int64_t p = 2; p * p < limit; ++p) {
    if (!prime[p]) continue;
    for (int64_t m = p * p; m < limit; m += p) prime[m] = false;
  }
  return prime;
}

int64_t Sum(const KernelDef& kernel, int64_t begin, int64_t end,
            Reduction reduction = Reduction::kSum) {
  absl::StatusOr<Value> value =
      RunJob(kernel, begin, end, {.reduction = reduction});
  EXPECT_TRUE(value.ok()) << value.status();
  if (!value.ok()) return -1;
  return std::get<int64_t>(*value);
}

TEST(CountPrimesTest, CountsPrimesBelowPowersOfTen) {
  const KernelDef kernel = CountPrimesKernel();
  EXPECT_EQ(Sum(kernel, 0, 1'000'000), 78'498);
  EXPECT_EQ(Sum(kernel, 0, 100'000'000), 5'761'455);
}

TEST(CountPrimesTest, CountsPrimesBelowOneBillionOnOneThread) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Sum(CountPrimesKernel(), 0, 1'000'000'000), 50'847'534);
  const std::chrono::duration<double> took =
      std::chrono::steady_clock::now() - start;
  RecordProperty("seconds", testing::PrintToString(took.count()));
  EXPECT_EQ(primesieve::get_num_threads(), 1);
}

TEST(CountPrimesTest, MatchesNaiveSieveOnRandomRanges) {
  constexpr int64_t kLimit = 2'000'000;
  const std::vector<bool> prime = NaiveSieve(kLimit);
  const KernelDef kernel = CountPrimesKernel();
  std::mt19937_64 random(7);
  for (int i = 0; i < 300; ++i) {
    int64_t begin = std::uniform_int_distribution<int64_t>(-50, kLimit)(random);
    // Mostly short ranges, where off-by-one mistakes show.
    const int64_t length = std::uniform_int_distribution<int64_t>(
        1, i % 3 == 0 ? 200'000 : 40)(random);
    const int64_t end = std::min(begin + length, kLimit);
    if (begin >= end) begin = end - 1;
    int64_t expected = 0;
    for (int64_t n = std::max<int64_t>(begin, 0); n < end; ++n) {
      expected += prime[n];
    }
    ASSERT_EQ(Sum(kernel, begin, end), expected)
        << "[" << begin << ", " << end << ")";
  }
}

TEST(CountPrimesTest, MatchesMillerRabinFarOut) {
  const KernelDef kernel = CountPrimesKernel();
  // 2^40 is where the kernel switches from counting calls to an iterator.
  constexpr int64_t kSwitch = int64_t{1} << 40;
  for (int64_t begin : {int64_t{1'000'000'000'000}, kSwitch - 5000, kSwitch - 1,
                        kSwitch, kSwitch + 1, int64_t{1'000'000'000'000'000}}) {
    SCOPED_TRACE(begin);
    EXPECT_EQ(Sum(kernel, begin, begin + 10'000),
              CountMillerRabin(begin, begin + 10'000));
  }
}

TEST(CountPrimesTest, CountsPrimesJustBelowInt64Max) {
  const KernelDef kernel = CountPrimesKernel();
  EXPECT_EQ(Sum(kernel, kMax - 1000, kMax),
            CountMillerRabin(kMax - 1000, kMax));
  // 2^63 - 25 is the largest prime below 2^63.
  EXPECT_EQ(Sum(kernel, kMax - 23, kMax, Reduction::kMax), 0);
}

TEST(CountPrimesTest, FindsNoPrimesAmongNegativesZeroAndOne) {
  const KernelDef kernel = CountPrimesKernel();
  EXPECT_EQ(Sum(kernel, -10, 2), 0);
  EXPECT_EQ(Sum(kernel, INT64_MIN, INT64_MIN + 10), 0);
  EXPECT_EQ(Sum(kernel, INT64_MIN, 100), 25);
  EXPECT_EQ(Sum(kernel, 2, 3), 1);
  EXPECT_EQ(Sum(kernel, 1, 2), 0);
  EXPECT_EQ(Sum(kernel, 4, 5), 0);
}

TEST(CountPrimesTest, FoldsUnderEveryReduction) {
  const KernelDef kernel = CountPrimesKernel();
  EXPECT_EQ(Sum(kernel, 0, 100, Reduction::kCount), 25);
  EXPECT_EQ(Sum(kernel, 0, 100, Reduction::kCollect), 25);
  EXPECT_EQ(Sum(kernel, 0, 100, Reduction::kMin), 0);
  EXPECT_EQ(Sum(kernel, 0, 100, Reduction::kMax), 1);
  EXPECT_EQ(Sum(kernel, 2, 4, Reduction::kMin), 1);
  EXPECT_EQ(Sum(kernel, 3, 4, Reduction::kMin), 1);
  EXPECT_EQ(Sum(kernel, 8, 11, Reduction::kMax), 0);
  EXPECT_EQ(Sum(kernel, 24, 29, Reduction::kMax), 0);
  EXPECT_EQ(Sum(kernel, 24, 30, Reduction::kMax), 1);
  // Decided without sieving, or it would take hours.
  EXPECT_EQ(Sum(kernel, 0, kMax, Reduction::kMin), 0);
  EXPECT_EQ(Sum(kernel, INT64_MIN, kMax, Reduction::kMax), 1);
}

TEST(CountPrimesTest, GivesTheSameResultForEveryChunking) {
  const KernelDef kernel = CountPrimesKernel();
  ExpectSameForEveryCut(kernel, -1000, 10'000'000, 50);
  ExpectSameForEveryCut(kernel, 0, 30, 20);
  ExpectSameForEveryCut(kernel, 1'000'000'000'000 - 100'000,
                        1'000'000'000'000 + 100'000, 20);
}

TEST(CountPrimesTest, CountsCorrectlyOnManyThreadsAtOnce) {
  // Executor slots run chunks concurrently.
  std::vector<int64_t> counts(4);
  std::vector<std::thread> threads;
  for (int64_t& count : counts) {
    threads.emplace_back(
        [&count] { count = Sum(CountPrimesKernel(), 0, 10'000'000); });
  }
  for (std::thread& thread : threads) thread.join();
  for (int64_t count : counts) EXPECT_EQ(count, 664'579);
}

TEST(CountPrimesTest, StopsWhenCancelledBeforeStart) {
  std::atomic<bool> cancel{true};
  absl::StatusOr<Value> value =
      RunJob(CountPrimesKernel(), 0, 1'000'000'000, {.cancel = &cancel});
  EXPECT_EQ(value.status().code(), absl::StatusCode::kCancelled);
}

TEST(CountPrimesTest, StopsPromptlyWhenCancelledMidway) {
  ExpectStopsPromptly(CountPrimesKernel(), 0, int64_t{1} << 40);
  ExpectStopsPromptly(CountPrimesKernel(), int64_t{1} << 41, int64_t{1} << 50);
}

TEST(CountPrimesTrialTest, CountsPrimesBelowOneHundredThousand) {
  EXPECT_EQ(Sum(CountPrimesTrialKernel(), 0, 100'000), 9592);
}

TEST(CountPrimesTrialTest, AgreesWithTheSieve) {
  const KernelDef trial = CountPrimesTrialKernel();
  const KernelDef sieve = CountPrimesKernel();
  for (auto [begin, end] : std::vector<std::pair<int64_t, int64_t>>{
           {-100, 50},
           {INT64_MIN, INT64_MIN + 5},
           {1'000'000, 1'010'000},
           {1'000'000'000'000, 1'000'000'000'300}}) {
    SCOPED_TRACE(begin);
    EXPECT_EQ(Sum(trial, begin, end), Sum(sieve, begin, end));
  }
  // Composites only, each with a small factor, so trial division is quick.
  EXPECT_EQ(Sum(trial, kMax - 23, kMax), 0);
}

TEST(CountPrimesTrialTest, TestsNumbersNearInt64MaxWithoutOverflow) {
  EXPECT_FALSE(IsPrimeByTrialDivision(kMax));       // 7 * 73 * 127 * ...
  EXPECT_FALSE(IsPrimeByTrialDivision(kMax - 29));  // smallest factor 584911
  EXPECT_FALSE(IsPrimeByTrialDivision(INT64_MIN));
  EXPECT_FALSE(IsPrimeByTrialDivision(-7));
  EXPECT_TRUE(IsPrimeByTrialDivision(2));
  EXPECT_TRUE(IsPrimeByTrialDivision(3));
  EXPECT_FALSE(IsPrimeByTrialDivision(9));
  EXPECT_FALSE(IsPrimeByTrialDivision(25));
  EXPECT_TRUE(IsPrimeByTrialDivision(2'147'483'647));
  EXPECT_TRUE(IsPrimeByTrialDivision(1'000'000'007));
  EXPECT_FALSE(IsPrimeByTrialDivision(int64_t{1'000'003} * 1'000'033));
}

TEST(CountPrimesTrialTest, GivesTheSameResultForEveryChunking) {
  ExpectSameForEveryCut(CountPrimesTrialKernel(), -50, 20'000, 30);
  ExpectSameForEveryCut(CountPrimesTrialKernel(), 0, 12, 8);
}

TEST(CountPrimesTrialTest, StopsPromptlyWhenCancelledMidway) {
  ExpectStopsPromptly(CountPrimesTrialKernel(), 0, int64_t{1} << 40);
  // 2^61 - 1 is prime: a single index costs ~10^9 divisions.
  constexpr int64_t kMersenne61 = (int64_t{1} << 61) - 1;
  ExpectStopsPromptly(CountPrimesTrialKernel(), kMersenne61, kMersenne61 + 1);
}

}  // namespace
}  // namespace pfor
