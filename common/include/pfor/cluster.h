// What the coordinator knows of its workers and of the kernels they offer:
// the answers of `pfor workers` and `pfor kernels`, and what a worker
// announces when it joins.
#ifndef PFOR_CLUSTER_H_
#define PFOR_CLUSTER_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "pfor/job.h"
#include "pfor/params.h"

namespace pfor {

// A kernel as workers announce it.
struct KernelInfo {
  std::string name;
  std::string help;
  std::vector<ParamSpec> params;
  // The executors that run it (on the announcing worker; in listings, on
  // any worker).
  std::vector<ExecutorKind> executors;
};

struct WorkerStatus {
  uint64_t id = 0;
  std::string name;
  std::string peer;
  // Slots per executor, indexed by ExecutorKind.
  std::array<int, kExecutorKinds> slots{};
  int chunks_in_flight = 0;
  int64_t chunks_done = 0;
  absl::Time connected_time;
  absl::Duration since_last_message;
  std::vector<std::string> kernels;
  bool draining = false;
  // Its attempts kept running past their deadline: it gets no chunks for a
  // while (or until it finishes one in time).
  bool quarantined = false;
  // Its attempts that ran past their deadline, in all.
  int64_t attempts_timed_out = 0;
  // Chunks asked for and not yet sent (free slots and prefetch waiting for
  // work).
  int credits = 0;

  int64_t total_slots() const {
    return int64_t{slots[0]} + slots[1] + slots[2];
  }
};

}  // namespace pfor

#endif  // PFOR_CLUSTER_H_
