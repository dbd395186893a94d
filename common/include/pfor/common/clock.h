// The clock, as a seam: the parts that read the time take a Clock, so tests
// drive time with a FakeClock instead of sleeping. (The scheduler core reads
// no clock at all: every event carries `now`.)
#ifndef PFOR_COMMON_CLOCK_H_
#define PFOR_COMMON_CLOCK_H_

#include <mutex>

#include "absl/time/time.h"

namespace pfor {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // The system's clock; lives for the whole program.
  static Clock& Real();
};

// A clock that moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::UnixEpoch()) : now_(start) {}
  absl::Time Now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(absl::Duration by) {
    std::lock_guard lock(mu_);
    now_ += by;
  }

 private:
  std::mutex mu_;
  absl::Time now_;  // guarded by mu_
};

}  // namespace pfor

#endif  // PFOR_COMMON_CLOCK_H_
