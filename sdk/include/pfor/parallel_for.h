// The common case in one call: one kernel over one range.
//
//   absl::StatusOr<int64_t> primes =
//       pfor::parallel_reduce<int64_t>(*client, "count_primes", {0,
//       10'000'000});
#ifndef PFOR_PARALLEL_FOR_H_
#define PFOR_PARALLEL_FOR_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "pfor/client.h"
#include "pfor/future.h"

namespace pfor {

// Runs `kernel` over `range` as one job and returns the values of its
// indices folded by `reduction`, as a T (int64_t, double or pfor::Value).
// Blocks. Errors: the job's (UNKNOWN, with the kernel's message, the chunk
// and its attempts), CANCELLED, or what the coordinator refused.
template <typename T = Value>
absl::StatusOr<T> parallel_reduce(Client& client, const std::string& kernel,
                                  Range range,
                                  std::map<std::string, ParamValue> params = {},
                                  Reduction reduction = Reduction::kSum,
                                  ChunkPolicy chunks = {}) {
  JobSpec spec;
  spec.kernel = kernel;
  spec.begin = range.begin;
  spec.end = range.end;
  spec.params = std::move(params);
  spec.reduction = reduction;
  spec.chunks = chunks;
  absl::StatusOr<JobStatus> done = client.Run(spec);
  if (!done.ok()) return done.status();
  if (done->state == JobState::kCancelled) {
    return absl::CancelledError(
        absl::StrCat("job ", done->id, " was cancelled"));
  }
  if (done->state != JobState::kSucceeded || !done->value.has_value()) {
    return absl::UnknownError(absl::StrCat("job ", done->id, " (", kernel,
                                           ") failed: ", done->error));
  }
  return internal::ValueAs<T>(*done->value, kernel);
}

// Runs `kernel` over `range` for what it does; OK once every chunk has.
inline absl::Status parallel_for(Client& client, const std::string& kernel,
                                 Range range,
                                 std::map<std::string, ParamValue> params = {},
                                 ChunkPolicy chunks = {}) {
  return parallel_reduce<Value>(client, kernel, range, std::move(params),
                                Reduction::kSum, chunks)
      .status();
}

}  // namespace pfor

#endif  // PFOR_PARALLEL_FOR_H_
