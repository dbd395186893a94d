#include "pfor/params.h"

#include <cmath>
#include <stdexcept>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pfor/common/expression.h"
#include "pfor/value.h"

namespace pfor {
namespace {

// What a kString parameter accepts, as in "must be <this>".
std::string Expected(const ParamSpec& spec) {
  std::string text;
  if (!spec.choices.empty()) {
    text = absl::StrCat("one of ", absl::StrJoin(spec.choices, ", "));
  }
  if (!spec.expression_variable.empty()) {
    absl::StrAppend(&text, text.empty() ? "" : ", or ", "an expression in ",
                    spec.expression_variable);
  }
  return text.empty() ? "a string" : text;
}

std::string FormatBound(const std::optional<double>& bound,
                        std::string_view unbounded) {
  return bound ? FormatParamValue(*bound) : std::string(unbounded);
}

// Exact comparisons of an integer with a double bound (converting the integer
// to double would round above 2^53). Like double comparisons, a NaN bound
// never holds a value out.
bool IntBelow(int64_t i, double bound) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (std::isnan(bound)) return false;
  if (bound >= kTwo63) return true;
  if (bound < -kTwo63) return false;
  return i < static_cast<int64_t>(std::ceil(bound));
}

bool IntAbove(int64_t i, double bound) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (std::isnan(bound)) return false;
  if (bound >= kTwo63) return false;
  if (bound < -kTwo63) return true;
  return i > static_cast<int64_t>(std::floor(bound));
}

absl::Status CheckOne(const std::string& kernel, const ParamSpec& spec,
                      ParamValue& value) {
  auto bad = [&](auto&&... what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel ", kernel, ": parameter ", spec.name, " ", what...));
  };
  switch (spec.type) {
    case ParamType::kInt: {
      const auto* i = std::get_if<int64_t>(&value);
      if (i == nullptr) {
        return bad("must be an integer, got ", FormatParamValue(value));
      }
      if ((spec.min && IntBelow(*i, *spec.min)) ||
          (spec.max && IntAbove(*i, *spec.max))) {
        return bad("is ", *i, "; it must be in [",
                   FormatBound(spec.min, "-inf"), ", ",
                   FormatBound(spec.max, "inf"), "]");
      }
      return absl::OkStatus();
    }
    case ParamType::kFloat: {
      if (const auto* i = std::get_if<int64_t>(&value)) {
        value = static_cast<double>(*i);
      }
      const auto* d = std::get_if<double>(&value);
      if (d == nullptr) {
        return bad("must be a number, got ", FormatParamValue(value));
      }
      if (!std::isfinite(*d)) {
        return bad("is ", FormatParamValue(value), "; pass a finite number");
      }
      if ((spec.min && *d < *spec.min) || (spec.max && *d > *spec.max)) {
        return bad("is ", FormatParamValue(*d), "; it must be in [",
                   FormatBound(spec.min, "-inf"), ", ",
                   FormatBound(spec.max, "inf"), "]");
      }
      return absl::OkStatus();
    }
    case ParamType::kString: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr) {
        return bad("must be ", Expected(spec), ", got ",
                   FormatParamValue(value));
      }
      if (spec.choices.empty() && spec.expression_variable.empty()) {
        return absl::OkStatus();
      }
      for (const std::string& choice : spec.choices) {
        if (*s == choice) return absl::OkStatus();
      }
      if (!spec.expression_variable.empty()) {
        absl::Status parsed = CheckExpression(*s, spec.expression_variable);
        if (parsed.ok()) return absl::OkStatus();
        return bad("is '", *s, "', which is not ", Expected(spec), " (",
                   parsed.message(), ")");
      }
      return bad("is '", *s, "', which is not ", Expected(spec));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const ParamValue& Params::Get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) {
    // Thrown into the kernel that asked, whose chunk fails with this text.
    throw std::out_of_range(absl::StrCat(
        "the kernel reads parameter ", std::string(name),
        ", which the job does not have (the kernel does not declare it, or "
        "declares it without a default)"));
  }
  return it->second;
}

int64_t Params::Int(std::string_view name) const {
  return std::get<int64_t>(Get(name));
}

double Params::Float(std::string_view name) const {
  const ParamValue& value = Get(name);
  if (const auto* i = std::get_if<int64_t>(&value)) {
    return static_cast<double>(*i);
  }
  return std::get<double>(value);
}

const std::string& Params::String(std::string_view name) const {
  return std::get<std::string>(Get(name));
}

bool Params::Has(std::string_view name) const {
  return values_.contains(std::string(name));
}

absl::StatusOr<Params> ValidateParams(
    const std::string& kernel, const std::vector<ParamSpec>& specs,
    const std::map<std::string, ParamValue>& given) {
  for (const auto& [name, value] : given) {
    bool known = false;
    for (const ParamSpec& spec : specs) known = known || spec.name == name;
    if (!known) {
      std::vector<std::string> names;
      for (const ParamSpec& spec : specs) names.push_back(spec.name);
      return absl::InvalidArgumentError(absl::StrCat(
          "kernel ", kernel, " has no parameter '", name, "'; ",
          names.empty() ? "it takes no parameters"
                        : absl::StrCat("its parameters are ",
                                       absl::StrJoin(names, ", "))));
    }
  }
  std::map<std::string, ParamValue> values;
  for (const ParamSpec& spec : specs) {
    auto it = given.find(spec.name);
    ParamValue value;
    if (it != given.end()) {
      value = it->second;
    } else if (spec.default_value) {
      value = *spec.default_value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "kernel ", kernel, " needs parameter ", spec.name,
          spec.help.empty() ? "" : absl::StrCat(" (", spec.help, ")"),
          "; pass --param ", spec.name, "=VALUE"));
    }
    if (absl::Status status = CheckOne(kernel, spec, value); !status.ok()) {
      return status;
    }
    values.emplace(spec.name, std::move(value));
  }
  return Params(std::move(values));
}

absl::Status CheckExpression(std::string_view expression,
                             std::string_view variable) {
  return Expression::Compile(expression, variable).status();
}

std::string FormatParamValue(const ParamValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return absl::StrCat(*i);
  if (const auto* d = std::get_if<double>(&value)) return FormatValue(*d);
  return absl::StrCat("'", std::get<std::string>(value), "'");
}

}  // namespace pfor
