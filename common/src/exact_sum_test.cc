#include "pfor/exact_sum.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "exact_sum_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor {
namespace {

using ::testing::HasSubstr;

// Reference: the exact sum as a two's complement integer in units of
// 2^-1074, 2496 bits wide, built with frexp/ldexp rather than bit fiddling,
// and rounded with an explicit round-half-even on its bits.
class ReferenceSum {
 public:
  void Add(double x) {
    if (x == 0) return;
    int exponent;
    std::frexp(x, &exponent);
    // x = m * 2^shift with m an integer of at most 53 bits.
    const int shift = std::max(exponent - 53, -1074);
    const double m = std::ldexp(x, -shift);
    const bool negative = m < 0;
    uint64_t magnitude = static_cast<uint64_t>(std::fabs(m));
    AddShifted(magnitude, shift + 1074, negative);
  }

  void AddShifted(uint64_t magnitude, int bit, bool negative) {
    std::array<uint32_t, kWords> term{};
    const int word = bit / 32;
    const int offset = bit % 32;
    const unsigned __int128 wide = static_cast<unsigned __int128>(magnitude)
                                   << offset;
    for (int i = 0; i < 4 && word + i < kWords; ++i) {
      term[word + i] = static_cast<uint32_t>(wide >> (32 * i));
    }
    if (negative) Negate(term);
    uint64_t carry = 0;
    for (int i = 0; i < kWords; ++i) {
      const uint64_t sum = uint64_t{words_[i]} + term[i] + carry;
      words_[i] = static_cast<uint32_t>(sum);
      carry = sum >> 32;
    }
  }

  double Round() const {
    std::array<uint32_t, kWords> magnitude = words_;
    const bool negative = magnitude[kWords - 1] >> 31;
    if (negative) Negate(magnitude);
    int top = -1;
    for (int i = kWords * 32 - 1; i >= 0; --i) {
      if (Bit(magnitude, i)) {
        top = i;
        break;
      }
    }
    if (top < 0) return 0.0;
    double result;
    if (top <= 52) {
      uint64_t value = 0;
      for (int i = 0; i <= top; ++i) value |= uint64_t{Bit(magnitude, i)} << i;
      result = std::ldexp(static_cast<double>(value), -1074);
    } else {
      const int low = top - 52;
      uint64_t q = 0;
      for (int i = low; i <= top; ++i) {
        q |= uint64_t{Bit(magnitude, i)} << (i - low);
      }
      const bool half = Bit(magnitude, low - 1);
      bool rest = false;
      for (int i = 0; i < low - 1 && !rest; ++i) rest = Bit(magnitude, i);
      if (half && (rest || (q & 1))) ++q;  // ties to even
      result = std::ldexp(static_cast<double>(q), low - 1074);
    }
    return negative ? -result : result;
  }

 private:
  static constexpr int kWords = 78;

  static void Negate(std::array<uint32_t, kWords>& words) {
    uint64_t carry = 1;
    for (uint32_t& w : words) {
      const uint64_t sum = uint64_t{static_cast<uint32_t>(~w)} + carry;
      w = static_cast<uint32_t>(sum);
      carry = sum >> 32;
    }
  }
  static bool Bit(const std::array<uint32_t, kWords>& words, int i) {
    return (words[i / 32] >> (i % 32)) & 1;
  }

  std::array<uint32_t, kWords> words_{};
};

double ReferenceOf(const std::vector<double>& terms) {
  ReferenceSum sum;
  for (double x : terms) sum.Add(x);
  return sum.Round();
}

// A finite double with uniformly random sign, exponent in [min_exp, max_exp]
// and mantissa bits.
double RandomDouble(std::mt19937_64& rng, int min_exp, int max_exp) {
  std::uniform_int_distribution<int> exp(min_exp, max_exp);
  const uint64_t mantissa = rng() & ((uint64_t{1} << 52) - 1);
  const double unit = 1.0 + std::ldexp(static_cast<double>(mantissa), -52);
  const double x = std::ldexp(unit, exp(rng));
  return (rng() & 1) ? -x : x;
}

TEST(ReferenceSumTest, AgreesWithHardwareOnSimpleSums) {
  // Guards the reference itself, so that failures below point at ExactSum.
  EXPECT_THAT(ReferenceOf({1.0, 2.0}), BitsEq(3.0));
  EXPECT_THAT(ReferenceOf({0.1, 0.2}), BitsEq(0.1 + 0.2));
  EXPECT_THAT(ReferenceOf({1.0, -3.0}), BitsEq(-2.0));
  EXPECT_THAT(ReferenceOf({kMinSubnormal, kMinSubnormal}),
              BitsEq(2 * kMinSubnormal));
  EXPECT_THAT(ReferenceOf({DBL_MAX, DBL_MAX}), BitsEq(kInf));
  EXPECT_THAT(ReferenceOf({1.0, std::ldexp(1.0, -53)}), BitsEq(1.0));
}

TEST(ExactSumTest, EmptySumIsPositiveZero) {
  EXPECT_THAT(ExactSum().Round(), BitsEq(0.0));
}

TEST(ExactSumTest, ZerosOfEitherSignSumToPositiveZero) {
  EXPECT_THAT(SumOf({-0.0}).Round(), BitsEq(0.0));
  EXPECT_THAT(SumOf({-0.0, -0.0}).Round(), BitsEq(0.0));
  EXPECT_THAT(SumOf({1.5, -1.5}).Round(), BitsEq(0.0));
  EXPECT_THAT(SumOf({-1.5, 1.5}).Round(), BitsEq(0.0));
}

TEST(ExactSumTest, SingleTermRoundsToItself) {
  std::mt19937_64 rng(1);
  for (double x : {1.0, -1.0, 0.1, DBL_MAX, -DBL_MAX, DBL_MIN, kMinSubnormal,
                   -kMinSubnormal, DBL_MIN - kMinSubnormal, 3.0e-310}) {
    EXPECT_THAT(SumOf({x}).Round(), BitsEq(x));
  }
  for (int i = 0; i < 100000; ++i) {
    const double x = RandomBits(rng);
    ASSERT_THAT(SumOf({x}).Round(), BitsEq(x == 0 ? 0.0 : x));
  }
}

TEST(ExactSumTest, TwoTermsRoundLikeIeeeAddition) {
  // a + b in hardware is the correctly rounded exact sum.
  std::mt19937_64 rng(2);
  for (int i = 0; i < 200000; ++i) {
    double a, b;
    switch (i % 4) {
      case 0:  // any bits
        a = RandomBits(rng);
        b = RandomBits(rng);
        break;
      case 1:  // close magnitudes: cancellation and carries
        a = RandomDouble(rng, -5, 5);
        b = RandomDouble(rng, -5, 5);
        break;
      case 2:  // a few binades apart: rounding and ties
        a = RandomDouble(rng, 0, 0);
        b = RandomDouble(rng, -60, -50);
        break;
      default:  // near overflow and near the subnormals
        a = RandomDouble(rng, 1000, 1023);
        b = RandomDouble(rng, 1000, 1023);
        if (rng() & 1) {
          a = std::ldexp(a, -2040);
          b = std::ldexp(b, -2040);
        }
        break;
    }
    const double expected = a + b == 0 ? 0.0 : a + b;
    ASSERT_THAT(SumOf({a, b}).Round(), BitsEq(expected))
        << std::hexfloat << a << " + " << b;
  }
}

TEST(ExactSumTest, RecoversTheRoundingErrorOfAnAddition) {
  // TwoSum: for s = fl(a + b), a + b - s is a double, so it comes out exactly.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    const double a = RandomDouble(rng, -40, 40);
    const double b = RandomDouble(rng, -40, 40);
    const double s = a + b;
    const double bb = s - a;
    const double error = (a - (s - bb)) + (b - bb);
    ASSERT_THAT(SumOf({a, b, -s}).Round(), BitsEq(error == 0 ? 0.0 : error))
        << std::hexfloat << a << " + " << b;
  }
}

TEST(ExactSumTest, MatchesBigIntegerReferenceOnRandomLists) {
  std::mt19937_64 rng(4);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<double> terms(1 + trial % 40);
    for (double& x : terms) {
      switch (rng() % 3) {
        case 0:
          x = RandomBits(rng);
          break;
        case 1:
          x = RandomDouble(rng, -30, 30);
          break;
        default:
          x = RandomDouble(rng, -1074, -1000);
          break;
      }
    }
    ASSERT_THAT(SumOf(terms).Round(), BitsEq(ReferenceOf(terms)))
        << "trial " << trial;
  }
}

TEST(ExactSumTest, RoundsTiesToEven) {
  const double half_ulp_of_one = std::ldexp(1.0, -53);
  const double one_up = std::nextafter(1.0, 2.0);
  // 1 is even: the tie stays at 1.
  EXPECT_THAT(SumOf({1.0, half_ulp_of_one}).Round(), BitsEq(1.0));
  // 1 + ulp is odd: the tie goes up to 1 + 2 ulp.
  EXPECT_THAT(SumOf({one_up, half_ulp_of_one}).Round(),
              BitsEq(std::nextafter(one_up, 2.0)));
  // Below 1 the ulp halves: 1 - 2^-54 is a tie between 1 - 2^-53 (odd) and 1.
  EXPECT_THAT(SumOf({1.0, -std::ldexp(1.0, -54)}).Round(), BitsEq(1.0));
  // Negative ties mirror positive ones.
  EXPECT_THAT(SumOf({-1.0, -half_ulp_of_one}).Round(), BitsEq(-1.0));
  EXPECT_THAT(SumOf({-one_up, -half_ulp_of_one}).Round(),
              BitsEq(-std::nextafter(one_up, 2.0)));
}

TEST(ExactSumTest, StickyBitsFarBelowTheTieBreakIt) {
  const double half_ulp_of_one = std::ldexp(1.0, -53);
  const double one_up = std::nextafter(1.0, 2.0);
  // A term dozens of limbs below the rounding point still decides the tie.
  EXPECT_THAT(SumOf({1.0, half_ulp_of_one, kMinSubnormal}).Round(),
              BitsEq(one_up));
  EXPECT_THAT(SumOf({1.0, half_ulp_of_one, -kMinSubnormal}).Round(),
              BitsEq(1.0));
  EXPECT_THAT(SumOf({one_up, half_ulp_of_one, -kMinSubnormal}).Round(),
              BitsEq(one_up));
  EXPECT_THAT(
      SumOf({std::ldexp(1.0, 1000), std::ldexp(1.0, 947), kMinSubnormal})
          .Round(),
      BitsEq(std::ldexp(1.0, 1000) + std::ldexp(1.0, 948)));
  // Just below the tie rounds down however many bits are set below it.
  EXPECT_THAT(SumOf({1.0, half_ulp_of_one, -std::ldexp(1.0, -200)}).Round(),
              BitsEq(1.0));
}

TEST(ExactSumTest, CancelsHugeTermsExactly) {
  EXPECT_THAT(SumOf({1e308, 1e308, -1e308}).Round(), BitsEq(1e308));
  EXPECT_THAT(SumOf({1e300, 1e-300, -1e300}).Round(), BitsEq(1e-300));
  EXPECT_THAT(SumOf({1e300, kMinSubnormal, -1e300}).Round(),
              BitsEq(kMinSubnormal));
  EXPECT_THAT(SumOf({DBL_MAX, DBL_MAX, DBL_MAX, -DBL_MAX, -DBL_MAX}).Round(),
              BitsEq(DBL_MAX));
  EXPECT_THAT(SumOf({1.0, 1e100, 1.0, -1e100}).Round(), BitsEq(2.0));
  EXPECT_THAT(SumOf({-1e308, -1e308, 1e308}).Round(), BitsEq(-1e308));
}

TEST(ExactSumTest, TenTimesPointOneRoundsToOne) {
  // Naive summation gives 0.9999999999999999; the exact sum of ten copies of
  // the double nearest 0.1 is 1 + 5.55e-17, which rounds to 1.
  double naive = 0;
  ExactSum sum;
  for (int i = 0; i < 10; ++i) {
    naive += 0.1;
    sum.Add(0.1);
  }
  EXPECT_NE(naive, 1.0);
  EXPECT_THAT(sum.Round(), BitsEq(1.0));
}

TEST(ExactSumTest, SmallTermsAddedToOneAreNotLost) {
  // Naive summation drops each 1e-16 (below half an ulp of 1); together they
  // are 1e-15, about 4.5 ulp.
  std::vector<double> terms = {1.0};
  double naive = 1.0;
  for (int i = 0; i < 10; ++i) {
    terms.push_back(1e-16);
    naive += 1e-16;
  }
  EXPECT_EQ(naive, 1.0);
  // 1 + 10 * fl(1e-16) is about 1 + 4.5036 ulp, so it rounds to 1 + 5 ulp.
  const double expected = 1.0 + 5 * std::ldexp(1.0, -52);
  EXPECT_THAT(SumOf(terms).Round(), BitsEq(expected));
  EXPECT_THAT(SumOf(terms).Round(), BitsEq(ReferenceOf(terms)));
}

TEST(ExactSumTest, OverflowsToInfinityOnlyWhenTheRoundedSumDoes) {
  const double half_ulp_of_max = std::ldexp(1.0, 970);
  EXPECT_THAT(SumOf({DBL_MAX, DBL_MAX}).Round(), BitsEq(kInf));
  EXPECT_THAT(SumOf({-DBL_MAX, -DBL_MAX}).Round(), BitsEq(-kInf));
  // DBL_MAX has an odd significand, so the tie rounds away, to infinity.
  EXPECT_THAT(SumOf({DBL_MAX, half_ulp_of_max}).Round(), BitsEq(kInf));
  EXPECT_THAT(SumOf({DBL_MAX, half_ulp_of_max, -kMinSubnormal}).Round(),
              BitsEq(DBL_MAX));
  EXPECT_THAT(SumOf({-DBL_MAX, -half_ulp_of_max}).Round(), BitsEq(-kInf));
  // Overflow in between is harmless: the exact sum has headroom.
  std::vector<double> terms(1000, DBL_MAX);
  terms.insert(terms.end(), 999, -DBL_MAX);
  EXPECT_THAT(SumOf(terms).Round(), BitsEq(DBL_MAX));
}

TEST(ExactSumTest, SumsSubnormalsExactly) {
  const double largest_subnormal = DBL_MIN - kMinSubnormal;
  EXPECT_THAT(SumOf({kMinSubnormal, kMinSubnormal, kMinSubnormal}).Round(),
              BitsEq(3 * kMinSubnormal));
  EXPECT_THAT(SumOf({DBL_MIN, -kMinSubnormal}).Round(),
              BitsEq(largest_subnormal));
  EXPECT_THAT(SumOf({largest_subnormal, kMinSubnormal}).Round(),
              BitsEq(DBL_MIN));
  EXPECT_THAT(SumOf({largest_subnormal, largest_subnormal}).Round(),
              BitsEq(2 * DBL_MIN - 2 * kMinSubnormal));
  EXPECT_THAT(SumOf({-kMinSubnormal, -kMinSubnormal}).Round(),
              BitsEq(-2 * kMinSubnormal));
  EXPECT_THAT(SumOf({1.0, kMinSubnormal, -1.0}).Round(), BitsEq(kMinSubnormal));
  // 2^52 smallest subnormals make the smallest normal.
  ExactSum sum;
  sum.Add(kMinSubnormal);
  for (int i = 0; i < 52; ++i) {
    ExactSum copy = sum;
    sum.Add(copy);
  }
  EXPECT_THAT(sum.Round(), BitsEq(DBL_MIN));
}

TEST(ExactSumTest, InfinityDominatesFiniteTerms) {
  EXPECT_THAT(SumOf({1.0, kInf, -DBL_MAX}).Round(), BitsEq(kInf));
  EXPECT_THAT(SumOf({-kInf, DBL_MAX, DBL_MAX}).Round(), BitsEq(-kInf));
  EXPECT_THAT(SumOf({kInf, kInf}).Round(), BitsEq(kInf));
  EXPECT_THAT(SumOf({-kInf, -kInf}).Round(), BitsEq(-kInf));
}

TEST(ExactSumTest, OppositeInfinitiesOrNanGiveNan) {
  EXPECT_TRUE(std::isnan(SumOf({kInf, -kInf}).Round()));
  EXPECT_TRUE(std::isnan(SumOf({-kInf, 1.0, kInf}).Round()));
  EXPECT_TRUE(std::isnan(SumOf({1.0, std::nan("")}).Round()));
  EXPECT_TRUE(std::isnan(SumOf({kInf, std::nan("")}).Round()));
  EXPECT_TRUE(std::isnan(SumOf({-std::nan("")}).Round()));
}

TEST(ExactSumTest, NonFiniteTermsSurviveMerges) {
  ExactSum pos = SumOf({kInf});
  ExactSum neg = SumOf({-kInf});
  ExactSum finite = SumOf({1.0});
  ExactSum a = finite;
  a.Add(pos);
  EXPECT_THAT(a.Round(), BitsEq(kInf));
  a.Add(neg);
  EXPECT_TRUE(std::isnan(a.Round()));
  ExactSum b = finite;
  b.Add(SumOf({std::nan("")}));
  EXPECT_TRUE(std::isnan(b.Round()));
}

TEST(ExactSumTest, ResultIsIndependentOfOrderAndGrouping) {
  std::mt19937_64 rng(5);
  std::vector<double> terms(100000);
  for (double& x : terms) {
    switch (rng() % 4) {
      case 0:
        x = RandomDouble(rng, -1074, -1020);  // subnormal and tiny
        break;
      case 1:
        x = RandomDouble(rng, -60, 60);
        break;
      case 2:
        x = RandomDouble(rng, 900, 1010);
        break;
      default:
        x = RandomDouble(rng, -1074, 1000);  // every binade
        break;
    }
  }
  // Mostly cancelling huge terms so that the small ones decide the bits.
  for (int i = 0; i < 1000; ++i) {
    const double big = RandomDouble(rng, 1000, 1020);
    terms.push_back(big);
    terms.push_back(-big);
  }
  const ExactSum reference_sum = SumOf(terms);
  const double expected = ReferenceOf(terms);
  ASSERT_TRUE(std::isfinite(expected));
  ASSERT_NE(expected, 0.0);
  ASSERT_THAT(reference_sum.Round(), BitsEq(expected));

  for (int round = 0; round < 5; ++round) {
    std::shuffle(terms.begin(), terms.end(), rng);
    // One by one.
    const ExactSum sequential = SumOf(terms);
    EXPECT_THAT(sequential.Round(), BitsEq(expected)) << "round " << round;
    EXPECT_TRUE(sequential == reference_sum) << "round " << round;
    // In random groups, merged in random order.
    std::vector<ExactSum> groups;
    for (size_t begin = 0; begin < terms.size();) {
      const size_t size = 1 + rng() % 5000;
      const size_t end = std::min(terms.size(), begin + size);
      ExactSum group;
      for (size_t i = begin; i < end; ++i) group.Add(terms[i]);
      groups.push_back(group);
      begin = end;
    }
    std::shuffle(groups.begin(), groups.end(), rng);
    while (groups.size() > 1) {
      // Pairwise tree merging, as a coordinator with many workers would.
      const size_t i = rng() % (groups.size() - 1);
      groups[i].Add(groups[i + 1]);
      groups.erase(groups.begin() + i + 1);
    }
    EXPECT_THAT(groups[0].Round(), BitsEq(expected)) << "round " << round;
    EXPECT_TRUE(groups[0] == reference_sum) << "round " << round;
  }
}

TEST(ExactSumTest, EqualityComparesTheExactValue) {
  EXPECT_TRUE(SumOf({1.0, 2.0}) == SumOf({2.0, 1.0}));
  EXPECT_TRUE(SumOf({1.0, -1.0}) == ExactSum());
  EXPECT_TRUE(SumOf({0.5, 0.25}) == SumOf({0.75}));
  // Same rounded value, different exact values.
  EXPECT_FALSE(SumOf({1.0, std::ldexp(1.0, -60)}) == SumOf({1.0}));
  EXPECT_FALSE(SumOf({1.0}) == SumOf({-1.0}));
  EXPECT_FALSE(SumOf({kInf}) == SumOf({1.0}));
}

TEST(ExactSumTest, StaysExactPastTheNormalizationThreshold) {
  // Doubling by self-merges reaches 2^40 pending additions in 40 steps;
  // without carries being normalized along the way the limbs of this
  // all-ones significand would overflow int64 after about 31 doublings.
  const double all_ones = std::nextafter(2.0, 0.0);  // 2 - 2^-52
  for (double x : {all_ones, -all_ones, std::ldexp(all_ones, 900),
                   std::ldexp(-all_ones, -1030), 0.1}) {
    ExactSum sum;
    sum.Add(x);
    for (int i = 0; i < 40; ++i) {
      ExactSum copy = sum;
      sum.Add(copy);
    }
    EXPECT_THAT(sum.Round(), BitsEq(std::ldexp(x, 40))) << x;
    // A term added afterwards lands exactly.
    sum.Add(-std::ldexp(x, 40));
    sum.Add(x);
    EXPECT_THAT(sum.Round(), BitsEq(x)) << x;
  }
}

TEST(ExactSumTest, ManyMergedPartialSumsStayExact) {
  // 2^20 merges of a partial sum of 2000 terms: about 2^31 additions in all,
  // so merges cross the normalization point several times.
  const double x = std::ldexp(std::nextafter(2.0, 0.0), 20);
  const double y = -std::ldexp(std::nextafter(2.0, 0.0), -7);
  ExactSum partial;
  for (int i = 0; i < 1000; ++i) {
    partial.Add(x);
    partial.Add(y);
  }
  ExactSum total;
  for (int i = 0; i < (1 << 20); ++i) total.Add(partial);
  // 2^20 * 1000 * (x + y), which needs about 100 significant bits.
  ReferenceSum reference;
  for (int i = 0; i < 1000; ++i) {
    reference.Add(std::ldexp(x, 20));
    reference.Add(std::ldexp(y, 20));
  }
  EXPECT_THAT(total.Round(), BitsEq(reference.Round()));
  ExactSum expected;
  for (int i = 0; i < 1000; ++i) {
    expected.Add(std::ldexp(x, 20));
    expected.Add(std::ldexp(y, 20));
  }
  EXPECT_TRUE(total == expected);
}

TEST(ExactSumTest, SingleAddsPastTheNormalizationThresholdStayExact) {
  // 2^29 + 2^20 single additions of a full-limb value cross the internal
  // normalization point once.
  const double x = -std::nextafter(2.0, 0.0);  // -(2 - 2^-52)
  const int64_t n = (int64_t{1} << 29) + (int64_t{1} << 20);
  ExactSum sum;
  for (int64_t i = 0; i < n; ++i) sum.Add(x);
  // n * x = -(2^30 + 2^21) * (2 - 2^-52), which needs 62 bits.
  ReferenceSum reference;
  reference.Add(std::ldexp(x, 29));
  reference.Add(std::ldexp(x, 20));
  EXPECT_THAT(sum.Round(), BitsEq(reference.Round()));
  ExactSum expected;
  expected.Add(std::ldexp(x, 29));
  expected.Add(std::ldexp(x, 20));
  EXPECT_TRUE(sum == expected);
}

TEST(ExactSumTest, AddsInt64ExtremesExactly) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const double two63 = std::ldexp(1.0, 63);
  ExactSum sum;
  sum.AddInteger(kMax);
  EXPECT_THAT(sum.Round(), BitsEq(two63));  // 2^63 - 1 rounds to 2^63
  sum.Add(-two63);
  EXPECT_THAT(sum.Round(), BitsEq(-1.0));

  ExactSum low;
  low.AddInteger(kMin);
  EXPECT_THAT(low.Round(), BitsEq(-two63));
  low.AddInteger(kMax);
  EXPECT_THAT(low.Round(), BitsEq(-1.0));

  ExactSum odd;
  odd.AddInteger((int64_t{1} << 53) + 1);  // not a double
  odd.Add(-std::ldexp(1.0, 53));
  EXPECT_THAT(odd.Round(), BitsEq(1.0));

  ExactSum small;
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-7},
                    int64_t{4294967296}, int64_t{-4294967297}}) {
    small.AddInteger(v);
  }
  EXPECT_THAT(small.Round(), BitsEq(-8.0));
}

}  // namespace
}  // namespace pfor
