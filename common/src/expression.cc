#include "pfor/expression.h"

#include <cmath>
#include <numbers>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "muParser.h"

namespace pfor {

struct Expression::Impl {
  mu::Parser parser;
  double x = 0;
};

namespace {

absl::Status ParserError(std::string_view text, const mu::Parser::exception_type& e) {
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot parse expression '", std::string(text), "': ", e.GetMsg(),
      "; write arithmetic such as 4/(1+x^2) with +-*/^, sin, exp, sqrt, pi"));
}

void Configure(mu::Parser& parser, std::string_view text) {
  parser.DefineConst("pi", std::numbers::pi);
  parser.DefineConst("e", std::numbers::e);
  parser.SetExpr(std::string(text));
}

}  // namespace

Expression::Expression(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Expression::~Expression() = default;

absl::StatusOr<std::unique_ptr<Expression>> Expression::Compile(
    std::string_view text, std::string_view variable) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->parser.DefineVar(std::string(variable), &impl->x);
    Configure(impl->parser, text);
    impl->parser.Eval();  // compiles, and reports unknown names
  } catch (const mu::Parser::exception_type& e) {
    return ParserError(text, e);
  }
  return std::unique_ptr<Expression>(new Expression(std::move(impl)));
}

absl::StatusOr<double> Expression::EvaluateConstant(std::string_view text) {
  mu::Parser parser;
  try {
    Configure(parser, text);
    return parser.Eval();
  } catch (const mu::Parser::exception_type& e) {
    return ParserError(text, e);
  }
}

double Expression::Evaluate(double x) {
  impl_->x = x;
  return impl_->parser.Eval();
}

}  // namespace pfor
