// Prime counting kernels: a fast segmented sieve and the documents' trial
// division.
#ifndef PFOR_KERNELS_PRIMES_H_
#define PFOR_KERNELS_PRIMES_H_

#include <cstdint>

#include "pfor/kernel.h"

namespace pfor {

// count_primes: value 1 for a prime index, 0 otherwise, counted with
// primesieve on the calling thread only.
KernelDef CountPrimesKernel();

// count_primes_trial: the same values by trial division, slow on purpose
// (the cost of an index grows like its square root).
KernelDef CountPrimesTrialKernel();

// The trial-division test the kernel uses: 2, then odd divisors up to the
// square root. Safe for every int64 (negatives, 0 and 1 are not prime).
bool IsPrimeByTrialDivision(int64_t n);

}  // namespace pfor

#endif  // PFOR_KERNELS_PRIMES_H_
