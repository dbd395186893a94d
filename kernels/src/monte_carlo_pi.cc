#include "monte_carlo_pi.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernel_util.h"

namespace pfor {
namespace {

constexpr char kMonteCarloPi[] = "monte_carlo_pi";
// About a millisecond of points.
constexpr int64_t kPollEvery = int64_t{1} << 16;
constexpr uint64_t kGolden = 0x9e3779b97f4a7c15;

// SplitMix64's finalizer: a bijection of uint64 that mixes every input bit
// into every output bit.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

uint64_t StreamKey(int64_t seed) {
  return Mix(static_cast<uint64_t>(seed) + kGolden);
}

bool PointInside(uint64_t key, int64_t index) {
  // Mix is a bijection, so distinct indices get distinct states.
  const uint64_t state = Mix(static_cast<uint64_t>(index) ^ key);
  // x = X / 2^63 and y = Y / 2^63; x^2 + y^2 < 1 is decided in exact integer
  // arithmetic so that no platform's rounding or FMA changes the answer.
  const unsigned __int128 x = Mix(state + kGolden) >> 1;
  const unsigned __int128 y = Mix(state + 2 * kGolden) >> 1;
  return x * x + y * y < (static_cast<unsigned __int128>(1) << 126);
}

absl::StatusOr<Value> RunMonteCarloPi(const ChunkContext& chunk) {
  if (absl::Status s = CheckChunk(chunk, kMonteCarloPi); !s.ok()) return s;
  if (chunk.params == nullptr) {
    return absl::InvalidArgumentError(
        "kernel monte_carlo_pi: needs parameter seed");
  }
  const uint64_t key = StreamKey(chunk.params->Int("seed"));
  CancelPoller poller(chunk, kPollEvery);
  uint64_t inside = 0;
  for (int64_t i = chunk.begin; i < chunk.end; ++i) {
    if (poller.Tick()) return ChunkCancelled(chunk, kMonteCarloPi);
    inside += PointInside(key, i);
  }
  return FoldIndicators(chunk.reduction, ChunkSize(chunk), inside);
}

}  // namespace

bool MonteCarloPointInside(int64_t seed, int64_t index) {
  return PointInside(StreamKey(seed), index);
}

KernelDef MonteCarloPiKernel() {
  ParamSpec seed;
  seed.name = "seed";
  seed.type = ParamType::kInt;
  seed.help = "selects the random stream; the same seed gives the same result";
  seed.default_value = int64_t{0};
  return {.name = kMonteCarloPi,
          .help =
              "Counts random points of the unit square inside the "
              "quarter circle (4 * sum / n estimates pi).",
          .params = {seed},
          .run = RunMonteCarloPi};
}

}  // namespace pfor
