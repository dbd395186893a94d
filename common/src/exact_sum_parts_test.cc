// An exact sum's representation: its parts (what the wire and the journal
// carry) and its storage (no allocation for zero, deep copies).
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exact_sum_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/exact_sum.h"

namespace pfor {
namespace {

using ::testing::HasSubstr;

TEST(ExactSumTest, PartsOfOneAreOneLimbAtTheOnesPlace) {
  // 1.0 has weight 2^1074 units: limb 1074 / 32 = 33, bit 1074 % 32 = 18.
  const ExactSum::Parts parts = SumOf({1.0}).ToParts();
  EXPECT_FALSE(parts.negative);
  EXPECT_EQ(parts.offset, 33);
  EXPECT_EQ(parts.limbs, std::vector<int64_t>{int64_t{1} << 18});
  EXPECT_EQ(parts.nan_count, 0);
  EXPECT_EQ(parts.pos_inf_count, 0);
  EXPECT_EQ(parts.neg_inf_count, 0);

  const ExactSum::Parts minus = SumOf({-1.0, -kMinSubnormal}).ToParts();
  EXPECT_TRUE(minus.negative);
  EXPECT_EQ(minus.offset, 0);
  ASSERT_EQ(minus.limbs.size(), 34u);
  EXPECT_EQ(minus.limbs.front(), 1);
  EXPECT_EQ(minus.limbs.back(), int64_t{1} << 18);
}

TEST(ExactSumTest, ZeroHasEmptyPositiveParts) {
  for (const ExactSum& zero : {ExactSum(), SumOf({-2.5, 2.5}), SumOf({-0.0})}) {
    const ExactSum::Parts parts = zero.ToParts();
    EXPECT_FALSE(parts.negative);
    EXPECT_EQ(parts.offset, 0);
    EXPECT_TRUE(parts.limbs.empty());
  }
}

TEST(ExactSumTest, PartsRoundTrip) {
  std::mt19937_64 rng(6);
  std::vector<std::vector<double>> cases = {
      {},
      {0.1},
      {-0.1},
      {-1.0, 0.25},
      {kMinSubnormal},
      {-kMinSubnormal},
      {DBL_MAX},
      {-DBL_MAX},
      {DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX},
      {-DBL_MAX, -DBL_MAX, -DBL_MAX},
      {DBL_MAX, kMinSubnormal},
      {-DBL_MAX, kMinSubnormal},
      {1.0, kInf, std::nan(""), -kInf, -kInf},
      {1e300, 1e-300, -1e300},
  };
  for (int i = 0; i < 200; ++i) {
    std::vector<double> terms(1 + i % 20);
    for (double& x : terms) x = RandomBits(rng);
    cases.push_back(terms);
  }
  for (const std::vector<double>& terms : cases) {
    const ExactSum sum = SumOf(terms);
    const ExactSum::Parts parts = sum.ToParts();
    for (int64_t limb : parts.limbs) {
      ASSERT_GE(limb, 0);
      ASSERT_LT(limb, int64_t{1} << 32);
    }
    if (!parts.limbs.empty()) {
      EXPECT_NE(parts.limbs.front(), 0);
      EXPECT_NE(parts.limbs.back(), 0);
    }
    absl::StatusOr<ExactSum> back = ExactSum::FromParts(parts);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(*back == sum);
    const double rounded = sum.Round();
    if (std::isnan(rounded)) {
      EXPECT_TRUE(std::isnan(back->Round()));
    } else {
      EXPECT_THAT(back->Round(), BitsEq(rounded));
    }
    // The copy keeps working as an accumulator.
    back->Add(0.5);
    ExactSum more = sum;
    more.Add(0.5);
    EXPECT_TRUE(*back == more);
  }
}

TEST(ExactSumTest, PartsCarryNonFiniteCounts) {
  const ExactSum::Parts parts =
      SumOf({kInf, std::nan(""), -kInf, -kInf, kInf, kInf, 2.0}).ToParts();
  EXPECT_EQ(parts.nan_count, 1);
  EXPECT_EQ(parts.pos_inf_count, 3);
  EXPECT_EQ(parts.neg_inf_count, 2);
}

TEST(ExactSumTest, FromPartsAcceptsTheLargestLimbs) {
  ExactSum::Parts parts;
  parts.offset = 0;
  parts.limbs.assign(ExactSum::kLimbs, (int64_t{1} << 32) - 1);
  absl::StatusOr<ExactSum> sum = ExactSum::FromParts(parts);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(sum->Round(), BitsEq(kInf));
  parts.negative = true;
  sum = ExactSum::FromParts(parts);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(sum->Round(), BitsEq(-kInf));
}

TEST(ExactSumTest, FromPartsWithNegativeZeroIsZero) {
  ExactSum::Parts parts;
  parts.negative = true;
  absl::StatusOr<ExactSum> sum = ExactSum::FromParts(parts);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(sum->Round(), BitsEq(0.0));
  EXPECT_TRUE(*sum == ExactSum());
}

void ExpectInvalid(const ExactSum::Parts& parts, const std::string& what) {
  absl::StatusOr<ExactSum> sum = ExactSum::FromParts(parts);
  ASSERT_FALSE(sum.ok()) << "accepted parts with " << what;
  EXPECT_EQ(sum.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sum.status().message()), HasSubstr(what));
}

TEST(ExactSumTest, FromPartsRejectsOutOfRangeParts) {
  ExactSum::Parts parts;
  parts.offset = -1;
  ExpectInvalid(parts, "offset -1");
  parts.offset = ExactSum::kLimbs + 1;
  ExpectInvalid(parts, "offset 69");

  parts = {};
  parts.limbs.assign(ExactSum::kLimbs + 1, 1);
  ExpectInvalid(parts, "69 limbs");
  parts.offset = 1;
  parts.limbs.assign(ExactSum::kLimbs, 1);
  ExpectInvalid(parts, "68 limbs at offset 1");
  parts.offset = ExactSum::kLimbs;
  parts.limbs = {1};
  ExpectInvalid(parts, "1 limbs at offset 68");

  parts = {};
  parts.offset = 3;
  parts.limbs = {1, -1};
  ExpectInvalid(parts, "limb 4 is -1");
  parts.limbs = {int64_t{1} << 32};
  ExpectInvalid(parts, "limb 3 is 4294967296");
  // The top limb too: a huge one would let a few merges overflow.
  parts.offset = ExactSum::kLimbs - 1;
  parts.limbs = {int64_t{1} << 40};
  ExpectInvalid(parts, "limb 67");
  parts.limbs = {std::numeric_limits<int64_t>::min()};
  ExpectInvalid(parts, "limb 67");

  parts = {};
  parts.nan_count = -1;
  ExpectInvalid(parts, "negative count");
  parts = {};
  parts.pos_inf_count = -5;
  ExpectInvalid(parts, "negative count");
  parts = {};
  parts.neg_inf_count = std::numeric_limits<int64_t>::min();
  ExpectInvalid(parts, "negative count");
}

TEST(ExactSumTest, FromPartsAcceptsEmptyLimbsAtTheEnd) {
  ExactSum::Parts parts;
  parts.offset = ExactSum::kLimbs;
  absl::StatusOr<ExactSum> sum = ExactSum::FromParts(parts);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_TRUE(*sum == ExactSum());
}

TEST(ExactSumTest, HugeNonFiniteCountsSaturateInsteadOfOverflowing) {
  ExactSum::Parts parts;
  parts.nan_count = std::numeric_limits<int64_t>::max();
  parts.pos_inf_count = std::numeric_limits<int64_t>::max();
  absl::StatusOr<ExactSum> sum = ExactSum::FromParts(parts);
  ASSERT_TRUE(sum.ok()) << sum.status();
  ExactSum total = *sum;
  total.Add(*sum);
  total.Add(std::nan(""));
  total.Add(kInf);
  EXPECT_TRUE(std::isnan(total.Round()));
  EXPECT_EQ(total.ToParts().nan_count, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(total.ToParts().pos_inf_count, std::numeric_limits<int64_t>::max());
}

TEST(ExactSumTest, MergingMaximalPartsDoesNotOverflow) {
  // Many merges of the largest acceptable parts (a hostile worker) keep the
  // sum meaningful: all limbs full is past DBL_MAX, so it stays infinite.
  ExactSum::Parts parts;
  parts.limbs.assign(ExactSum::kLimbs, (int64_t{1} << 32) - 1);
  absl::StatusOr<ExactSum> sum = ExactSum::FromParts(parts);
  ASSERT_TRUE(sum.ok()) << sum.status();
  ExactSum total;
  for (int i = 0; i < 1000; ++i) total.Add(*sum);
  EXPECT_THAT(total.Round(), BitsEq(kInf));
  total.Add(*sum);
  for (int i = 0; i < 1001; ++i) {
    parts.negative = true;
    absl::StatusOr<ExactSum> negative = ExactSum::FromParts(parts);
    ASSERT_TRUE(negative.ok());
    total.Add(*negative);
  }
  EXPECT_THAT(total.Round(), BitsEq(0.0));
}

TEST(ExactSumStorageTest, ZeroSumsAllocateNothing) {
  EXPECT_FALSE(ExactSum().allocated());
  ExactSum zeros;
  zeros.Add(0.0);
  zeros.Add(-0.0);
  zeros.AddInteger(0);
  zeros.Add(ExactSum());
  EXPECT_FALSE(zeros.allocated());
  EXPECT_THAT(zeros.Round(), BitsEq(0.0));
  EXPECT_TRUE(zeros.ToParts().limbs.empty());

  ExactSum::Parts parts;
  parts.offset = 10;
  parts.limbs = {0, 0};
  parts.negative = true;
  absl::StatusOr<ExactSum> from_parts = ExactSum::FromParts(parts);
  ASSERT_TRUE(from_parts.ok()) << from_parts.status();
  EXPECT_FALSE(from_parts->allocated());

  ExactSum copy = zeros;
  EXPECT_FALSE(copy.allocated());
}

TEST(ExactSumStorageTest, TheFirstTermThatIsNotZeroAllocates) {
  ExactSum finite;
  finite.Add(5e-324);
  EXPECT_TRUE(finite.allocated());
  ExactSum infinite;
  infinite.Add(-kInf);
  EXPECT_TRUE(infinite.allocated());
  EXPECT_THAT(infinite.Round(), BitsEq(-kInf));
  ExactSum merged;
  merged.Add(finite);
  EXPECT_TRUE(merged.allocated());
  EXPECT_TRUE(merged == finite);
}

TEST(ExactSumStorageTest, CopiesAreDeepAndIndependent) {
  ExactSum original = SumOf({1.0, 0.1, -1e-300});
  ExactSum copy(original);
  ASSERT_TRUE(copy.allocated());
  EXPECT_TRUE(copy == original);
  copy.Add(1.0);
  EXPECT_FALSE(copy == original);
  EXPECT_THAT(original.Round(), BitsEq(SumOf({1.0, 0.1, -1e-300}).Round()));

  // Assignment over an allocated sum, from an allocated and a zero one.
  ExactSum target = SumOf({7.0});
  target = original;
  EXPECT_TRUE(target == original);
  original.Add(2.0);
  EXPECT_FALSE(target == original);
  target = ExactSum();
  EXPECT_FALSE(target.allocated());
  EXPECT_TRUE(target == ExactSum());
  // Onto an unallocated one, and onto itself.
  ExactSum empty;
  empty = original;
  EXPECT_TRUE(empty == original);
  const ExactSum& alias = empty;
  empty = alias;
  EXPECT_TRUE(empty == original);
}

TEST(ExactSumStorageTest, MovesTakeTheLimbsAndLeaveZero) {
  ExactSum source = SumOf({0.5, kInf});
  const ExactSum expected = source;
  ExactSum moved(std::move(source));
  EXPECT_TRUE(moved == expected);
  EXPECT_FALSE(source.allocated());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(source == ExactSum());
  EXPECT_THAT(source.Round(), BitsEq(0.0));
  source.Add(3.0);  // usable again
  EXPECT_THAT(source.Round(), BitsEq(3.0));

  ExactSum assigned = SumOf({9.0});
  assigned = std::move(moved);
  EXPECT_TRUE(assigned == expected);
  EXPECT_FALSE(moved.allocated());  // NOLINT(bugprone-use-after-move)
}

TEST(ExactSumStorageTest, EqualityTreatsAllocatedZerosAsZero) {
  ExactSum cancelled = SumOf({1.0, -1.0});
  EXPECT_TRUE(cancelled.allocated());
  EXPECT_TRUE(cancelled == ExactSum());
  EXPECT_TRUE(ExactSum() == cancelled);
  EXPECT_TRUE(cancelled == cancelled);
  EXPECT_FALSE(SumOf({-1.0}) == ExactSum());
  EXPECT_FALSE(ExactSum() == SumOf({std::nan("")}));
  EXPECT_TRUE(SumOf({std::nan("")}) == SumOf({std::nan("")}));
  EXPECT_FALSE(SumOf({std::nan("")}) == SumOf({std::nan(""), std::nan("")}));
}

TEST(ExactSumStorageTest, AddingASumToItselfDoublesIt) {
  ExactSum sum = SumOf({0.1, -3.0});
  sum.Add(sum);
  EXPECT_TRUE(sum == SumOf({0.1, -3.0, 0.1, -3.0}));
  ExactSum zero;
  zero.Add(zero);
  EXPECT_FALSE(zero.allocated());
}

TEST(ExactSumStorageTest, IsOnePointer) {
  EXPECT_EQ(sizeof(ExactSum), sizeof(void*));
}

}  // namespace
}  // namespace pfor
