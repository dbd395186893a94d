// A histogram of durations with fixed bucket bounds, as Prometheus counts
// them: per bound, the observations at or below it (cumulative when read),
// with their sum and count. O(1) memory; an observation costs a search in
// a few bounds. Plain C++: the scheduler core keeps some.
//
// Not thread-safe: the owner serializes calls.
#ifndef PFOR_COMMON_HISTOGRAM_H_
#define PFOR_COMMON_HISTOGRAM_H_

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace pfor {

class DurationHistogram {
 public:
  // Upper bounds in seconds, from 100 us to 5 min: dispatch round trips on
  // loopback at the low end, long chunks at the high end.
  static constexpr std::array<double, 16> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      5,     30,   300};

  void Observe(absl::Duration duration);
  // Adds `other`'s observations.
  void Merge(const DurationHistogram& other);

  // Observations at or below kBounds[i] (cumulative).
  uint64_t CumulativeCount(size_t i) const;
  uint64_t count() const { return count_; }
  double sum_seconds() const { return sum_seconds_; }

 private:
  // Observations in (kBounds[i-1], kBounds[i]]; the last one is above every
  // bound.
  std::array<uint64_t, kBounds.size() + 1> buckets_{};
  uint64_t count_ = 0;
  double sum_seconds_ = 0;
};

}  // namespace pfor

#endif  // PFOR_COMMON_HISTOGRAM_H_
