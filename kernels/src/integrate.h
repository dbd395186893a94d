// Numerical integration by the midpoint rule.
#ifndef PFOR_KERNELS_INTEGRATE_H_
#define PFOR_KERNELS_INTEGRATE_H_

#include "pfor/kernel.h"

namespace pfor {

// integrate: the job's range [job_begin, job_end) is n = job_end - job_begin
// midpoints of [a, b]; index i has value f(x_i) * h with h = (b - a) / n and
// x_i = a + (i - job_begin + 0.5) * h, so the job's sum is the integral.
// Parameters: a, b (required) and integrand: one of the named functions
// "cos", "sin", "exp", "x^2", "4/(1+x^2)" (evaluated directly) or any other
// expression in x (evaluated by the expression parser, several times slower).
KernelDef IntegrateKernel();

}  // namespace pfor

#endif  // PFOR_KERNELS_INTEGRATE_H_
