#include "test_kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernel_util.h"

namespace pfor {
namespace {

constexpr char kNoop[] = "noop";
constexpr char kSleep[] = "sleep";
constexpr std::chrono::microseconds kSleepSlice{10'000};

absl::StatusOr<Value> RunNoop(const ChunkContext& chunk) {
  if (absl::Status s = CheckChunk(chunk, kNoop); !s.ok()) return s;
  return FoldIndicators(chunk.reduction, ChunkSize(chunk), 0);
}

absl::StatusOr<Value> RunSleep(const ChunkContext& chunk) {
  if (absl::Status s = CheckChunk(chunk, kSleep); !s.ok()) return s;
  if (chunk.params == nullptr) {
    return absl::InvalidArgumentError("kernel sleep: needs parameter us");
  }
  const uint64_t size = ChunkSize(chunk);
  const uint64_t us =
      static_cast<uint64_t>(std::max<int64_t>(chunk.params->Int("us"), 0));
  // A product beyond int64 microseconds (292,000 years) sleeps "forever",
  // which cancellation still ends.
  const int64_t total_us =
      us != 0 && size > static_cast<uint64_t>(INT64_MAX) / us
          ? INT64_MAX
          : static_cast<int64_t>(size * us);
  const auto start = std::chrono::steady_clock::now();
  // Deadlines are kept as elapsed time so that start + total never overflows.
  while (true) {
    if (chunk.cancelled()) return ChunkCancelled(chunk, kSleep);
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    if (elapsed.count() >= total_us) break;
    std::this_thread::sleep_for(std::min(
        kSleepSlice, std::chrono::microseconds(total_us - elapsed.count())));
  }
  return FoldIndicators(chunk.reduction, size, size);
}

}  // namespace

KernelDef NoopKernel() {
  return {.name = kNoop,
          .help = "Does nothing; value 0 per index.",
          .params = {},
          .run = RunNoop};
}

KernelDef SleepKernel() {
  ParamSpec us;
  us.name = "us";
  us.type = ParamType::kInt;
  us.help = "microseconds to sleep per index";
  us.default_value = int64_t{1000};
  us.min = 0;
  us.max = 60'000'000;
  return {.name = kSleep,
          .help = "Sleeps us microseconds per index; value 1 per index.",
          .params = {us},
          .run = RunSleep};
}

}  // namespace pfor
