#include "parse.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
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

absl::StatusOr<int64_t> ParseIndex(const std::string& text,
                                   const std::string& flag) {
  const std::string digits = absl::StrReplaceAll(text, {{"_", ""}});
  int64_t value;
  if (absl::SimpleAtoi(digits, &value)) return value;
  absl::StatusOr<double> number = Expression::EvaluateConstant(digits);
  // 2^63 is the first double past int64.
  if (!number.ok() || !std::isfinite(*number) ||
      *number != std::floor(*number) || *number < -9223372036854775808.0 ||
      *number >= 9223372036854775808.0) {
    return Bad(flag, text,
               "an integer (such as 1000, 1e10 or 2^40, within int64)");
  }
  return static_cast<int64_t>(*number);
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
    int64_t integer;
    if (absl::SimpleAtoi(absl::StrReplaceAll(value, {{"_", ""}}), &integer)) {
      return std::make_pair(name, ParamValue(integer));
    }
    if (spec != nullptr) {
      absl::StatusOr<int64_t> index = ParseIndex(value, flag);
      if (!index.ok()) return index.status();
      return std::make_pair(name, ParamValue(*index));
    }
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
