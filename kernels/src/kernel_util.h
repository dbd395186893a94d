// Helpers the built-in kernels share: chunk sizes without overflow, folding
// 0/1 values without a loop, and cheap cancellation polling.
#ifndef PFOR_KERNELS_KERNEL_UTIL_H_
#define PFOR_KERNELS_KERNEL_UTIL_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pfor/kernel.h"
#include "pfor/value.h"

namespace pfor {

// end - begin; a chunk of the whole int64 range has 2^64 - 1 indices, which
// only fits unsigned.
inline uint64_t ChunkSize(const ChunkContext& chunk) {
  return static_cast<uint64_t>(chunk.end) - static_cast<uint64_t>(chunk.begin);
}

// INVALID_ARGUMENT naming `kernel` unless begin < end.
absl::Status CheckChunk(const ChunkContext& chunk, std::string_view kernel);

// CANCELLED naming `kernel` and the chunk.
absl::Status ChunkCancelled(const ChunkContext& chunk, std::string_view kernel);

// The fold of `size` per-index values of which `ones` are 1 and the rest 0,
// as IndexFold would compute it. OUT_OF_RANGE when a sum or count exceeds
// int64 (possible only for chunks of more than 2^63 indices).
absl::StatusOr<Value> FoldIndicators(Reduction reduction, uint64_t size,
                                     uint64_t ones);

// Reads the cancellation flag once every `every` ticks, so that kernels can
// tick once per unit of work (an index, a divisor) and still poll every few
// milliseconds.
class CancelPoller {
 public:
  CancelPoller(const ChunkContext& chunk, int64_t every)
      : chunk_(chunk), every_(every), left_(every) {}

  // True when the chunk is cancelled; reads the flag only on every
  // `every`-th call.
  bool Tick() {
    if (--left_ > 0) return false;
    left_ = every_;
    return chunk_.cancelled();
  }

 private:
  const ChunkContext& chunk_;
  const int64_t every_;
  int64_t left_;
};

}  // namespace pfor

#endif  // PFOR_KERNELS_KERNEL_UTIL_H_
