#include "scheduler_host.h"

#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pfor::coordinator {

class SchedulerHost::Touched {
 public:
  explicit Touched(const Logger* logger) : logger_(logger) {}
  // Whether lines of `level` are written (build them only then).
  bool Logs(LogLevel level) const {
    return logger_ != nullptr && logger_->Enabled(level);
  }
  // A line for the log, written after the lock.
  void Log(LogLevel level, std::string message, LogFields fields) {
    if (Logs(level)) {
      lines_.push_back({level, std::move(message), std::move(fields)});
    }
  }
  void Add(const std::shared_ptr<WorkerOutbox>& outbox) {
    if (seen_.insert(outbox.get()).second) outboxes_.push_back(outbox);
  }
  void Add(const std::shared_ptr<SessionSink>& session) {
    if (seen_.insert(session.get()).second) sessions_.push_back(session);
  }
  // Outside the lock: each flush may call back into the host.
  void Flush() {
    for (const auto& outbox : outboxes_) outbox->Flush();
    for (const auto& session : sessions_) session->Flush();
    for (const Line& line : lines_) {
      logger_->Log(line.level, line.message, line.fields);
    }
  }

 private:
  struct Line {
    LogLevel level;
    std::string message;
    LogFields fields;
  };

  const Logger* const logger_;
  std::vector<Line> lines_;
  absl::flat_hash_set<const void*> seen_;
  std::vector<std::shared_ptr<WorkerOutbox>> outboxes_;
  std::vector<std::shared_ptr<SessionSink>> sessions_;
};

SchedulerHost::SchedulerHost(const ServerOptions& options, Clock& clock,
                             JournalWriter* journal)
    : clock_(clock),
      journal_(journal),
      logger_(options.logger),
      heartbeat_interval_(options.heartbeat_interval()),
      scheduler_(options.scheduling) {}

template <typename Event>
auto SchedulerHost::Apply(Event&& event) {
  Touched touched(logger_);
  if constexpr (std::is_void_v<decltype(event(scheduler_, absl::Time()))>) {
    {
      std::lock_guard lock(mu_);
      event(scheduler_, clock_.Now());
      DeliverLocked(touched);
    }
    touched.Flush();
  } else {
    auto result = [&] {
      std::lock_guard lock(mu_);
      auto r = event(scheduler_, clock_.Now());
      DeliverLocked(touched);
      return r;
    }();
    touched.Flush();
    return result;
  }
}

int SchedulerHost::Restore(const std::vector<RecoveredJob>& jobs) {
  return Apply([&](Scheduler& scheduler, absl::Time now) {
    int unfinished = 0;
    for (const RecoveredJob& job : jobs) {
      scheduler.RestoreJob(job, now);
      unfinished += job.final_state == nullptr;
    }
    return unfinished;
  });
}

uint64_t SchedulerHost::DeliverLocked(Touched& touched) {
  Commands commands = scheduler_.TakeCommands();
  uint64_t written = 0;
  if (journal_ != nullptr && !commands.journal.empty()) {
    written = journal_->Append(std::move(commands.journal));
  }
  if (!commands.assign.empty() || !commands.end_job.empty() ||
      !commands.cancel.empty()) {
    // Per worker: the message, and whether it must go now.
    absl::flat_hash_map<WorkerId, std::pair<CoordinatorMessage, bool>> messages;
    for (Commands::Assign& assign : commands.assign) {
      auto& [message, urgent] = messages[assign.worker];
      if (assign.definition != nullptr) {
        message.jobs.push_back(std::move(assign.definition));
      }
      message.chunks.push_back(std::move(assign.chunk));
      urgent = true;
    }
    for (const Commands::EndJob& end : commands.end_job) {
      auto& [message, urgent] = messages[end.worker];
      message.ended_jobs.push_back(end.job);
      // A job that ended with nothing running on the worker only frees
      // memory there: the news rides with the next message (or the next
      // tick), off the path of the result that ended the job.
      urgent = urgent || end.running;
    }
    for (const Commands::CancelAttempt& cancel : commands.cancel) {
      auto& [message, urgent] = messages[cancel.worker];
      message.cancelled.push_back(cancel.attempt);
      urgent = true;
    }
    for (auto& [worker, entry] : messages) {
      auto it = outboxes_.find(worker);
      if (it == outboxes_.end()) continue;
      it->second->Queue(std::move(entry.first));
      if (entry.second) touched.Add(it->second);
    }
  }
  for (const Commands::Disconnect& disconnect : commands.disconnect) {
    auto name = names_.find(disconnect.worker);
    if (name != names_.end()) {
      touched.Log(LogLevel::kWarning,
                  absl::StrCat("worker lost (", disconnect.reason,
                               "); its chunks go back to the queue"),
                  {.worker = name->second});
      names_.erase(name);
    }
    auto it = outboxes_.find(disconnect.worker);
    if (it == outboxes_.end()) continue;
    it->second->Close(disconnect.reason);
    touched.Add(it->second);
    outboxes_.erase(it);
  }
  // Job events log at info, failures at warning: nothing to do when the
  // log takes neither.
  if (touched.Logs(LogLevel::kWarning)) {
    LogEventsLocked(commands.events, touched);
  }
  if (!commands.events.empty() && !followers_.empty()) {
    const absl::Time now = clock_.Now();
    for (const JobEvent& event : commands.events) {
      auto it = followers_.find(event.job);
      if (it == followers_.end()) continue;
      for (SessionSink* session : it->second) {
        session->outbox().Add(event, now);
        touched.Add(sessions_.at(session));
      }
      if (event.missing || IsFinal(event.state)) followers_.erase(it);
    }
  }
  return written;
}

void SchedulerHost::LogEventsLocked(const std::vector<JobEvent>& events,
                                    Touched& touched) {
  for (const JobEvent& event : events) {
    // Only changes of state carry a status: one line per job and state.
    if (event.status == nullptr) continue;
    const JobStatus& job = *event.status;
    const LogFields fields{.job = job.id};
    switch (job.state) {
      case JobState::kQueued:  // logged by Submit
        break;
      case JobState::kRunning:
        touched.Log(LogLevel::kInfo, "job running", fields);
        break;
      case JobState::kSucceeded:
        touched.Log(
            LogLevel::kInfo,
            absl::StrCat("job succeeded: ", job.progress.chunks_done,
                         " chunks in ",
                         absl::FormatDuration(job.end_time - job.start_time)),
            fields);
        break;
      case JobState::kFailed:
        touched.Log(LogLevel::kWarning, absl::StrCat("job failed: ", job.error),
                    fields);
        break;
      case JobState::kCancelled:
        touched.Log(LogLevel::kInfo, absl::StrCat("job cancelled: ", job.error),
                    fields);
        break;
    }
  }
}

namespace {

// Why a job cannot be accepted while the journal cannot write. Always
// RESOURCE_EXHAUSTED, whatever SQLite made of the failed write (a file size
// limit reads as an I/O error): UNAVAILABLE would read to clients as an
// unreachable coordinator.
absl::Status Undurable(const absl::Status& journal, const std::string& what) {
  return absl::ResourceExhaustedError(
      absl::StrCat("the coordinator cannot write its journal (",
                   journal.message(), "); ", what,
                   ". Free space on the disk of --state-dir: it accepts jobs "
                   "again by itself once it can write, then resubmit"));
}

}  // namespace

void SchedulerHost::Submit(std::shared_ptr<const JobSpec> spec,
                           const std::string& submitter, Accepted accepted) {
  // A journal that cannot write takes no new jobs: they could not be made
  // durable, and accepting them only to cancel them would fill its backlog.
  if (journal_ != nullptr) {
    if (absl::Status status = journal_->status(); !status.ok()) {
      accepted(Undurable(status, "it accepts no jobs until it can"));
      return;
    }
  }
  uint64_t written = 0;
  absl::StatusOr<JobStatus> job;
  {
    Touched touched(logger_);
    {
      std::lock_guard lock(mu_);
      job = scheduler_.SubmitJob(spec, clock_.Now(), submitter);
      if (job.ok() && touched.Logs(LogLevel::kInfo)) {
        touched.Log(
            LogLevel::kInfo,
            absl::StrCat(
                "job queued: ", spec->kernel.empty() ? "command" : spec->kernel,
                " over [", spec->begin, ", ", spec->end, ")",
                spec->tasks.empty()
                    ? ""
                    : absl::StrCat(", ", spec->tasks.size(), " tasks")),
            {.job = job->id});
      }
      written = DeliverLocked(touched);
    }
    touched.Flush();
  }
  if (!job.ok() || journal_ == nullptr || written == 0) {
    accepted(std::move(job));
    return;
  }
  // Acknowledged only once durable: a coordinator that restarts still has
  // every job it said it accepted.
  journal_->WhenWritten(
      written, [this, job = *std::move(job), accepted = std::move(accepted)](
                   const absl::Status& status) mutable {
        if (status.ok()) {
          accepted(std::move(job));
          return;
        }
        Cancel(job.id).IgnoreError();
        accepted(Undurable(status, absl::StrCat("job ", job.id,
                                                " was not accepted and is "
                                                "cancelled")));
      });
}

absl::StatusOr<JobStatus> SchedulerHost::Get(JobId job, bool with_recent_chunks,
                                             TaskPage tasks) {
  if (tasks.first < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "first task ", tasks.first, " is negative; tasks are numbered from 0"));
  }
  if (tasks.count < 0 || tasks.count > TaskPage::kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("a page of ", tasks.count,
                     " task results is out of bounds; ask for 0 to ",
                     TaskPage::kMaxCount, " at a time"));
  }
  std::lock_guard lock(mu_);
  return scheduler_.GetJob(job, with_recent_chunks, tasks);
}

absl::StatusOr<JobStatus> SchedulerHost::Cancel(JobId job,
                                                bool only_if_queued) {
  return Apply([&](Scheduler& scheduler, absl::Time now) {
    return scheduler.CancelJob(job, now, only_if_queued);
  });
}

absl::StatusOr<std::vector<JobStatus>> SchedulerHost::ListJobs(int limit) {
  constexpr int kDefaultListLimit = 100;
  if (limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("list limit ", limit, " is negative; pass 0 for ",
                     kDefaultListLimit, " or a positive number"));
  }
  std::lock_guard lock(mu_);
  return scheduler_.ListJobs(limit == 0 ? kDefaultListLimit : limit);
}

std::vector<WorkerStatus> SchedulerHost::ListWorkers() {
  std::lock_guard lock(mu_);
  return scheduler_.ListWorkers(clock_.Now());
}

std::vector<KernelInfo> SchedulerHost::ListKernels() {
  std::lock_guard lock(mu_);
  return scheduler_.ListKernels();
}

CoordinatorStats SchedulerHost::Stats() {
  CoordinatorStats stats;
  {
    std::lock_guard lock(mu_);
    stats.chunks = scheduler_.counters();
    stats.chunks_in_flight = scheduler_.ChunksInFlight();
    stats.jobs_by_state = scheduler_.CountJobsByState();
    stats.client_sessions = static_cast<int64_t>(sessions_.size());
    stats.workers = scheduler_.ListWorkers(clock_.Now());
  }
  if (journal_ != nullptr) stats.journal_commit = journal_->commit_times();
  return stats;
}

void SchedulerHost::AddSession(std::shared_ptr<SessionSink> session) {
  std::lock_guard lock(mu_);
  SessionSink* key = session.get();
  sessions_.emplace(key, std::move(session));
}

void SchedulerHost::FollowLocked(SessionSink* session, JobId job,
                                 absl::Duration progress_interval,
                                 Touched& touched, const std::string* only_by) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;  // the session has ended
  JobEvent first = scheduler_.FollowEvent(job);
  if (only_by != nullptr && first.status != nullptr &&
      first.status->spec->submitted_by != *only_by) {
    first = JobEvent();
    first.job = job;
    first.missing = true;
  }
  const bool last = first.missing || IsFinal(first.state);
  session->outbox().Follow(job, progress_interval, std::move(first),
                           clock_.Now());
  if (!last) followers_[job].insert(session);
  touched.Add(it->second);
}

void SchedulerHost::Follow(SessionSink* session, JobId job,
                           absl::Duration progress_interval,
                           const std::string* only_by) {
  Touched touched(logger_);
  {
    std::lock_guard lock(mu_);
    FollowLocked(session, job, progress_interval, touched, only_by);
  }
  touched.Flush();
}

void SchedulerHost::Answer(SessionSink* session, uint64_t call,
                           absl::StatusOr<JobStatus> job, bool follow) {
  Touched touched(logger_);
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    const JobId id = job.ok() ? job->id : 0;
    session->outbox().AddAnswer(call, std::move(job));
    touched.Add(it->second);
    if (follow && id != 0) {
      FollowLocked(session, id, absl::ZeroDuration(), touched);
    }
  }
  touched.Flush();
}

void SchedulerHost::EndSession(SessionSink* session) {
  std::shared_ptr<SessionSink> ended;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  for (JobId job : session->outbox().FollowedJobs()) {
    auto followers = followers_.find(job);
    if (followers == followers_.end()) continue;
    followers->second.erase(session);
    if (followers->second.empty()) followers_.erase(followers);
  }
  // Released after the lock: the session may go with its last reference.
  ended = std::move(it->second);
  sessions_.erase(it);
}

absl::StatusOr<WorkerId> SchedulerHost::Join(
    WorkerMessage first, std::string peer,
    std::shared_ptr<WorkerOutbox> outbox) {
  if (!first.hello) {
    return absl::InvalidArgumentError(
        "the first message on a worker link must be a hello");
  }
  Touched touched(logger_);
  absl::StatusOr<WorkerId> joined;
  {
    std::lock_guard lock(mu_);
    const absl::Time now = clock_.Now();
    const WorkerId id = next_worker_id_++;
    joined = id;
    const std::string name =
        first.hello->name.empty() ? peer : first.hello->name;
    const std::array<int32_t, kExecutorKinds> slots = first.hello->slots;
    // A refused worker is told so, and logged as refused only: never
    // welcomed first.
    if (absl::Status status =
            scheduler_.WorkerJoined(id, *std::move(first.hello), peer, now);
        !status.ok()) {
      touched.Log(
          LogLevel::kWarning,
          absl::StrCat("worker from ", peer, " refused: ", status.message()),
          {.worker = name});
      joined = status;
    } else {
      if (touched.Logs(LogLevel::kInfo)) {
        touched.Log(LogLevel::kInfo,
                    absl::StrCat("worker joined from ", peer, " with ",
                                 slots[0], " threads, ", slots[1],
                                 " processes and ", slots[2], " command slots"),
                    {.worker = name});
      }
      names_[id] = name;
      CoordinatorMessage welcome;
      welcome.welcome = Welcome{id, heartbeat_interval_};
      // Queued before anything the credits below bring.
      outbox->Queue(std::move(welcome));
      touched.Add(outbox);
      outboxes_[id] = std::move(outbox);
      for (int kind = 0; kind < kExecutorKinds; ++kind) {
        if (first.credits[kind] <= 0) continue;
        scheduler_.CreditsGranted(id, static_cast<ExecutorKind>(kind),
                                  first.credits[kind], now);
      }
    }
    DeliverLocked(touched);
  }
  touched.Flush();
  return joined;
}

void SchedulerHost::Report(WorkerId worker, WorkerMessage message) {
  if (logger_ != nullptr && logger_->Enabled(LogLevel::kDebug)) {
    for (const ChunkResult& result : message.results) {
      if (result.output.ok()) continue;
      logger_->Log(
          LogLevel::kDebug,
          absl::StrCat("attempt failed: ", result.output.status().message()),
          {.job = result.attempt.job,
           .chunk = result.attempt.begin,
           .attempt = result.attempt.attempt});
    }
  }
  if (message.draining && logger_ != nullptr) {
    std::string name;
    {
      std::lock_guard lock(mu_);
      if (auto it = names_.find(worker); it != names_.end()) name = it->second;
    }
    if (!name.empty()) {
      logger_->Log(LogLevel::kInfo, "worker draining", {.worker = name});
    }
  }
  Apply([&](Scheduler& scheduler, absl::Time now) {
    scheduler.WorkerSeen(worker, now);
    // Before the results: a chunk that started and finished within one
    // message still started first.
    for (const AttemptRef& started : message.started) {
      scheduler.ChunkStarted(worker, started, now);
    }
    for (ChunkResult& result : message.results) {
      scheduler.ChunkFinished(worker, std::move(result), now);
    }
    for (const AttemptRef& released : message.released) {
      scheduler.ChunkReleased(worker, released, now);
    }
    if (message.draining) scheduler.WorkerDraining(worker, now);
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if (message.credits[kind] <= 0) continue;
      scheduler.CreditsGranted(worker, static_cast<ExecutorKind>(kind),
                               message.credits[kind], now);
    }
  });
}

void SchedulerHost::Leave(WorkerId worker, const std::string& reason) {
  std::string name;
  Apply([&](Scheduler& scheduler, absl::Time now) {
    outboxes_.erase(worker);
    if (auto it = names_.find(worker); it != names_.end()) {
      name = std::move(it->second);
      names_.erase(it);
    }
    scheduler.WorkerLost(worker, reason, now);
  });
  // Empty when the worker was already dropped (and logged) as silent.
  if (!name.empty() && logger_ != nullptr) {
    logger_->Log(LogLevel::kInfo, absl::StrCat("worker left (", reason, ")"),
                 {.worker = name});
  }
}

absl::Time SchedulerHost::Tick() {
  Touched touched(logger_);
  absl::Time next;
  {
    std::lock_guard lock(mu_);
    const absl::Time now = clock_.Now();
    scheduler_.Tick(now);
    next = scheduler_.NextDeadline(now);
    DeliverLocked(touched);
    // What waited for a ride (ended jobs) goes now.
    for (auto& [id, outbox] : outboxes_) touched.Add(outbox);
    for (auto& [session, owner] : sessions_) {
      if (session->outbox().Tick(now)) touched.Add(owner);
    }
  }
  touched.Flush();
  return next;
}

void SchedulerHost::CloseAll(const std::string& reason) {
  std::vector<std::shared_ptr<SessionSink>> sessions;
  Touched touched(logger_);
  {
    std::lock_guard lock(mu_);
    for (auto& [id, outbox] : outboxes_) {
      outbox->Close(reason);
      touched.Add(outbox);
    }
    for (auto& [session, owner] : sessions_) sessions.push_back(owner);
  }
  touched.Flush();
  for (const auto& session : sessions) {
    session->Close(absl::UnavailableError(reason));
  }
}

}  // namespace pfor::coordinator
