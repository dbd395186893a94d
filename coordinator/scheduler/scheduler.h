// The coordinator's decisions, apart from all I/O.
//
// Scheduler takes events (a job submitted, a worker joined or lost, credits
// granted, a chunk finished, time passing) and answers with commands (assign
// this chunk to that worker, cancel that attempt, tell a worker a job ended,
// drop a silent worker, tell followers what changed, journal this). It never
// reads the clock, never does I/O and never starts a thread: every event
// carries `now`, and the services around it only turn messages into events
// and commands into messages. Commands carry all their data, so delivering
// them never calls back into the scheduler.
//
// Guarantees:
//   * every chunk of a job is counted exactly once: a result is accepted only
//     from a live attempt of a chunk still in flight, and the first one wins;
//   * a lost worker's chunks go back to the queue;
//   * a chunk that fails max_attempts times fails its job with that error;
//   * an attempt far slower than its job's measured chunk time gets a backup
//     copy elsewhere, and a worker whose attempts keep doing that gets no
//     chunks for a while;
//   * slots are shared fairly between submitters, then between jobs;
//   * a worker is never sent more chunks of an executor than it asked for;
//   * memory is O(jobs + chunks in flight), never O(chunks of a job);
//   * job ids never repeat, across restarts too (NextJobId).
//
// Not thread-safe: the owner serializes calls.
#ifndef PFOR_COORDINATOR_SCHEDULER_H_
#define PFOR_COORDINATOR_SCHEDULER_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dispatch.h"
#include "job_views.h"
#include "journal.h"
#include "pfor/cluster.h"
#include "pfor/common/link.h"
#include "pfor/common/session.h"
#include "pfor/coordinator/options.h"
#include "pfor/coordinator/stats.h"
#include "pfor/job.h"
#include "scheduled_job.h"
#include "worker_registry.h"

namespace pfor::coordinator {

using WorkerId = uint64_t;

// SchedulerOptions (heartbeat_timeout, keep_jobs, queue_timeout, ...) are in
// pfor/coordinator/options.h: the server's options embed them.

// Commands, grouped by kind. Within one batch, a worker applies job
// definitions, then assignments, then ended jobs, then cancellations;
// followers' events and journal entries are in the order they happened.
struct Commands {
  struct Assign {
    WorkerId worker = 0;
    // Set when the worker has not seen the job yet: send it first.
    std::shared_ptr<const JobDefinition> definition;
    ChunkAssignment chunk;
  };
  struct CancelAttempt {
    WorkerId worker = 0;
    AttemptRef attempt;
  };
  struct EndJob {
    WorkerId worker = 0;
    JobId job = 0;
    // The worker runs chunks of the job (it was cancelled or failed): it
    // must hear at once. Otherwise the news only frees the worker's memory
    // and may ride with its next message.
    bool running = false;
  };
  struct Disconnect {
    WorkerId worker = 0;
    std::string reason;
  };
  std::vector<Assign> assign;
  std::vector<CancelAttempt> cancel;
  std::vector<EndJob> end_job;
  std::vector<Disconnect> disconnect;
  // One event per job that changed, for its followers: its progress, its
  // status when its state changed, a batch's new task results.
  std::vector<JobEvent> events;
  // What must be made durable, in order.
  std::vector<JournalEntry> journal;

  bool empty() const {
    return assign.empty() && cancel.empty() && end_job.empty() &&
           disconnect.empty() && events.empty() && journal.empty();
  }
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // --- Events -------------------------------------------------------------

  // Validates and queues a job. INVALID_ARGUMENT names the bad field and the
  // fix; FAILED_PRECONDITION when workers are connected and none offers the
  // kernel; RESOURCE_EXHAUSTED past max_active_jobs. Slots are shared
  // fairly between submitters: `submitter` names this job's (empty: the
  // spec's submitted_by).
  absl::StatusOr<JobStatus> SubmitJob(std::shared_ptr<const JobSpec> spec,
                                      absl::Time now,
                                      const std::string& submitter = "");
  // Puts back a job read from the journal after a restart: an ended job as
  // it ended, an unfinished one with its completed chunks counted and the
  // rest queued. Call before any other event.
  void RestoreJob(const RecoveredJob& job, absl::Time now);
  // Cancels a queued or running job; NOT_FOUND for an unknown id. A finished
  // job is returned as it is, and so is a running one (a worker has started
  // one of its chunks) with `only_if_queued`.
  absl::StatusOr<JobStatus> CancelJob(JobId job, absl::Time now,
                                      bool only_if_queued = false);

  // A worker connected. INVALID_ARGUMENT for a malformed hello (no slots,
  // too many, a kernel announced twice or with a broken parameter list).
  absl::Status WorkerJoined(WorkerId worker, Hello hello, std::string peer,
                            absl::Time now);
  // The worker's link ended: its in-flight chunks go back to the queue.
  void WorkerLost(WorkerId worker, const std::string& reason, absl::Time now);
  // Any message from the worker.
  void WorkerSeen(WorkerId worker, absl::Time now);
  // The worker asks for `credits` more chunks of one executor.
  void CreditsGranted(WorkerId worker, ExecutorKind executor, int32_t credits,
                      absl::Time now);
  // The worker takes no more chunks.
  void WorkerDraining(WorkerId worker, absl::Time now);
  // A worker started to run an attempt (not merely queued it): its job
  // runs from now on. Workers report the first attempt of each job.
  void ChunkStarted(WorkerId worker, const AttemptRef& attempt, absl::Time now);
  // An attempt finished, with its output or its error. Results of attempts
  // no longer live (late, duplicated, spoofed) are ignored.
  void ChunkFinished(WorkerId worker, ChunkResult result, absl::Time now);
  // A draining worker gives back an attempt it never started.
  void ChunkReleased(WorkerId worker, const AttemptRef& attempt,
                     absl::Time now);

  // Time passed: declares silent workers lost, starts backup copies of
  // overdue attempts and fails those past --chunk-timeout (both count
  // against their worker, which is quarantined when they keep coming), lets
  // quarantined workers back, fails jobs nobody can run.
  void Tick(absl::Time now);
  // When Tick must run next for every --chunk-timeout to be kept to the
  // millisecond, as seen at `now` (before any new event); InfiniteFuture
  // when no job has one.
  absl::Time NextDeadline(absl::Time now) const;

  // Commands produced by the events so far; clears them.
  Commands TakeCommands();

  // --- Queries ------------------------------------------------------------

  // NOT_FOUND for an unknown or forgotten id. A batch's task results: those
  // of `tasks` only (copied, so a page costs what it holds).
  absl::StatusOr<JobStatus> GetJob(JobId job, bool with_recent_chunks,
                                   TaskPage tasks = {}) const;
  // The first event of a new follower of `job`: its status and, for a
  // batch, every task result so far. `missing` for an unknown job. Asked
  // for with no commands pending (right after TakeCommands), it and the
  // events that follow tell each task result once.
  JobEvent FollowEvent(JobId job) const;
  // Newest first; without a batch's task results.
  std::vector<JobStatus> ListJobs(int limit) const;
  std::vector<WorkerStatus> ListWorkers(absl::Time now) const;
  // Every kernel a connected worker offers, with the executors that run it
  // on some worker.
  std::vector<KernelInfo> ListKernels() const;
  const ChunkCounters& counters() const { return counters_; }
  // The jobs kept (active, and ended ones not yet forgotten), by JobState.
  std::array<int64_t, 5> CountJobsByState() const;
  // Chunks with a live attempt, over every job.
  int64_t ChunksInFlight() const;

 private:
  // The parts the scheduler is made of, each in a file of its own:
  // WorkerRegistry (worker_registry.h), ChunkLedger (chunk_ledger.h, one per
  // job), the views and events (job_views.h), Dispatcher (dispatch.h). This
  // class orchestrates the events.

  // Runs at the end of every event: builds the statuses of the events whose
  // job changed state, then forgets the oldest ended jobs beyond keep_jobs
  // or keep_bytes.
  class Settler;

  ScheduledJob* FindActive(JobId id);
  // The id of a job accepted at `now`: above every id given before, and
  // above the microseconds since 2024 at `now`.
  JobId NextJobId(absl::Time now) const;
  // Checks the job's parameters against each of `declarations` of its
  // kernel not checked yet (a command job needs none), and forgets the
  // declarations no connected worker announces any more.
  void FitKernels(ScheduledJob& job, const std::vector<KernelId>& declarations);
  void Dispatch(absl::Time now);
  // Tick's part for one job's attempts: marks the overdue ones (their
  // chunks get a backup copy) and fails those past the job's
  // --chunk-timeout.
  void CheckDeadlines(ScheduledJob& job, absl::Time now);
  // An attempt of the worker ran past its deadline.
  void TimedOut(WorkerId worker, absl::Time now);
  void ChunkSucceeded(ScheduledJob& job, ConnectedWorker* worker,
                      const AttemptRef& attempt, int64_t end,
                      ChunkOutput output, absl::Duration kernel_time,
                      absl::Time now);
  // A revoked attempt failed: retry the chunk, or fail the job.
  void AttemptFailed(ScheduledJob& job, ChunkInFlight& chunk,
                     const AttemptRef& attempt, WorkerId worker,
                     absl::string_view error, absl::Duration kernel_time,
                     absl::Time now);
  // A live attempt on the worker ended (finished, failed, cancelled,
  // released, or its job ended).
  void AttemptEnded(ConnectedWorker* worker);
  void AttemptEnded(WorkerId worker);
  // Keeps a finished attempt for the status view.
  void Record(ScheduledJob& job, const AttemptRef& attempt, int64_t end,
              WorkerId worker, absl::Duration kernel_time,
              absl::string_view error, absl::Time now);
  void Finish(ScheduledJob& job, JobState state, std::string error,
              absl::Time now);
  void MaybeSucceed(ScheduledJob& job, absl::Time now);
  // A chunk of the job has started (or, started or not, finished): a queued
  // job runs from `now`.
  void MarkRunning(ScheduledJob& job, absl::Time now);
  // The job has ended: it is kept, and counted against keep_bytes.
  void KeepEnded(const ScheduledJob& job);
  void ForgetOldJobs();

  SchedulerOptions options_;
  WorkerRegistry workers_;
  // Ids are never given twice, by this coordinator or by an earlier run of
  // it (NextJobId): the next id is at least this. The smallest id this run
  // gave or restored (0 before any) tells forgotten ids from unknown ones.
  JobId next_job_id_ = 1;
  JobId first_job_id_ = 0;
  std::map<JobId, std::unique_ptr<ScheduledJob>> jobs_;
  // Queued and running jobs, in submission order.
  std::vector<ScheduledJob*> active_;
  // Ended jobs, oldest first, with the bytes each holds (KeptBytes), and
  // their sum.
  std::deque<std::pair<JobId, int64_t>> ended_;
  int64_t ended_bytes_ = 0;
  EventLog events_;
  Commands commands_;
  ChunkCounters counters_;
  Dispatcher dispatcher_{workers_, events_, commands_};
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SCHEDULER_H_
