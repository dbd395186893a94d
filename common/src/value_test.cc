#include "pfor/value.h"

#include <bit>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinInt = std::numeric_limits<int64_t>::min();
constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

ExactSum Exact(std::initializer_list<double> terms) {
  ExactSum sum;
  for (double x : terms) sum.Add(x);
  return sum;
}

Value CombineOk(Reduction reduction, const Value& a, const Value& b) {
  absl::StatusOr<Value> result = Combine(reduction, a, b);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : Value{int64_t{-424242}};
}

int64_t AsInt(const Value& value) {
  EXPECT_TRUE(std::holds_alternative<int64_t>(value)) << value.index();
  return std::holds_alternative<int64_t>(value) ? std::get<int64_t>(value)
                                                : -424242;
}

double AsDouble(const Value& value) {
  EXPECT_TRUE(std::holds_alternative<double>(value)) << value.index();
  return std::holds_alternative<double>(value) ? std::get<double>(value)
                                               : -424242;
}

double AsRoundedSum(const Value& value) {
  EXPECT_TRUE(std::holds_alternative<ExactSum>(value)) << value.index();
  return std::holds_alternative<ExactSum>(value)
             ? std::get<ExactSum>(value).Round()
             : -424242;
}

// Digits of the significand of a %g or scientific number, without leading or
// trailing zeros.
int SignificantDigits(std::string text) {
  text = text.substr(0, text.find_first_of("eE"));
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9') digits += c;
  }
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 1;
  const size_t last = digits.find_last_not_of('0');
  return static_cast<int>(last - first + 1);
}

TEST(ReductionTest, NamesParseBack) {
  for (Reduction r : {Reduction::kSum, Reduction::kMin, Reduction::kMax,
                      Reduction::kCount, Reduction::kCollect}) {
    absl::StatusOr<Reduction> parsed = ParseReduction(ReductionName(r));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, r);
  }
  EXPECT_STREQ(ReductionName(Reduction::kSum), "sum");
  EXPECT_STREQ(ReductionName(Reduction::kMin), "min");
  EXPECT_STREQ(ReductionName(Reduction::kMax), "max");
  EXPECT_STREQ(ReductionName(Reduction::kCount), "count");
  EXPECT_STREQ(ReductionName(Reduction::kCollect), "collect");
}

TEST(ReductionTest, UnknownNameErrorNamesTheChoices) {
  for (const char* bad : {"avg", "", "Sum", "sum ", "minimum"}) {
    absl::StatusOr<Reduction> parsed = ParseReduction(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()),
                AllOf(HasSubstr(std::string("'") + bad + "'"),
                      HasSubstr("sum, min, max, count, collect")));
  }
}

TEST(CombineTest, SumsIntegersExactly) {
  EXPECT_EQ(AsInt(CombineOk(Reduction::kSum, int64_t{2}, int64_t{3})), 5);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kSum, int64_t{-7}, int64_t{3})), -4);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kSum, kMaxInt, kMinInt)), -1);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kSum, kMaxInt - 1, int64_t{1})),
            kMaxInt);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kSum, kMinInt + 1, int64_t{-1})),
            kMinInt);
  // Above 2^53, where a double would round.
  EXPECT_EQ(AsInt(CombineOk(Reduction::kSum, int64_t{1} << 53, int64_t{1})),
            (int64_t{1} << 53) + 1);
}

TEST(CombineTest, IntegerSumOverflowIsOutOfRange) {
  for (auto [a, b] :
       {std::pair{kMaxInt, int64_t{1}}, std::pair{kMinInt, int64_t{-1}},
        std::pair{kMaxInt, kMaxInt}, std::pair{kMinInt, kMinInt}}) {
    absl::StatusOr<Value> result = Combine(Reduction::kSum, a, b);
    ASSERT_FALSE(result.ok()) << a << " + " << b;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_THAT(std::string(result.status().message()),
                HasSubstr(std::to_string(a)));
  }
  absl::StatusOr<Value> count = Combine(Reduction::kCount, kMaxInt, int64_t{1});
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), absl::StatusCode::kOutOfRange);
}

TEST(CombineTest, IntegerMeetingFloatSumsExactly) {
  // 2^53 + 1 is not a double; the exact sum keeps it.
  const Value sum =
      CombineOk(Reduction::kSum, (int64_t{1} << 53) + 1, Value{0.5});
  EXPECT_EQ(AsRoundedSum(sum), 9007199254740994.0);  // ...993.5, tie to even
  const Value back =
      CombineOk(Reduction::kSum, sum, Value{-9007199254740992.0});
  EXPECT_EQ(AsRoundedSum(back), 1.5);
  const Value reversed = CombineOk(Reduction::kSum, Value{0.25}, int64_t{-1});
  EXPECT_EQ(AsRoundedSum(reversed), -0.75);
  EXPECT_EQ(AsRoundedSum(CombineOk(Reduction::kSum, kMinInt, Value{0.5})),
            -9223372036854775808.0);
}

TEST(CombineTest, FloatSumsAreExactSumsRoundedOnce) {
  const Value a = CombineOk(Reduction::kSum, Value{1e100}, Value{1.0});
  const Value b = CombineOk(Reduction::kSum, a, Value{-1e100});
  EXPECT_EQ(AsRoundedSum(b), 1.0);
  const Value c =
      CombineOk(Reduction::kSum, Value{Exact({0.1, 0.2})}, Value{-0.3});
  // 0.1 + 0.2 - 0.3, exactly as doubles, is 2^-55, not zero.
  EXPECT_EQ(AsRoundedSum(c), std::ldexp(1.0, -55));
  const Value d = CombineOk(Reduction::kSum, Value{Exact({kInf})}, Value{1.0});
  EXPECT_EQ(AsRoundedSum(d), kInf);
  const Value e = CombineOk(Reduction::kSum, Value{kNan}, int64_t{1});
  EXPECT_TRUE(std::isnan(AsRoundedSum(e)));
}

TEST(CombineTest, FloatSumIsIndependentOfGrouping) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(-1, 1);
  std::vector<Value> values;
  for (int i = 0; i < 1000; ++i) {
    if (i % 3 == 0) {
      values.push_back(static_cast<int64_t>(rng() % 1000) - 500);
    } else {
      values.push_back(std::ldexp(unit(rng), static_cast<int>(rng() % 100)));
    }
  }
  Value left = int64_t{0};
  for (const Value& v : values) left = CombineOk(Reduction::kSum, left, v);
  Value right = int64_t{0};
  for (auto it = values.rbegin(); it != values.rend(); ++it) {
    right = CombineOk(Reduction::kSum, *it, right);
  }
  ASSERT_TRUE(std::holds_alternative<ExactSum>(left));
  ASSERT_TRUE(std::holds_alternative<ExactSum>(right));
  EXPECT_TRUE(std::get<ExactSum>(left) == std::get<ExactSum>(right));
  EXPECT_EQ(std::bit_cast<uint64_t>(ToDouble(left)),
            std::bit_cast<uint64_t>(ToDouble(right)));
}

TEST(CombineTest, CountAddsCounts) {
  EXPECT_EQ(AsInt(CombineOk(Reduction::kCount, int64_t{3}, int64_t{4})), 7);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kCount, int64_t{0}, int64_t{0})), 0);
}

TEST(CombineTest, MinAndMaxOfIntegersStayIntegers) {
  EXPECT_EQ(AsInt(CombineOk(Reduction::kMin, int64_t{3}, int64_t{-4})), -4);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kMax, int64_t{3}, int64_t{-4})), 3);
  // Exact above 2^53 where doubles could not tell them apart.
  const int64_t big = (int64_t{1} << 53) + 1;
  EXPECT_EQ(AsInt(CombineOk(Reduction::kMax, big, big - 1)), big);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kMin, big - 1, big)), big - 1);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kMin, kMinInt, kMaxInt)), kMinInt);
  EXPECT_EQ(AsInt(CombineOk(Reduction::kMax, kMinInt, kMaxInt)), kMaxInt);
}

TEST(CombineTest, MinAndMaxOfFloats) {
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMin, Value{1.5}, Value{-2.5})),
            -2.5);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMax, Value{1.5}, Value{-2.5})), 1.5);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMax, Value{-kInf}, Value{-1e308})),
            -1e308);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMin, Value{kInf}, Value{1e308})),
            1e308);
}

TEST(CombineTest, MinAndMaxOfIntegerAndFloatGiveAFloat) {
  // The type must not depend on which side wins.
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMin, int64_t{3}, Value{2.5})), 2.5);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMin, int64_t{2}, Value{2.5})), 2.0);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMax, int64_t{3}, Value{2.5})), 3.0);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMax, Value{2.5}, int64_t{2})), 2.5);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMax, int64_t{-1}, Value{-kInf})),
            -1.0);
}

TEST(CombineTest, MinAndMaxRoundExactSums) {
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMin, Value{Exact({0.1, 0.2})},
                               Value{0.5})),
            0.1 + 0.2);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMax, Value{Exact({1.0, 1.0})},
                               int64_t{1})),
            2.0);
  EXPECT_EQ(AsDouble(CombineOk(Reduction::kMax, Value{Exact({-1.0})},
                               Value{Exact({-2.0})})),
            -1.0);
}

TEST(CombineTest, NanWinsMinAndMax) {
  for (Reduction r : {Reduction::kMin, Reduction::kMax}) {
    EXPECT_TRUE(std::isnan(AsDouble(CombineOk(r, Value{kNan}, Value{1.0}))));
    EXPECT_TRUE(std::isnan(AsDouble(CombineOk(r, Value{1.0}, Value{kNan}))));
    EXPECT_TRUE(std::isnan(AsDouble(CombineOk(r, int64_t{5}, Value{kNan}))));
    EXPECT_TRUE(std::isnan(AsDouble(CombineOk(r, Value{kNan}, int64_t{5}))));
    EXPECT_TRUE(std::isnan(AsDouble(CombineOk(r, Value{-kInf}, Value{kNan}))));
    EXPECT_TRUE(std::isnan(
        AsDouble(CombineOk(r, Value{Exact({kInf, -kInf})}, Value{0.0}))));
  }
}

TEST(CombineTest, CollectValuesAreNotCombined) {
  absl::StatusOr<Value> result =
      Combine(Reduction::kCollect, int64_t{1}, int64_t{2});
  EXPECT_FALSE(result.ok());
}

TEST(ToDoubleTest, ConvertsEachKind) {
  EXPECT_EQ(ToDouble(int64_t{-12}), -12.0);
  EXPECT_EQ(ToDouble(kMaxInt), 9223372036854775808.0);
  EXPECT_EQ(ToDouble(Value{0.25}), 0.25);
  EXPECT_EQ(ToDouble(Value{Exact({1.0, std::ldexp(1.0, -53)})}), 1.0);
  EXPECT_EQ(ToDouble(Value{
                Exact({0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1})}),
            1.0);
}

TEST(FormatValueTest, FormatsIntegersInDecimal) {
  EXPECT_EQ(FormatValue(int64_t{0}), "0");
  EXPECT_EQ(FormatValue(int64_t{42}), "42");
  EXPECT_EQ(FormatValue(kMinInt), "-9223372036854775808");
  EXPECT_EQ(FormatValue(kMaxInt), "9223372036854775807");
}

TEST(FormatValueTest, FormatsFloatsWithTheFewestDigits) {
  EXPECT_EQ(FormatValue(Value{0.1}), "0.1");
  EXPECT_EQ(FormatValue(Value{0.5}), "0.5");
  EXPECT_EQ(FormatValue(Value{3.0}), "3");
  EXPECT_EQ(FormatValue(Value{-2.5}), "-2.5");
  EXPECT_EQ(FormatValue(Value{0.1 + 0.2}), "0.30000000000000004");
  EXPECT_EQ(FormatValue(Value{1.0 / 3}), "0.3333333333333333");
  EXPECT_EQ(FormatValue(Value{1e300}), "1e+300");
  EXPECT_EQ(FormatValue(Value{1e23}), "1e+23");
  EXPECT_EQ(FormatValue(Value{5e-324}), "5e-324");
  EXPECT_EQ(FormatValue(Value{DBL_MAX}), "1.7976931348623157e+308");
  EXPECT_EQ(FormatValue(Value{3.141592653589793}), "3.141592653589793");
  EXPECT_EQ(FormatValue(Value{-0.0}), "-0");
}

TEST(FormatValueTest, FormatsNonFiniteValues) {
  EXPECT_EQ(FormatValue(Value{kInf}), "inf");
  EXPECT_EQ(FormatValue(Value{-kInf}), "-inf");
  EXPECT_EQ(FormatValue(Value{kNan}), "nan");
  EXPECT_EQ(FormatValue(Value{-kNan}), "nan");
  EXPECT_EQ(FormatValue(Value{Exact({kInf, -kInf})}), "nan");
}

TEST(FormatValueTest, FormatsExactSumsRounded) {
  EXPECT_EQ(FormatValue(Value{Exact({0.1, 0.2})}), "0.30000000000000004");
  EXPECT_EQ(FormatValue(Value{Exact({1e100, 1.0, -1e100})}), "1");
  EXPECT_EQ(FormatValue(Value{ExactSum()}), "0");
}

TEST(FormatValueTest, FloatsReadBackBitForBit) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 20000; ++i) {
    const double x = std::bit_cast<double>(rng());
    if (std::isnan(x)) continue;
    const std::string text = FormatValue(Value{x});
    const double back = std::strtod(text.c_str(), nullptr);
    ASSERT_EQ(std::bit_cast<uint64_t>(back), std::bit_cast<uint64_t>(x))
        << text;
    // As few significant digits as the shortest round-trip form has.
    char shortest[64];
    const auto [end, ec] = std::to_chars(shortest, shortest + sizeof shortest,
                                         x, std::chars_format::scientific);
    ASSERT_EQ(ec, std::errc());
    ASSERT_EQ(SignificantDigits(text),
              SignificantDigits(std::string(shortest, end)))
        << text << " vs " << std::string(shortest, end);
  }
}

TEST(ValueTest, IsSmallEnoughToCopyFreely) {
  // Futures, batch results and events hold values by the thousand.
  EXPECT_LE(sizeof(Value), 48u);
  EXPECT_LE(sizeof(absl::StatusOr<Value>), 48u);
}

TEST(ValueTest, CopiesAndComparesExactSums) {
  ExactSum sum;
  sum.Add(0.1);
  const Value value = sum;
  Value copy = value;
  EXPECT_EQ(copy, value);
  std::get<ExactSum>(copy).Add(1.0);
  EXPECT_NE(copy, value);
  EXPECT_EQ(ToDouble(value), 0.1);
  Value moved = std::move(copy);
  EXPECT_EQ(ToDouble(moved), ToDouble(Value{1.1}));
}

}  // namespace
}  // namespace pfor
