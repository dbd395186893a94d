// Values the vocabulary's and the codecs' tests share: the ends of int64,
// infinity, and exact sums written as their terms.
#ifndef PFOR_COMMON_TEST_VALUES_H_
#define PFOR_COMMON_TEST_VALUES_H_

#include <cstdint>
#include <initializer_list>
#include <limits>

#include "pfor/exact_sum.h"

namespace pfor::test_values {

inline constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

inline ExactSum Exact(std::initializer_list<double> terms) {
  ExactSum sum;
  for (double x : terms) sum.Add(x);
  return sum;
}

}  // namespace pfor::test_values

#endif  // PFOR_COMMON_TEST_VALUES_H_
