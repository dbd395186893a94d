// The command line's numbers, ranges, chunk policies, parameters, durations
// and command lines: the first byte picks the parser, the rest is the text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      (void)pfor::cli::ParseIndex(text, "--range");
      break;
    case 1:
      if (auto range = pfor::cli::ParseRange(text); range.ok()) {
        if (range->first > range->second) break;  // checked later
      }
      break;
    case 2:
      (void)pfor::cli::ParseChunkPolicy(text);
      break;
    case 3:
      (void)pfor::cli::ParseParam(text, nullptr);
      break;
    case 4:
      (void)pfor::cli::ParseDurationFlag(text, "--timeout");
      break;
    default:
      (void)pfor::cli::SplitCommandLine(text);
  }
  return 0;
}
