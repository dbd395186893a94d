// The kernels every worker offers, and the test-only ones a worker offers
// only when started with --enable-test-kernels.
#ifndef PFOR_KERNELS_BUILTIN_KERNELS_H_
#define PFOR_KERNELS_BUILTIN_KERNELS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pfor/kernel.h"

namespace pfor {

// Adds count_primes, count_primes_trial, integrate, monte_carlo_pi, noop
// and sleep to `registry`. ALREADY_EXISTS when one of the names is taken.
absl::Status RegisterBuiltinKernels(KernelRegistry& registry);

// Adds the test-only kernels: fault, which crashes, aborts, hangs,
// exhausts memory or fails on purpose. ALREADY_EXISTS when a name is taken.
absl::Status RegisterTestKernels(KernelRegistry& registry);

// Register them into KernelRegistry::Global() on the first call; later
// calls return the first call's status. Thread-safe. Test kernels, once
// registered, stay for the life of the process.
absl::Status RegisterBuiltinKernelsOnce();
absl::Status RegisterTestKernelsOnce();

// Their names, as registered.
std::vector<std::string> BuiltinKernelNames();
std::vector<std::string> TestKernelNames();

}  // namespace pfor

#endif  // PFOR_KERNELS_BUILTIN_KERNELS_H_
