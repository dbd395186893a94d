#include "session_outbox.h"

#include <iterator>

namespace pfor::coordinator {
namespace {

// A progress-only event: nothing a follower must see at once.
bool ProgressOnly(const JobEvent& event) {
  return event.status == nullptr && event.tasks.empty() && !event.missing &&
         !IsFinal(event.state);
}

// Folds `later` into `into`: the newest state and progress, the newest
// status, every task run in order.
void Coalesce(JobEvent& into, JobEvent&& later) {
  into.state = later.state;
  into.progress = later.progress;
  if (later.status != nullptr) into.status = std::move(later.status);
  into.tasks.insert(into.tasks.end(),
                    std::make_move_iterator(later.tasks.begin()),
                    std::make_move_iterator(later.tasks.end()));
  into.missing = into.missing || later.missing;
}

}  // namespace

void SessionOutbox::Batch::Merge(Batch&& other) {
  answers.insert(answers.end(), std::make_move_iterator(other.answers.begin()),
                 std::make_move_iterator(other.answers.end()));
  if (events.empty()) {
    events = std::move(other.events);
    return;
  }
  absl::flat_hash_map<uint64_t, size_t> at;
  for (size_t i = 0; i < events.size(); ++i) at[events[i].job] = i;
  for (JobEvent& event : other.events) {
    auto it = at.find(event.job);
    if (it == at.end()) {
      at[event.job] = events.size();
      events.push_back(std::move(event));
    } else {
      Coalesce(events[it->second], std::move(event));
    }
  }
}

void SessionOutbox::Follow(uint64_t job, absl::Duration progress_interval,
                           JobEvent first, absl::Time now) {
  std::lock_guard lock(mu_);
  FollowState& state = follows_[job];
  state.progress_interval = progress_interval;
  state.last_sent = now;
  state.held = false;
  const bool last = first.missing || IsFinal(first.state);
  QueueLocked(std::move(first));
  if (last) follows_.erase(job);
}

void SessionOutbox::AddAnswer(uint64_t call, absl::StatusOr<JobStatus> job) {
  std::lock_guard lock(mu_);
  ready_.answers.push_back({call, std::move(job)});
}

void SessionOutbox::Add(const JobEvent& event, absl::Time now) {
  std::lock_guard lock(mu_);
  auto it = follows_.find(event.job);
  if (it == follows_.end()) return;
  FollowState& state = it->second;
  if (ProgressOnly(event)) {
    if (state.progress_interval <= absl::ZeroDuration()) return;
    if (now - state.last_sent < state.progress_interval) {
      state.held = true;
      state.held_state = event.state;
      state.held_progress = event.progress;
      return;
    }
  }
  state.held = false;
  state.last_sent = now;
  const bool last = event.missing || IsFinal(event.state);
  QueueLocked(event);
  if (last) follows_.erase(it);
}

bool SessionOutbox::Tick(absl::Time now) {
  std::lock_guard lock(mu_);
  for (auto& [job, state] : follows_) {
    if (!state.held || now - state.last_sent < state.progress_interval) {
      continue;
    }
    state.held = false;
    state.last_sent = now;
    JobEvent event;
    event.job = job;
    event.state = state.held_state;
    event.progress = state.held_progress;
    QueueLocked(std::move(event));
  }
  return !ready_.empty();
}

SessionOutbox::Batch SessionOutbox::Take() {
  std::lock_guard lock(mu_);
  queued_at_.clear();
  return std::exchange(ready_, Batch());
}

std::vector<uint64_t> SessionOutbox::FollowedJobs() {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> jobs;
  jobs.reserve(follows_.size());
  for (const auto& [job, state] : follows_) jobs.push_back(job);
  return jobs;
}

void SessionOutbox::QueueLocked(JobEvent event) {
  auto [it, inserted] = queued_at_.try_emplace(event.job, ready_.events.size());
  if (inserted) {
    ready_.events.push_back(std::move(event));
  } else {
    Coalesce(ready_.events[it->second], std::move(event));
  }
}

}  // namespace pfor::coordinator
