#include "pfor/params.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

using Given = std::map<std::string, ParamValue>;

ParamSpec IntSpec(std::string name) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kInt;
  return spec;
}

ParamSpec FloatSpec(std::string name) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kFloat;
  return spec;
}

ParamSpec StringSpec(std::string name) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kString;
  return spec;
}

// The parameters of an integration kernel: a required interval, a point count
// with a default and bounds, and a named or expression integrand.
std::vector<ParamSpec> IntegrateSpecs() {
  ParamSpec a = FloatSpec("a");
  a.help = "lower end of the interval";
  ParamSpec b = FloatSpec("b");
  b.help = "upper end of the interval";
  ParamSpec n = IntSpec("n");
  n.default_value = int64_t{1000};
  n.min = 1;
  n.max = 1e12;
  ParamSpec f = StringSpec("f");
  f.default_value = std::string("cos");
  f.choices = {"cos", "sin", "exp"};
  f.expression_variable = "x";
  return {a, b, n, f};
}

absl::Status Check(const std::vector<ParamSpec>& specs, const Given& given) {
  return ValidateParams("integrate", specs, given).status();
}

std::string ErrorOf(const std::vector<ParamSpec>& specs, const Given& given) {
  absl::StatusOr<Params> params = ValidateParams("integrate", specs, given);
  EXPECT_FALSE(params.ok());
  if (params.ok()) return "";
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(params.status().message());
}

TEST(ValidateParamsTest, AcceptsGivenValuesAndFillsDefaults) {
  absl::StatusOr<Params> params =
      ValidateParams("integrate", IntegrateSpecs(), {{"a", 0.0}, {"b", 2.5}});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->Float("a"), 0.0);
  EXPECT_EQ(params->Float("b"), 2.5);
  EXPECT_EQ(params->Int("n"), 1000);
  EXPECT_EQ(params->String("f"), "cos");
  EXPECT_EQ(params->values().size(), 4u);
}

TEST(ValidateParamsTest, GivenValuesOverrideDefaults) {
  absl::StatusOr<Params> params = ValidateParams(
      "integrate", IntegrateSpecs(),
      {{"a", 1.0}, {"b", 2.0}, {"n", int64_t{7}}, {"f", std::string("exp")}});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->Int("n"), 7);
  EXPECT_EQ(params->String("f"), "exp");
}

TEST(ValidateParamsTest, NoSpecsAndNoValuesIsFine) {
  absl::StatusOr<Params> params = ValidateParams("noop", {}, {});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_TRUE(params->values().empty());
}

TEST(ValidateParamsTest, UnknownParameterErrorListsTheParameters) {
  const std::string message =
      ErrorOf(IntegrateSpecs(), {{"a", 0.0}, {"b", 1.0}, {"points", 3.0}});
  EXPECT_THAT(message,
              AllOf(HasSubstr("kernel integrate"), HasSubstr("'points'"),
                    HasSubstr("its parameters are a, b, n, f")));
}

TEST(ValidateParamsTest, UnknownParameterOfAKernelWithoutParameters) {
  absl::StatusOr<Params> params =
      ValidateParams("noop", {}, {{"x", int64_t{1}}});
  ASSERT_FALSE(params.ok());
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(params.status().message()),
              AllOf(HasSubstr("kernel noop"), HasSubstr("'x'"),
                    HasSubstr("takes no parameters")));
}

TEST(ValidateParamsTest, MissingRequiredParameterSaysHowToPassIt) {
  const std::string message = ErrorOf(IntegrateSpecs(), {{"a", 0.0}});
  EXPECT_THAT(message,
              AllOf(HasSubstr("kernel integrate"), HasSubstr("parameter b"),
                    HasSubstr("upper end of the interval"),
                    HasSubstr("--param b=VALUE")));
}

TEST(ValidateParamsTest, MissingParameterWithoutHelpHasNoEmptyParentheses) {
  const std::string message = ErrorOf({IntSpec("n")}, {});
  EXPECT_THAT(message, HasSubstr("--param n=VALUE"));
  EXPECT_THAT(message, Not(HasSubstr("()")));
}

TEST(ValidateParamsTest, RejectsWrongTypes) {
  EXPECT_THAT(ErrorOf({IntSpec("n")}, {{"n", 2.5}}),
              AllOf(HasSubstr("parameter n"), HasSubstr("must be an integer"),
                    HasSubstr("2.5")));
  EXPECT_THAT(ErrorOf({IntSpec("n")}, {{"n", std::string("10")}}),
              AllOf(HasSubstr("must be an integer"), HasSubstr("'10'")));
  EXPECT_THAT(ErrorOf({FloatSpec("a")}, {{"a", std::string("pi")}}),
              AllOf(HasSubstr("parameter a"), HasSubstr("must be a number"),
                    HasSubstr("'pi'")));
  EXPECT_THAT(ErrorOf({StringSpec("s")}, {{"s", int64_t{3}}}),
              AllOf(HasSubstr("parameter s"), HasSubstr("must be a string"),
                    HasSubstr("got 3")));
}

TEST(ValidateParamsTest, WrongTypeForAChoiceListsTheChoices) {
  EXPECT_THAT(
      ErrorOf(IntegrateSpecs(), {{"a", 0.0}, {"b", 1.0}, {"f", int64_t{3}}}),
      HasSubstr("must be one of cos, sin, exp, or an expression in x, "
                "got 3"));
  ParamSpec expression_only = StringSpec("g");
  expression_only.expression_variable = "t";
  EXPECT_THAT(ErrorOf({expression_only}, {{"g", 1.5}}),
              HasSubstr("must be an expression in t, got 1.5"));
  ParamSpec choices_only = StringSpec("mode");
  choices_only.choices = {"fast", "exact"};
  EXPECT_THAT(ErrorOf({choices_only}, {{"mode", int64_t{1}}}),
              HasSubstr("must be one of fast, exact, got 1"));
}

TEST(ValidateParamsTest, AcceptsAnIntegerForAFloatAndStoresAFloat) {
  absl::StatusOr<Params> params = ValidateParams(
      "integrate", IntegrateSpecs(), {{"a", int64_t{0}}, {"b", int64_t{3}}});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->Float("b"), 3.0);
  EXPECT_TRUE(std::holds_alternative<double>(params->values().at("b")));
}

TEST(ValidateParamsTest, RejectsNonFiniteFloats) {
  for (double bad : {std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    EXPECT_THAT(ErrorOf(IntegrateSpecs(), {{"a", 0.0}, {"b", bad}}),
                AllOf(HasSubstr("parameter b"), HasSubstr("finite")));
  }
}

TEST(ValidateParamsTest, EnforcesIntegerBounds) {
  EXPECT_THAT(
      ErrorOf(IntegrateSpecs(), {{"a", 0.0}, {"b", 1.0}, {"n", int64_t{0}}}),
      HasSubstr("parameter n is 0; it must be in [1, 1e+12]"));
  EXPECT_THAT(ErrorOf(IntegrateSpecs(),
                      {{"a", 0.0}, {"b", 1.0}, {"n", int64_t{1000000000001}}}),
              HasSubstr("is 1000000000001; it must be in [1, 1e+12]"));
  // The bounds are inclusive.
  EXPECT_TRUE(
      Check(IntegrateSpecs(), {{"a", 0.0}, {"b", 1.0}, {"n", int64_t{1}}})
          .ok());
  EXPECT_TRUE(Check(IntegrateSpecs(),
                    {{"a", 0.0}, {"b", 1.0}, {"n", int64_t{1000000000000}}})
                  .ok());
}

TEST(ValidateParamsTest, ComparesLargeIntegersWithBoundsExactly) {
  // 2^53 + 1 becomes 2^53 as a double; it is still above a 2^53 maximum.
  ParamSpec spec = IntSpec("n");
  spec.max = 9007199254740992.0;
  EXPECT_TRUE(Check({spec}, {{"n", int64_t{9007199254740992}}}).ok());
  EXPECT_THAT(ErrorOf({spec}, {{"n", int64_t{9007199254740993}}}),
              HasSubstr("is 9007199254740993"));
  spec.max.reset();
  spec.min = -9007199254740992.0;
  EXPECT_THAT(ErrorOf({spec}, {{"n", int64_t{-9007199254740993}}}),
              HasSubstr("is -9007199254740993"));
  // Bounds beyond the int64 range hold everything in.
  spec.min = -1e300;
  spec.max = 1e300;
  EXPECT_TRUE(Check({spec}, {{"n", std::numeric_limits<int64_t>::max()}}).ok());
  EXPECT_TRUE(Check({spec}, {{"n", std::numeric_limits<int64_t>::min()}}).ok());
  spec.min = 1e300;
  spec.max.reset();
  EXPECT_FALSE(
      Check({spec}, {{"n", std::numeric_limits<int64_t>::max()}}).ok());
  // Fractional bounds: [0.5, 2.5] holds 1 and 2.
  spec.min = 0.5;
  spec.max = 2.5;
  EXPECT_FALSE(Check({spec}, {{"n", int64_t{0}}}).ok());
  EXPECT_TRUE(Check({spec}, {{"n", int64_t{1}}}).ok());
  EXPECT_TRUE(Check({spec}, {{"n", int64_t{2}}}).ok());
  EXPECT_FALSE(Check({spec}, {{"n", int64_t{3}}}).ok());
}

TEST(ValidateParamsTest, EnforcesFloatBounds) {
  ParamSpec spec = FloatSpec("p");
  spec.min = 0;
  spec.max = 1;
  EXPECT_TRUE(Check({spec}, {{"p", 0.0}}).ok());
  EXPECT_TRUE(Check({spec}, {{"p", 1.0}}).ok());
  EXPECT_THAT(ErrorOf({spec}, {{"p", 1.0000001}}),
              HasSubstr("parameter p is 1.0000001; it must be in [0, 1]"));
  EXPECT_THAT(ErrorOf({spec}, {{"p", -0.25}}), HasSubstr("is -0.25"));
  EXPECT_THAT(ErrorOf({spec}, {{"p", int64_t{2}}}), HasSubstr("is 2;"));
  spec.min.reset();
  EXPECT_THAT(ErrorOf({spec}, {{"p", 2.0}}), HasSubstr("must be in [-inf, 1]"));
}

TEST(ValidateParamsTest, ChecksDefaultsToo) {
  ParamSpec spec = IntSpec("n");
  spec.default_value = int64_t{0};
  spec.min = 1;
  EXPECT_THAT(ErrorOf({spec}, {}), HasSubstr("parameter n is 0"));
  ParamSpec typed = FloatSpec("a");
  typed.default_value = int64_t{2};
  absl::StatusOr<Params> params = ValidateParams("k", {typed}, {});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_TRUE(std::holds_alternative<double>(params->values().at("a")));
}

TEST(ValidateParamsTest, AcceptsAnyStringWithoutChoices) {
  EXPECT_TRUE(Check({StringSpec("label")}, {{"label", std::string("")}}).ok());
  EXPECT_TRUE(
      Check({StringSpec("label")}, {{"label", std::string("x^^2 !")}}).ok());
}

TEST(ValidateParamsTest, RejectsAStringOutsideTheChoices) {
  ParamSpec spec = StringSpec("mode");
  spec.choices = {"fast", "exact"};
  EXPECT_TRUE(Check({spec}, {{"mode", std::string("exact")}}).ok());
  EXPECT_THAT(ErrorOf({spec}, {{"mode", std::string("Fast")}}),
              HasSubstr("parameter mode is 'Fast', which is not one of fast, "
                        "exact"));
  // Without an expression variable, an expression is not a choice.
  EXPECT_FALSE(Check({spec}, {{"mode", std::string("1+1")}}).ok());
}

TEST(ValidateParamsTest, AcceptsAnExpressionWhereTheSpecAllowsOne) {
  for (const char* text :
       {"x^2+1", "4/(1+x^2)", "sin(x)*exp(-x)", "pi", "sqrt(abs(x)) - e"}) {
    EXPECT_TRUE(Check(IntegrateSpecs(),
                      {{"a", 0.0}, {"b", 1.0}, {"f", std::string(text)}})
                    .ok())
        << text;
  }
}

TEST(ValidateParamsTest, RejectsABadExpressionWithTheParserMessage) {
  const std::string malformed = ErrorOf(
      IntegrateSpecs(), {{"a", 0.0}, {"b", 1.0}, {"f", std::string("x^^2")}});
  EXPECT_THAT(malformed,
              AllOf(HasSubstr("parameter f is 'x^^2'"),
                    HasSubstr("one of cos, sin, exp, or an expression in x"),
                    HasSubstr("position")));
  const std::string other_variable = ErrorOf(
      IntegrateSpecs(), {{"a", 0.0}, {"b", 1.0}, {"f", std::string("y+1")}});
  EXPECT_THAT(other_variable, AllOf(HasSubstr("'y+1'"), HasSubstr("\"y\"")));
  EXPECT_FALSE(
      Check(IntegrateSpecs(), {{"a", 0.0}, {"b", 1.0}, {"f", std::string("")}})
          .ok());
  EXPECT_FALSE(Check(IntegrateSpecs(),
                     {{"a", 0.0}, {"b", 1.0}, {"f", std::string("x,1")}})
                   .ok());
}

TEST(CheckExpressionTest, AcceptsExpressionsInTheVariableAlone) {
  EXPECT_TRUE(CheckExpression("x^2+1", "x").ok());
  EXPECT_TRUE(CheckExpression("cos(t) + 2*pi", "t").ok());
  EXPECT_TRUE(CheckExpression("42", "x").ok());
  const absl::Status other = CheckExpression("x+1", "t");
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(other.message()), HasSubstr("x+1"));
  EXPECT_EQ(CheckExpression("(x", "x").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParamsTest, AccessorsReadTheValues) {
  const Params params(
      {{"n", int64_t{5}}, {"a", 0.5}, {"f", std::string("sin")}});
  EXPECT_EQ(params.Int("n"), 5);
  EXPECT_EQ(params.Float("a"), 0.5);
  EXPECT_EQ(params.Float("n"), 5.0);  // an integer reads as a float too
  EXPECT_EQ(params.String("f"), "sin");
  EXPECT_TRUE(params.Has("a"));
  EXPECT_FALSE(params.Has("b"));
}

TEST(ParamsTest, ReadingAMissingParameterThrowsInsteadOfAborting) {
  const Params params({{"n", int64_t{5}}});
  try {
    params.Int("m");
    ADD_FAILURE() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("parameter m"));
  }
  EXPECT_THROW(params.String("n"), std::bad_variant_access);
}

TEST(FormatParamValueTest, FormatsEachType) {
  EXPECT_EQ(FormatParamValue(int64_t{-3}), "-3");
  EXPECT_EQ(FormatParamValue(2.5), "2.5");
  EXPECT_EQ(FormatParamValue(1e-7), "1e-07");
  EXPECT_EQ(FormatParamValue(std::string("cos")), "'cos'");
}

TEST(FormatParamValueTest, FloatsKeepEveryDigit) {
  EXPECT_EQ(FormatParamValue(0.1234567), "0.1234567");
  EXPECT_EQ(FormatParamValue(3.141592653589793), "3.141592653589793");
  EXPECT_EQ(FormatParamValue(1e12 + 0.5), "1000000000000.5");
}

}  // namespace
}  // namespace pfor
