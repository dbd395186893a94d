// Integration of the named integrands (cos, sin, exp, x^2, 4/(1+x^2)) at
// vector speed, with the same bits for every chunking, every number of
// threads and workers, and every x86-64 machine.
//
// The points. Offset k of a job of n points (0 <= k < n) is the point
// x_k = a + (k + 0.5) * h, computed in double arithmetic (k + 0.5 is exact
// below 2^52), and f_k = f(x_k) as integrate_simd computes it, which is the
// same on every instruction set.
//
// Count, min and max fold fl(f_k * h) for each point.
//
// Sum and collect round each point's value to a grid first, so that sums
// are exact at vector speed. The offsets fall into blocks of 2^11, aligned
// to multiples of 2^11. Each block has a grid, a power of two u with
// B * |h| < 2^51 u <= 2 B * |h| (or 2^51 u = 2^-999 for smaller B * |h|),
// where B bounds |f| over the block: 1 for cos and sin, 4 for 4/(1+x^2),
// and for x^2 and exp the larger of |f| at the block's first and last
// points. With q the integer nearest fl(f_k * (h / u)) (ties to even), a
// point's value is then
//   q * u           when -2^51 <= q < 2^51, as for every finite bounded f_k,
//   fl(f_k * h)     otherwise (a non-finite value, or an exp a unit above
//                   its block's bound).
// Rounding to the grid moves a value by at most 2 units in the last place
// of B * |h|: of the order of the integrand's own error (SLEEF's cos and sin
// are within 3.5 ULP, exp within 1 ULP). A block has no grid, and its
// points keep fl(f_k * h), when B * |h| is not finite or not below 2^1012,
// or when h / u overflows (exp below about -670, where f_k < 2^-970).
//
// On the grid, values are integers, so a run of them adds up exactly in
// 64-bit integers, in any order and with any vector width; each run's sum
// then goes into the chunk's ExactSum, as do the values off the grid. Every
// value depends on its offset alone and every addition is exact: a chunk's
// sum is the same whatever the chunks around it, and a job's sum is the
// same however it is cut.
#ifndef PFOR_KERNELS_INTEGRATE_NAMED_H_
#define PFOR_KERNELS_INTEGRATE_NAMED_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "integrate_simd.h"
#include "pfor/kernel.h"
#include "pfor/value.h"

namespace pfor {

// The integrand called `name`, or nullopt when it is not one of the named
// ones (then it is an expression).
std::optional<integrate_simd::Integrand> NamedIntegrand(std::string_view name);

// Folds the points of `chunk` under its reduction, as described above, on
// integrate_simd::BestTarget(). `chunk` must lie inside its job, and h is
// (b - a) / n for the job's n points. CANCELLED when the chunk is cancelled.
// Thread-safe.
absl::StatusOr<Value> IntegrateNamed(const ChunkContext& chunk,
                                     integrate_simd::Integrand integrand,
                                     double a, double h);

namespace integrate_internal {

// x_k for offset k.
double PointX(double a, double h, uint64_t k);

struct Grid {
  // False: the block has no grid, and its points keep fl(f_k * h).
  bool exists = false;
  // h / u.
  double scaled_h = 0;
  // u.
  double unit = 0;
};

// The grid of block `block` (offsets [block * 2^11, (block + 1) * 2^11)) of
// a job of n points.
Grid BlockGrid(const integrate_simd::Kernels& kernels,
               integrate_simd::Integrand integrand, double a, double h,
               uint64_t n, uint64_t block);

// Adds the values of points [begin, end) of one block to `fold` one point
// at a time, by the definition above. The vector path must agree with it.
void SumPointByPoint(const integrate_simd::Kernels& kernels,
                     integrate_simd::Integrand integrand, double a, double h,
                     const Grid& grid, uint64_t begin, uint64_t end,
                     IndexFold& fold);

}  // namespace integrate_internal

}  // namespace pfor

#endif  // PFOR_KERNELS_INTEGRATE_NAMED_H_
