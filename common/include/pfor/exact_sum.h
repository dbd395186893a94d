// Exact summation of doubles.
//
// ExactSum holds the exact (unrounded) sum of any number of doubles as a
// fixed-point number wide enough for the whole double range, so the result
// does not depend on the order or grouping of the additions. This is what
// makes pfor's floating-point sums bit-reproducible: whatever the chunking,
// the number of workers, the arrival order or the retries, the same terms
// give the same bits.
//
// Thread safety: none; one ExactSum per thread, combined with Add(ExactSum).
#ifndef PFOR_EXACT_SUM_H_
#define PFOR_EXACT_SUM_H_

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace pfor {

class ExactSum {
 public:
  // Limbs of 32 bits each, least significant first; limb 0 holds the bit of
  // weight 2^-1074 (the smallest subnormal). 68 limbs cover every double plus
  // 2^64 of headroom for carries.
  static constexpr int kLimbs = 68;

  // The serialized form, sign and magnitude: the magnitude's limbs from
  // `offset` upward, each in [0, 2^32), plus counts of non-finite terms.
  struct Parts {
    bool negative = false;
    int32_t offset = 0;
    std::vector<int64_t> limbs;
    int64_t nan_count = 0;
    int64_t pos_inf_count = 0;
    int64_t neg_inf_count = 0;
  };

  ExactSum() { limbs_.fill(0); }

  // Adds one term exactly. Infinities and NaNs are counted apart and make
  // Round() return inf or NaN as IEEE addition would.
  void Add(double x) {
    const uint64_t bits = std::bit_cast<uint64_t>(x);
    const int exponent = static_cast<int>((bits >> 52) & 0x7ff);
    if (exponent == 0x7ff) {
      AddNonFinite(x);
      return;
    }
    uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
    int bit = 0;
    if (exponent != 0) {
      mantissa |= uint64_t{1} << 52;
      bit = exponent - 1;
    }
    if (mantissa == 0) return;
    const unsigned __int128 shifted = static_cast<unsigned __int128>(mantissa)
                                      << (bit & 31);
    const int limb = bit >> 5;
    const int64_t p0 = static_cast<int64_t>(shifted & 0xffffffffu);
    const int64_t p1 = static_cast<int64_t>((shifted >> 32) & 0xffffffffu);
    const int64_t p2 = static_cast<int64_t>(shifted >> 64);
    if (bits >> 63) {
      limbs_[limb] -= p0;
      limbs_[limb + 1] -= p1;
      limbs_[limb + 2] -= p2;
    } else {
      limbs_[limb] += p0;
      limbs_[limb + 1] += p1;
      limbs_[limb + 2] += p2;
    }
    if (++pending_ >= kNormalizeEvery) Normalize();
  }

  // Adds an integer exactly (used when integer and float results meet).
  void AddInteger(int64_t x);

  // Adds another exact sum.
  void Add(const ExactSum& other);

  // The sum correctly rounded to the nearest double (ties to even); +-inf when
  // it overflows, NaN when the terms held NaN or both infinities.
  double Round() const;

  Parts ToParts() const;
  // Fails with INVALID_ARGUMENT when the parts are out of range (a corrupt or
  // hostile message), naming what is wrong.
  static absl::StatusOr<ExactSum> FromParts(const Parts& parts);

  friend bool operator==(const ExactSum& a, const ExactSum& b);

 private:
  // Each Add moves a limb by less than 2^32, so limbs stay far from int64
  // overflow while fewer than 2^29 adds are pending.
  static constexpr int64_t kNormalizeEvery = int64_t{1} << 29;

  void AddNonFinite(double x);
  // Propagates carries so limbs 0..kLimbs-2 are in [0, 2^32).
  void Normalize();
  // A normalized copy of |sum| (finite part), and whether the sum is negative.
  ExactSum Magnitude(bool& negative) const;

  std::array<int64_t, kLimbs> limbs_;
  int64_t pending_ = 0;
  int64_t nan_count_ = 0;
  int64_t pos_inf_count_ = 0;
  int64_t neg_inf_count_ = 0;
};

}  // namespace pfor

#endif  // PFOR_EXACT_SUM_H_
