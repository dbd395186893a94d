#include "parse.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "pfor/common/expression.h"

namespace pfor::cli {
namespace {

absl::Status Bad(const std::string& flag, const std::string& text,
                 const std::string& expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(flag, " '", text, "' is not ", expected));
}

absl::StatusOr<int64_t> ParseCount(const std::string& text,
                                   const std::string& flag) {
  absl::StatusOr<int64_t> value = ParseIndex(text, flag);
  if (!value.ok()) return value.status();
  if (*value < 1) return Bad(flag, text, "a positive count");
  return *value;
}

}  // namespace

namespace {

// Exact integer arithmetic on the text of an index: decimal integers (with
// '_' between digits), numbers with an exponent (1e12, 1.5e3), '^' powers,
// unary and binary '+' and '-', '*', and parentheses. Every step is exact
// in 128 bits; nothing goes through a double, so no low bit is lost above
// 2^53 and nothing out of range is clamped.
class IntegerText {
 public:
  explicit IntegerText(absl::string_view text) : text_(text) {}

  // The value, or why there is none (a phrase: "is not an integer ...").
  absl::StatusOr<__int128> Parse() {
    absl::StatusOr<__int128> value = Sum();
    if (!value.ok()) return value;
    SkipSpace();
    if (pos_ != text_.size()) return NotInteger();
    return value;
  }

 private:
  // Magnitudes are kept below 2^126, so a sum or a product of two in-range
  // values never overflows before it is checked.
  static constexpr __int128 kLimit = static_cast<__int128>(1) << 126;

  absl::Status NotInteger() const {
    return absl::InvalidArgumentError(
        "is not an integer (write one such as 1000, 1_000_000, 1e12, 2^40 or "
        "3*2^40+1)");
  }
  absl::Status TooLarge() const {
    return absl::InvalidArgumentError("is far beyond the 64-bit range");
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Take(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  absl::StatusOr<__int128> Checked(__int128 value) const {
    if (value >= kLimit || value <= -kLimit) return TooLarge();
    return value;
  }

  absl::StatusOr<__int128> Sum() {
    absl::StatusOr<__int128> total = Product();
    while (total.ok()) {
      const bool plus = Take('+');
      if (!plus && !Take('-')) break;
      absl::StatusOr<__int128> next = Product();
      if (!next.ok()) return next;
      total = Checked(plus ? *total + *next : *total - *next);
    }
    return total;
  }

  absl::StatusOr<__int128> Product() {
    absl::StatusOr<__int128> product = Unary();
    while (product.ok() && Take('*')) {
      absl::StatusOr<__int128> next = Unary();
      if (!next.ok()) return next;
      __int128 result;
      if (__builtin_mul_overflow(*product, *next, &result)) return TooLarge();
      product = Checked(result);
    }
    return product;
  }

  absl::StatusOr<__int128> Unary() {
    if (Take('-')) {
      absl::StatusOr<__int128> value = Unary();
      if (!value.ok()) return value;
      return -*value;
    }
    if (Take('+')) return Unary();
    return Power();
  }

  // Right-associative, above unary minus on its left: -2^2 is -4.
  absl::StatusOr<__int128> Power() {
    absl::StatusOr<__int128> base = Atom();
    if (!base.ok() || !Take('^')) return base;
    absl::StatusOr<__int128> exponent = Unary();
    if (!exponent.ok()) return exponent;
    if (*exponent < 0) return NotInteger();
    // 0, 1 and -1 stay small whatever the exponent.
    if (*base == 0) return *exponent == 0 ? 1 : 0;
    if (*base == 1) return 1;
    if (*base == -1) return *exponent % 2 == 0 ? 1 : -1;
    __int128 result = 1;
    // |base| >= 2: past 126 steps the result is out of range anyway.
    for (__int128 i = 0; i < *exponent; ++i) {
      if (__builtin_mul_overflow(result, *base, &result)) return TooLarge();
      absl::StatusOr<__int128> checked = Checked(result);
      if (!checked.ok()) return checked;
    }
    return result;
  }

  absl::StatusOr<__int128> Atom() {
    if (Take('(')) {
      absl::StatusOr<__int128> value = Sum();
      if (!value.ok()) return value;
      if (!Take(')')) return NotInteger();
      return value;
    }
    SkipSpace();
    return Number();
  }

  // Digits with '_' between them.
  bool Digits(std::string& out) {
    if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (IsDigit(c)) {
        out += c;
      } else if (c == '_' && pos_ + 1 < text_.size() &&
                 IsDigit(text_[pos_ + 1])) {
        // a separator
      } else {
        break;
      }
      ++pos_;
    }
    return true;
  }

  // DIGITS[.DIGITS][e[+-]DIGITS], an integer exactly.
  absl::StatusOr<__int128> Number() {
    std::string whole;
    if (!Digits(whole)) return NotInteger();
    std::string fraction;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      Digits(fraction);
    }
    int64_t exponent = 0;
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      bool negative = false;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        negative = text_[pos_] == '-';
        ++pos_;
      }
      std::string digits;
      if (!Digits(digits)) return NotInteger();
      if (digits.size() > 6) return TooLarge();
      exponent = std::stoll(digits) * (negative ? -1 : 1);
    }
    // The value is (whole fraction) * 10^(exponent - fraction digits).
    std::string mantissa = whole + fraction;
    int64_t shift = exponent - static_cast<int64_t>(fraction.size());
    // Trailing zeros of the mantissa move into the shift.
    while (shift < 0 && mantissa.size() > 1 && mantissa.back() == '0') {
      mantissa.pop_back();
      ++shift;
    }
    if (shift < 0) {
      // Digits remain after the point: not an integer, unless all zero.
      if (mantissa.find_first_not_of('0') != std::string::npos) {
        return NotInteger();
      }
      return 0;
    }
    __int128 value = 0;
    for (char c : mantissa) {
      if (__builtin_mul_overflow(value, 10, &value)) return TooLarge();
      value += c - '0';
      if (value >= kLimit) return TooLarge();
    }
    for (int64_t i = 0; i < shift && value != 0; ++i) {
      if (__builtin_mul_overflow(value, 10, &value) || value >= kLimit) {
        return TooLarge();
      }
    }
    return value;
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

std::string Int128Text(__int128 value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  unsigned __int128 magnitude = negative
                                    ? -static_cast<unsigned __int128>(value)
                                    : static_cast<unsigned __int128>(value);
  std::string digits;
  while (magnitude != 0) {
    digits += static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  }
  if (negative) digits += '-';
  return std::string(digits.rbegin(), digits.rend());
}

}  // namespace

absl::StatusOr<int64_t> ParseIndex(const std::string& text,
                                   const std::string& flag) {
  absl::StatusOr<__int128> value = IntegerText(text).Parse();
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", text, "' ", value.status().message()));
  }
  if (*value > INT64_MAX || *value < INT64_MIN) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", text, "' is ", Int128Text(*value),
                     ", outside the 64-bit range [-2^63, 2^63-1] = [",
                     INT64_MIN, ", ", INT64_MAX, "]"));
  }
  return static_cast<int64_t>(*value);
}

absl::StatusOr<std::pair<int64_t, int64_t>> ParseRange(
    const std::string& text) {
  // The separator is the first ':' that is not a leading sign's neighbour.
  const size_t colon = text.find(':', 1);
  if (colon == std::string::npos) {
    return Bad("--range", text, "BEGIN:END (such as 1:1e10)");
  }
  absl::StatusOr<int64_t> begin =
      ParseIndex(text.substr(0, colon), "--range begin");
  if (!begin.ok()) return begin.status();
  absl::StatusOr<int64_t> end =
      ParseIndex(text.substr(colon + 1), "--range end");
  if (!end.ok()) return end.status();
  return std::make_pair(*begin, *end);
}

absl::StatusOr<ChunkPolicy> ParseChunkPolicy(const std::string& text) {
  const std::string expected =
      "auto, auto:TARGET (such as auto:200ms), fixed:N or count:N";
  absl::string_view rest = text;
  if (text == "auto") return ChunkPolicy::Auto();
  if (absl::ConsumePrefix(&rest, "auto:")) {
    absl::Duration target;
    if (!absl::ParseDuration(std::string(rest), &target) ||
        target <= absl::ZeroDuration()) {
      return Bad("--chunks", text, expected);
    }
    return ChunkPolicy::Auto(target);
  }
  if (absl::ConsumePrefix(&rest, "fixed:")) {
    absl::StatusOr<int64_t> size =
        ParseCount(std::string(rest), "--chunks fixed size");
    if (!size.ok()) return size.status();
    return ChunkPolicy::Fixed(*size);
  }
  if (absl::ConsumePrefix(&rest, "count:")) {
    absl::StatusOr<int64_t> count =
        ParseCount(std::string(rest), "--chunks count");
    if (!count.ok()) return count.status();
    return ChunkPolicy::Count(*count);
  }
  return Bad("--chunks", text, expected);
}

absl::StatusOr<std::pair<std::string, ParamValue>> ParseParam(
    const std::string& text, const std::vector<ParamSpec>* specs) {
  const size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    return Bad("--param", text, "NAME=VALUE (such as b=pi/2)");
  }
  const std::string name = text.substr(0, equals);
  const std::string value = text.substr(equals + 1);
  const ParamSpec* spec = nullptr;
  if (specs != nullptr) {
    for (const ParamSpec& candidate : *specs) {
      if (candidate.name == name) spec = &candidate;
    }
  }
  const std::string flag = absl::StrCat("--param ", name);
  if (spec != nullptr && spec->type == ParamType::kString)
    return std::make_pair(name, ParamValue(value));
  if (spec == nullptr || spec->type == ParamType::kInt) {
    absl::StatusOr<int64_t> integer = ParseIndex(value, flag);
    if (integer.ok()) return std::make_pair(name, ParamValue(*integer));
    if (spec != nullptr) return integer.status();
  }
  absl::StatusOr<double> number = Expression::EvaluateConstant(value);
  if (number.ok()) return std::make_pair(name, ParamValue(*number));
  if (spec != nullptr) {
    return Bad(flag, value,
               "a number or a constant expression (such as 0.5, 1e-3 or pi/2)");
  }
  return std::make_pair(name, ParamValue(value));
}

absl::StatusOr<ExecutorKind> ParseExecutor(const std::string& text) {
  if (text == "threads") return ExecutorKind::kThreads;
  if (text == "processes") return ExecutorKind::kProcesses;
  if (text == "command") return ExecutorKind::kCommand;
  return Bad("--executor", text, "threads, processes or command");
}

absl::StatusOr<Command::Output> ParseCommandOutput(const std::string& text) {
  if (text == "auto") return Command::Output::kAuto;
  if (text == "integer") return Command::Output::kInteger;
  if (text == "float") return Command::Output::kFloat;
  if (text == "json") return Command::Output::kJson;
  return Bad("--output", text, "auto, integer, float or json");
}

absl::StatusOr<std::vector<std::string>> SplitCommandLine(
    const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        word += c;
      }
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < text.size() &&
                 (text[i + 1] == '"' || text[i + 1] == '\\' ||
                  text[i + 1] == '$')) {
        word += text[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::exchange(word, ""));
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--command '", text, "' has an unclosed ", std::string(1, quote),
        " quote; close it, or pass --shell to run the text with /bin/sh"));
  }
  if (in_word) words.push_back(word);
  if (words.empty()) {
    return absl::InvalidArgumentError(
        "--command is empty; give the program to run, such as --command "
        "'python3 count.py {begin} {end}'");
  }
  return words;
}

absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& text,
                                                 const std::string& flag) {
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) ||
      duration <= absl::ZeroDuration()) {
    return Bad(flag, text, "a positive duration (such as 30s, 250ms or 2m)");
  }
  return duration;
}

}  // namespace pfor::cli
