// The running result of one job: chunk values folded under its reduction.
//
// sum, min, max and count keep a single value; collect keeps every chunk's
// value, ordered by range, and is therefore bounded. Not thread-safe.
#ifndef PFOR_COORDINATOR_JOB_RESULT_H_
#define PFOR_COORDINATOR_JOB_RESULT_H_

#include <cstdint>
#include <map>
#include <optional>

#include "absl/status/status.h"
#include "pfor/v1/job.pb.h"
#include "pfor/value.h"

namespace pfor::coordinator {

class JobResult {
 public:
  // The most chunk values a collect job may keep.
  static constexpr int64_t kMaxCollected = 1'000'000;

  explicit JobResult(Reduction reduction) : reduction_(reduction) {}

  // Folds in the value of chunk [begin, end). Each chunk must be added once.
  // OUT_OF_RANGE when an integer sum overflows; RESOURCE_EXHAUSTED when a
  // collect job exceeds kMaxCollected chunks.
  absl::Status Add(int64_t begin, int64_t end, const Value& value);

  // The result as clients see it: float sums rounded to float_value, collect
  // as chunk values ordered by begin. Empty before the first Add.
  v1::Value ToProto() const;

 private:
  struct Collected {
    int64_t end;
    Value value;
  };

  Reduction reduction_;
  std::optional<Value> value_;
  std::map<int64_t, Collected> collected_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOB_RESULT_H_
