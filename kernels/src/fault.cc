#include "fault.h"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "kernel_util.h"

namespace pfor {
namespace {

constexpr char kFault[] = "fault";
// `at` when the job leaves it out: stands for the job's first index (a
// ParamSpec default is one fixed value). A job that really begins at
// INT64_MIN means the same index either way.
constexpr int64_t kJobBegin = INT64_MIN;
constexpr size_t kAllocationStep = size_t{16} << 20;

[[noreturn]] void Segfault() {
  // Whatever handler is installed (a sanitizer's, say) must not turn the
  // crash into something else.
  std::signal(SIGSEGV, SIG_DFL);
  std::raise(SIGSEGV);
  std::_Exit(139);  // not reached
}

[[noreturn]] void Hang() {
  while (true) std::this_thread::sleep_for(std::chrono::hours(1));
}

// Returns only by throwing std::bad_alloc (or never, if the process is
// killed first).
[[noreturn]] void AllocateWithoutBound() {
  std::vector<std::unique_ptr<char[]>> blocks;
  volatile char sink = 0;
  while (true) {
    blocks.push_back(std::make_unique<char[]>(kAllocationStep));
    // Touched, so the pages are really committed.
    std::memset(blocks.back().get(), 1, kAllocationStep);
    sink = sink + blocks.back()[kAllocationStep - 1];
  }
}

absl::StatusOr<Value> RunFault(const ChunkContext& chunk) {
  if (absl::Status s = CheckChunk(chunk, kFault); !s.ok()) return s;
  if (chunk.params == nullptr) {
    return absl::InvalidArgumentError(
        "kernel fault: needs parameters mode and at");
  }
  const std::string& mode = chunk.params->String("mode");
  int64_t at = chunk.params->Int("at");
  if (at == kJobBegin) at = chunk.job_begin;
  const uint64_t size = ChunkSize(chunk);
  if (mode == "none" || at < chunk.begin || at >= chunk.end) {
    return FoldIndicators(chunk.reduction, size, size);
  }
  const std::string what =
      absl::StrCat("kernel fault: mode ", mode, " at index ", at, " as asked");
  if (mode == "segfault") Segfault();
  if (mode == "abort") std::abort();
  if (mode == "exit") std::_Exit(7);
  if (mode == "hang") Hang();
  if (mode == "allocate") AllocateWithoutBound();
  if (mode == "throw") throw std::runtime_error(what);
  if (mode == "error") return absl::InternalError(what);
  // Validation keeps other modes out.
  return absl::InvalidArgumentError(
      absl::StrCat("kernel fault: unknown mode ", mode));
}

}  // namespace

KernelDef FaultKernel() {
  ParamSpec mode;
  mode.name = "mode";
  mode.type = ParamType::kString;
  mode.help =
      "how the chunk holding index `at` misbehaves: segfault, abort, exit "
      "(status 7), hang (ignores cancellation), allocate (without bound), "
      "throw, error, or none";
  mode.default_value = std::string("none");
  mode.choices = {"segfault", "abort", "exit",  "hang",
                  "allocate", "throw", "error", "none"};
  ParamSpec at;
  at.name = "at";
  at.type = ParamType::kInt;
  at.help = "the index whose chunk misbehaves (default: the job's first index)";
  at.default_value = kJobBegin;
  return {.name = kFault,
          .help =
              "For testing fault tolerance: the chunk holding index `at` "
              "crashes, hangs, exhausts memory, throws or fails as `mode` "
              "says; value 1 per index otherwise.",
          .params = {mode, at},
          .run = RunFault};
}

}  // namespace pfor
