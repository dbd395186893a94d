// Runs the Scheduler for everything that talks to it: the gRPC services and
// the in-process ends of the embedded cluster. Events are applied one at a
// time under one lock, with the time read from a Clock (a FakeClock in
// tests); the commands they produce are queued, still under the lock, to the
// worker outboxes and client sessions they concern, in order, and flushed
// (encoded, written, delivered) after the lock is released. So the lock is
// held for the scheduler's microseconds only, and an outbox may call back
// into the host while it flushes.
//
// Thread-safe.
#ifndef PFOR_COORDINATOR_SCHEDULER_HOST_H_
#define PFOR_COORDINATOR_SCHEDULER_HOST_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "journal_writer.h"
#include "pfor/common/clock.h"
#include "pfor/common/link.h"
#include "pfor/common/log.h"
#include "pfor/coordinator/options.h"
#include "pfor/coordinator/stats.h"
#include "scheduler.h"
#include "session_outbox.h"

namespace pfor::coordinator {

// The coordinator's end of one worker link.
class WorkerOutbox {
 public:
  virtual ~WorkerOutbox() = default;
  // Under the host's lock: only queues (never calls the worker, never
  // blocks).
  virtual void Queue(CoordinatorMessage message) = 0;
  // Under the host's lock: the link ends with `reason` once what is queued
  // has gone; the worker will reconnect.
  virtual void Close(const std::string& reason) = 0;
  // After the host's lock: sends what is queued, and ends the link when
  // asked to.
  virtual void Flush() = 0;
};

// The coordinator's end of one client session.
class SessionSink {
 public:
  virtual ~SessionSink() = default;
  // Filled under the host's lock.
  SessionOutbox& outbox() { return outbox_; }
  // After the host's lock: sends what the outbox holds.
  virtual void Flush() = 0;
  // Ends the session with `status` (the coordinator is shutting down).
  virtual void Close(const absl::Status& status) = 0;

 protected:
  // Hands what the outbox holds to `send` (which only queues it), as one
  // step: two threads flushing at once must not pass their batches on in
  // the other order, or an older event would merge over a newer one.
  template <typename Send>
  auto TakeOutbox(Send send) {
    std::lock_guard lock(take_mu_);
    return send(outbox_.Take());
  }

 private:
  SessionOutbox outbox_;
  std::mutex take_mu_;
};

class SchedulerHost {
 public:
  // `clock` and `journal` (may be null: nothing is kept) must outlive the
  // host.
  SchedulerHost(const ServerOptions& options, Clock& clock,
                JournalWriter* journal);

  // Puts back the jobs of a journal; call before serving. Returns how many
  // were unfinished.
  int Restore(const std::vector<RecoveredJob>& jobs);

  // --- Clients --------------------------------------------------------------

  using Accepted = std::function<void(absl::StatusOr<JobStatus>)>;
  // Submits a job. `accepted` runs once, with the job or why it was
  // refused: at once when the coordinator keeps no journal (on this thread,
  // before Submit returns), else once the job is durable (on the journal's
  // thread); when the journal cannot be written, the job is cancelled and
  // `accepted` gets UNAVAILABLE. Slots are shared fairly between
  // submitters: `submitter` names who submits (a token, a client).
  void Submit(std::shared_ptr<const JobSpec> spec, const std::string& submitter,
              Accepted accepted);
  // A batch's task results: those of `tasks` only; INVALID_ARGUMENT for a
  // negative first task or a page over TaskPage::kMaxCount.
  absl::StatusOr<JobStatus> Get(JobId job, bool with_recent_chunks,
                                TaskPage tasks);
  // With `only_if_queued`, a job that has started is left alone.
  absl::StatusOr<JobStatus> Cancel(JobId job, bool only_if_queued = false);
  // Newest first, `limit` of them (0: 100); INVALID_ARGUMENT when negative.
  absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit);
  std::vector<WorkerStatus> ListWorkers();
  std::vector<KernelInfo> ListKernels();
  // The numbers behind /metrics.
  CoordinatorStats Stats();

  // A session opened; it hears nothing until it follows a job.
  void AddSession(std::shared_ptr<SessionSink> session);
  // The session follows `job`: its first event at once, then its changes.
  // With `only_by`, a job submitted by another token reads as missing.
  void Follow(SessionSink* session, JobId job, absl::Duration progress_interval,
              const std::string* only_by = nullptr);
  // Queues the answer to a session's submit (and, with `follow`, follows
  // the accepted job), then flushes the session.
  void Answer(SessionSink* session, uint64_t call,
              absl::StatusOr<JobStatus> job, bool follow);
  // The session ended: forgets it and its follows.
  void EndSession(SessionSink* session);

  // --- Workers --------------------------------------------------------------

  // A worker's first message (hello and credits) arrived on a link whose
  // end is `outbox`: joins it, queues its welcome, hands it work.
  // INVALID_ARGUMENT for a bad hello (nothing is queued then).
  absl::StatusOr<WorkerId> Join(WorkerMessage first, std::string peer,
                                std::shared_ptr<WorkerOutbox> outbox);
  // Any later message of a joined worker.
  void Report(WorkerId worker, WorkerMessage message);
  // The worker's link ended; its chunks go back to the queue. A no-op for a
  // worker already gone.
  void Leave(WorkerId worker, const std::string& reason);

  // --- Time and shutdown
  // ------------------------------------------------------

  // Advances the scheduler's timers and releases progress held back.
  // Returns when the next tick is due at the latest for every
  // --chunk-timeout to be kept to the millisecond (InfiniteFuture: none
  // is).
  absl::Time Tick();
  // Ends every worker link and session (on shutdown).
  void CloseAll(const std::string& reason);

 private:
  // What one event touched: flushed after the lock is released.
  class Touched;

  // Runs `event(scheduler, now)` under the lock, hands out the commands it
  // produced, flushes what they touched; returns what `event` returned.
  template <typename Event>
  auto Apply(Event&& event);
  // Hands out the scheduler's commands; returns the journal's sequence
  // number of the last entry (0 without a journal).
  uint64_t DeliverLocked(Touched& touched);
  // Queues the log lines of jobs whose state changed.
  void LogEventsLocked(const std::vector<JobEvent>& events, Touched& touched);
  void FollowLocked(SessionSink* session, JobId job,
                    absl::Duration progress_interval, Touched& touched,
                    const std::string* only_by = nullptr);

  Clock& clock_;
  JournalWriter* const journal_;
  const Logger* const logger_;
  const absl::Duration heartbeat_interval_;

  std::mutex mu_;
  Scheduler scheduler_;          // guarded by mu_
  WorkerId next_worker_id_ = 1;  // guarded by mu_
  absl::flat_hash_map<WorkerId, std::shared_ptr<WorkerOutbox>>
      outboxes_;  // guarded by mu_
  absl::flat_hash_map<SessionSink*, std::shared_ptr<SessionSink>>
      sessions_;  // guarded by mu_
  // The sessions following each job.
  absl::flat_hash_map<JobId, absl::flat_hash_set<SessionSink*>>
      followers_;  // guarded by mu_
  // Names of the connected workers, for the log.
  absl::flat_hash_map<WorkerId, std::string> names_;  // guarded by mu_
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SCHEDULER_HOST_H_
