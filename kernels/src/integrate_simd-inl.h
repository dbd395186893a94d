// The body of every integrate_simd target, written once over GCC vector
// types. Included only by integrate_simd_<target>.cc, after that file has
// defined its traits struct in an anonymous namespace:
//
//   struct Traits {
//     static constexpr int kLanes = ...;
//     typedef double Vec __attribute__((vector_size(8 * kLanes)));
//     typedef uint64_t Bits __attribute__((vector_size(8 * kLanes)));
//     static Vec Cos(Vec x);  // SLEEF's deterministic (cinz) functions
//     static Vec Sin(Vec x);
//     static Vec Exp(Vec x);
//   };
//
// Everything here has internal linkage, and uses no inline function or
// template from another header: an object compiled for AVX-512 must not
// hand the linker a copy of some shared inline function that a CPU without
// AVX-512 could end up calling.
//
// The arithmetic is plain IEEE: x = a + (k + 0.5) * h as two roundings, and
// the integrands as written. The targets are compiled without FMA, so no
// multiplication and addition are fused into one rounding.
#ifndef PFOR_KERNELS_INTEGRATE_SIMD_INL_H_
#define PFOR_KERNELS_INTEGRATE_SIMD_INL_H_

#include <cstddef>
#include <cstdint>

#include "integrate_simd.h"

namespace pfor::integrate_simd {
namespace {

// Adding 1.5 * 2^52 to a double p with |p| < 2^51 lands in [2^52, 2^53),
// where doubles are the integers: the sum is rounded to an integer (ties
// to even), and its bits minus kMagicBits are that integer.
constexpr double kMagic = 0x1.8p52;
constexpr uint64_t kMagicBits = 0x4338000000000000;

template <typename T>
typename T::Vec Splat(double value) {
  return typename T::Vec{} + value;
}

template <typename T>
typename T::Vec LaneIndex() {
  typename T::Vec lanes;
  for (int i = 0; i < T::kLanes; ++i) lanes[i] = i;
  return lanes;
}

template <typename T>
struct CosOf {
  static typename T::Vec Apply(typename T::Vec x) { return T::Cos(x); }
};
template <typename T>
struct SinOf {
  static typename T::Vec Apply(typename T::Vec x) { return T::Sin(x); }
};
template <typename T>
struct ExpOf {
  static typename T::Vec Apply(typename T::Vec x) { return T::Exp(x); }
};
template <typename T>
struct SquareOf {
  static typename T::Vec Apply(typename T::Vec x) { return x * x; }
};
template <typename T>
struct FourOverOnePlusSquareOf {
  static typename T::Vec Apply(typename T::Vec x) {
    return 4.0 / (1.0 + x * x);
  }
};

// Sums of the rounded values of a run, kept as the bits of
// fl(fl(f(x) * scaled_h) + kMagic): a run's values are rounded to integers
// by adding kMagic, and the bits minus kMagicBits are those integers.
template <typename T>
class Rounder {
 public:
  using Vec = typename T::Vec;
  using Bits = typename T::Bits;

  explicit Rounder(double scaled_h) : scaled_h_(Splat<T>(scaled_h)) {}

  void Add(Vec f) {
    const Bits rounded =
        reinterpret_cast<Bits>(f * scaled_h_ + Splat<T>(kMagic));
    sum_ += rounded;
    strays_ |= rounded ^ magic_;
    lanes_ += T::kLanes;
  }

  // Adds only the lanes below `count`, the others as 0.
  void AddFirst(Vec f, uint64_t count) {
    const Bits keep = reinterpret_cast<Bits>(
        LaneIndex<T>() < Splat<T>(static_cast<double>(count)));
    Bits rounded = reinterpret_cast<Bits>(f * scaled_h_ + Splat<T>(kMagic));
    rounded = (rounded & keep) | (magic_ & ~keep);
    sum_ += rounded;
    strays_ |= rounded ^ magic_;
    lanes_ += T::kLanes;
  }

  BlockSum Finish() const {
    uint64_t total = 0;
    uint64_t strays = 0;
    for (int i = 0; i < T::kLanes; ++i) {
      total += sum_[i];
      strays |= strays_[i];
    }
    // At most 2^11 values in [-2^51, 2^51): the true sum fits in int64, so
    // the sum modulo 2^64 minus the magic numbers is exact.
    total -= lanes_ * kMagicBits;
    // Every sum landed in [2^52, 2^53) if no lane's sign or exponent
    // differed from kMagic's.
    return {.units = static_cast<int64_t>(total),
            .in_range = (strays >> 52) == 0};
  }

 private:
  const Vec scaled_h_;
  const Bits magic_ = Bits{} + kMagicBits;
  Bits sum_ = {};
  Bits strays_ = {};
  uint64_t lanes_ = 0;
};

// x for the lanes of each vector of a run, stepping the offsets k + 0.5 by
// additions (exact below kExactOffsets).
template <typename T>
class Points {
 public:
  using Vec = typename T::Vec;

  explicit Points(const BlockRun& run)
      : a_(Splat<T>(run.a)),
        h_(Splat<T>(run.h)),
        offset_(LaneIndex<T>() + (static_cast<double>(run.begin) + 0.5)) {}

  Vec Next() {
    const Vec x = a_ + offset_ * h_;
    offset_ += Splat<T>(T::kLanes);
    return x;
  }

 private:
  const Vec a_;
  const Vec h_;
  Vec offset_;
};

// For integrands computed inline: one pass, everything in registers.
template <typename T, typename F>
BlockSum SumInline(const BlockRun& run) {
  Points<T> points(run);
  Rounder<T> rounder(run.scaled_h);
  uint64_t left = run.end - run.begin;
  for (; left >= T::kLanes; left -= T::kLanes) {
    rounder.Add(F::Apply(points.Next()));
  }
  // Lanes past the run are computed and then replaced by 0.
  if (left > 0) rounder.AddFirst(F::Apply(points.Next()), left);
  return rounder.Finish();
}

// For integrands that call SLEEF: every vector register is lost across a
// call, so x, f(x) and the sums are kept apart, in three passes over a
// buffer in L1, rather than spilled and reloaded around every call.
template <typename T, typename F>
BlockSum SumCalled(const BlockRun& run) {
  using Vec = typename T::Vec;
  constexpr uint64_t kLanes = T::kLanes;
  const uint64_t vectors = (run.end - run.begin + kLanes - 1) / kLanes;
  Vec values[kBlockSize / kLanes];
  Points<T> points(run);
  for (uint64_t i = 0; i < vectors; ++i) values[i] = points.Next();
  for (uint64_t i = 0; i < vectors; ++i) values[i] = F::Apply(values[i]);
  Rounder<T> rounder(run.scaled_h);
  const uint64_t full = (run.end - run.begin) / kLanes;
  for (uint64_t i = 0; i < full; ++i) rounder.Add(values[i]);
  if (full < vectors) {
    rounder.AddFirst(values[full], (run.end - run.begin) % kLanes);
  }
  return rounder.Finish();
}

template <typename T>
BlockSum SumBlock(const BlockRun& run) {
  switch (run.integrand) {
    case Integrand::kCos:
      return SumCalled<T, CosOf<T>>(run);
    case Integrand::kSin:
      return SumCalled<T, SinOf<T>>(run);
    case Integrand::kExp:
      return SumCalled<T, ExpOf<T>>(run);
    case Integrand::kSquare:
      return SumInline<T, SquareOf<T>>(run);
    case Integrand::kFourOverOnePlusSquare:
      return SumInline<T, FourOverOnePlusSquareOf<T>>(run);
  }
  __builtin_unreachable();
}

template <typename T, typename F>
void EvaluateWith(double* values, size_t count) {
  using Vec = typename T::Vec;
  constexpr size_t kLanes = T::kLanes;
  size_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    Vec v;
    __builtin_memcpy(&v, values + i, sizeof(v));
    v = F::Apply(v);
    __builtin_memcpy(values + i, &v, sizeof(v));
  }
  if (i < count) {
    Vec v = {};
    __builtin_memcpy(&v, values + i, (count - i) * sizeof(double));
    v = F::Apply(v);
    __builtin_memcpy(values + i, &v, (count - i) * sizeof(double));
  }
}

template <typename T>
void Evaluate(Integrand integrand, double* values, size_t count) {
  switch (integrand) {
    case Integrand::kCos:
      return EvaluateWith<T, CosOf<T>>(values, count);
    case Integrand::kSin:
      return EvaluateWith<T, SinOf<T>>(values, count);
    case Integrand::kExp:
      return EvaluateWith<T, ExpOf<T>>(values, count);
    case Integrand::kSquare:
      return EvaluateWith<T, SquareOf<T>>(values, count);
    case Integrand::kFourOverOnePlusSquare:
      return EvaluateWith<T, FourOverOnePlusSquareOf<T>>(values, count);
  }
}

}  // namespace
}  // namespace pfor::integrate_simd

#endif  // PFOR_KERNELS_INTEGRATE_SIMD_INL_H_
