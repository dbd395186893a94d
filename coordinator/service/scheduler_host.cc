#include "scheduler_host.h"

#include "pfor/common/wire.h"

namespace pfor::coordinator {

int SchedulerHost::Restore(const std::vector<RecoveredJob>& jobs) {
  absl::MutexLock lock(&mu_);
  int unfinished = 0;
  for (const RecoveredJob& job : jobs) {
    scheduler_.RestoreJob(job, absl::Now());
    unfinished += !job.final_state.has_value();
  }
  Deliver();
  return unfinished;
}

absl::Status SchedulerHost::SyncJournal() {
  return journal_ == nullptr ? absl::OkStatus() : journal_->Sync();
}

void SchedulerHost::AddWorker(WorkerId id, WorkerOutbox* outbox) {
  absl::MutexLock lock(&mu_);
  outboxes_[id] = outbox;
}

void SchedulerHost::RemoveWorker(WorkerId id, const std::string& reason) {
  absl::MutexLock lock(&mu_);
  outboxes_.erase(id);
  scheduler_.WorkerLost(id, reason, absl::Now());
  Deliver();
}

absl::Status SchedulerHost::AddWatcher(JobId job, JobWatcher* watcher) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::Job> state = scheduler_.GetJob(job, false);
  if (!state.ok()) return state.status();
  watchers_[job].insert(watcher);
  watcher->Update(*state);
  return absl::OkStatus();
}

void SchedulerHost::RemoveWatcher(JobId job, JobWatcher* watcher) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(job);
  if (it == watchers_.end()) return;
  it->second.erase(watcher);
  if (it->second.empty()) watchers_.erase(it);
}

void SchedulerHost::Tick() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  scheduler_.Tick(now);
  Deliver();
  for (auto& [job, watchers] : watchers_) {
    for (JobWatcher* watcher : watchers) watcher->Flush(now);
  }
}

void SchedulerHost::CloseAllWorkers(const std::string& reason) {
  absl::MutexLock lock(&mu_);
  for (auto& [id, outbox] : outboxes_) outbox->Close(reason);
}

v1::JobDefinition SchedulerHost::Definition(JobId job) const {
  v1::JobDefinition definition;
  definition.set_job_id(job);
  const v1::JobSpec* spec = scheduler_.JobSpecFor(job);
  const Params* params = scheduler_.ParamsFor(job);
  definition.set_kernel(spec->kernel());
  ToProto(params->values(), *definition.mutable_params());
  definition.set_reduction(spec->reduction());
  definition.set_executor(spec->executor());
  definition.set_begin(spec->begin());
  definition.set_end(spec->end());
  *definition.mutable_command() = spec->command();
  if (spec->retry().has_chunk_timeout()) {
    *definition.mutable_chunk_timeout() = spec->retry().chunk_timeout();
  }
  return definition;
}

void SchedulerHost::Deliver() {
  Commands commands = scheduler_.TakeCommands();
  if (commands.empty()) return;
  for (const JournalEntry& entry : commands.journal) {
    const auto* done = std::get_if<ChunkDone>(&entry);
    if (done == nullptr) continue;
    auto it = watchers_.find(done->job);
    if (it == watchers_.end()) continue;
    for (JobWatcher* watcher : it->second) watcher->OnChunkDone(*done);
  }
  if (journal_ != nullptr) journal_->Append(std::move(commands.journal));
  absl::flat_hash_map<WorkerId, v1::CoordinatorMessage> messages;
  for (const Commands::Assign& assign : commands.assign) {
    v1::CoordinatorMessage& message = messages[assign.worker];
    if (assign.send_definition)
      *message.add_jobs() = Definition(assign.key.job);
    v1::ChunkAssignment* chunk = message.add_chunks();
    chunk->mutable_chunk()->set_job_id(assign.key.job);
    chunk->mutable_chunk()->set_begin(assign.key.begin);
    chunk->mutable_chunk()->set_attempt(assign.key.attempt);
    chunk->set_end(assign.end);
    chunk->set_index(assign.index);
    // A batch's chunk carries its tasks (a batch's range is [0, tasks)).
    const v1::JobSpec& spec = *scheduler_.JobSpecFor(assign.key.job);
    if (spec.tasks_size() > 0) {
      for (int64_t task = assign.key.begin; task < assign.end; ++task) {
        *chunk->add_tasks() = spec.tasks(static_cast<int>(task));
      }
    }
  }
  for (const Commands::EndJob& end : commands.end_job) {
    messages[end.worker].add_ended_jobs(end.job);
  }
  for (const Commands::CancelAttempt& cancel : commands.cancel) {
    v1::ChunkRef* ref = messages[cancel.worker].add_cancelled_chunks();
    ref->set_job_id(cancel.key.job);
    ref->set_begin(cancel.key.begin);
    ref->set_attempt(cancel.key.attempt);
  }
  for (auto& [worker, message] : messages) {
    auto it = outboxes_.find(worker);
    if (it != outboxes_.end()) it->second->Send(std::move(message));
  }
  for (const Commands::Disconnect& disconnect : commands.disconnect) {
    auto it = outboxes_.find(disconnect.worker);
    if (it != outboxes_.end()) it->second->Close(disconnect.reason);
  }
  for (JobId job : commands.changed_jobs) {
    auto it = watchers_.find(job);
    if (it == watchers_.end()) continue;
    absl::StatusOr<v1::Job> state = scheduler_.GetJob(job, false);
    if (!state.ok()) continue;
    for (JobWatcher* watcher : it->second) watcher->Update(*state);
  }
}

}  // namespace pfor::coordinator
