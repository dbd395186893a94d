// Runs the Scheduler for the gRPC services: serializes events under one
// lock and delivers the commands they produce to worker sessions and job
// watchers, in order, before the lock is released.
//
// Events are short (no I/O, no waiting), so the lock is held for
// microseconds; delivering a command only appends to a session's outbox.
// Thread-safe.
#ifndef PFOR_COORDINATOR_SCHEDULER_HOST_H_
#define PFOR_COORDINATOR_SCHEDULER_HOST_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "journal_writer.h"
#include "pfor/v1/worker_link.pb.h"
#include "scheduler.h"

namespace pfor::coordinator {

// Where the host sends a worker's messages. Implemented by the stream.
class WorkerOutbox {
 public:
  virtual ~WorkerOutbox() = default;
  // Queues a message; the outbox merges what it cannot send yet.
  virtual void Send(v1::CoordinatorMessage message) = 0;
  // Ends the stream with `reason`; the worker will reconnect.
  virtual void Close(const std::string& reason) = 0;
};

// Where the host sends a watched job's state.
class JobWatcher {
 public:
  virtual ~JobWatcher() = default;
  // The job's newest state. Called under the host's lock: must not block.
  virtual void Update(const v1::Job& job) = 0;
  // Time passed; lets a watcher send a state it has held back.
  virtual void Flush(absl::Time /*now*/) {}
  // A chunk of the job completed, with its value as the worker sent it.
  // Called under the host's lock: must not block.
  virtual void OnChunkDone(const ChunkDone& /*chunk*/) {}
};

class SchedulerHost {
 public:
  // `journal` (may be null: nothing is kept) must outlive the host.
  SchedulerHost(SchedulerOptions options, JournalWriter* journal)
      : scheduler_(std::move(options)), journal_(journal) {}

  // Puts back the jobs of a journal; call before serving. Returns how many
  // were unfinished.
  int Restore(const std::vector<RecoveredJob>& jobs);

  // Blocks until the journal holds every event applied so far. UNAVAILABLE
  // when it cannot be written.
  absl::Status SyncJournal();

  // Runs `event(scheduler, now)` under the lock, delivers the commands it
  // produced, and returns what `event` returned.
  template <typename Event>
  auto Apply(Event&& event) {
    absl::MutexLock lock(&mu_);
    if constexpr (std::is_void_v<decltype(event(scheduler_, absl::Now()))>) {
      event(scheduler_, absl::Now());
      Deliver();
    } else {
      auto result = event(scheduler_, absl::Now());
      Deliver();
      return result;
    }
  }

  WorkerId NextWorkerId() {
    absl::MutexLock lock(&mu_);
    return next_worker_id_++;
  }

  // Registers a joined worker's outbox; the outbox must stay valid until
  // RemoveWorker returns.
  void AddWorker(WorkerId id, WorkerOutbox* outbox);
  // Unregisters the outbox and reports the worker lost (a no-op for a worker
  // the scheduler already dropped).
  void RemoveWorker(WorkerId id, const std::string& reason);

  // Registers a watcher and sends it the job's current state. NOT_FOUND for
  // an unknown job.
  absl::Status AddWatcher(JobId job, JobWatcher* watcher);
  void RemoveWatcher(JobId job, JobWatcher* watcher);

  // Advances the scheduler's timers and lets watchers flush.
  void Tick();

  // Ends every worker stream (on shutdown).
  void CloseAllWorkers(const std::string& reason);

 private:
  void Deliver() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::JobDefinition Definition(JobId job) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  Scheduler scheduler_ ABSL_GUARDED_BY(mu_);
  JournalWriter* const journal_;
  WorkerId next_worker_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<WorkerId, WorkerOutbox*> outboxes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<JobId, absl::flat_hash_set<JobWatcher*>> watchers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SCHEDULER_HOST_H_
