#include "kernel_util.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace pfor {

absl::Status CheckChunk(const ChunkContext& chunk, std::string_view kernel) {
  if (chunk.begin < chunk.end) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("kernel ", std::string(kernel), ": chunk [", chunk.begin,
                   ", ", chunk.end, ") is empty; a chunk needs begin < end"));
}

absl::Status ChunkCancelled(const ChunkContext& chunk,
                            std::string_view kernel) {
  return absl::CancelledError(absl::StrCat("kernel ", std::string(kernel),
                                           ": chunk [", chunk.begin, ", ",
                                           chunk.end, ") cancelled"));
}

absl::StatusOr<Value> FoldIndicators(Reduction reduction, uint64_t size,
                                     uint64_t ones) {
  switch (reduction) {
    case Reduction::kMin:
      return int64_t{ones == size ? 1 : 0};
    case Reduction::kMax:
      return int64_t{ones > 0 ? 1 : 0};
    case Reduction::kSum:
    case Reduction::kCount:
    case Reduction::kCollect:
      break;
  }
  if (ones > static_cast<uint64_t>(INT64_MAX)) {
    return absl::OutOfRangeError(absl::StrCat(
        "integer sum of the chunk (", ones,
        ") overflows int64; use chunks of fewer than 2^63 indices"));
  }
  return static_cast<int64_t>(ones);
}

}  // namespace pfor
