// A kernel that misbehaves on purpose, for testing fault tolerance: the
// processes executor's crash isolation, retries, timeouts and memory limits.
#ifndef PFOR_KERNELS_FAULT_H_
#define PFOR_KERNELS_FAULT_H_

#include "pfor/kernel.h"

namespace pfor {

// fault: value 1 per index, except that the chunk holding index `at`
// (default: the job's first index) misbehaves as `mode` says:
//   segfault  the process dies of SIGSEGV;
//   abort     std::abort(), SIGABRT;
//   exit      std::_Exit(7);
//   hang      sleeps forever, ignoring cancellation: only a kill stops it;
//   allocate  allocates and touches memory without bound (16 MiB at a time)
//             until an allocation fails or the process is killed;
//   throw     throws std::runtime_error;
//   error     returns an INTERNAL error;
//   none      behaves like the other chunks.
// segfault, abort, exit and hang take the whole process with them: on the
// threads executor that is the worker daemon itself.
KernelDef FaultKernel();

}  // namespace pfor

#endif  // PFOR_KERNELS_FAULT_H_
