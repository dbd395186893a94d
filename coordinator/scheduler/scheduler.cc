#include "scheduler.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "job_spec_check.h"

namespace pfor::coordinator {

class Scheduler::Settler {
 public:
  explicit Settler(Scheduler& scheduler) : scheduler_(scheduler) {}
  Settler(const Settler&) = delete;
  Settler& operator=(const Settler&) = delete;
  ~Settler() {
    scheduler_.events_.Settle(scheduler_.workers_);
    scheduler_.ForgetOldJobs();
  }

 private:
  Scheduler& scheduler_;
};

Scheduler::Scheduler(SchedulerOptions options) : options_(std::move(options)) {}
Scheduler::~Scheduler() = default;

ScheduledJob* Scheduler::FindActive(JobId id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() || it->second->ended() ? nullptr : it->second.get();
}

// --- Jobs -------------------------------------------------------------------

absl::StatusOr<JobStatus> Scheduler::SubmitJob(
    std::shared_ptr<const JobSpec> spec, absl::Time now,
    const std::string& submitter) {
  Settler settler(*this);
  if (spec == nullptr) {
    return absl::InvalidArgumentError("no job spec; pass a kernel and a range");
  }
  absl::StatusOr<ChunkSizer> sizer = CheckJob(*spec);
  if (!sizer.ok()) return sizer.status();
  auto owned = std::make_unique<ScheduledJob>(NextJobId(now), spec,
                                              *std::move(sizer), now);
  ScheduledJob& job = *owned;
  FitKernels(job, workers_.DeclarationsOf(spec->kernel));
  // Every connected worker's kernel refuses the parameters: most likely a
  // mistake in them.
  if (!job.fits.empty() && job.definition == nullptr) {
    return absl::InvalidArgumentError(job.refusal);
  }
  // With workers connected, a job none of them can run is most likely a
  // mistake: say so now. With none, it waits for them.
  if (!workers_.empty()) {
    if (std::string problem =
            workers_.Unrunnable(*spec, job.Fitting(), job.refusal);
        !problem.empty()) {
      return absl::FailedPreconditionError(problem);
    }
  }
  if (static_cast<int>(active_.size()) >= options_.max_active_jobs) {
    return absl::ResourceExhaustedError(
        absl::StrCat(options_.max_active_jobs,
                     " jobs are queued or running; wait for some to finish"));
  }
  if (!spec->submitted_by.empty()) {
    const int owned = static_cast<int>(
        std::count_if(active_.begin(), active_.end(), [&](ScheduledJob* job) {
          return job->spec->submitted_by == spec->submitted_by;
        }));
    if (owned >= options_.max_active_jobs_per_token) {
      return absl::ResourceExhaustedError(
          absl::StrCat("token ", spec->submitted_by, " has ", owned,
                       " jobs queued or running, the most one token may "
                       "(--max-jobs-per-token); wait for some to finish"));
    }
  }

  const JobId id = job.id;
  next_job_id_ = id + 1;
  if (first_job_id_ == 0) first_job_id_ = id;
  jobs_.emplace(id, std::move(owned));
  active_.push_back(&job);
  dispatcher_.Join(job, submitter.empty() ? job.spec->submitted_by : submitter);
  commands_.journal.push_back(JobAccepted{id, std::move(spec), now});
  events_.StateChanged(job);
  Dispatch(now);
  return StatusOf(job, workers_, false, {.count = 0});
}

JobId Scheduler::NextJobId(absl::Time now) const {
  // Microseconds since 2024-01-01 UTC: ids grow with time, so a coordinator
  // that starts again (with or without its journal, or with a journal that
  // lost its tail) never gives out an id that an earlier run gave, as long
  // as its clock has moved on. One job per microsecond is far more than a
  // coordinator accepts.
  constexpr absl::Time kIdEpoch = absl::FromUnixSeconds(1'704'067'200);
  const JobId clock =
      now > kIdEpoch
          ? static_cast<JobId>(absl::ToInt64Microseconds(now - kIdEpoch))
          : 0;
  return std::max(next_job_id_, clock);
}

void Scheduler::FitKernels(ScheduledJob& job,
                           const std::vector<KernelId>& declarations) {
  if (job.spec->executor == ExecutorKind::kCommand) {
    // Commands take no parameters and run on any worker that runs commands.
    if (job.fits.empty()) {
      job.fits.push_back({0, job.MakeDefinition(Params())});
      job.definition = job.fits.back().definition;
      job.ever_fit = true;
    }
    return;
  }
  // Declarations no connected worker announces any more are forgotten: one
  // that comes back has a new number and is checked again.
  job.fits.erase(std::remove_if(job.fits.begin(), job.fits.end(),
                                [&](const ScheduledJob::KernelFit& fit) {
                                  return workers_.Declaration(fit.kernel) ==
                                         nullptr;
                                }),
                 job.fits.end());
  for (KernelId kernel : declarations) {
    const KernelInfo* declaration = workers_.Declaration(kernel);
    if (declaration == nullptr || declaration->name != job.spec->kernel) {
      continue;
    }
    if (std::any_of(job.fits.begin(), job.fits.end(),
                    [&](const ScheduledJob::KernelFit& fit) {
                      return fit.kernel == kernel;
                    })) {
      continue;
    }
    absl::StatusOr<Params> params = CheckParams(*job.spec, *declaration);
    if (!params.ok()) {
      job.fits.push_back({kernel, nullptr});
      job.refusal = std::string(params.status().message());
      continue;
    }
    job.fits.push_back({kernel, job.MakeDefinition(*std::move(params))});
    if (job.definition == nullptr) job.definition = job.fits.back().definition;
    job.ever_fit = true;
  }
}

void Scheduler::RestoreJob(const RecoveredJob& recovered, absl::Time now) {
  Settler settler(*this);
  const JobId id = recovered.job;
  next_job_id_ = std::max(next_job_id_, id + 1);
  first_job_id_ = first_job_id_ == 0 ? id : std::min(first_job_id_, id);
  const std::shared_ptr<const JobSpec>& spec = recovered.spec;
  absl::StatusOr<ChunkSizer> sizer =
      ChunkSizer::Create(spec->chunks, spec->begin, spec->end);
  if (!sizer.ok()) {
    sizer = ChunkSizer::Create(ChunkPolicy::Auto(), spec->begin, spec->end);
  }
  auto [it, inserted] = jobs_.emplace(
      id, std::make_unique<ScheduledJob>(id, spec, *std::move(sizer),
                                         recovered.submit_time));
  if (!inserted) return;  // restored already
  ScheduledJob& job = *it->second;
  if (recovered.final_state != nullptr) {
    job.RestoreEnded(recovered.final_state);
    KeepEnded(job);
    return;
  }
  job.RestoreProgress(recovered);
  // It was accepted: a worker's kernel took its parameters then.
  job.ever_fit = true;
  FitKernels(job, workers_.DeclarationsOf(spec->kernel));
  active_.push_back(&job);
  dispatcher_.Join(job, spec->submitted_by);
  events_.StateChanged(job);
  MaybeSucceed(job, now);
}

absl::StatusOr<JobStatus> Scheduler::CancelJob(JobId id, absl::Time now,
                                               bool only_if_queued) {
  Settler settler(*this);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(
        absl::StrCat("job ", id, " does not exist; pfor jobs lists the jobs"));
  }
  ScheduledJob& job = *it->second;
  if (!job.ended() && !(only_if_queued && job.state == JobState::kRunning)) {
    Finish(job, JobState::kCancelled, "cancelled on request", now);
  }
  return StatusOf(job, workers_, false, {.count = 0});
}

void Scheduler::Dispatch(absl::Time now) {
  if (workers_.hungry().empty() || active_.empty()) return;
  dispatcher_.Dispatch(active_, now);
}

void Scheduler::AttemptEnded(ConnectedWorker* worker) {
  if (worker != nullptr) worker->attempts -= 1;
}

void Scheduler::AttemptEnded(WorkerId worker) {
  AttemptEnded(workers_.Find(worker));
}

void Scheduler::Finish(ScheduledJob& job, JobState state, std::string error,
                       absl::Time now) {
  job.state = state;
  job.error = std::move(error);
  job.end_time = now;
  std::vector<WorkerId> running;
  for (const auto& [begin, chunk] : job.ledger.in_flight()) {
    for (const LiveAttempt& live : chunk.live) {
      AttemptEnded(live.worker);
      running.push_back(live.worker);
    }
  }
  job.ledger.Clear();
  dispatcher_.Leave(job);
  // Workers that have the definition drop the job's chunks and forget it.
  for (WorkerId id : job.known_by) {
    ConnectedWorker* worker = workers_.Find(id);
    if (worker == nullptr) continue;
    auto& known = worker->known_jobs;
    known.erase(std::remove(known.begin(), known.end(), job.id), known.end());
    commands_.end_job.push_back(
        {id, job.id,
         std::find(running.begin(), running.end(), id) != running.end()});
  }
  job.known_by.clear();
  active_.erase(std::find(active_.begin(), active_.end(), &job));
  job.final_status = std::make_shared<const JobStatus>(FinalStatus(job));
  job.final_view = WithoutTaskResults(job.final_status);
  job.result = JobResult(job.spec->reduction);  // the final status has it
  KeepEnded(job);
  commands_.journal.push_back(JobEnded{job.id, job.final_status});
  events_.StateChanged(job);
}

void Scheduler::MarkRunning(ScheduledJob& job, absl::Time now) {
  if (job.state != JobState::kQueued) return;
  job.state = JobState::kRunning;
  // A job resumed after a restart keeps the start it had.
  if (job.start_time == absl::InfinitePast()) {
    job.start_time = now;
    commands_.journal.push_back(JobStarted{job.id, now});
  }
  events_.StateChanged(job);
}

void Scheduler::MaybeSucceed(ScheduledJob& job, absl::Time now) {
  if (!job.ledger.Drained()) return;
  if (absl::Status final = job.result.CheckFinal(); !final.ok()) {
    Finish(job, JobState::kFailed, std::string(final.message()), now);
    return;
  }
  Finish(job, JobState::kSucceeded, "", now);
}

void Scheduler::KeepEnded(const ScheduledJob& job) {
  const int64_t bytes = KeptBytes(job);
  ended_.emplace_back(job.id, bytes);
  ended_bytes_ += bytes;
}

void Scheduler::ForgetOldJobs() {
  // The newest ended job stays, whatever its size: its followers may not
  // have read its results yet.
  while (static_cast<int>(ended_.size()) > options_.keep_jobs ||
         (ended_bytes_ > options_.keep_bytes && ended_.size() > 1)) {
    jobs_.erase(ended_.front().first);
    ended_bytes_ -= ended_.front().second;
    ended_.pop_front();
  }
}

// --- Workers ----------------------------------------------------------------

absl::Status Scheduler::WorkerJoined(WorkerId id, Hello hello, std::string peer,
                                     absl::Time now) {
  Settler settler(*this);
  absl::StatusOr<std::vector<KernelId>> appeared =
      workers_.Add(id, std::move(hello), std::move(peer), now);
  if (!appeared.ok()) return appeared.status();
  if (!appeared->empty()) {
    // Declarations no connected worker had: the jobs of their kernels learn
    // whether these take their parameters.
    for (ScheduledJob* job : std::vector<ScheduledJob*>(active_)) {
      if (job->spec->executor == ExecutorKind::kCommand) continue;
      const size_t checked = job->fits.size();
      FitKernels(*job, *appeared);
      // A job accepted before any worker offered its kernel, whose
      // parameters the kernel refuses: it fails as a submit would have.
      if (job->fits.size() != checked && job->definition == nullptr &&
          !job->ever_fit) {
        Finish(*job, JobState::kFailed, job->refusal, now);
      }
    }
  }
  Dispatch(now);
  return absl::OkStatus();
}

void Scheduler::WorkerSeen(WorkerId id, absl::Time now) {
  if (ConnectedWorker* worker = workers_.Find(id)) worker->last_seen = now;
}

void Scheduler::CreditsGranted(WorkerId id, ExecutorKind executor,
                               int32_t credits, absl::Time now) {
  Settler settler(*this);
  ConnectedWorker* worker = workers_.Find(id);
  if (worker == nullptr) return;
  worker->last_seen = now;
  workers_.Grant(*worker, executor, credits);
  Dispatch(now);
}

void Scheduler::WorkerDraining(WorkerId id, absl::Time now) {
  ConnectedWorker* worker = workers_.Find(id);
  if (worker == nullptr) return;
  worker->last_seen = now;
  workers_.Drain(*worker);
}

void Scheduler::WorkerLost(WorkerId id, const std::string& reason,
                           absl::Time now) {
  Settler settler(*this);
  ConnectedWorker* worker = workers_.Find(id);
  if (worker == nullptr) return;
  // Its attempts, in job and range order (which keeps retries
  // deterministic). Losing a worker is rare: finding them by looking through
  // the chunks in flight keeps every chunk's path free of a per-worker index.
  std::vector<AttemptRef> live;
  if (worker->attempts > 0) {
    for (const ScheduledJob* job : active_) {
      for (const auto& [begin, chunk] : job->ledger.in_flight()) {
        for (const LiveAttempt& attempt : chunk.live) {
          if (attempt.worker == id) {
            live.push_back({job->id, begin, attempt.attempt});
          }
        }
      }
    }
    std::sort(live.begin(), live.end(),
              [](const AttemptRef& a, const AttemptRef& b) {
                return std::tie(a.job, a.begin) < std::tie(b.job, b.begin);
              });
  }
  const std::string error = absl::StrCat(
      "worker ", worker->name, " was lost while running it (", reason, ")");
  for (const AttemptRef& attempt : live) {
    ScheduledJob* job = FindActive(attempt.job);
    if (job == nullptr) continue;
    ChunkInFlight* chunk =
        job->ledger.Revoke(attempt.begin, attempt.attempt, id);
    if (chunk == nullptr) continue;
    job->ledger.CountRequeued();
    counters_.chunks_requeued += 1;
    // Not the chunk's fault: its attempts are not spent, unless it keeps
    // losing the workers that run it.
    chunk->worker_losses += 1;
    Record(*job, attempt, chunk->end, id, absl::ZeroDuration(), error, now);
    if (chunk->worker_losses >= options_.max_worker_losses) {
      Finish(*job, JobState::kFailed,
             absl::StrCat("chunk ", RangeText(attempt.begin, chunk->end),
                          " was running on ", chunk->worker_losses,
                          " workers that were lost; it may be what kills "
                          "them. Last: ",
                          error),
             now);
      continue;
    }
    if (chunk->live.empty()) job->ledger.Requeue(attempt.begin, true);
    events_.Changed(*job);
  }
  workers_.Remove(id);
  Dispatch(now);
}

// --- Chunks -----------------------------------------------------------------

void Scheduler::ChunkStarted(WorkerId worker_id, const AttemptRef& attempt,
                             absl::Time now) {
  Settler settler(*this);
  ScheduledJob* job = FindActive(attempt.job);
  if (job == nullptr || job->state != JobState::kQueued) return;
  // Only a live attempt on that worker counts: a late report of an attempt
  // requeued since says nothing of the job now.
  const auto& in_flight = job->ledger.in_flight();
  auto chunk = in_flight.find(attempt.begin);
  if (chunk == in_flight.end()) return;
  for (const LiveAttempt& live : chunk->second.live) {
    if (live.worker == worker_id && live.attempt == attempt.attempt) {
      MarkRunning(*job, now);
      return;
    }
  }
}

void Scheduler::ChunkFinished(WorkerId worker_id, ChunkResult result,
                              absl::Time now) {
  Settler settler(*this);
  ConnectedWorker* worker = workers_.Find(worker_id);
  if (worker != nullptr) worker->last_seen = now;
  const AttemptRef& attempt = result.attempt;
  ScheduledJob* job = FindActive(attempt.job);
  if (job == nullptr) return;
  ChunkInFlight* chunk =
      job->ledger.Revoke(attempt.begin, attempt.attempt, worker_id);
  if (chunk == nullptr) return;  // a late or losing copy: counted or requeued
  AttemptEnded(worker);
  counters_.result_latency.Observe(now - chunk->revoked_started);
  // It ran, whether or not its start was reported.
  MarkRunning(*job, now);
  if (!result.output.ok()) {
    AttemptFailed(*job, *chunk, attempt, worker_id,
                  result.output.status().message(), result.kernel_time, now);
    Dispatch(now);
    return;
  }
  ChunkSucceeded(*job, worker, attempt, chunk->end, *std::move(result.output),
                 result.kernel_time, now);
}

void Scheduler::ChunkSucceeded(ScheduledJob& job, ConnectedWorker* worker,
                               const AttemptRef& attempt, int64_t end,
                               ChunkOutput output, absl::Duration kernel_time,
                               absl::Time now) {
  // First result wins: the other copies are cancelled.
  for (const LiveAttempt& other :
       job.ledger.Complete(attempt.begin, kernel_time)) {
    commands_.cancel.push_back(
        {other.worker, {job.id, attempt.begin, other.attempt}});
    AttemptEnded(other.worker);
  }
  if (worker != nullptr) {
    worker->chunks_done += 1;
    workers_.AttemptInTime(*worker);
  }
  counters_.chunks_completed += 1;
  Record(job, attempt, end, worker != nullptr ? worker->id : WorkerId{0},
         kernel_time, {}, now);
  job.rate.Add(now, job.start_time, end - attempt.begin);

  auto shared = std::make_shared<const ChunkOutput>(std::move(output));
  absl::StatusOr<TaskRun> run =
      job.result.AddShared(attempt.begin, end, shared);
  if (!run.ok()) {
    // Not journaled: the output does not fit the job, which fails.
    Finish(job, JobState::kFailed,
           absl::StrCat("chunk ", RangeText(attempt.begin, end), ": ",
                        run.status().message()),
           now);
    return;
  }
  commands_.journal.push_back(
      ChunkDone{job.id, attempt.begin, end, std::move(shared)});
  JobEvent& event = events_.Changed(job);
  if (run->results != nullptr) event.tasks.push_back(*std::move(run));
  MaybeSucceed(job, now);
}

void Scheduler::AttemptFailed(ScheduledJob& job, ChunkInFlight& chunk,
                              const AttemptRef& attempt, WorkerId worker,
                              absl::string_view error,
                              absl::Duration kernel_time, absl::Time now) {
  job.ledger.CountFailure(chunk);
  counters_.attempts_failed += 1;
  Record(job, attempt, chunk.end, worker, kernel_time, error, now);
  if (chunk.failures >= job.max_attempts) {
    Finish(
        job, JobState::kFailed,
        absl::StrCat("chunk ", RangeText(attempt.begin, chunk.end), " failed ",
                     chunk.failures, chunk.failures == 1 ? " time" : " times",
                     "; last error: ", error),
        now);
    return;
  }
  counters_.chunks_retried += 1;
  // Another copy is still running: let it finish.
  if (chunk.live.empty()) job.ledger.Requeue(attempt.begin, false);
  events_.Changed(job);
}

void Scheduler::ChunkReleased(WorkerId worker_id, const AttemptRef& attempt,
                              absl::Time now) {
  Settler settler(*this);
  ConnectedWorker* worker = workers_.Find(worker_id);
  if (worker != nullptr) worker->last_seen = now;
  ScheduledJob* job = FindActive(attempt.job);
  if (job == nullptr) return;
  ChunkInFlight* chunk =
      job->ledger.Revoke(attempt.begin, attempt.attempt, worker_id);
  if (chunk == nullptr) return;
  AttemptEnded(worker);
  if (chunk->live.empty()) job->ledger.Requeue(attempt.begin, true);
  events_.Changed(*job);
  Dispatch(now);
}

void Scheduler::Record(ScheduledJob& job, const AttemptRef& attempt,
                       int64_t end, WorkerId worker_id,
                       absl::Duration kernel_time, absl::string_view error,
                       absl::Time now) {
  job.recent.Add({attempt.begin, end, attempt.attempt, worker_id, kernel_time,
                  std::string(error), now});
}

// --- Time -------------------------------------------------------------------

void Scheduler::Tick(absl::Time now) {
  Settler settler(*this);
  std::vector<WorkerId> silent;
  workers_.ForEach([&](ConnectedWorker& worker) {
    if (now - worker.last_seen > options_.heartbeat_timeout) {
      silent.push_back(worker.id);
    }
  });
  for (WorkerId id : silent) {
    const std::string reason = absl::StrCat(
        "no message for ", absl::FormatDuration(options_.heartbeat_timeout));
    commands_.disconnect.push_back({id, reason});
    WorkerLost(id, reason, now);
  }

  for (ScheduledJob* job : std::vector<ScheduledJob*>(active_)) {
    CheckDeadlines(*job, now);
  }
  // Jobs left with work that no connected worker can do wait, then fail.
  for (ScheduledJob* job : std::vector<ScheduledJob*>(active_)) {
    const std::string problem =
        job->ledger.HasWork()
            ? workers_.Unrunnable(*job->spec, job->Fitting(), job->refusal)
            : "";
    if (problem.empty()) {
      job->unrunnable_since = absl::InfiniteFuture();
      continue;
    }
    job->unrunnable_since = std::min(job->unrunnable_since, now);
    if (now - job->unrunnable_since >= options_.queue_timeout) {
      Finish(*job, JobState::kFailed,
             absl::StrCat("no worker could run it for ",
                          absl::FormatDuration(options_.queue_timeout), ": ",
                          problem),
             now);
    }
  }
  workers_.EndQuarantines(options_, now);
  Dispatch(now);
}

void Scheduler::TimedOut(WorkerId id, absl::Time now) {
  if (ConnectedWorker* worker = workers_.Find(id)) {
    workers_.AttemptTimedOut(*worker, options_, now);
  }
}

void Scheduler::CheckDeadlines(ScheduledJob& job, absl::Time now) {
  // Overdue: past what the job's measured chunk time predicts. A backup
  // copy runs elsewhere; the attempt runs on (it may still win).
  const ChunkSizer& sizer = job.ledger.sizer();
  const bool measured = sizer.measured();
  const absl::Duration shortest =
      measured ? options_.straggler_min_time : options_.unmeasured_deadline;
  for (const LiveAttempt& late :
       job.ledger.MarkOverdue(now, shortest, [&](int64_t indices) {
         return measured ? std::max(shortest, sizer.Expected(indices) *
                                                  options_.straggler_factor)
                         : shortest;
       })) {
    // Before any chunk of the job finished, nothing says the worker is to
    // blame.
    if (measured) TimedOut(late.worker, now);
    counters_.attempts_overdue += 1;
  }
  // Past --chunk-timeout: the attempt fails.
  const absl::Duration timeout = job.spec->chunk_timeout;
  if (timeout == absl::InfiniteDuration()) return;
  std::vector<std::pair<LiveAttempt, int64_t>> expired;
  for (const auto& [begin, chunk] : job.ledger.in_flight()) {
    for (const LiveAttempt& live : chunk.live) {
      if (now - live.started >= timeout) expired.push_back({live, begin});
    }
  }
  for (const auto& [live, begin] : expired) {
    if (job.ended()) break;
    ChunkInFlight* chunk = job.ledger.Revoke(begin, live.attempt, live.worker);
    if (chunk == nullptr) continue;
    AttemptEnded(live.worker);
    // Counted once: when it was found overdue, or now.
    if (!live.overdue) TimedOut(live.worker, now);
    const AttemptRef attempt{job.id, begin, live.attempt};
    commands_.cancel.push_back({live.worker, attempt});
    AttemptFailed(
        job, *chunk, attempt, live.worker,
        absl::StrCat("timed out after ", absl::FormatDuration(timeout)),
        timeout, now);
  }
}

absl::Time Scheduler::NextDeadline(absl::Time now) const {
  absl::Time next = absl::InfiniteFuture();
  for (const ScheduledJob* job : active_) {
    const absl::Duration timeout = job->spec->chunk_timeout;
    if (timeout == absl::InfiniteDuration()) continue;
    // Attempts started from now on end no sooner than this.
    next = std::min(next, now + timeout);
    for (const auto& [begin, chunk] : job->ledger.in_flight()) {
      for (const LiveAttempt& live : chunk.live) {
        next = std::min(next, live.started + timeout);
      }
    }
  }
  return next;
}

Commands Scheduler::TakeCommands() {
  Commands commands = std::exchange(commands_, Commands{});
  commands.events = events_.Take();
  counters_.chunks_dispatched += static_cast<int64_t>(commands.assign.size());
  return commands;
}

// --- Queries ----------------------------------------------------------------

std::array<int64_t, 5> Scheduler::CountJobsByState() const {
  std::array<int64_t, 5> counts{};
  for (const auto& [id, job] : jobs_) counts[static_cast<int>(job->state)] += 1;
  return counts;
}

int64_t Scheduler::ChunksInFlight() const {
  int64_t chunks = 0;
  for (const ScheduledJob* job : active_) {
    chunks += static_cast<int64_t>(job->ledger.in_flight().size());
  }
  return chunks;
}

absl::StatusOr<JobStatus> Scheduler::GetJob(JobId id, bool with_recent_chunks,
                                            TaskPage tasks) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "job ", id,
        first_job_id_ != 0 && id >= first_job_id_ && id < next_job_id_
            ? " is no longer kept"
            : " does not exist or is no longer kept",
        "; pfor jobs lists the jobs"));
  }
  return StatusOf(*it->second, workers_, with_recent_chunks, tasks);
}

JobEvent Scheduler::FollowEvent(JobId id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    JobEvent missing;
    missing.job = id;
    missing.missing = true;
    return missing;
  }
  return CatchUpEvent(*it->second, workers_);
}

std::vector<JobStatus> Scheduler::ListJobs(int limit) const {
  std::vector<JobStatus> out;
  for (auto it = jobs_.rbegin();
       it != jobs_.rend() && static_cast<int>(out.size()) < limit; ++it) {
    out.push_back(*StatusView(*it->second, workers_));
  }
  return out;
}

std::vector<WorkerStatus> Scheduler::ListWorkers(absl::Time now) const {
  return workers_.List(now);
}

std::vector<KernelInfo> Scheduler::ListKernels() const {
  return workers_.Kernels();
}

}  // namespace pfor::coordinator
