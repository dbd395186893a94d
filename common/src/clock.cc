#include "pfor/common/clock.h"

#include "absl/time/clock.h"

namespace pfor {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock* const clock = new RealClock();
  return *clock;
}

}  // namespace pfor
