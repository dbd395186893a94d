// The plain C++ baseline for `pfor run count_primes_trial`: the same trial
// division (2, then odd divisors while d <= n / d) over [1, N) as an OpenMP
// loop with schedule(dynamic, 1000), whose threads take the next 1000
// numbers as they finish, since the cost grows along the range. bench/run
// builds it with -O3 -march=native -fopenmp.
//
//   trial_openmp N
//
// N may be written 1e8. The number of threads is OpenMP's (OMP_NUM_THREADS,
// default one per core). Prints the count, the seconds the loop took, and
// each thread's CPU seconds in the loop (its busy time), on one line.
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "omp.h"

namespace {

bool IsPrime(int64_t n) {
  if (n < 2) return false;
  if (n < 4) return true;
  if (n % 2 == 0) return false;
  for (int64_t d = 3; d <= n / d; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) +
         static_cast<double>(now.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n =
      argc == 2 ? static_cast<int64_t>(std::strtod(argv[1], nullptr)) : 0;
  if (n < 1) {
    std::fprintf(stderr, "usage: trial_openmp N (N >= 1, such as 1e8)\n");
    return 2;
  }
  std::vector<double> busy(omp_get_max_threads());
  int64_t count = 0;
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel
  {
    const double cpu_start = ThreadCpuSeconds();
#pragma omp for schedule(dynamic, 1000) reduction(+ : count) nowait
    for (int64_t i = 1; i < n; ++i) count += IsPrime(i);
    busy[omp_get_thread_num()] = ThreadCpuSeconds() - cpu_start;
  }
  const std::chrono::duration<double> took =
      std::chrono::steady_clock::now() - start;
  std::printf("%lld %.6f", static_cast<long long>(count), took.count());
  for (double seconds : busy) std::printf(" %.6f", seconds);
  std::printf("\n");
  return 0;
}
