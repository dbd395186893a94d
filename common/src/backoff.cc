#include "pfor/common/backoff.h"

#include <algorithm>

namespace pfor {

Backoff::Backoff(absl::Duration first, absl::Duration max, double jitter,
                 uint64_t seed)
    : first_(first),
      max_(std::max(first, max)),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      current_(first),
      random_(seed) {}

absl::Duration Backoff::Next() {
  const absl::Duration wait = current_;
  current_ = std::min(current_ * 2, max_);
  const double low = 1.0 - jitter_;
  return wait * std::uniform_real_distribution<double>(low, 1.0)(random_);
}

}  // namespace pfor
