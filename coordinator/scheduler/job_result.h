// The running result of one job: chunk values folded under its reduction.
//
// sum, min, max and count keep a single value; collect keeps every chunk's
// value, ordered by range, and is therefore bounded; a batch keeps one
// result per task. Not thread-safe.
#ifndef PFOR_COORDINATOR_JOB_RESULT_H_
#define PFOR_COORDINATOR_JOB_RESULT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "pfor/v1/job.pb.h"
#include "pfor/value.h"

namespace pfor::coordinator {

class JobResult {
 public:
  // The most chunk values a collect job may keep.
  static constexpr int64_t kMaxCollected = 1'000'000;

  // `tasks` > 0: a batch job of that many tasks.
  explicit JobResult(Reduction reduction, int64_t tasks = 0)
      : reduction_(reduction), tasks_(tasks) {}

  // Folds in the value of chunk [begin, end) as the worker sent it. Each
  // chunk must be added once. INVALID_ARGUMENT for a value that does not fit
  // the job (malformed, or not the chunk's task results); OUT_OF_RANGE when
  // an integer sum overflows; RESOURCE_EXHAUSTED when a collect job exceeds
  // kMaxCollected chunks.
  absl::Status Add(int64_t begin, int64_t end, const v1::Value& value);

  // The result as clients see it: float sums rounded to float_value, collect
  // as chunk values ordered by begin, a batch's task results in order. Empty
  // before the first Add.
  v1::Value ToProto() const;

  // The task results of chunk [begin, end) of a batch, rounded as clients
  // see them.
  static v1::Value Rounded(const v1::Value& value);

 private:
  struct Collected {
    int64_t end;
    Value value;
  };

  Reduction reduction_;
  std::optional<Value> value_;
  std::map<int64_t, Collected> collected_;
  // A batch: one slot per task, filled as chunks complete.
  std::vector<v1::TaskResult> tasks_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOB_RESULT_H_
