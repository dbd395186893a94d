#include "pfor/exact_sum.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pfor {
namespace {

constexpr int64_t kLimbBase = int64_t{1} << 32;
// Weight of bit 0 of limb 0.
constexpr int kLowestExponent = -1074;

// Counts of non-finite terms only matter for being non-zero, so they stop at
// the largest int64 instead of overflowing on hostile parts.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

}  // namespace

ExactSum::ExactSum(const ExactSum& other)
    : state_(other.state_ == nullptr ? nullptr
                                     : std::make_unique<State>(*other.state_)) {
}

ExactSum& ExactSum::operator=(const ExactSum& other) {
  if (this == &other) return *this;
  if (other.state_ == nullptr) {
    state_.reset();
  } else if (state_ != nullptr) {
    *state_ = *other.state_;  // reuses the allocation
  } else {
    state_ = std::make_unique<State>(*other.state_);
  }
  return *this;
}

void ExactSum::Allocate() { state_ = std::make_unique<State>(); }

void ExactSum::AddNonFinite(double x) {
  State& state = Allocated();
  if (std::isnan(x)) {
    state.nan_count = SaturatingAdd(state.nan_count, 1);
  } else if (x > 0) {
    state.pos_inf_count = SaturatingAdd(state.pos_inf_count, 1);
  } else {
    state.neg_inf_count = SaturatingAdd(state.neg_inf_count, 1);
  }
}

void ExactSum::AddInteger(int64_t x) {
  // Split into two 32-bit halves so each is exactly representable.
  const int64_t high = x >> 32;
  const int64_t low = x - high * kLimbBase;
  Add(std::ldexp(static_cast<double>(high), 32));
  Add(static_cast<double>(low));
}

void ExactSum::Add(const ExactSum& other) {
  if (other.state_ == nullptr) return;  // zero
  if (state_ == nullptr) {
    // Zero plus `other` is a copy: no pass over zeroed limbs.
    state_ = std::make_unique<State>(*other.state_);
    state_->pending += 1;
    if (state_->pending >= kNormalizeEvery) Normalize(*state_);
    return;
  }
  State& state = *state_;
  // `other` may be this sum: read each of its fields before writing it.
  const State& from = *other.state_;
  for (int i = 0; i < kLimbs; ++i) state.limbs[i] += from.limbs[i];
  state.pending += from.pending + 1;
  state.nan_count = SaturatingAdd(state.nan_count, from.nan_count);
  state.pos_inf_count = SaturatingAdd(state.pos_inf_count, from.pos_inf_count);
  state.neg_inf_count = SaturatingAdd(state.neg_inf_count, from.neg_inf_count);
  if (state.pending >= kNormalizeEvery) Normalize(state);
}

void ExactSum::Carry(Limbs& limbs) {
  for (int i = 0; i + 1 < kLimbs; ++i) {
    const int64_t carry = limbs[i] >> 32;  // floor division by 2^32
    limbs[i] -= carry * kLimbBase;
    limbs[i + 1] += carry;
  }
}

void ExactSum::Normalize(State& state) {
  Carry(state.limbs);
  state.pending = 0;
}

void ExactSum::Magnitude(Limbs& magnitude, bool& negative) const {
  negative = false;
  if (state_ == nullptr) {
    magnitude.fill(0);
    return;
  }
  // A copy on the stack: const methods never write the shared state.
  magnitude = state_->limbs;
  Carry(magnitude);
  negative = magnitude[kLimbs - 1] < 0;
  if (negative) {
    for (int64_t& limb : magnitude) limb = -limb;
    Carry(magnitude);
  }
}

double ExactSum::Round() const {
  if (state_ == nullptr) return 0.0;
  const State& state = *state_;
  if (state.nan_count > 0 ||
      (state.pos_inf_count > 0 && state.neg_inf_count > 0)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (state.pos_inf_count > 0) return std::numeric_limits<double>::infinity();
  if (state.neg_inf_count > 0) return -std::numeric_limits<double>::infinity();

  bool negative = false;
  Limbs magnitude;
  Magnitude(magnitude, negative);
  int top = kLimbs - 1;
  while (top >= 0 && magnitude[top] == 0) --top;
  if (top < 0) return 0.0;

  auto limb = [&](int i) -> unsigned __int128 {
    return i >= 0 ? static_cast<uint64_t>(magnitude[i]) : 0;
  };
  // The top three limbs, shifted so the leading one lands on bit 127; the
  // upper 64 bits become the significand, everything below is sticky.
  unsigned __int128 window =
      (limb(top) << 64) | (limb(top - 1) << 32) | limb(top - 2);
  const int leading_zeros =
      std::countl_zero(static_cast<uint64_t>(magnitude[top])) - 32;
  const int shift = leading_zeros + 32;
  window <<= shift;
  uint64_t significand = static_cast<uint64_t>(window >> 64);
  bool sticky = static_cast<uint64_t>(window) != 0;
  for (int i = 0; i < top - 2 && !sticky; ++i) {
    sticky = magnitude[i] != 0;
  }
  // Bit 0 of the significand sits below the rounding point (64 > 53 + 2), so
  // folding the sticky bit into it makes the conversion round correctly.
  if (sticky) significand |= 1;
  const int exponent = 64 - shift + 32 * (top - 2) + kLowestExponent;
  const double result = std::ldexp(static_cast<double>(significand), exponent);
  return negative ? -result : result;
}

ExactSum::Parts ExactSum::ToParts() const {
  Parts parts;
  if (state_ == nullptr) return parts;
  parts.nan_count = state_->nan_count;
  parts.pos_inf_count = state_->pos_inf_count;
  parts.neg_inf_count = state_->neg_inf_count;
  Limbs magnitude;
  Magnitude(magnitude, parts.negative);
  int low = 0;
  while (low < kLimbs && magnitude[low] == 0) ++low;
  if (low == kLimbs) {
    parts.negative = false;
    return parts;
  }
  int high = kLimbs - 1;
  while (magnitude[high] == 0) --high;
  parts.offset = low;
  parts.limbs.assign(magnitude.begin() + low, magnitude.begin() + high + 1);
  return parts;
}

absl::StatusOr<ExactSum> ExactSum::FromParts(const Parts& parts) {
  if (parts.offset < 0 || parts.offset > kLimbs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exact sum offset ", parts.offset, " is outside [0, ", kLimbs, "]"));
  }
  if (parts.limbs.size() > static_cast<size_t>(kLimbs - parts.offset)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exact sum has ", parts.limbs.size(), " limbs at offset ", parts.offset,
        "; at most ", kLimbs - parts.offset, " fit"));
  }
  if (parts.nan_count < 0 || parts.pos_inf_count < 0 ||
      parts.neg_inf_count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("exact sum has a negative count of non-finite terms (nan ",
                     parts.nan_count, ", +inf ", parts.pos_inf_count, ", -inf ",
                     parts.neg_inf_count, ")"));
  }
  for (size_t i = 0; i < parts.limbs.size(); ++i) {
    const int64_t limb = parts.limbs[i];
    // Every limb, the top one included, must be below 2^32: a real sum
    // reaches 2^32 in the top limb only after some 2^78 terms, and a larger
    // limb would let a few merges overflow int64.
    if (limb < 0 || limb >= kLimbBase) {
      return absl::InvalidArgumentError(
          absl::StrCat("exact sum limb ", parts.offset + i, " is ", limb,
                       "; it must be in [0, ", kLimbBase, ")"));
    }
  }
  ExactSum sum;
  const bool zero = std::all_of(parts.limbs.begin(), parts.limbs.end(),
                                [](int64_t limb) { return limb == 0; }) &&
                    parts.nan_count == 0 && parts.pos_inf_count == 0 &&
                    parts.neg_inf_count == 0;
  if (zero) return sum;  // allocates nothing
  State& state = sum.Allocated();
  for (size_t i = 0; i < parts.limbs.size(); ++i) {
    const int64_t limb = parts.limbs[i];
    state.limbs[parts.offset + i] = parts.negative ? -limb : limb;
  }
  state.nan_count = parts.nan_count;
  state.pos_inf_count = parts.pos_inf_count;
  state.neg_inf_count = parts.neg_inf_count;
  return sum;
}

bool operator==(const ExactSum& a, const ExactSum& b) {
  if (a.state_ == b.state_) return true;  // both zero, or the same sum
  const ExactSum::State zero;
  const ExactSum::State& sa = a.state_ != nullptr ? *a.state_ : zero;
  const ExactSum::State& sb = b.state_ != nullptr ? *b.state_ : zero;
  if (sa.nan_count != sb.nan_count || sa.pos_inf_count != sb.pos_inf_count ||
      sa.neg_inf_count != sb.neg_inf_count) {
    return false;
  }
  // The same exact value has one normalized form (zero is never negative).
  ExactSum::Limbs ma;
  ExactSum::Limbs mb;
  bool na = false;
  bool nb = false;
  a.Magnitude(ma, na);
  b.Magnitude(mb, nb);
  return na == nb && ma == mb;
}

}  // namespace pfor
