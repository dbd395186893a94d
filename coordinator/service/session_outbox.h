// What one client session has to send, held while a message is on its way:
// answers to its submits, and the events of the jobs it follows, coalesced
// per job (the newest progress and state, every task run) with progress held
// back until the job's progress interval has passed.
//
// The host fills it under its lock (Follow, Answer, Add, Tick); the
// session's writer empties it (Take) after the lock is released. Thread-safe.
#ifndef PFOR_COORDINATOR_SESSION_OUTBOX_H_
#define PFOR_COORDINATOR_SESSION_OUTBOX_H_

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/common/session.h"
#include "pfor/job.h"

namespace pfor::coordinator {

class SessionOutbox {
 public:
  struct Answer {
    uint64_t call = 0;
    absl::StatusOr<JobStatus> job;
  };
  // What goes out in one message: answers first, then events, at most one
  // per job.
  struct Batch {
    std::vector<Answer> answers;
    std::vector<JobEvent> events;

    // Appends `other`; an event of a job already here merges into it.
    void Merge(Batch&& other);
    bool empty() const { return answers.empty() && events.empty(); }
  };

  // Starts following `job`; `first` is its first event (its status and
  // task results so far). Progress-only events pass at most every
  // `progress_interval`; none pass when it is zero.
  void Follow(uint64_t job, absl::Duration progress_interval, JobEvent first,
              absl::Time now);
  void AddAnswer(uint64_t call, absl::StatusOr<JobStatus> job);
  // An event of a job, if this session follows it. After the job's last
  // event (final state, or missing) the session follows it no more.
  void Add(const JobEvent& event, absl::Time now);
  // Releases progress held back whose interval has passed; true when there
  // is something to send.
  bool Tick(absl::Time now);
  // Everything ready to go; leaves the outbox empty.
  Batch Take();
  // Jobs followed (for the host to forget the session's follows).
  std::vector<uint64_t> FollowedJobs();

 private:
  struct FollowState {
    absl::Duration progress_interval;
    absl::Time last_sent = absl::InfinitePast();
    // Progress not sent yet because the interval had not passed.
    bool held = false;
    JobState held_state = JobState::kQueued;
    JobProgress held_progress;
  };

  void QueueLocked(JobEvent event);

  std::mutex mu_;
  absl::flat_hash_map<uint64_t, FollowState> follows_;  // guarded by mu_
  Batch ready_;                                         // guarded by mu_
  // Where each job's event is in ready_.events.
  absl::flat_hash_map<uint64_t, size_t> queued_at_;  // guarded by mu_
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SESSION_OUTBOX_H_
