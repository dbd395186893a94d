// What a client asks of a coordinator, in C++: the calls of the Coordinator
// service (proto/pfor/v1/coordinator.proto) and its session, the one stream
// over which a client submits jobs and follows them. Implemented over gRPC
// by the SDK (between processes) and in process by the coordinator (the
// embedded cluster), so the SDK has one path for both.
#ifndef PFOR_COMMON_SESSION_H_
#define PFOR_COMMON_SESSION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/cluster.h"
#include "pfor/job.h"

namespace pfor {

// Consecutive task results of a batch: task first_task + i has results[i].
struct TaskRun {
  int64_t first_task = 0;
  // Shared with the chunk's output, never copied.
  std::shared_ptr<const std::vector<TaskResult>> results;
};

// What a follower of a job hears. Events of one job come in order; a later
// event supersedes the progress and state of an earlier one, and adds its
// task runs.
struct JobEvent {
  uint64_t job = 0;
  JobState state = JobState::kQueued;
  JobProgress progress;
  // Set in the first event of a follow and when the state changes: the
  // job's status (with its result once it has ended; without a batch's task
  // results, which come as task runs).
  std::shared_ptr<const JobStatus> status;
  // A batch's task results that completed since the last event (the first
  // event of a follow: all so far).
  std::vector<TaskRun> tasks;
  // The job does not exist, or is no longer kept; the last event.
  bool missing = false;
};

// What a session hears. Calls come one at a time, in order, never under a
// lock the client may hold while calling the session; OnClosed is the last.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // The answer to Session::Submit number `call`: the job as accepted (made
  // durable first when the coordinator keeps a journal), or why not.
  virtual void OnSubmitted(uint64_t call, absl::StatusOr<JobStatus> job) = 0;
  virtual void OnEvents(std::vector<JobEvent> events) = 0;
  // The session ended (the coordinator went away, or Close was called).
  virtual void OnClosed(const absl::Status& status) = 0;
};

// One client's stream. Thread-safe; never blocks.
class Session {
 public:
  virtual ~Session() = default;
  // Submits a job; the answer comes to OnSubmitted with the same `call`.
  // With `follow`, the job is followed from its acceptance on.
  virtual void Submit(uint64_t call, std::shared_ptr<const JobSpec> spec,
                      bool follow) = 0;
  // Follows a job: its current state and task results at once, then its
  // changes. With a progress interval, progress also comes, at most that
  // often; without, only state changes and task results.
  virtual void Follow(uint64_t job, absl::Duration progress_interval =
                                        absl::ZeroDuration()) = 0;
  // Ends the session; OnClosed follows.
  virtual void Close() = 0;
};

// The calls. Thread-safe; each blocks until its answer or its deadline.
class CoordinatorCalls {
 public:
  virtual ~CoordinatorCalls() = default;
  virtual absl::StatusOr<JobStatus> Submit(const JobSpec& spec) = 0;
  // A batch's task results: those of `tasks` only.
  virtual absl::StatusOr<JobStatus> Get(uint64_t job, bool with_recent_chunks,
                                        TaskPage tasks) = 0;
  // With `only_if_queued`, a job one of whose chunks has started is left
  // alone (and returned as it is).
  virtual absl::StatusOr<JobStatus> Cancel(uint64_t job,
                                           bool only_if_queued) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit) = 0;
  virtual absl::StatusOr<std::vector<WorkerStatus>> ListWorkers() = 0;
  virtual absl::StatusOr<std::vector<KernelInfo>> ListKernels() = 0;
  // Opens a session; the handler must outlive its OnClosed.
  virtual std::shared_ptr<Session> OpenSession(SessionHandler* handler) = 0;
};

}  // namespace pfor

#endif  // PFOR_COMMON_SESSION_H_
