#include "dispatch.h"

#include <algorithm>
#include <climits>

#include "scheduler.h"

namespace pfor::coordinator {
namespace {

bool UnderMaxParallel(const ScheduledJob& job) {
  return job.spec->max_parallel <= 0 ||
         job.ledger.live_attempts() < job.spec->max_parallel;
}

bool HasWork(const ScheduledJob* job) {
  return job->definition != nullptr && job->ledger.HasWork();
}

}  // namespace

const std::shared_ptr<const JobDefinition>* Dispatcher::DefinitionFor(
    const ConnectedWorker& worker, const ScheduledJob& job) const {
  for (const ScheduledJob::KernelFit& fit : job.fits) {
    if (fit.definition != nullptr &&
        workers_.CanRun(worker, job.spec->executor, fit.kernel)) {
      return &fit.definition;
    }
  }
  return nullptr;
}

int64_t Dispatcher::SlotsFor(const ScheduledJob& job) const {
  int64_t slots = 0;
  for (const ScheduledJob::KernelFit& fit : job.fits) {
    if (fit.definition != nullptr) {
      slots += workers_.SlotsFor(job.spec->executor, fit.kernel);
    }
  }
  return slots;
}

ScheduledJob* Dispatcher::PickJob(
    const ConnectedWorker& worker,
    const std::vector<ScheduledJob*>& active) const {
  // Fair share: the job with the fewest running attempts goes first; ties go
  // to the oldest job.
  ScheduledJob* best = nullptr;
  for (ScheduledJob* job : active) {
    if (!HasWork(job) || !workers_.HasCredit(worker, job->spec->executor) ||
        !UnderMaxParallel(*job) || DefinitionFor(worker, *job) == nullptr) {
      continue;
    }
    if (best == nullptr ||
        job->ledger.live_attempts() < best->ledger.live_attempts()) {
      best = job;
    }
  }
  return best;
}

void Dispatcher::Assign(ConnectedWorker& worker, ScheduledJob& job,
                        int64_t begin,
                        const std::shared_ptr<const JobDefinition>& definition,
                        absl::Time now) {
  const ChunkInFlight& chunk = job.ledger.StartAttempt(begin, worker.id, now);
  const AttemptRef attempt{job.id, begin, chunk.attempts_started};
  worker.attempts += 1;
  workers_.Spend(worker, job.spec->executor);
  Commands::Assign& assign = commands_.assign.emplace_back();
  assign.worker = worker.id;
  if (std::find(worker.known_jobs.begin(), worker.known_jobs.end(), job.id) ==
      worker.known_jobs.end()) {
    worker.known_jobs.push_back(job.id);
    job.known_by.push_back(worker.id);
    assign.definition = definition;
  }
  assign.chunk.attempt = attempt;
  assign.chunk.end = chunk.end;
  assign.chunk.index = chunk.index;
  if (job.tasks != nullptr) {
    assign.chunk.tasks = job.tasks;
    assign.chunk.first_task = static_cast<size_t>(begin);
  }
  // Assigned is not started: a worker may hold the chunk in its queue for
  // a while. The job runs once a worker reports a start
  // (Scheduler::ChunkStarted).
  events_.Changed(job);
}

void Dispatcher::Dispatch(const std::vector<ScheduledJob*>& active,
                          absl::Time now) {
  if (workers_.hungry().empty() ||
      std::none_of(active.begin(), active.end(), HasWork)) {
    return;
  }
  // One chunk per worker per round, starting after the last worker served,
  // so scarce chunks spread over workers instead of piling on one.
  bool progress = true;
  while (progress && !workers_.hungry().empty()) {
    progress = false;
    const absl::btree_set<WorkerId>& hungry = workers_.hungry();
    order_.clear();
    for (auto it = hungry.upper_bound(last_served_); it != hungry.end(); ++it) {
      order_.push_back(*it);
    }
    for (auto it = hungry.begin(); it != hungry.end() && *it <= last_served_;
         ++it) {
      order_.push_back(*it);
    }
    for (WorkerId id : order_) {
      ConnectedWorker& worker = *workers_.Find(id);
      ScheduledJob* job = PickJob(worker, active);
      if (job == nullptr) continue;
      const int slots =
          static_cast<int>(std::clamp<int64_t>(SlotsFor(*job), 1, INT_MAX));
      Assign(worker, *job, job->ledger.TakeNext(slots),
             *DefinitionFor(worker, *job), now);
      last_served_ = id;
      progress = true;
      if (!job->ledger.HasWork() &&
          std::none_of(active.begin(), active.end(), HasWork)) {
        return;
      }
    }
  }
}

void Dispatcher::StartBackups(const std::vector<ScheduledJob*>& active,
                              const SchedulerOptions& options, absl::Time now) {
  order_.assign(workers_.hungry().begin(), workers_.hungry().end());
  for (WorkerId id : order_) {
    ConnectedWorker& worker = *workers_.Find(id);
    // The straggler that has overrun its expected time the most, of a job
    // this worker asked for chunks of.
    ScheduledJob* best_job = nullptr;
    const std::shared_ptr<const JobDefinition>* best_definition = nullptr;
    int64_t best_begin = 0;
    double best_ratio = 0;
    for (ScheduledJob* job : active) {
      if (job->definition == nullptr || job->ledger.HasWork() ||
          !workers_.HasCredit(worker, job->spec->executor)) {
        continue;
      }
      const std::shared_ptr<const JobDefinition>* definition =
          DefinitionFor(worker, *job);
      if (definition == nullptr) continue;
      for (const auto& [begin, chunk] : job->ledger.in_flight()) {
        if (chunk.live.size() != 1 || chunk.live[0].worker == id) continue;
        const absl::Duration expected =
            job->ledger.sizer().Expected(chunk.end - begin);
        if (expected <= absl::ZeroDuration()) continue;
        const absl::Duration elapsed = now - chunk.live[0].started;
        if (elapsed < options.straggler_min_time) continue;
        const double ratio = absl::FDivDuration(elapsed, expected);
        if (ratio >= options.straggler_factor && ratio > best_ratio) {
          best_job = job;
          best_definition = definition;
          best_begin = begin;
          best_ratio = ratio;
        }
      }
    }
    if (best_job != nullptr) {
      Assign(worker, *best_job, best_begin, *best_definition, now);
    }
  }
}

}  // namespace pfor::coordinator
