// Values that kernels produce and reductions combine.
//
// A kernel turns one chunk [begin, end) into a chunk value; the job's
// reduction combines chunk values into the job's result. Integer values stay
// exact (overflow is an error, never a wrap), floating-point sums are carried
// as ExactSum so that the result is the same bits however the range was cut.
#ifndef PFOR_VALUE_H_
#define PFOR_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "pfor/exact_sum.h"

namespace pfor {

// How chunk values combine into the job's result. Kernels define a value per
// index; sum, min, max and count fold those values over the whole range, so
// they never depend on how the range was cut into chunks. collect keeps one
// value per chunk (the chunk's sum), in range order.
enum class Reduction {
  kSum,      // sum of the per-index values
  kMin,      // smallest per-index value
  kMax,      // largest per-index value
  kCount,    // number of indices whose value is non-zero
  kCollect,  // list of per-chunk sums, ordered by chunk begin
};

// One chunk's (or a whole job's) value: an integer, a float (min and max of
// floats) or an exact float sum.
using Value = std::variant<int64_t, double, ExactSum>;

// Returns "sum", "min", ... as used on the command line.
const char* ReductionName(Reduction reduction);
// Parses "sum", "min", "max", "count" or "collect"; INVALID_ARGUMENT names
// the choices otherwise.
absl::StatusOr<Reduction> ParseReduction(std::string_view name);

// Combines two values under `reduction` (sum, min, max or count; collect keeps
// values apart and never combines them: INTERNAL). Two integers give an
// integer. Otherwise sum and count give an ExactSum and min and max a double
// (an integer meeting a float becomes a float). NaN wins min and max. Fails
// with OUT_OF_RANGE when an integer sum overflows int64.
absl::StatusOr<Value> Combine(Reduction reduction, const Value& a,
                              const Value& b);

// The value as a double (exact sums rounded to nearest).
double ToDouble(const Value& value);

// Whether some part of the value is an infinity or a NaN: a double that is
// not finite, or an exact sum with such a term. Constant time: an exact sum
// of finite terms that rounds to an infinity is not caught here.
bool HoldsNonFinite(const Value& value);

// Shortest text that reads back to the same value: integers in decimal,
// floats in %g form with the fewest significant digits (at most 17) that
// strtod reads back to the same double; "inf", "-inf", "nan".
std::string FormatValue(const Value& value);

}  // namespace pfor

#endif  // PFOR_VALUE_H_
