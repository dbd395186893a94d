// integrate_simd for AVX2 (without FMA): four lanes. SLEEF's AVX functions
// need only AVX, which AVX2 implies.
#include <sleef.h>

#include <cstdint>

#include "integrate_simd.h"

namespace pfor::integrate_simd {
namespace {

struct Traits {
  static constexpr int kLanes = 4;
  typedef double Vec __attribute__((vector_size(32)));
  typedef uint64_t Bits __attribute__((vector_size(32)));
  static Vec Cos(Vec x) { return Sleef_cinz_cosd4_u35avx(x); }
  static Vec Sin(Vec x) { return Sleef_cinz_sind4_u35avx(x); }
  static Vec Exp(Vec x) { return Sleef_cinz_expd4_u10avx(x); }
};

}  // namespace
}  // namespace pfor::integrate_simd

#include "integrate_simd-inl.h"

namespace pfor::integrate_simd {

const Kernels& Avx2Kernels() {
  static constexpr Kernels kKernels = {.sum_block = SumBlock<Traits>,
                                       .evaluate = Evaluate<Traits>};
  return kKernels;
}

}  // namespace pfor::integrate_simd
