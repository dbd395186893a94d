#include "integrate_simd.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#if !defined(__x86_64__)
#error "integrate_simd has targets for x86-64 only"
#endif

namespace pfor::integrate_simd {
namespace {

bool Supports(Target target) {
  // Checks the CPU's flags and, for AVX and AVX-512, that the operating
  // system saves their registers.
  __builtin_cpu_init();
  switch (target) {
    case Target::kSse2:
      return true;
    case Target::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Target::kAvx512:
      return __builtin_cpu_supports("avx512f");
  }
  return false;
}

[[noreturn]] void Unsupported(Target target) {
  std::fprintf(
      stderr, "integrate_simd: target %.*s is not supported by this CPU\n",
      static_cast<int>(TargetName(target).size()), TargetName(target).data());
  std::abort();
}

// -1: no override.
std::atomic<int> forced_target{-1};

}  // namespace

std::string_view TargetName(Target target) {
  switch (target) {
    case Target::kSse2:
      return "sse2";
    case Target::kAvx2:
      return "avx2";
    case Target::kAvx512:
      return "avx512";
  }
  return "unknown";
}

std::vector<Target> SupportedTargets() {
  std::vector<Target> targets;
  for (Target target : {Target::kSse2, Target::kAvx2, Target::kAvx512}) {
    if (Supports(target)) targets.push_back(target);
  }
  return targets;
}

Target BestTarget() {
  const int forced = forced_target.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Target>(forced);
  static const Target best = SupportedTargets().back();
  return best;
}

const Kernels& KernelsFor(Target target) {
  if (!Supports(target)) Unsupported(target);
  switch (target) {
    case Target::kSse2:
      return Sse2Kernels();
    case Target::kAvx2:
      return Avx2Kernels();
    case Target::kAvx512:
      return Avx512Kernels();
  }
  Unsupported(target);
}

void SetTargetForTest(std::optional<Target> target) {
  if (target.has_value() && !Supports(*target)) Unsupported(*target);
  forced_target.store(target.has_value() ? static_cast<int>(*target) : -1,
                      std::memory_order_relaxed);
}

}  // namespace pfor::integrate_simd
