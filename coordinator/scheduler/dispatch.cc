#include "dispatch.h"

#include <algorithm>
#include <climits>
#include <optional>
#include <tuple>

#include "scheduler.h"

namespace pfor::coordinator {
namespace {

bool UnderMaxParallel(const ScheduledJob& job) {
  return job.spec->max_parallel <= 0 ||
         job.ledger.live_attempts() < job.spec->max_parallel;
}

// Some chunk of the job waits to be handed out: a new one, one to retry or
// an overdue one's backup.
bool HasWork(const ScheduledJob* job) {
  return job->definition != nullptr &&
         (job->ledger.HasWork() || job->ledger.WantsBackups());
}

// Whether `a` goes before `b`: its submitter has fewer live attempts (or,
// as many, was served longer ago), or, of one submitter, it has fewer.
bool Before(const ScheduledJob& a, const ScheduledJob& b) {
  if (a.share != b.share) {
    return std::tie(a.share->live_attempts, a.share->served) <
           std::tie(b.share->live_attempts, b.share->served);
  }
  return a.ledger.live_attempts() < b.ledger.live_attempts();
}

}  // namespace

void Dispatcher::Join(ScheduledJob& job, const std::string& submitter) {
  std::unique_ptr<SubmitterShare>& share = shares_[submitter];
  if (share == nullptr) share = std::make_unique<SubmitterShare>();
  share->jobs += 1;
  share->live_attempts += job.ledger.live_attempts();
  job.share = share.get();
  job.ledger.CountLiveIn(&share->live_attempts);
}

void Dispatcher::Leave(ScheduledJob& job) {
  if (job.share == nullptr) return;
  job.share->live_attempts -= job.ledger.live_attempts();
  job.ledger.CountLiveIn(nullptr);
  job.share->jobs -= 1;
  if (job.share->jobs == 0) {
    absl::erase_if(shares_, [&](const auto& entry) {
      return entry.second.get() == job.share;
    });
  }
  job.share = nullptr;
}

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
  // Ties go to the oldest job: `active` is in submission order.
  ScheduledJob* best = nullptr;
  for (ScheduledJob* job : active) {
    if (job->definition == nullptr ||
        !workers_.HasCredit(worker, job->spec->executor) ||
        !UnderMaxParallel(*job) || (best != nullptr && !Before(*job, *best))) {
      continue;
    }
    if ((job->ledger.HasWork() || job->ledger.PeekBackup(worker.id)) &&
        DefinitionFor(worker, *job) != nullptr) {
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
  job.share->served = ++dispatched_;
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
      std::optional<int64_t> begin = job->ledger.TakeBackup(id);
      if (!begin) {
        begin = job->ledger.TakeNext(
            static_cast<int>(std::clamp<int64_t>(SlotsFor(*job), 1, INT_MAX)));
      }
      Assign(worker, *job, *begin, *DefinitionFor(worker, *job), now);
      last_served_ = id;
      progress = true;
      if (!HasWork(job) &&
          std::none_of(active.begin(), active.end(), HasWork)) {
        return;
      }
    }
  }
}

}  // namespace pfor::coordinator
