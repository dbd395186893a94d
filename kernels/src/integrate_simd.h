// Vectorised evaluation of integrate's named integrands: one implementation
// per x86-64 instruction set, chosen at run time, all giving the same bits.
//
// The integrands use only IEEE additions, multiplications and divisions
// (never fused: no target is compiled with FMA) and SLEEF's deterministic
// non-FMA functions (Sleef_cinz_*), which SLEEF builds to return identical
// results on every vector extension. integrate_simd_test.cc checks that
// every target this machine supports agrees with every other, bit for bit.
//
// Each target is one object file compiled with its own -m flags
// (integrate_simd_<target>.cc) that exports only the functions declared
// here; its instructions run only after SupportedTargets() said the CPU
// has them.
//
// Thread safety: everything here may be called from any thread.
#ifndef PFOR_KERNELS_INTEGRATE_SIMD_H_
#define PFOR_KERNELS_INTEGRATE_SIMD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace pfor::integrate_simd {

enum class Integrand { kCos, kSin, kExp, kSquare, kFourOverOnePlusSquare };

// Instruction sets, narrowest first. kSse2 runs on every x86-64 CPU.
enum class Target { kSse2, kAvx2, kAvx512 };

// Sums are accumulated in blocks of kBlockSize consecutive offsets, aligned
// to multiples of kBlockSize within the job (see integrate_named.h).
inline constexpr int kBlockBits = 11;
inline constexpr uint64_t kBlockSize = uint64_t{1} << kBlockBits;
static_assert(kBlockBits + 51 <= 63,
              "a block's sum of values below 2^51 must fit in int64");

// Offsets below this convert to double exactly with room for a vector's
// lanes, so the vector code can step x's offsets by additions.
inline constexpr uint64_t kExactOffsets = uint64_t{1} << 52;

// Consecutive points [begin, end) of one block, x_k = a + (k + 0.5) * h.
struct BlockRun {
  Integrand integrand = Integrand::kCos;
  double a = 0;
  double h = 0;
  // h times a power of two: the point's value in units of the block's grid
  // is f(x_k) * scaled_h rounded to the nearest integer (ties to even).
  double scaled_h = 0;
  uint64_t begin = 0;
  // begin < end, end - begin <= kBlockSize, end <= kExactOffsets.
  uint64_t end = 0;
};

struct BlockSum {
  // The sum over the run of round(f(x_k) * scaled_h), exact.
  int64_t units = 0;
  // False when some f(x_k) * scaled_h was not finite or did not round to an
  // integer in [-2^51, 2^51): `units` is then meaningless and the caller
  // must go point by point.
  bool in_range = false;
};

// The functions one target provides.
struct Kernels {
  BlockSum (*sum_block)(const BlockRun& run);
  // Replaces values[i] (an x) by f(x) for i < count.
  void (*evaluate)(Integrand integrand, double* values, size_t count);
};

// Lowercase name: "sse2", "avx2", "avx512".
std::string_view TargetName(Target target);

// The targets this CPU (and its operating system) can run, narrowest first;
// always starts with kSse2.
std::vector<Target> SupportedTargets();

// The widest supported target, or the one SetTargetForTest chose.
Target BestTarget();

// The functions of `target`, which must be supported (crashes otherwise).
const Kernels& KernelsFor(Target target);

// Makes BestTarget() return `target` (which must be supported) until called
// again with nullopt. For tests that force each target through the kernel.
void SetTargetForTest(std::optional<Target> target);

// The targets' own entry points (integrate_simd_<target>.cc). Call them
// through KernelsFor, which checks the CPU first.
const Kernels& Sse2Kernels();
const Kernels& Avx2Kernels();
const Kernels& Avx512Kernels();

}  // namespace pfor::integrate_simd

#endif  // PFOR_KERNELS_INTEGRATE_SIMD_H_
