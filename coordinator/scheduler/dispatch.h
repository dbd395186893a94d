// Who runs what: hands chunks to workers with credits in fair shares, first
// between submitters (a flood of jobs from one does not starve another's),
// then between each submitter's jobs; and backup copies of overdue chunks
// before new ones. Every chunk sent spends one credit of the job's executor
// on that worker: a worker never receives more chunks of an executor than it
// asked for, backups included.
//
// Not thread-safe; part of the Scheduler.
#ifndef PFOR_COORDINATOR_DISPATCH_H_
#define PFOR_COORDINATOR_DISPATCH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "job_views.h"
#include "scheduled_job.h"
#include "worker_registry.h"

namespace pfor::coordinator {

struct Commands;

class Dispatcher {
 public:
  // Everything must outlive the dispatcher.
  Dispatcher(WorkerRegistry& workers, EventLog& events, Commands& commands)
      : workers_(workers), events_(events), commands_(commands) {}

  // The job became active: its chunks count in the share of `submitter`
  // (any string naming who submitted it; jobs with equal strings share).
  void Join(ScheduledJob& job, const std::string& submitter);
  // The job ended (its ledger cleared): it leaves its submitter's share.
  void Leave(ScheduledJob& job);

  // Hands out chunks of `active` jobs while some worker has credits and
  // some job has work: to each worker in turn, a chunk of the submitter
  // with the fewest live attempts (ties: the one served longest ago), of
  // its job with the fewest (ties: the oldest); an overdue chunk's backup
  // before a new chunk. Jobs without a definition yet are skipped.
  void Dispatch(const std::vector<ScheduledJob*>& active, absl::Time now);

 private:
  // The job `worker` should run next; nullptr when none.
  ScheduledJob* PickJob(const ConnectedWorker& worker,
                        const std::vector<ScheduledJob*>& active) const;
  // The job's definition for `worker`: that of a declaration of its kernel
  // which takes the job's parameters and which the worker runs on the
  // job's executor; nullptr when the worker cannot run the job.
  const std::shared_ptr<const JobDefinition>* DefinitionFor(
      const ConnectedWorker& worker, const ScheduledJob& job) const;
  // Slots of workers that can run the job.
  int64_t SlotsFor(const ScheduledJob& job) const;
  // Starts a new attempt of the in-flight chunk at `begin` on `worker`,
  // which gets `definition` first if it has not seen the job.
  void Assign(ConnectedWorker& worker, ScheduledJob& job, int64_t begin,
              const std::shared_ptr<const JobDefinition>& definition,
              absl::Time now);

  WorkerRegistry& workers_;
  EventLog& events_;
  Commands& commands_;
  WorkerId last_served_ = 0;
  // Chunks handed out so far: the clock of SubmitterShare::served.
  uint64_t dispatched_ = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<SubmitterShare>> shares_;
  // Scratch: this round's order of hungry workers.
  std::vector<WorkerId> order_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_DISPATCH_H_
