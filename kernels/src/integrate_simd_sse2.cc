// integrate_simd for SSE2, which every x86-64 CPU has: two lanes.
#include <sleef.h>

#include <cstdint>

#include "integrate_simd.h"

namespace pfor::integrate_simd {
namespace {

struct Traits {
  static constexpr int kLanes = 2;
  typedef double Vec __attribute__((vector_size(16)));
  typedef uint64_t Bits __attribute__((vector_size(16)));
  static Vec Cos(Vec x) { return Sleef_cinz_cosd2_u35sse2(x); }
  static Vec Sin(Vec x) { return Sleef_cinz_sind2_u35sse2(x); }
  static Vec Exp(Vec x) { return Sleef_cinz_expd2_u10sse2(x); }
};

}  // namespace
}  // namespace pfor::integrate_simd

#include "integrate_simd-inl.h"

namespace pfor::integrate_simd {

const Kernels& Sse2Kernels() {
  static constexpr Kernels kKernels = {.sum_block = SumBlock<Traits>,
                                       .evaluate = Evaluate<Traits>};
  return kKernels;
}

}  // namespace pfor::integrate_simd
