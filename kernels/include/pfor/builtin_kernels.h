// The kernels every worker offers.
#ifndef PFOR_KERNELS_BUILTIN_KERNELS_H_
#define PFOR_KERNELS_BUILTIN_KERNELS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pfor/kernel.h"

namespace pfor {

// Adds count_primes, count_primes_trial, fault, integrate, monte_carlo_pi,
// noop and sleep to `registry`. ALREADY_EXISTS when one of the names is taken.
absl::Status RegisterBuiltinKernels(KernelRegistry& registry);

// Registers them into KernelRegistry::Global() on the first call; later
// calls return the first call's status. Thread-safe.
absl::Status RegisterBuiltinKernelsOnce();

// Their names, as registered.
std::vector<std::string> BuiltinKernelNames();

}  // namespace pfor

#endif  // PFOR_KERNELS_BUILTIN_KERNELS_H_
