// integrate_simd for AVX-512F (without FMA): eight lanes.
#include <sleef.h>

#include <cstdint>

#include "integrate_simd.h"

namespace pfor::integrate_simd {
namespace {

struct Traits {
  static constexpr int kLanes = 8;
  typedef double Vec __attribute__((vector_size(64)));
  typedef uint64_t Bits __attribute__((vector_size(64)));
  static Vec Cos(Vec x) { return Sleef_cinz_cosd8_u35avx512fnofma(x); }
  static Vec Sin(Vec x) { return Sleef_cinz_sind8_u35avx512fnofma(x); }
  static Vec Exp(Vec x) { return Sleef_cinz_expd8_u10avx512fnofma(x); }
};

}  // namespace
}  // namespace pfor::integrate_simd

#include "integrate_simd-inl.h"

namespace pfor::integrate_simd {

const Kernels& Avx512Kernels() {
  static constexpr Kernels kKernels = {.sum_block = SumBlock<Traits>,
                                       .evaluate = Evaluate<Traits>};
  return kKernels;
}

}  // namespace pfor::integrate_simd
