// The kernels every worker offers.
#ifndef PFOR_KERNELS_BUILTIN_KERNELS_H_
#define PFOR_KERNELS_BUILTIN_KERNELS_H_

#include "absl/status/status.h"
#include "pfor/kernel.h"

namespace pfor {

// Adds count_primes, count_primes_trial, integrate, monte_carlo_pi, noop and
// sleep to `registry`. ALREADY_EXISTS when one of the names is taken.
absl::Status RegisterBuiltinKernels(KernelRegistry& registry);

}  // namespace pfor

#endif  // PFOR_KERNELS_BUILTIN_KERNELS_H_
