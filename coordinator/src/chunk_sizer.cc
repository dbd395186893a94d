#include "chunk_sizer.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "wire.h"

namespace pfor::coordinator {
namespace {

// Auto sizing starts with one index and grows at most eightfold past the
// largest chunk measured: a kernel of unknown cost must not get a chunk that
// runs for hours.
constexpr int64_t kFirstAutoSize = 1;
constexpr int64_t kMaxGrowth = 8;
// The guided tail never cuts chunks shorter than this share of the target.
constexpr double kTailFloor = 1.0 / 8;
// Weight of the newest measurement in the throughput average.
constexpr double kRateWeight = 0.3;

}  // namespace

absl::StatusOr<ChunkSizer> ChunkSizer::Create(const v1::ChunkPolicy& policy,
                                              int64_t begin, int64_t end) {
  const int64_t size = end - begin;
  switch (policy.policy_case()) {
    case v1::ChunkPolicy::kFixedSize: {
      const int64_t fixed = policy.fixed_size();
      if (fixed < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "chunk size ", fixed,
            " is not positive; pass --chunks fixed:N with N >= 1"));
      }
      if (fixed > size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "chunk size ", fixed, " is larger than the range (", size,
            " indices); pass --chunks fixed:N with N <= ", size,
            ", or --chunks auto"));
      }
      ChunkSizer sizer(Kind::kFixed, begin, end);
      sizer.fixed_size_ = fixed;
      return sizer;
    }
    case v1::ChunkPolicy::kChunkCount: {
      const int64_t count = policy.chunk_count();
      if (count < 1 || count > size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "chunk count ", count, " must be between 1 and the range size ",
            size, "; pass --chunks count:N with 1 <= N <= ", size));
      }
      ChunkSizer sizer(Kind::kCount, begin, end);
      sizer.chunk_count_ = count;
      return sizer;
    }
    case v1::ChunkPolicy::kAutoSize:
    case v1::ChunkPolicy::POLICY_NOT_SET: {
      ChunkSizer sizer(Kind::kAuto, begin, end);
      if (policy.auto_size().has_target()) {
        const absl::Duration target = FromProto(policy.auto_size().target());
        if (target < absl::Milliseconds(1) || target > absl::Hours(1)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "auto chunk target ", absl::FormatDuration(target),
              " is out of range; pass a target between 1ms and 1h"));
        }
        sizer.target_ = target;
      }
      return sizer;
    }
  }
  return absl::InvalidArgumentError("unknown chunk policy");
}

int64_t ChunkSizer::NextEnd(int64_t cursor, int slots) {
  const int64_t remaining = end_ - cursor;
  int64_t size = 1;
  switch (kind_) {
    case Kind::kFixed:
      size = fixed_size_;
      break;
    case Kind::kCount: {
      // Boundaries begin + size*k/count, in 128 bits so nothing overflows.
      const __int128 total = static_cast<__int128>(end_) - begin_;
      ++chunks_cut_;
      const __int128 boundary = begin_ + total * chunks_cut_ / chunk_count_;
      return static_cast<int64_t>(std::min<__int128>(boundary, end_));
    }
    case Kind::kAuto: {
      if (rate_ <= 0) {
        size = kFirstAutoSize;
        break;
      }
      const double target_size = rate_ * absl::ToDoubleSeconds(target_);
      const double guided =
          static_cast<double>(remaining) / (2.0 * std::max(1, slots));
      double wanted =
          std::min(target_size, std::max(guided, target_size * kTailFloor));
      wanted =
          std::min(wanted, static_cast<double>(largest_observed_) * kMaxGrowth);
      size = wanted >= 9.2e18 ? INT64_MAX
                              : std::max<int64_t>(1, std::llround(wanted));
      break;
    }
  }
  return cursor + std::min(size, remaining);
}

void ChunkSizer::ResumeAt(int64_t cursor) {
  if (kind_ != Kind::kCount) return;
  const __int128 total = static_cast<__int128>(end_) - begin_;
  auto boundary = [&](int64_t k) { return begin_ + total * k / chunk_count_; };
  int64_t k = static_cast<int64_t>((static_cast<__int128>(cursor) - begin_) *
                                   chunk_count_ / total);
  while (k < chunk_count_ && boundary(k) < cursor) ++k;
  while (k > 0 && boundary(k - 1) >= cursor) --k;
  chunks_cut_ = k;
}

void ChunkSizer::Observe(int64_t indices, absl::Duration kernel_time) {
  if (indices <= 0) return;
  const double seconds = std::max(absl::ToDoubleSeconds(kernel_time), 1e-6);
  const double rate = static_cast<double>(indices) / seconds;
  largest_observed_ = std::max(largest_observed_, indices);
  rate_ = rate_ <= 0 ? rate : (1 - kRateWeight) * rate_ + kRateWeight * rate;
}

absl::Duration ChunkSizer::Expected(int64_t indices) const {
  if (rate_ <= 0) return absl::ZeroDuration();
  return absl::Seconds(static_cast<double>(indices) / rate_);
}

int64_t ChunkSizer::PlannedChunks() const {
  switch (kind_) {
    case Kind::kFixed: {
      const int64_t size = end_ - begin_;
      return size / fixed_size_ + (size % fixed_size_ != 0);
    }
    case Kind::kCount:
      return chunk_count_;
    case Kind::kAuto:
      break;
  }
  return 0;
}

}  // namespace pfor::coordinator
