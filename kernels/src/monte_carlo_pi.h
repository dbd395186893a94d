// Monte Carlo estimation of pi with a counter-based random number generator.
#ifndef PFOR_KERNELS_MONTE_CARLO_PI_H_
#define PFOR_KERNELS_MONTE_CARLO_PI_H_

#include <cstdint>

#include "pfor/kernel.h"

namespace pfor {

// monte_carlo_pi: index i draws a point (x, y) uniform in [0, 1)^2 from a
// hash of (seed, i) alone and has value 1 when x^2 + y^2 < 1, else 0. With
// no state shared between indices the result is the same for every chunking,
// and 4 * sum / n estimates pi. Parameter: seed (int, default 0).
KernelDef MonteCarloPiKernel();

// Whether index `index` of the stream keyed by `seed` falls inside the
// quarter circle; exposed for tests.
bool MonteCarloPointInside(int64_t seed, int64_t index);

}  // namespace pfor

#endif  // PFOR_KERNELS_MONTE_CARLO_PI_H_
