// Kernels for tests and scale simulation: they cost nothing or a set time.
#ifndef PFOR_KERNELS_TEST_KERNELS_H_
#define PFOR_KERNELS_TEST_KERNELS_H_

#include "pfor/kernel.h"

namespace pfor {

// noop: value 0 per index, computed without touching the indices; measures
// pfor's own overhead.
KernelDef NoopKernel();

// sleep: sleeps `us` microseconds per index (default 1000, at most 60 s)
// and has value 1 per index, so the job's sum counts the indices run.
KernelDef SleepKernel();

}  // namespace pfor

#endif  // PFOR_KERNELS_TEST_KERNELS_H_
