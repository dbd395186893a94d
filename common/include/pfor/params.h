// Typed kernel parameters and their validation.
//
// Every kernel declares its parameters as ParamSpecs. Requests are checked
// against them before any chunk runs (the coordinator does it at submit time
// with the specs workers announce), so kernels read parameters without
// checking them again.
#ifndef PFOR_PARAMS_H_
#define PFOR_PARAMS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace pfor {

using ParamValue = std::variant<int64_t, double, std::string>;

enum class ParamType { kInt, kFloat, kString };

struct ParamSpec {
  std::string name = {};
  ParamType type = ParamType::kFloat;
  std::string help = {};
  // The value used when the request leaves the parameter out; without one
  // the parameter is required.
  std::optional<ParamValue> default_value = {};
  // Inclusive bounds for kInt and kFloat. Floats must also be finite.
  std::optional<double> min = {};
  std::optional<double> max = {};
  // kString: the accepted names. An empty list accepts any string.
  std::vector<std::string> choices = {};
  // kString: when set, a value outside `choices` is also accepted if it is
  // an arithmetic expression in this one variable, such as "x^2 + 1".
  std::string expression_variable = {};
};

// Validated parameters of one job. Accessors expect a parameter the kernel
// declared, of its declared type (validation filled in every default). A
// kernel that reads anything else gets an exception (std::out_of_range for a
// name that is not there, std::bad_variant_access for another type), which
// the executor turns into a failed chunk with its message: never an abort.
// Immutable, so safe to share across threads.
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue> values)
      : values_(std::move(values)) {}

  int64_t Int(std::string_view name) const;
  // Accepts an integer parameter too.
  double Float(std::string_view name) const;
  const std::string& String(std::string_view name) const;
  bool Has(std::string_view name) const;

  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& Get(std::string_view name) const;

  std::map<std::string, ParamValue> values_;
};

// Checks `given` against `specs` and fills in defaults. An integer is accepted
// for a float parameter. Fails with INVALID_ARGUMENT naming the kernel, the
// parameter, the problem and the fix (unknown name, missing value, wrong type,
// out of bounds, not finite, not one of the choices, bad expression).
absl::StatusOr<Params> ValidateParams(
    const std::string& kernel, const std::vector<ParamSpec>& specs,
    const std::map<std::string, ParamValue>& given);

// Checks that `expression` is an arithmetic expression in `variable` alone
// (functions such as sin, exp, sqrt and the constants pi and e are allowed).
absl::Status CheckExpression(std::string_view expression,
                             std::string_view variable);

std::string FormatParamValue(const ParamValue& value);

}  // namespace pfor

#endif  // PFOR_PARAMS_H_
