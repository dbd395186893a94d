#include "pfor/params.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pfor/expression.h"

namespace pfor {
namespace {

std::string Choices(const ParamSpec& spec) {
  std::string text = absl::StrJoin(spec.choices, ", ");
  if (!spec.expression_variable.empty()) {
    absl::StrAppend(&text, text.empty() ? "" : ", or ", "an expression in ",
                    spec.expression_variable);
  }
  return text;
}

absl::Status CheckOne(const std::string& kernel, const ParamSpec& spec,
                      ParamValue& value) {
  auto bad = [&](auto&&... what) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", kernel, ": parameter ", spec.name, " ", what...));
  };
  switch (spec.type) {
    case ParamType::kInt: {
      const auto* i = std::get_if<int64_t>(&value);
      if (i == nullptr) {
        return bad("must be an integer, got ", FormatParamValue(value));
      }
      if ((spec.min && *i < *spec.min) || (spec.max && *i > *spec.max)) {
        return bad("is ", *i, "; it must be in [",
                   spec.min ? absl::StrCat(*spec.min) : "-inf", ", ",
                   spec.max ? absl::StrCat(*spec.max) : "inf", "]");
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
        return bad("is ", *d, "; it must be in [",
                   spec.min ? absl::StrCat(*spec.min) : "-inf", ", ",
                   spec.max ? absl::StrCat(*spec.max) : "inf", "]");
      }
      return absl::OkStatus();
    }
    case ParamType::kString: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr) {
        return bad("must be ", spec.choices.empty() ? "a string" : "one of ",
                   Choices(spec), ", got ", FormatParamValue(value));
      }
      if (spec.choices.empty() && spec.expression_variable.empty()) {
        return absl::OkStatus();
      }
      for (const std::string& choice : spec.choices) {
        if (*s == choice) return absl::OkStatus();
      }
      if (!spec.expression_variable.empty()) {
        absl::Status parsed =
            Expression::Compile(*s, spec.expression_variable).status();
        if (parsed.ok()) return absl::OkStatus();
        return bad("'", *s, "' is neither ", Choices(spec), " (",
                   parsed.message(), ")");
      }
      return bad("'", *s, "' is not one of ", Choices(spec));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const ParamValue& Params::Get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) {
    std::fprintf(stderr, "pfor: kernel reads undeclared parameter %.*s\n",
                 static_cast<int>(name.size()), name.data());
    std::abort();
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
          "kernel ", kernel, " needs parameter ", spec.name, " (", spec.help,
          "); pass --param ", spec.name, "=VALUE"));
    }
    if (absl::Status status = CheckOne(kernel, spec, value); !status.ok()) {
      return status;
    }
    values.emplace(spec.name, std::move(value));
  }
  return Params(std::move(values));
}

std::string FormatParamValue(const ParamValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return absl::StrCat(*i);
  if (const auto* d = std::get_if<double>(&value)) return absl::StrCat(*d);
  return absl::StrCat("'", std::get<std::string>(value), "'");
}

}  // namespace pfor
