#include "pfor/common/expression.h"

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

absl::Status ParserError(std::string_view text,
                         const mu::Parser::exception_type& e) {
  std::string message = e.GetMsg();
  while (!message.empty() && message.back() == '.') message.pop_back();
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot parse expression '", std::string(text), "': ", message,
      "; write arithmetic such as 4/(1+x^2) with +-*/^, sin, exp, sqrt, pi"));
}

void Configure(mu::Parser& parser, std::string_view text) {
  parser.DefineConst("pi", std::numbers::pi);
  parser.DefineConst("e", std::numbers::e);
  parser.SetExpr(std::string(text));
}

// muparser reads "1, 2" as two results and Eval() returns the last one; a
// parameter is one number, so a list is a mistake worth reporting.
absl::Status CheckSingleResult(std::string_view text, mu::Parser& parser) {
  if (parser.GetNumResults() == 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot parse expression '", std::string(text), "': it is a list of ",
      parser.GetNumResults(), " values; write a single expression"));
}

// muparser assigns with '=' (and '+=', '-=', '*=', '/='): "x=1" would set
// x and read as 1 at every point. An expression is a formula, so any '='
// that is not part of a comparison ('==', '!=', '<=', '>=') is refused.
absl::Status CheckNoAssignment(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') continue;
    if (i + 1 < text.size() && text[i + 1] == '=') {
      ++i;  // ==
      continue;
    }
    if (i > 0 &&
        (text[i - 1] == '<' || text[i - 1] == '>' || text[i - 1] == '!')) {
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot parse expression '", std::string(text), "': '=' at position ",
        i + 1,
        " assigns a variable; write a formula such as 4/(1+x^2), and == to "
        "compare"));
  }
  return absl::OkStatus();
}

}  // namespace

Expression::Expression(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Expression::~Expression() = default;

absl::StatusOr<std::unique_ptr<Expression>> Expression::Compile(
    std::string_view text, std::string_view variable) {
  if (absl::Status status = CheckNoAssignment(text); !status.ok()) {
    return status;
  }
  auto impl = std::make_unique<Impl>();
  try {
    impl->parser.DefineVar(std::string(variable), &impl->x);
    Configure(impl->parser, text);
    impl->parser.Eval();  // compiles, and reports unknown names
  } catch (const mu::Parser::exception_type& e) {
    return ParserError(text, e);
  }
  if (absl::Status status = CheckSingleResult(text, impl->parser);
      !status.ok()) {
    return status;
  }
  return std::unique_ptr<Expression>(new Expression(std::move(impl)));
}

absl::StatusOr<double> Expression::EvaluateConstant(std::string_view text) {
  if (absl::Status status = CheckNoAssignment(text); !status.ok()) {
    return status;
  }
  mu::Parser parser;
  try {
    Configure(parser, text);
    const double value = parser.Eval();
    if (absl::Status status = CheckSingleResult(text, parser); !status.ok()) {
      return status;
    }
    return value;
  } catch (const mu::Parser::exception_type& e) {
    return ParserError(text, e);
  }
}

double Expression::Evaluate(double x) {
  impl_->x = x;
  return impl_->parser.Eval();
}

}  // namespace pfor
