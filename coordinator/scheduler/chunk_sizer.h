// Chunk sizes for one job: how many indices the next chunk gets.
//
// Chunks are cut from a cursor as they are handed out, never stored up
// front, so a job over 10^15 indices costs the same memory as one over 10.
// Three policies:
//   fixed:N   every chunk has N indices (the last one fewer);
//   count:N   N chunks of near-equal size;
//   auto      sizes follow measured kernel time so a chunk takes about the
//             target time, starting small (like joblib's batch_size=auto)
//             and shrinking toward the end of the range so the last chunks
//             finish together (guided self-scheduling). Kernel time is
//             modelled as a fixed cost per chunk plus a cost per index,
//             fitted to recent chunks, so a kernel with a large set-up cost
//             gets chunks large enough to amortize it. A cost per index
//             that grows along the range is followed, not extrapolated:
//             the cost per index of the chunk furthest along the range
//             measured so far is a floor, and a chunk grows at most
//             eightfold past that chunk, and only as far as its measured
//             time allows.
//
// Pure arithmetic: no clock, no I/O. Not thread-safe.
#ifndef PFOR_COORDINATOR_CHUNK_SIZER_H_
#define PFOR_COORDINATOR_CHUNK_SIZER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/job.h"

namespace pfor::coordinator {

class ChunkSizer {
 public:
  // Checks the policy against the range [begin, end) (begin < end). Fails
  // with INVALID_ARGUMENT naming the problem and the fix.
  static absl::StatusOr<ChunkSizer> Create(const ChunkPolicy& policy,
                                           int64_t begin, int64_t end);

  // The end of the chunk that starts at `cursor` (begin <= cursor < end).
  // `slots` is the number of slots that can run the job, for the guided tail.
  int64_t NextEnd(int64_t cursor, int slots);

  // Continues a count policy from `cursor`, the end of a chunk it cut before
  // a restart.
  void ResumeAt(int64_t cursor);

  // Feeds one finished chunk (its first index, its size and its kernel
  // time) to the auto policy.
  void Observe(int64_t begin, int64_t indices, absl::Duration kernel_time);

  // Expected kernel time of a chunk of `indices`; zero while unknown.
  absl::Duration Expected(int64_t indices) const;
  // Some chunk was observed: Expected is known.
  bool measured() const { return observed_count_ > 0; }

  // Number of chunks the fixed and count policies produce; 0 for auto.
  int64_t PlannedChunks() const;

 private:
  enum class Kind { kFixed, kCount, kAuto };

  ChunkSizer(Kind kind, int64_t begin, int64_t end)
      : kind_(kind), begin_(begin), end_(end) {}

  Kind kind_;
  int64_t begin_;
  int64_t end_;
  int64_t fixed_size_ = 0;
  int64_t chunk_count_ = 0;
  int64_t chunks_cut_ = 0;
  absl::Duration target_ = absl::Milliseconds(100);

  // Kernel seconds = fixed + per_index * indices.
  struct CostModel {
    double fixed = 0;
    double per_index = 0;
    // Only one chunk size was measured: fixed and per-index cost could not
    // be told apart, and all the time is charged to the indices.
    bool one_size = false;
  };
  // Fitted to the recent observations; nullopt before the first one.
  std::optional<CostModel> Fit() const;

  static constexpr int kObservations = 16;
  // Recent (indices, seconds), a ring.
  std::array<std::pair<double, double>, kObservations> observed_{};
  int observed_count_ = 0;
  int64_t largest_observed_ = 0;
  // The observed chunk that starts furthest along the range: where it
  // starts, its size and its seconds.
  int64_t frontier_begin_ = INT64_MIN;
  std::pair<double, double> frontier_{};
  // A chunk larger than an overrunning one was tried, to tell a fixed cost
  // from a cost per index.
  bool tried_larger_ = false;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_CHUNK_SIZER_H_
