// Jobs as every part of pfor sees them: what a client asks for (JobSpec)
// and what the coordinator tells of a job (JobStatus). The SDK, the
// coordinator's scheduler and the wire codecs all use these types, so a job
// submitted in-process reaches the scheduler without a copy or a conversion.
//
// docs/glossary.md defines the words: job, task, chunk, attempt, kernel,
// executor, slot, credit, worker.
#ifndef PFOR_JOB_H_
#define PFOR_JOB_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/params.h"
#include "pfor/value.h"

namespace pfor {

// An index range [begin, end).
struct Range {
  int64_t begin = 0;
  int64_t end = 0;
};

// How a job's range is cut into chunks.
struct ChunkPolicy {
  enum class Kind { kAuto, kFixed, kCount };
  Kind kind = Kind::kAuto;
  // Indices per chunk (kFixed) or number of chunks (kCount).
  int64_t value = 0;
  // kAuto: kernel time to aim for per chunk.
  absl::Duration target = absl::Milliseconds(100);

  static ChunkPolicy Auto(absl::Duration target = absl::Milliseconds(100)) {
    return {Kind::kAuto, 0, target};
  }
  static ChunkPolicy Fixed(int64_t size) {
    return {Kind::kFixed, size, absl::ZeroDuration()};
  }
  static ChunkPolicy Count(int64_t chunks) {
    return {Kind::kCount, chunks, absl::ZeroDuration()};
  }
};

// Where chunks run on a worker. The values index per-executor arrays.
enum class ExecutorKind {
  kThreads = 0,    // in the worker daemon: cheapest
  kProcesses = 1,  // in helper processes: a crash costs one helper
  kCommand = 2,    // an external program per chunk (workers with
                   // --allow-commands)
};
inline constexpr int kExecutorKinds = 3;
// "threads", "processes" or "command".
const char* ExecutorName(ExecutorKind executor);

// What the command executor runs for each chunk.
struct Command {
  // The program and its arguments; {begin}, {end} and {chunk} are replaced,
  // and PFOR_BEGIN, PFOR_END, PFOR_CHUNK and PFOR_JOB are set.
  std::vector<std::string> argv = {};
  // Run argv[0] as a /bin/sh script instead.
  bool shell = false;
  // How standard output reads: kAuto is an integer if it parses as one,
  // else a float. (Numbered as on the wire.)
  enum class Output { kAuto, kInteger, kFloat, kJson } output = Output::kAuto;
};

// One call of a batch job's kernel: its own range, and parameters on top of
// the job's.
struct Task {
  Range range = {};
  std::map<std::string, ParamValue> params = {};
};

// A job: a kernel applied to every index of a range, reduced to one value.
struct JobSpec {
  // Empty for command jobs.
  std::string kernel = {};
  // The index range [begin, end). For a batch, [0, number of tasks).
  int64_t begin = 0;
  int64_t end = 0;
  std::map<std::string, ParamValue> params = {};
  ChunkPolicy chunks = {};
  Reduction reduction = Reduction::kSum;
  // A label for listings.
  std::string name = {};
  // Attempts per chunk before the job fails; 0 means the default, 3.
  int max_attempts = 0;
  // An attempt running longer fails; infinite means no limit.
  absl::Duration chunk_timeout = absl::InfiniteDuration();
  ExecutorKind executor = ExecutorKind::kThreads;
  // For ExecutorKind::kCommand.
  Command command = {};
  // A batch: one call of the kernel per task, and one result per task (the
  // task's value under the reduction) instead of one for the job.
  std::vector<Task> tasks = {};
  // At most this many chunks run at once; 0 means no limit.
  int max_parallel = 0;
  // The name of the token that submitted the job (never its secret): set
  // by the coordinator; empty without tokens.
  std::string submitted_by = {};
};

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };

// "queued", "running", ...
const char* JobStateName(JobState state);

// A job in one of these states has ended: it never changes again.
inline bool IsFinal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

// One chunk's value in a collect job.
struct ChunkValue {
  int64_t begin = 0;
  int64_t end = 0;
  Value value;
};

// One finished attempt at a chunk, for the status view.
struct ChunkAttempt {
  int64_t begin = 0;
  int64_t end = 0;
  int attempt = 0;
  std::string worker;
  absl::Duration kernel_time;
  // Empty when the attempt succeeded.
  std::string error;
  // When the coordinator heard that it ended (not carried on the wire).
  absl::Time finished = absl::InfinitePast();
};

// One task's result in a batch: its value (float sums rounded to a double,
// as clients see them), or why it failed.
using TaskResult = absl::StatusOr<Value>;

// Which of a batch's task results to return with its status: `count` of
// them from task number `first` (a batch may have millions).
struct TaskPage {
  static constexpr int64_t kDefaultCount = 1000;
  static constexpr int64_t kMaxCount = 100'000;

  int64_t first = 0;
  int64_t count = kDefaultCount;
};

// How far a job has come.
struct JobProgress {
  int64_t indices_total = 0;
  int64_t indices_done = 0;
  int64_t chunks_done = 0;
  int64_t chunks_in_flight = 0;
  // Failed attempts so far (retried or fatal).
  int64_t attempts_failed = 0;
  // Chunks handed back to the queue because their worker was lost.
  int64_t chunks_requeued = 0;
  // Indices per second, recently.
  double rate = 0;
};

struct JobStatus {
  uint64_t id = 0;
  // The job as it was accepted (shared, never copied).
  std::shared_ptr<const JobSpec> spec;
  JobState state = JobState::kQueued;
  JobProgress progress;
  // The result of a SUCCEEDED job: an integer or a double (sum, min, max,
  // count)...
  std::optional<Value> value;
  // ...or one value per chunk, ordered by range (collect)...
  std::vector<ChunkValue> chunk_values;
  // ...or one result per task of a batch, in task order: every task's, or
  // those of a page (TaskPage) starting at task number `first_task`.
  std::vector<TaskResult> task_results;
  int64_t first_task = 0;
  // A batch's number of tasks (its spec may come without them); 0 for
  // other jobs.
  int64_t task_count = 0;
  // Why the job FAILED or was CANCELLED.
  std::string error;
  // Why a QUEUED job waits.
  std::string waiting_reason;
  absl::Time submit_time = absl::InfinitePast();
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  // The most recent finished attempts, oldest first (Get only).
  std::vector<ChunkAttempt> recent_chunks;

  bool finished() const { return IsFinal(state); }
};

}  // namespace pfor

#endif  // PFOR_JOB_H_
