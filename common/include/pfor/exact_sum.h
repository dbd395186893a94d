// Exact summation of doubles.
//
// ExactSum holds the exact (unrounded) sum of any number of doubles as a
// fixed-point number wide enough for the whole double range, so the result
// does not depend on the order or grouping of the additions. This is what
// makes pfor's floating-point sums bit-reproducible: whatever the chunking,
// the number of workers, the arrival order or the retries, the same terms
// give the same bits.
//
// ExactSum is small (one pointer): its limbs live out of line, allocated
// on the first term that is not zero, so a zero sum costs nothing and a
// Value holding one stays small. Copies are deep, moves are cheap.
//
// Thread safety: none; one ExactSum per thread, combined with Add(ExactSum).
// Const methods may be called from many threads at once.
#ifndef PFOR_EXACT_SUM_H_
#define PFOR_EXACT_SUM_H_

#include <array>
#include <bit>
#include <cstdint>
#include <memory>
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

  // Zero; allocates nothing.
  ExactSum() = default;
  // Deep copies (an allocation, unless `other` never held a term).
  ExactSum(const ExactSum& other);
  ExactSum& operator=(const ExactSum& other);
  // Moves take the limbs and leave `other` zero.
  ExactSum(ExactSum&& other) noexcept = default;
  ExactSum& operator=(ExactSum&& other) noexcept = default;
  ~ExactSum() = default;

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
    State& state = Allocated();
    const unsigned __int128 shifted = static_cast<unsigned __int128>(mantissa)
                                      << (bit & 31);
    const int limb = bit >> 5;
    const int64_t p0 = static_cast<int64_t>(shifted & 0xffffffffu);
    const int64_t p1 = static_cast<int64_t>((shifted >> 32) & 0xffffffffu);
    const int64_t p2 = static_cast<int64_t>(shifted >> 64);
    int64_t* limbs = state.limbs.data();
    if (bits >> 63) {
      limbs[limb] -= p0;
      limbs[limb + 1] -= p1;
      limbs[limb + 2] -= p2;
    } else {
      limbs[limb] += p0;
      limbs[limb + 1] += p1;
      limbs[limb + 2] += p2;
    }
    if (++state.pending >= kNormalizeEvery) Normalize(state);
  }

  // Adds an integer exactly (used when integer and float results meet).
  void AddInteger(int64_t x);

  // Adds another exact sum (`other` may be this one).
  void Add(const ExactSum& other);

  // The sum correctly rounded to the nearest double (ties to even); +-inf when
  // it overflows, NaN when the terms held NaN or both infinities.
  double Round() const;

  Parts ToParts() const;
  // Fails with INVALID_ARGUMENT when the parts are out of range (a corrupt or
  // hostile message), naming what is wrong.
  static absl::StatusOr<ExactSum> FromParts(const Parts& parts);

  // Whether some term was an infinity or a NaN (the sum of finite terms may
  // still round to an infinity).
  bool has_non_finite() const {
    return state_ != nullptr &&
           (state_->nan_count != 0 || state_->pos_inf_count != 0 ||
            state_->neg_inf_count != 0);
  }

  // Whether the sum holds its limbs out of line: false until the first term
  // that is not zero, and after a move from it.
  bool allocated() const { return state_ != nullptr; }

  friend bool operator==(const ExactSum& a, const ExactSum& b);

 private:
  using Limbs = std::array<int64_t, kLimbs>;

  // Everything but the pointer, out of line.
  struct State {
    Limbs limbs{};
    // Adds since the last normalization.
    int64_t pending = 0;
    int64_t nan_count = 0;
    int64_t pos_inf_count = 0;
    int64_t neg_inf_count = 0;
  };

  // Each Add moves a limb by less than 2^32, so limbs stay far from int64
  // overflow while fewer than 2^29 adds are pending.
  static constexpr int64_t kNormalizeEvery = int64_t{1} << 29;

  State& Allocated() {
    if (state_ == nullptr) [[unlikely]] {
      Allocate();
    }
    return *state_;
  }
  void Allocate();
  void AddNonFinite(double x);
  // Propagates carries so limbs 0..kLimbs-2 are in [0, 2^32).
  static void Carry(Limbs& limbs);
  // Carries, and restarts the count of pending adds.
  static void Normalize(State& state);
  // The normalized |sum| of the finite terms into `magnitude`, and whether
  // the sum is negative (never for zero).
  void Magnitude(Limbs& magnitude, bool& negative) const;

  std::unique_ptr<State> state_;
};

}  // namespace pfor

#endif  // PFOR_EXACT_SUM_H_
