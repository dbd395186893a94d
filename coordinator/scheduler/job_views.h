// How the scheduler's jobs look from outside: JobProgress, JobStatus and
// JobEvent built from a job's state, the waiting reason of a queued job, the
// recent rate, the recent attempts, and the events of one batch of commands.
//
// Per chunk, only cheap things happen here: a progress copy into the job's
// pending event, a counter in the rate window, a record in a fixed ring. A
// JobStatus is built only when a job's state changes or someone asks.
// Not thread-safe.
#ifndef PFOR_COORDINATOR_JOB_VIEWS_H_
#define PFOR_COORDINATOR_JOB_VIEWS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "pfor/common/session.h"
#include "pfor/job.h"

namespace pfor::coordinator {

struct ScheduledJob;
class WorkerRegistry;

// Indices per second over the last five seconds, in 100 ms buckets: O(1)
// memory and time per chunk, however fast chunks complete.
class RateMeter {
 public:
  // `indices` completed at `now`, in a job running since `start`.
  void Add(absl::Time now, absl::Time start, int64_t indices);
  double rate() const { return rate_; }

 private:
  static constexpr int kBuckets = 50;

  std::array<int64_t, kBuckets> counts_{};
  // The bucket number (time / bucket width) of the newest count.
  int64_t newest_ = 0;
  bool empty_ = true;
  int64_t in_window_ = 0;
  double rate_ = 0;
};

// One finished attempt, as the status view keeps it.
struct AttemptRecord {
  int64_t begin = 0;
  int64_t end = 0;
  int32_t attempt = 0;
  // Its name is the registry's to tell (WorkerRegistry::NameOf).
  uint64_t worker = 0;
  absl::Duration kernel_time = absl::ZeroDuration();
  // Empty when the attempt succeeded.
  std::string error = {};
  absl::Time finished = absl::InfinitePast();
};

// The most recent finished attempts of a job, in a fixed ring.
class RecentAttempts {
 public:
  static constexpr size_t kKept = 64;

  void Add(AttemptRecord record);
  // Oldest first.
  std::vector<ChunkAttempt> View(const WorkerRegistry& workers) const;

 private:
  std::vector<AttemptRecord> ring_;
  size_t next_ = 0;
};

// How far the job has come (its final progress once it ended).
JobProgress Progress(const ScheduledJob& job);
// Why a queued job waits; empty when it does not.
std::string WaitingReason(const ScheduledJob& job,
                          const WorkerRegistry& workers);
// The job as clients see it. Once it ended: as it ended, with the task
// results of `tasks` for a batch.
JobStatus StatusOf(const ScheduledJob& job, const WorkerRegistry& workers,
                   bool with_recent_chunks, TaskPage tasks);
// The same without a batch's task results (listings, events), shared.
std::shared_ptr<const JobStatus> StatusView(const ScheduledJob& job,
                                            const WorkerRegistry& workers);
// The status of a job that has just ended, with its result when it
// succeeded.
JobStatus FinalStatus(const ScheduledJob& job);
// About the bytes an ended job holds in memory: its spec (a batch's tasks),
// its final status and view (task results, chunk values, texts).
int64_t KeptBytes(const ScheduledJob& job);
// `status` without its task results; `status` itself when it has none.
std::shared_ptr<const JobStatus> WithoutTaskResults(
    std::shared_ptr<const JobStatus> status);
// A new follower's first event: the status, and every task result so far.
JobEvent CatchUpEvent(const ScheduledJob& job, const WorkerRegistry& workers);

// The events of one batch of commands: one per job that changed, updated in
// place as the job changes again.
class EventLog {
 public:
  // The job changed: its event takes its current state and progress.
  JobEvent& Changed(ScheduledJob& job);
  // The job's state changed: its event will carry its status (built by
  // Settle, once per event however many changes).
  void StateChanged(ScheduledJob& job);
  // Builds the statuses of the jobs whose state changed. Call at the end of
  // every scheduler event, while those jobs are still kept.
  void Settle(const WorkerRegistry& workers);
  // The events so far; starts a new batch.
  std::vector<JobEvent> Take();

 private:
  std::vector<JobEvent> events_;
  // Jobs whose state changed since the last Settle.
  std::vector<ScheduledJob*> state_changed_;
  // Numbers the batches, so that a job knows whether its event index is of
  // this batch without being told when a batch is taken.
  uint64_t batch_ = 1;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOB_VIEWS_H_
