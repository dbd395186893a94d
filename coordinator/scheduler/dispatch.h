// Who runs what: hands chunks to workers with credits, one job at a time per
// worker in fair shares, and starts backup copies of stragglers near the end
// of a job. Every chunk sent spends one credit of the job's executor on that
// worker: a worker never receives more chunks of an executor than it asked
// for, backups included.
//
// Not thread-safe; part of the Scheduler.
#ifndef PFOR_COORDINATOR_DISPATCH_H_
#define PFOR_COORDINATOR_DISPATCH_H_

#include <vector>

#include "absl/time/time.h"
#include "job_views.h"
#include "scheduled_job.h"
#include "worker_registry.h"

namespace pfor::coordinator {

struct Commands;
struct SchedulerOptions;

class Dispatcher {
 public:
  // Everything must outlive the dispatcher.
  Dispatcher(WorkerRegistry& workers, EventLog& events, Commands& commands)
      : workers_(workers), events_(events), commands_(commands) {}

  // Hands out chunks of `active` jobs (in submission order) while some
  // worker has credits and some job has work. Jobs without a definition
  // yet are skipped.
  void Dispatch(const std::vector<ScheduledJob*>& active, absl::Time now);

  // Gives each hungry worker a backup copy of the chunk that has overrun
  // its expected time the most (by `straggler_factor`, and for at least
  // `straggler_min_time`) among jobs with nothing left to hand out, when
  // the worker has a credit of that job's executor.
  void StartBackups(const std::vector<ScheduledJob*>& active,
                    const SchedulerOptions& options, absl::Time now);

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
  // Scratch: this round's order of hungry workers.
  std::vector<WorkerId> order_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_DISPATCH_H_
