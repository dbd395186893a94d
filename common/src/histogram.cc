#include "pfor/common/histogram.h"

#include <algorithm>

namespace pfor {

void DurationHistogram::Observe(absl::Duration duration) {
  const double seconds = absl::ToDoubleSeconds(duration);
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(kBounds.begin(), kBounds.end(), seconds) -
      kBounds.begin());
  buckets_[bucket] += 1;
  count_ += 1;
  sum_seconds_ += seconds;
}

void DurationHistogram::Merge(const DurationHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_seconds_ += other.sum_seconds_;
}

uint64_t DurationHistogram::CumulativeCount(size_t i) const {
  uint64_t total = 0;
  for (size_t j = 0; j <= i && j < kBounds.size(); ++j) total += buckets_[j];
  return total;
}

}  // namespace pfor
