// User integrands and constant expressions (muparser behind
// pfor/common/expression.h): compiled, then evaluated.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pfor/common/expression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)pfor::Expression::EvaluateConstant(text);
  auto expression = pfor::Expression::Compile(text, "x");
  if (expression.ok()) {
    (void)(*expression)->Evaluate(0.5);
    (void)(*expression)->Evaluate(-1e300);
  }
  return 0;
}
