#include "prefetch.h"

#include <algorithm>
#include <cmath>

namespace pfor::worker {
namespace {

// Smoothing of the time per chunk. Up quickly: one long chunk is enough to
// stop asking for many more like it (they would pile up here while other
// workers idle). Down slowly: a short chunk or two after long ones say
// little, and short chunks come by the thousand, so the estimate still
// falls within a fraction of a target's worth of them.
constexpr double kRise = 0.5;
constexpr double kFall = 0.05;
// Below this, a chunk's kernel time says nothing more: the worker's own
// cost per chunk dominates.
constexpr double kMinSeconds = 1e-7;

}  // namespace

Prefetch::Prefetch(int slots, int fixed, absl::Duration target)
    : slots_(slots),
      fixed_(fixed),
      target_seconds_(absl::ToDoubleSeconds(target)) {}

void Prefetch::Observe(absl::Duration kernel_time) {
  const double seconds =
      std::max(kMinSeconds, absl::ToDoubleSeconds(kernel_time));
  if (estimate_ < 0) {
    estimate_ = seconds;
    return;
  }
  estimate_ += (seconds > estimate_ ? kRise : kFall) * (seconds - estimate_);
}

int Prefetch::Wanted() const {
  if (fixed_ >= 0) return slots_ + fixed_;
  if (estimate_ < 0) return 2 * slots_;
  const double cover = std::ceil(slots_ * target_seconds_ / estimate_);
  const double prefetch =
      std::clamp(cover, static_cast<double>(slots_),
                 static_cast<double>(slots_) * kMaxPrefetchPerSlot);
  return slots_ + static_cast<int>(prefetch);
}

absl::Duration Prefetch::time_per_chunk() const {
  return estimate_ < 0 ? absl::ZeroDuration() : absl::Seconds(estimate_);
}

}  // namespace pfor::worker
