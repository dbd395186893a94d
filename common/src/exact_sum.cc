#include "pfor/exact_sum.h"

#include <cmath>
#include <limits>

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

void ExactSum::AddNonFinite(double x) {
  if (std::isnan(x)) {
    nan_count_ = SaturatingAdd(nan_count_, 1);
  } else if (x > 0) {
    pos_inf_count_ = SaturatingAdd(pos_inf_count_, 1);
  } else {
    neg_inf_count_ = SaturatingAdd(neg_inf_count_, 1);
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
  for (int i = 0; i < kLimbs; ++i) limbs_[i] += other.limbs_[i];
  pending_ += other.pending_ + 1;
  nan_count_ = SaturatingAdd(nan_count_, other.nan_count_);
  pos_inf_count_ = SaturatingAdd(pos_inf_count_, other.pos_inf_count_);
  neg_inf_count_ = SaturatingAdd(neg_inf_count_, other.neg_inf_count_);
  if (pending_ >= kNormalizeEvery) Normalize();
}

void ExactSum::Normalize() {
  for (int i = 0; i + 1 < kLimbs; ++i) {
    const int64_t carry = limbs_[i] >> 32;  // floor division by 2^32
    limbs_[i] -= carry * kLimbBase;
    limbs_[i + 1] += carry;
  }
  pending_ = 0;
}

double ExactSum::Round() const {
  if (nan_count_ > 0 || (pos_inf_count_ > 0 && neg_inf_count_ > 0)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (pos_inf_count_ > 0) return std::numeric_limits<double>::infinity();
  if (neg_inf_count_ > 0) return -std::numeric_limits<double>::infinity();

  bool negative = false;
  const ExactSum magnitude = Magnitude(negative);
  int top = kLimbs - 1;
  while (top >= 0 && magnitude.limbs_[top] == 0) --top;
  if (top < 0) return 0.0;

  auto limb = [&](int i) -> unsigned __int128 {
    return i >= 0 ? static_cast<uint64_t>(magnitude.limbs_[i]) : 0;
  };
  // The top three limbs, shifted so the leading one lands on bit 127; the
  // upper 64 bits become the significand, everything below is sticky.
  unsigned __int128 window =
      (limb(top) << 64) | (limb(top - 1) << 32) | limb(top - 2);
  const int leading_zeros =
      std::countl_zero(static_cast<uint64_t>(magnitude.limbs_[top])) - 32;
  const int shift = leading_zeros + 32;
  window <<= shift;
  uint64_t significand = static_cast<uint64_t>(window >> 64);
  bool sticky = static_cast<uint64_t>(window) != 0;
  for (int i = 0; i < top - 2 && !sticky; ++i) {
    sticky = magnitude.limbs_[i] != 0;
  }
  // Bit 0 of the significand sits below the rounding point (64 > 53 + 2), so
  // folding the sticky bit into it makes the conversion round correctly.
  if (sticky) significand |= 1;
  const int exponent = 64 - shift + 32 * (top - 2) + kLowestExponent;
  const double result = std::ldexp(static_cast<double>(significand), exponent);
  return negative ? -result : result;
}

ExactSum ExactSum::Magnitude(bool& negative) const {
  ExactSum magnitude = *this;
  magnitude.Normalize();
  negative = magnitude.limbs_[kLimbs - 1] < 0;
  if (negative) {
    for (int64_t& limb : magnitude.limbs_) limb = -limb;
    magnitude.Normalize();
  }
  return magnitude;
}

ExactSum::Parts ExactSum::ToParts() const {
  Parts parts;
  const ExactSum normalized = Magnitude(parts.negative);
  parts.nan_count = nan_count_;
  parts.pos_inf_count = pos_inf_count_;
  parts.neg_inf_count = neg_inf_count_;
  int low = 0;
  while (low < kLimbs && normalized.limbs_[low] == 0) ++low;
  if (low == kLimbs) {
    parts.negative = false;
    return parts;
  }
  int high = kLimbs - 1;
  while (normalized.limbs_[high] == 0) --high;
  parts.offset = low;
  parts.limbs.assign(normalized.limbs_.begin() + low,
                     normalized.limbs_.begin() + high + 1);
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
  ExactSum sum;
  for (size_t i = 0; i < parts.limbs.size(); ++i) {
    const int64_t limb = parts.limbs[i];
    const size_t index = parts.offset + i;
    // Every limb, the top one included, must be below 2^32: a real sum
    // reaches 2^32 in the top limb only after some 2^78 terms, and a larger
    // limb would let a few merges overflow int64.
    if (limb < 0 || limb >= kLimbBase) {
      return absl::InvalidArgumentError(
          absl::StrCat("exact sum limb ", index, " is ", limb,
                       "; it must be in [0, ", kLimbBase, ")"));
    }
    sum.limbs_[index] = parts.negative ? -limb : limb;
  }
  sum.nan_count_ = parts.nan_count;
  sum.pos_inf_count_ = parts.pos_inf_count;
  sum.neg_inf_count_ = parts.neg_inf_count;
  return sum;
}

bool operator==(const ExactSum& a, const ExactSum& b) {
  const ExactSum::Parts pa = a.ToParts();
  const ExactSum::Parts pb = b.ToParts();
  return pa.negative == pb.negative && pa.offset == pb.offset &&
         pa.limbs == pb.limbs && pa.nan_count == pb.nan_count &&
         pa.pos_inf_count == pb.pos_inf_count &&
         pa.neg_inf_count == pb.neg_inf_count;
}

}  // namespace pfor
