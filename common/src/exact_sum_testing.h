// What the exact sum's tests share: a bit-exact matcher, random doubles
// and sums of lists.
#ifndef PFOR_COMMON_SRC_EXACT_SUM_TESTING_H_
#define PFOR_COMMON_SRC_EXACT_SUM_TESTING_H_

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "pfor/exact_sum.h"

namespace pfor {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kMinSubnormal =
    std::numeric_limits<double>::denorm_min();

// Bit-exact comparison that also tells +0 from -0 and shows both values.
MATCHER_P(BitsEq, expected, "") {
  if (std::bit_cast<uint64_t>(arg) == std::bit_cast<uint64_t>(expected)) {
    return true;
  }
  *result_listener << "expected " << std::hexfloat << expected << ", got "
                   << arg << std::defaultfloat;
  return false;
}

// A finite double with uniformly random bits (every exponent, subnormals).
inline double RandomBits(std::mt19937_64& rng) {
  for (;;) {
    const double x = std::bit_cast<double>(rng());
    if (std::isfinite(x)) return x;
  }
}

// The exact sum of `terms`, added in order.
inline ExactSum SumOf(const std::vector<double>& terms) {
  ExactSum sum;
  for (double x : terms) sum.Add(x);
  return sum;
}

}  // namespace pfor

#endif  // PFOR_COMMON_SRC_EXACT_SUM_TESTING_H_
