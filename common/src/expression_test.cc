#include "pfor/common/expression.h"

#include <cmath>
#include <memory>
#include <numbers>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

double Constant(std::string_view text) {
  absl::StatusOr<double> value = Expression::EvaluateConstant(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *value : -424242;
}

std::unique_ptr<Expression> CompileOk(std::string_view text,
                                      std::string_view variable) {
  absl::StatusOr<std::unique_ptr<Expression>> expression =
      Expression::Compile(text, variable);
  EXPECT_TRUE(expression.ok()) << text << ": " << expression.status();
  return expression.ok() ? *std::move(expression) : nullptr;
}

TEST(ExpressionTest, EvaluatesConstants) {
  EXPECT_EQ(Constant("pi/2"), std::numbers::pi / 2);
  EXPECT_EQ(Constant("2*pi"), 2 * std::numbers::pi);
  EXPECT_EQ(Constant("pi"), std::numbers::pi);
  EXPECT_EQ(Constant("e"), std::numbers::e);
  EXPECT_EQ(Constant("1e9"), 1e9);
  EXPECT_EQ(Constant("1e-3"), 1e-3);
  EXPECT_EQ(Constant("-2.5"), -2.5);
  EXPECT_EQ(Constant("2^10"), 1024.0);
  EXPECT_EQ(Constant("(1+2)*3 - 4/8"), 8.5);
  EXPECT_EQ(Constant(" 7 "), 7.0);
  EXPECT_DOUBLE_EQ(Constant("sqrt(2)^2"), 2.0);
  EXPECT_DOUBLE_EQ(Constant("sin(pi/2) + cos(0) + ln(e)"), 3.0);
}

TEST(ExpressionTest, ConstantErrorsAreInvalidArgumentWithThePosition) {
  for (const char* bad :
       {"", "1+", "pi/", "2**3", "(1", "foo(2)", "x", "1 2", "1,2"}) {
    absl::StatusOr<double> value = Expression::EvaluateConstant(bad);
    ASSERT_FALSE(value.ok()) << "'" << bad << "' gave " << *value;
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(value.status().message()),
                HasSubstr(std::string("'") + bad + "'"));
  }
  const absl::Status status = Expression::EvaluateConstant("1+*2").status();
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("position 2"), HasSubstr("4/(1+x^2)")));
}

TEST(ExpressionTest, CompiledExpressionEvaluatesAtEachPoint) {
  std::unique_ptr<Expression> f = CompileOk("4/(1+x^2)", "x");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->Evaluate(0), 4.0);
  EXPECT_EQ(f->Evaluate(1), 2.0);
  EXPECT_EQ(f->Evaluate(-1), 2.0);
  EXPECT_EQ(f->Evaluate(0.5), 3.2);
  EXPECT_DOUBLE_EQ(f->Evaluate(3), 0.4);
  // Reevaluating an earlier point gives the same bits.
  EXPECT_EQ(f->Evaluate(0), 4.0);
}

TEST(ExpressionTest, IntegratingTheCompiledExpressionGivesPi) {
  // The documents' running example: the integral of 4/(1+x^2) on [0, 1].
  std::unique_ptr<Expression> f = CompileOk("4/(1+x^2)", "x");
  ASSERT_NE(f, nullptr);
  const int n = 100000;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += f->Evaluate((i + 0.5) / n);
  EXPECT_NEAR(sum / n, std::numbers::pi, 1e-10);
}

TEST(ExpressionTest, UsesTheNamedVariable) {
  std::unique_ptr<Expression> f = CompileOk("t^2 + 2*t + 1", "t");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->Evaluate(3), 16.0);
  std::unique_ptr<Expression> g = CompileOk("sin(theta)", "theta");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->Evaluate(0), 0.0);
  EXPECT_DOUBLE_EQ(g->Evaluate(std::numbers::pi / 2), 1.0);
}

TEST(ExpressionTest, ConstantExpressionsCompileInAnyVariable) {
  std::unique_ptr<Expression> f = CompileOk("2*pi", "x");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->Evaluate(123), 2 * std::numbers::pi);
}

TEST(ExpressionTest, CompiledExpressionsAreIndependent) {
  std::unique_ptr<Expression> f = CompileOk("x+1", "x");
  std::unique_ptr<Expression> g = CompileOk("x*10", "x");
  ASSERT_NE(f, nullptr);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(f->Evaluate(2), 3.0);
  EXPECT_EQ(g->Evaluate(5), 50.0);
  EXPECT_EQ(f->Evaluate(2), 3.0);
}

TEST(ExpressionTest, RejectsAnUnknownVariable) {
  absl::StatusOr<std::unique_ptr<Expression>> f =
      Expression::Compile("y+1", "x");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(f.status().message()),
      AllOf(HasSubstr("'y+1'"), HasSubstr("\"y\""), HasSubstr("position 0")));
  EXPECT_FALSE(Expression::Compile("x*z", "x").ok());
}

TEST(ExpressionTest, RejectsMalformedExpressions) {
  for (const char* bad : {"x^^2", "", "(x", "x)", "sin(", "4/(1+x^2", "x,x"}) {
    absl::StatusOr<std::unique_ptr<Expression>> f =
        Expression::Compile(bad, "x");
    EXPECT_FALSE(f.ok()) << bad;
    if (!f.ok()) {
      EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(ExpressionTest, RefusesAssignments) {
  // "x=1" reads as 1 at every point; the others change x as they go.
  for (const char* bad : {"x=1", "x = 1", "x+=1", "x-=2", "x*=x", "x/=2",
                          "sin(x=2)", "(x=1)+x"}) {
    absl::StatusOr<std::unique_ptr<Expression>> f =
        Expression::Compile(bad, "x");
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(f.status().message()), HasSubstr("assigns")) << bad;
  }
  EXPECT_FALSE(Expression::EvaluateConstant("pi=3").ok());
  // Comparisons are not assignments.
  std::unique_ptr<Expression> step =
      CompileOk("(x<=1)+(x>=2)+(x==3)+(x!=4)", "x");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->Evaluate(3), 3);
}

TEST(ExpressionTest, RejectsAnInvalidVariableName) {
  EXPECT_FALSE(Expression::Compile("1", "").ok());
  EXPECT_FALSE(Expression::Compile("1", "2x").ok());
}

}  // namespace
}  // namespace pfor
