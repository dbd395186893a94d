// What a benchmark reads about processes: CPU time and resident memory
// from /proc, and the open-file limit that many sockets need.
#ifndef PFOR_BENCH_PROCESS_USAGE_H_
#define PFOR_BENCH_PROCESS_USAGE_H_

#include <cstdint>

namespace pfor {

// CPU seconds and resident memory of a process; -1 where unreadable.
struct ProcessUsage {
  double cpu_seconds = -1;
  int64_t rss_kb = -1;
  int64_t peak_rss_kb = -1;
};

// From /proc/PID/stat and /proc/PID/status; all -1 for pid <= 0.
ProcessUsage ReadUsage(int pid);

// User plus system CPU seconds of this process.
double OwnCpuSeconds();

// Lifts the soft limit on open files to the hard one.
void RaiseFileLimit();

}  // namespace pfor

#endif  // PFOR_BENCH_PROCESS_USAGE_H_
