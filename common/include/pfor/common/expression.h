// Arithmetic expressions in one variable, such as "4 / (1 + x^2)".
//
// Functions: sin cos tan asin acos atan sinh cosh tanh exp ln log log2 log10
// sqrt abs sign rint min max sum avg; operators + - * / ^; constants pi, e.
#ifndef PFOR_COMMON_EXPRESSION_H_
#define PFOR_COMMON_EXPRESSION_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"

namespace pfor {

// A compiled expression. Not thread-safe: compile one per thread.
class Expression {
 public:
  // INVALID_ARGUMENT with the parser's message and the position of the
  // problem when `text` is not an expression in `variable` alone, or when it
  // assigns ('x=1', 'x+=1': formulas only; comparisons such as x<=1 are
  // fine).
  static absl::StatusOr<std::unique_ptr<Expression>> Compile(
      std::string_view text, std::string_view variable);
  // Evaluates a constant expression such as "pi/2" or "1e9".
  static absl::StatusOr<double> EvaluateConstant(std::string_view text);

  ~Expression();
  double Evaluate(double x);

 private:
  struct Impl;
  explicit Expression(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pfor

#endif  // PFOR_COMMON_EXPRESSION_H_
