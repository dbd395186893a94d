// Parsing of the command line's numbers, ranges, chunk policies and
// parameters. Errors name the flag, the text and the expected form.
#ifndef PFOR_CLI_PARSE_H_
#define PFOR_CLI_PARSE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "pfor/client.h"
#include "pfor/params.h"

namespace pfor::cli {

// An index, read exactly (never through a double): a decimal integer
// ("-42", "1000000", "1_000_000"), a number with an exponent that is an
// integer ("1e10", "1.5e3"), a power ("2^40"), or sums, differences and
// products of these ("3*2^40+1", "2^63-1"). INVALID_ARGUMENT naming `flag`
// and the text for anything else: a fraction, a name, a value outside
// [-2^63, 2^63-1] (with the value it has).
absl::StatusOr<int64_t> ParseIndex(const std::string& text,
                                   const std::string& flag);

// "BEGIN:END", each an index.
absl::StatusOr<std::pair<int64_t, int64_t>> ParseRange(const std::string& text);

// "auto", "auto:200ms", "fixed:N" or "count:N".
absl::StatusOr<ChunkPolicy> ParseChunkPolicy(const std::string& text);

// "NAME=VALUE". With the kernel's declared parameters the value is read as
// the declared type (a float may be an expression such as pi/2); without
// them an integer, then a constant expression, then a string is tried.
absl::StatusOr<std::pair<std::string, ParamValue>> ParseParam(
    const std::string& text, const std::vector<ParamSpec>* specs);

// "threads", "processes" or "command".
absl::StatusOr<ExecutorKind> ParseExecutor(const std::string& text);

// "auto", "integer", "float" or "json".
absl::StatusOr<Command::Output> ParseCommandOutput(const std::string& text);

// Splits a command line into arguments the way a POSIX shell would for plain
// words: whitespace separates, '...' and "..." quote, backslash escapes. No
// expansion of any kind. INVALID_ARGUMENT for an unclosed quote.
absl::StatusOr<std::vector<std::string>> SplitCommandLine(
    const std::string& text);

// A duration such as "30s", "250ms" or "2m".
absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& text,
                                                 const std::string& flag);

}  // namespace pfor::cli

#endif  // PFOR_CLI_PARSE_H_
