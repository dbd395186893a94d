#include "chunk_sizer.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pfor::coordinator {
namespace {

// Auto sizing starts with one index and grows at most eightfold past the
// largest chunk measured: a kernel of unknown cost must not get a chunk that
// runs for hours.
constexpr int64_t kFirstAutoSize = 1;
constexpr double kMaxGrowth = 8;
// The guided tail never cuts chunks shorter than this share of the target.
constexpr double kTailFloor = 1.0 / 8;
// When the fixed cost alone exceeds half the target, chunks are sized so the
// fixed cost is at most a tenth of their time.
constexpr double kOverheadShare = 0.1;
// Below this, a measured time is clock noise.
constexpr double kMinSeconds = 1e-6;

}  // namespace

absl::StatusOr<ChunkSizer> ChunkSizer::Create(const ChunkPolicy& policy,
                                              int64_t begin, int64_t end) {
  const int64_t size = end - begin;
  switch (policy.kind) {
    case ChunkPolicy::Kind::kFixed: {
      const int64_t fixed = policy.value;
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
    case ChunkPolicy::Kind::kCount: {
      const int64_t count = policy.value;
      if (count < 1 || count > size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "chunk count ", count, " must be between 1 and the range size ",
            size, "; pass --chunks count:N with 1 <= N <= ", size));
      }
      ChunkSizer sizer(Kind::kCount, begin, end);
      sizer.chunk_count_ = count;
      return sizer;
    }
    case ChunkPolicy::Kind::kAuto: {
      const absl::Duration target = policy.target;
      if (target < absl::Milliseconds(1) || target > absl::Hours(1)) {
        return absl::InvalidArgumentError(
            absl::StrCat("auto chunk target ", absl::FormatDuration(target),
                         " is out of range; pass a target between 1ms and 1h"));
      }
      ChunkSizer sizer(Kind::kAuto, begin, end);
      sizer.target_ = target;
      return sizer;
    }
  }
  return absl::InvalidArgumentError(
      "unknown chunk policy; use --chunks auto, fixed:N or count:N");
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
      const std::optional<CostModel> model = Fit();
      if (!model) {
        size = kFirstAutoSize;
        break;
      }
      const double target = absl::ToDoubleSeconds(target_);
      const double largest = static_cast<double>(largest_observed_);
      // Indices cost at least what they did furthest along the range.
      const auto [frontier_n, frontier_t] = frontier_;
      const double per_index =
          std::max(model->per_index,
                   std::max(0.0, frontier_t - model->fixed) / frontier_n);
      // A large fixed cost is amortized: chunks then aim at ten times it.
      const double aim =
          model->fixed <= target / 2 ? target : model->fixed / kOverheadShare;
      double wanted = (aim - model->fixed) / per_index;
      wanted = std::min(wanted, largest * kMaxGrowth);
      // The chunk furthest along, scaled by what its time allows: the cost
      // ahead is at least its cost, never extrapolated from a cheap start.
      wanted =
          std::min(wanted, frontier_n * std::min(kMaxGrowth, aim / frontier_t));
      // With a single size measured, fixed and per-index cost cannot be told
      // apart: try a larger chunk once when the measured one overran.
      if (model->one_size && !tried_larger_ &&
          model->per_index * largest > target) {
        wanted = std::max(wanted, 2 * largest);
        tried_larger_ = true;
      }
      const double guided =
          static_cast<double>(remaining) / (2.0 * std::max(1, slots));
      wanted = std::min(wanted, std::max(guided, wanted * kTailFloor));
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

void ChunkSizer::Observe(int64_t begin, int64_t indices,
                         absl::Duration kernel_time) {
  if (indices <= 0) return;
  const double seconds =
      std::max(absl::ToDoubleSeconds(kernel_time), kMinSeconds);
  observed_[observed_count_ % kObservations] = {static_cast<double>(indices),
                                                seconds};
  if (begin >= frontier_begin_) {
    frontier_begin_ = begin;
    frontier_ = {static_cast<double>(indices), seconds};
  }
  observed_count_ += 1;
  largest_observed_ = std::max(largest_observed_, indices);
}

std::optional<ChunkSizer::CostModel> ChunkSizer::Fit() const {
  const int count = std::min(observed_count_, kObservations);
  if (count == 0) return std::nullopt;
  double mean_n = 0;
  double mean_t = 0;
  for (int i = 0; i < count; ++i) {
    mean_n += observed_[i].first / count;
    mean_t += observed_[i].second / count;
  }
  double covariance = 0;
  double variance = 0;
  double through_origin = 0;  // sum n*t / sum n^2: no fixed cost
  double squares = 0;
  for (int i = 0; i < count; ++i) {
    const auto [n, t] = observed_[i];
    covariance += (n - mean_n) * (t - mean_t);
    variance += (n - mean_n) * (n - mean_n);
    through_origin += n * t;
    squares += n * n;
  }
  through_origin /= squares;
  // One size seen: all of the time is charged to the indices.
  if (variance <= 0) return CostModel{0, through_origin, true};
  CostModel model{0, covariance / variance, false};
  model.fixed = mean_t - model.per_index * mean_n;
  // No chunk took less than the fixed cost: a cost that grows along the
  // range must not pass for one.
  double shortest = observed_[0].second;
  for (int i = 1; i < count; ++i) {
    shortest = std::min(shortest, observed_[i].second);
  }
  model.fixed = std::min(model.fixed, shortest);
  if (model.fixed < 0) return CostModel{0, through_origin, false};
  // Time that does not grow with size: the cost per index is below what
  // the clock can see, so let the growth cap set the pace.
  model.per_index = std::max(model.per_index, through_origin * 1e-6);
  return model;
}

absl::Duration ChunkSizer::Expected(int64_t indices) const {
  const std::optional<CostModel> model = Fit();
  if (!model) return absl::ZeroDuration();
  return absl::Seconds(model->fixed +
                       model->per_index * static_cast<double>(indices));
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
