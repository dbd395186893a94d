// Exponential backoff with jitter, for everything that redials: workers
// reconnecting to the coordinator, clients following jobs through an outage.
// Jitter spreads the retries of many peers that lost the same coordinator.
#ifndef PFOR_COMMON_BACKOFF_H_
#define PFOR_COMMON_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace pfor {

// Not thread-safe.
class Backoff {
 public:
  // Waits start at `first` and double up to `max`; each is drawn uniformly
  // from [(1 - jitter) * w, w] for the current w.
  Backoff(absl::Duration first, absl::Duration max, double jitter = 0.5,
          uint64_t seed = std::random_device{}());

  // The next wait; the one after it is twice as long (up to max).
  absl::Duration Next();
  // Back to `first`, after a success.
  void Reset() { current_ = first_; }

 private:
  absl::Duration first_;
  absl::Duration max_;
  double jitter_;
  absl::Duration current_;
  std::mt19937_64 random_;
};

}  // namespace pfor

#endif  // PFOR_COMMON_BACKOFF_H_
