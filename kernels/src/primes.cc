#include "primes.h"

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernel_util.h"
#include "primesieve.hpp"

namespace pfor {
namespace {

constexpr char kCountPrimes[] = "count_primes";
constexpr char kCountPrimesTrial[] = "count_primes_trial";

// primesieve::count_primes regenerates the sieving primes (up to sqrt(stop))
// and its sieve on every call: with sub-ranges of 2^26 that costs ~20% of the
// count, with 2^28 ~3%, and a sub-range of 2^28 takes ~20 ms, a fine polling
// period. Above kCountCallLimit the setup would dominate, so an iterator keeps
// the sieving primes across polls.
constexpr uint64_t kCountCallLimit = uint64_t{1} << 40;
constexpr uint64_t kCountCallStep = uint64_t{1} << 28;
// Far out (density ~1/40) this many primes take a few milliseconds.
constexpr int64_t kIteratorPollEvery = int64_t{1} << 14;
// About a millisecond of 64-bit divisions.
constexpr int64_t kTrialPollEvery = int64_t{1} << 16;

void UseOneThreadInPrimesieve() {
  // count_primes spreads over every core by default, but each chunk must
  // stay on its executor slot. The setting is process-wide; a magic static
  // makes the write happen once, before any count from any thread.
  [[maybe_unused]] static const bool once = [] {
    primesieve::set_num_threads(1);
    return true;
  }();
}

// Number of primes in [lo, hi], 2 <= lo <= hi. With `first_only` it stops
// at the first prime (a result of 0 or 1).
absl::StatusOr<uint64_t> CountPrimesIn(uint64_t lo, uint64_t hi,
                                       bool first_only,
                                       const ChunkContext& chunk) {
  UseOneThreadInPrimesieve();
  uint64_t count = 0;
  while (lo <= kCountCallLimit) {
    if (chunk.cancelled()) return ChunkCancelled(chunk, kCountPrimes);
    const uint64_t sub_hi =
        std::min({hi, lo + kCountCallStep - 1, kCountCallLimit});
    count += primesieve::count_primes(lo, sub_hi);
    if (sub_hi == hi || (first_only && count > 0)) return count;
    lo = sub_hi + 1;
  }
  if (chunk.cancelled()) return ChunkCancelled(chunk, kCountPrimes);
  // hi < 2^63, so next_prime() never nears primesieve's limit (~2^64).
  primesieve::iterator primes(lo, hi);
  CancelPoller poller(chunk, kIteratorPollEvery);
  for (uint64_t p = primes.next_prime(); p <= hi; p = primes.next_prime()) {
    ++count;
    if (first_only) break;
    if (poller.Tick()) return ChunkCancelled(chunk, kCountPrimes);
  }
  return count;
}

// Integers < 2 are not prime, and any three consecutive integers >= 2 hold
// a composite (an even number > 2), so most chunks have minimum 0 without
// sieving.
bool HoldsNonPrimeTrivially(const ChunkContext& chunk) {
  return chunk.begin < 2 || ChunkSize(chunk) >= 3;
}

absl::StatusOr<Value> RunCountPrimes(const ChunkContext& chunk) {
  if (absl::Status s = CheckChunk(chunk, kCountPrimes); !s.ok()) return s;
  const uint64_t size = ChunkSize(chunk);
  if (chunk.end <= 2 ||
      (chunk.reduction == Reduction::kMin && HoldsNonPrimeTrivially(chunk))) {
    return FoldIndicators(chunk.reduction, size, 0);
  }
  const uint64_t lo = static_cast<uint64_t>(std::max<int64_t>(chunk.begin, 2));
  const uint64_t hi = static_cast<uint64_t>(chunk.end - 1);
  absl::StatusOr<uint64_t> primes =
      CountPrimesIn(lo, hi, chunk.reduction == Reduction::kMax, chunk);
  if (!primes.ok()) return primes.status();
  return FoldIndicators(chunk.reduction, size, *primes);
}

enum class Primality { kComposite, kPrime, kCancelled };

Primality TrialDivide(int64_t n, CancelPoller& poller) {
  if (n < 2) return Primality::kComposite;
  if (n < 4) return Primality::kPrime;
  if (n % 2 == 0) return Primality::kComposite;
  // d <= n / d rather than d * d <= n, which overflows near INT64_MAX.
  for (int64_t d = 3; d <= n / d; d += 2) {
    if (n % d == 0) return Primality::kComposite;
    if (poller.Tick()) return Primality::kCancelled;
  }
  return Primality::kPrime;
}

absl::StatusOr<Value> RunCountPrimesTrial(const ChunkContext& chunk) {
  if (absl::Status s = CheckChunk(chunk, kCountPrimesTrial); !s.ok()) {
    return s;
  }
  const uint64_t size = ChunkSize(chunk);
  if (chunk.end <= 2 ||
      (chunk.reduction == Reduction::kMin && HoldsNonPrimeTrivially(chunk))) {
    return FoldIndicators(chunk.reduction, size, 0);
  }
  CancelPoller poller(chunk, kTrialPollEvery);
  uint64_t primes = 0;
  // Indices below 2 are not prime: start at 2 rather than walk them.
  for (int64_t n = std::max<int64_t>(chunk.begin, 2); n < chunk.end; ++n) {
    switch (TrialDivide(n, poller)) {
      case Primality::kPrime:
        ++primes;
        break;
      case Primality::kComposite:
        break;
      case Primality::kCancelled:
        return ChunkCancelled(chunk, kCountPrimesTrial);
    }
    if (chunk.reduction == Reduction::kMax && primes > 0) break;
    if (poller.Tick()) return ChunkCancelled(chunk, kCountPrimesTrial);
  }
  return FoldIndicators(chunk.reduction, size, primes);
}

}  // namespace

bool IsPrimeByTrialDivision(int64_t n) {
  const ChunkContext never_cancelled;
  CancelPoller poller(never_cancelled, kTrialPollEvery);
  return TrialDivide(n, poller) == Primality::kPrime;
}

KernelDef CountPrimesKernel() {
  return {.name = kCountPrimes,
          .help =
              "Counts the primes in the range (value 1 per prime index) "
              "with a segmented sieve.",
          .params = {},
          .run = RunCountPrimes};
}

KernelDef CountPrimesTrialKernel() {
  return {.name = kCountPrimesTrial,
          .help =
              "Counts the primes in the range by trial division, like "
              "the Python examples; slow on purpose.",
          .params = {},
          .run = RunCountPrimesTrial};
}

}  // namespace pfor
