#include "integrate_named.h"

#include <xmmintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kernel_util.h"

namespace pfor {

using integrate_simd::BlockSum;
using integrate_simd::Integrand;
using integrate_simd::kBlockBits;
using integrate_simd::kBlockSize;
using integrate_simd::Kernels;
using integrate_simd::kExactOffsets;

namespace {

using integrate_internal::Grid;
using integrate_internal::PointX;

constexpr char kIntegrate[] = "integrate";
// A block of cos takes about 2 microseconds: poll every 32768 points.
constexpr int64_t kPollEveryBlocks = 16;

// See integrate_simd-inl.h: fl(p + kMagic) - kMagic rounds p to an integer
// while |p| < 2^51.
constexpr double kMagic = 0x1.8p52;
constexpr int64_t kMagicBits = 0x4338000000000000;

// Units never go below 2^-1050 (so that any integer below 2^53 times the
// unit is a double, subnormal or not) nor above 2^961 (so that a block's
// sum, below 2^62 units, stays below 2^1023).
constexpr int kMinExponent = -999;
constexpr int kMaxExponent = 1012;

// Puts the SSE control register in its IEEE default state (round to
// nearest, no flush-to-zero, no denormals-are-zero, exceptions masked) for
// the scope, and then back. A library built with -ffast-math turns on
// flush-to-zero for the whole process when it loads, which would change
// the bits of small values on that worker only.
class IeeeDefaults {
 public:
  IeeeDefaults() : saved_(_mm_getcsr()) { _mm_setcsr(kDefault); }
  ~IeeeDefaults() { _mm_setcsr(saved_); }
  IeeeDefaults(const IeeeDefaults&) = delete;
  IeeeDefaults& operator=(const IeeeDefaults&) = delete;

 private:
  static constexpr unsigned kDefault = 0x1f80;
  const unsigned saved_;
};

// f_k for the points [begin, end) of one block, into values[0..end-begin).
void Evaluate(const Kernels& kernels, Integrand integrand, double a, double h,
              uint64_t begin, uint64_t end, double* values) {
  const uint64_t count = end - begin;
  for (uint64_t i = 0; i < count; ++i) values[i] = PointX(a, h, begin + i);
  kernels.evaluate(integrand, values, count);
}

// max |f| over the points of the block whose first and last offsets are
// `first` and `last`; NaN when it cannot be known.
double Bound(const Kernels& kernels, Integrand integrand, double a, double h,
             uint64_t first, uint64_t last) {
  switch (integrand) {
    case Integrand::kCos:
    case Integrand::kSin:
      return 1;
    case Integrand::kFourOverOnePlusSquare:
      return 4;
    case Integrand::kSquare:
    case Integrand::kExp:
      break;
  }
  // x^2 is convex and exp increasing, and the computed x_k move
  // monotonically with k: the largest values sit at the ends.
  double ends[2] = {PointX(a, h, first), PointX(a, h, last)};
  kernels.evaluate(integrand, ends, 2);
  if (std::isnan(ends[0]) || std::isnan(ends[1])) return NAN;
  return std::max(std::fabs(ends[0]), std::fabs(ends[1]));
}

// Adds units * unit to `fold` exactly: in two parts of at most 32
// significant bits, each of which times a power of two is a double.
void AddUnits(int64_t units, double unit, IndexFold& fold) {
  const int64_t low = units & 0xffffffff;
  const int64_t high = units - low;
  fold.Add(static_cast<double>(high) * unit);
  fold.Add(static_cast<double>(low) * unit);
}

}  // namespace

namespace integrate_internal {

double PointX(double a, double h, uint64_t k) {
  return a + (static_cast<double>(k) + 0.5) * h;
}

Grid BlockGrid(const Kernels& kernels, Integrand integrand, double a, double h,
               uint64_t n, uint64_t block) {
  const uint64_t first = block << kBlockBits;
  const uint64_t last = first + std::min(kBlockSize, n - first) - 1;
  const double scale =
      Bound(kernels, integrand, a, h, first, last) * std::fabs(h);
  if (!std::isfinite(scale)) return {};
  // scale < 2^exponent <= 2 * scale.
  int exponent = kMinExponent;
  if (scale > 0) std::frexp(scale, &exponent);
  exponent = std::max(exponent, kMinExponent);
  if (exponent > kMaxExponent) return {};
  const double scaled_h = std::ldexp(h, 51 - exponent);
  if (!std::isfinite(scaled_h)) return {};
  return {.exists = true,
          .scaled_h = scaled_h,
          .unit = std::ldexp(1.0, exponent - 51)};
}

void SumPointByPoint(const Kernels& kernels, Integrand integrand, double a,
                     double h, const Grid& grid, uint64_t begin, uint64_t end,
                     IndexFold& fold) {
  double values[kBlockSize];
  Evaluate(kernels, integrand, a, h, begin, end, values);
  int64_t units = 0;
  for (uint64_t i = 0; i < end - begin; ++i) {
    if (grid.exists) {
      // Two roundings, as in the vector code.
      const double product = values[i] * grid.scaled_h;
      const double rounded = product + kMagic;
      if (rounded >= 0x1p52 && rounded < 0x1p53) {
        units += std::bit_cast<int64_t>(rounded) - kMagicBits;
        continue;
      }
    }
    fold.Add(values[i] * h);
  }
  if (grid.exists) AddUnits(units, grid.unit, fold);
}

}  // namespace integrate_internal

namespace {

// Adds the values of points [begin, end) of one block to `fold`: a vector
// pass, or point by point when it finds a value off the grid.
void SumRun(const Kernels& kernels, Integrand integrand, double a, double h,
            uint64_t n, uint64_t begin, uint64_t end, IndexFold& fold) {
  const Grid grid = integrate_internal::BlockGrid(kernels, integrand, a, h, n,
                                                  begin >> kBlockBits);
  if (grid.exists && end <= kExactOffsets) {
    const BlockSum sum = kernels.sum_block({.integrand = integrand,
                                            .a = a,
                                            .h = h,
                                            .scaled_h = grid.scaled_h,
                                            .begin = begin,
                                            .end = end});
    if (sum.in_range) {
      AddUnits(sum.units, grid.unit, fold);
      return;
    }
  }
  integrate_internal::SumPointByPoint(kernels, integrand, a, h, grid, begin,
                                      end, fold);
}

// Adds fl(f_k * h) for the points [begin, end) of one block to `fold`.
void FoldRun(const Kernels& kernels, Integrand integrand, double a, double h,
             uint64_t begin, uint64_t end, IndexFold& fold) {
  double values[kBlockSize];
  Evaluate(kernels, integrand, a, h, begin, end, values);
  for (uint64_t i = 0; i < end - begin; ++i) fold.Add(values[i] * h);
}

}  // namespace

std::optional<Integrand> NamedIntegrand(std::string_view name) {
  if (name == "cos") return Integrand::kCos;
  if (name == "sin") return Integrand::kSin;
  if (name == "exp") return Integrand::kExp;
  if (name == "x^2") return Integrand::kSquare;
  if (name == "4/(1+x^2)") return Integrand::kFourOverOnePlusSquare;
  return std::nullopt;
}

absl::StatusOr<Value> IntegrateNamed(const ChunkContext& chunk,
                                     Integrand integrand, double a, double h) {
  const IeeeDefaults ieee_defaults;
  const Kernels& kernels =
      integrate_simd::KernelsFor(integrate_simd::BestTarget());
  // Offsets within the job, unsigned because a job may span 2^64 - 1 indices.
  const uint64_t n = static_cast<uint64_t>(chunk.job_end) -
                     static_cast<uint64_t>(chunk.job_begin);
  const uint64_t first = static_cast<uint64_t>(chunk.begin) -
                         static_cast<uint64_t>(chunk.job_begin);
  const uint64_t last = first + ChunkSize(chunk);
  const bool sum = chunk.reduction == Reduction::kSum ||
                   chunk.reduction == Reduction::kCollect;

  IndexFold fold(chunk.reduction);
  CancelPoller poller(chunk, kPollEveryBlocks);
  for (uint64_t begin = first; begin < last;) {
    if (poller.Tick()) return ChunkCancelled(chunk, kIntegrate);
    // To the end of the chunk or of begin's block, whichever comes first.
    const uint64_t end =
        begin + std::min(last - begin, kBlockSize - (begin % kBlockSize));
    if (sum) {
      SumRun(kernels, integrand, a, h, n, begin, end, fold);
    } else {
      FoldRun(kernels, integrand, a, h, begin, end, fold);
    }
    begin = end;
  }
  return fold.Finish();
}

}  // namespace pfor
