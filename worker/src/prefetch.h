// How many chunks one executor of a worker asks for: enough to keep every
// slot busy while its credits travel to the coordinator and chunks come
// back. See docs/decisions/0009-adaptive-prefetch.md.
//
// The worker holds (queued + running + asked for) up to Wanted() chunks:
// its slots, plus a prefetch. With a fixed prefetch that is slots + N. The
// adaptive prefetch (the default) covers a target queue time at the
// measured time per chunk: prefetch = slots * target / time per chunk,
// clamped to [slots, kMaxPrefetchPerSlot * slots]. Until a chunk has been
// measured it is `slots`, as for long chunks (auto chunking aims at 100 ms),
// so that chunks do not pile up on one worker.
//
// Not thread-safe (the engine calls it under its lock).
#ifndef PFOR_WORKER_PREFETCH_H_
#define PFOR_WORKER_PREFETCH_H_

#include "absl/time/time.h"

namespace pfor::worker {

// The adaptive prefetch never asks for more than this many chunks per slot
// beyond the slots themselves.
inline constexpr int kMaxPrefetchPerSlot = 256;

class Prefetch {
 public:
  // `fixed` < 0 means adaptive, covering `target` of queued work.
  Prefetch(int slots, int fixed, absl::Duration target);

  // One chunk finished after `kernel_time`.
  void Observe(absl::Duration kernel_time);

  // Slots plus prefetch.
  int Wanted() const;
  // The time per chunk measured so far; zero before the first.
  absl::Duration time_per_chunk() const;

 private:
  int slots_;
  int fixed_;
  double target_seconds_;
  // Seconds per chunk, smoothed; negative until the first observation.
  double estimate_ = -1;
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_PREFETCH_H_
