// Numerical integration by the midpoint rule.
#ifndef PFOR_KERNELS_INTEGRATE_H_
#define PFOR_KERNELS_INTEGRATE_H_

#include "pfor/kernel.h"

namespace pfor {

// integrate: the job's range [job_begin, job_end) is n = job_end - job_begin
// midpoints of [a, b]; index i has value f(x_i) * h with h = (b - a) / n and
// x_i = a + (i - job_begin + 0.5) * h, so the job's sum is the integral.
// Parameters: a, b (required) and integrand: one of the named functions
// "cos", "sin", "exp", "x^2", "4/(1+x^2)" or any other expression in x.
// A chunk fails (OUT_OF_RANGE) where the integrand stops being finite: the
// message names the first such x and its index. An interval whose width
// overflows a double fails every chunk.
//
// Named integrands run vectorised (SLEEF, on SSE2, AVX2 or AVX-512) and give
// the same bits on every x86-64 machine, for every chunking and number of
// threads; for sums each value is first rounded to a grid of its block of
// points, which keeps the sums exact at vector speed (integrate_named.h).
// Expressions go through the expression parser one point at a time (tens of
// nanoseconds a point, against one or two for the named integrands) and are
// summed exactly: the same bits for every chunking, but an expression that
// calls sin, exp or ^ uses the C library, whose last bit can differ between
// CPUs with and without FMA.
KernelDef IntegrateKernel();

}  // namespace pfor

#endif  // PFOR_KERNELS_INTEGRATE_H_
