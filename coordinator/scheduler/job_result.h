// The running result of one job: chunk outputs folded under its reduction.
//
// sum, min, max and count keep a single value; collect keeps every chunk's
// value, ordered by range, and is therefore bounded; a batch keeps each
// chunk's task results, shared with the chunk's output, not copied. What
// clients see is rounded: exact float sums become doubles, once, here.
// Not thread-safe.
#ifndef PFOR_COORDINATOR_JOB_RESULT_H_
#define PFOR_COORDINATOR_JOB_RESULT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pfor/common/link.h"
#include "pfor/common/session.h"
#include "pfor/job.h"
#include "pfor/value.h"

namespace pfor::coordinator {

class JobResult {
 public:
  // The most chunk values a collect job may keep.
  static constexpr int64_t kMaxCollected = 1'000'000;

  // `tasks` > 0: a batch job of that many tasks.
  explicit JobResult(Reduction reduction, int64_t tasks = 0)
      : reduction_(reduction), tasks_(tasks) {}

  // Folds in the output of chunk [begin, end) as the worker sent it. Each
  // chunk must be added once. INVALID_ARGUMENT for an output that does not
  // fit the job (task results for a plain job, or not one result per task of
  // the chunk for a batch); OUT_OF_RANGE when an integer sum overflows or
  // the value is not finite (an infinity or a NaN: a job's result is a
  // number); RESOURCE_EXHAUSTED when a collect job exceeds kMaxCollected
  // chunks. A batch task's value that is not finite becomes that task's
  // error.
  absl::Status Add(int64_t begin, int64_t end, const ChunkOutput& output);

  // The same, keeping a batch chunk's task results by reference (a rounded
  // copy only when they hold exact sums). Returns the chunk's task run for a
  // batch, a run without results otherwise.
  absl::StatusOr<TaskRun> AddShared(int64_t begin, int64_t end,
                                    std::shared_ptr<const ChunkOutput> output);

  // OUT_OF_RANGE when the value, rounded, is not finite (finite chunk
  // values whose sum overflows a double), saying so.
  absl::Status CheckFinal() const;

  // The result as clients see it, each empty unless the job is of its kind:
  // the value (nullopt before the first Add)...
  std::optional<Value> value() const;
  // ...a collect job's chunk values, ordered by begin...
  std::vector<ChunkValue> chunk_values() const;
  // ...a batch's task results in task order (tasks not completed yet hold
  // UNKNOWN).
  std::vector<TaskResult> task_results() const;
  // A batch's task results so far, as runs (in the order chunks completed).
  const std::vector<TaskRun>& task_runs() const { return runs_; }

  // Exact sums rounded to the nearest double; other values as they are.
  static Value Rounded(const Value& value);
  // A batch chunk's output with its exact sums rounded: `output` itself when
  // it holds none.
  static std::shared_ptr<const ChunkOutput> Rounded(
      std::shared_ptr<const ChunkOutput> output);

 private:
  struct Collected {
    int64_t end;
    Value value;
  };

  absl::Status CheckTasks(int64_t begin, int64_t end,
                          const ChunkOutput& output) const;

  Reduction reduction_;
  int64_t tasks_;
  std::optional<Value> value_;
  std::map<int64_t, Collected> collected_;
  // A batch: the task results of each chunk completed.
  std::vector<TaskRun> runs_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOB_RESULT_H_
