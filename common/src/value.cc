#include "pfor/value.h"

#include <cmath>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pfor {
namespace {

void AddTo(ExactSum& sum, const Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) {
    sum.AddInteger(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    sum.Add(*d);
  } else {
    sum.Add(std::get<ExactSum>(value));
  }
}

absl::StatusOr<Value> Add(const Value& a, const Value& b) {
  const auto* ia = std::get_if<int64_t>(&a);
  const auto* ib = std::get_if<int64_t>(&b);
  if (ia != nullptr && ib != nullptr) {
    int64_t sum;
    if (__builtin_add_overflow(*ia, *ib, &sum)) {
      return absl::OutOfRangeError(
          absl::StrCat("integer sum overflows int64 (", *ia, " + ", *ib,
                       "); split the job or use a kernel that returns floats"));
    }
    return sum;
  }
  // One copy at most (of an exact `a`): `b` is added where it is.
  ExactSum sum;
  AddTo(sum, a);
  AddTo(sum, b);
  return sum;
}

// NaN compares as the extreme so that it is never silently dropped.
const Value& Pick(Reduction reduction, const Value& a, const Value& b) {
  const double da = ToDouble(a);
  const double db = ToDouble(b);
  if (std::isnan(da)) return a;
  if (std::isnan(db)) return b;
  if (std::holds_alternative<int64_t>(a) &&
      std::holds_alternative<int64_t>(b)) {
    const int64_t x = std::get<int64_t>(a);
    const int64_t y = std::get<int64_t>(b);
    return (reduction == Reduction::kMin) == (x <= y) ? a : b;
  }
  return (reduction == Reduction::kMin) == (da <= db) ? a : b;
}

}  // namespace

const char* ReductionName(Reduction reduction) {
  switch (reduction) {
    case Reduction::kSum:
      return "sum";
    case Reduction::kMin:
      return "min";
    case Reduction::kMax:
      return "max";
    case Reduction::kCount:
      return "count";
    case Reduction::kCollect:
      return "collect";
  }
  return "unknown";
}

absl::StatusOr<Reduction> ParseReduction(std::string_view name) {
  for (Reduction r : {Reduction::kSum, Reduction::kMin, Reduction::kMax,
                      Reduction::kCount, Reduction::kCollect}) {
    if (name == ReductionName(r)) return r;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown reduction '", std::string(name),
                   "'; use one of sum, min, max, count, collect"));
}

absl::StatusOr<Value> Combine(Reduction reduction, const Value& a,
                              const Value& b) {
  switch (reduction) {
    case Reduction::kSum:
    case Reduction::kCount:
      return Add(a, b);
    case Reduction::kMin:
    case Reduction::kMax: {
      const Value& picked = Pick(reduction, a, b);
      // Two integers stay an integer; anything else is a float, whichever
      // side wins, so the result's type does not depend on the data.
      if (std::holds_alternative<int64_t>(a) &&
          std::holds_alternative<int64_t>(b)) {
        return picked;
      }
      return ToDouble(picked);
    }
    case Reduction::kCollect:
      break;
  }
  return absl::InternalError("collect values are kept apart, not combined");
}

double ToDouble(const Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) {
    return static_cast<double>(*i);
  }
  if (const auto* d = std::get_if<double>(&value)) return *d;
  return std::get<ExactSum>(value).Round();
}

bool HoldsNonFinite(const Value& value) {
  if (const auto* d = std::get_if<double>(&value)) return !std::isfinite(*d);
  if (const auto* sum = std::get_if<ExactSum>(&value)) {
    return sum->has_non_finite();
  }
  return false;
}

std::string FormatValue(const Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return absl::StrCat(*i);
  const double d = ToDouble(value);
  if (std::isnan(d)) return "nan";
  // The fewest significant digits that read back to the same double; 17
  // always do.
  for (int digits = 1; digits < 17; ++digits) {
    std::string text = absl::StrFormat("%.*g", digits, d);
    if (std::strtod(text.c_str(), nullptr) == d) return text;
  }
  return absl::StrFormat("%.17g", d);
}

}  // namespace pfor
