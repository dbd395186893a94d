// The coordinator's decisions, apart from all I/O.
//
// Scheduler takes events (a job submitted, a worker joined or lost, credits
// granted, a chunk finished or failed, time passing) and answers with
// commands (assign this chunk to that worker, cancel that attempt, tell a
// worker a job ended, drop a silent worker). It never reads the clock, never
// does I/O and never starts a thread: every event carries `now`, and the
// gRPC services are thin adapters that turn messages into events and
// commands into messages. That keeps the hard logic deterministic and
// testable with thousands of simulated workers.
//
// Guarantees:
//   * every chunk of a job is counted exactly once: a result is accepted only
//     from a live attempt of a chunk still in flight, and the first one wins;
//   * a lost worker's chunks go back to the queue;
//   * a chunk that fails max_attempts times fails its job with that error;
//   * memory is O(jobs + chunks in flight), never O(chunks of a job).
//
// Not thread-safe: the owner serializes calls.
#ifndef PFOR_COORDINATOR_SCHEDULER_H_
#define PFOR_COORDINATOR_SCHEDULER_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "chunk_sizer.h"
#include "job_result.h"
#include "journal.h"
#include "pfor/common/wire.h"
#include "pfor/params.h"
#include "pfor/v1/coordinator.pb.h"
#include "pfor/v1/job.pb.h"
#include "pfor/v1/kernel.pb.h"

namespace pfor::coordinator {

using WorkerId = uint64_t;

// One attempt at one chunk: chunks are named by their job and begin, which
// never change, attempts are numbered from 1.
struct AttemptKey {
  JobId job = 0;
  int64_t begin = 0;
  int32_t attempt = 0;
  friend bool operator==(const AttemptKey&, const AttemptKey&) = default;
};

struct SchedulerOptions {
  // A worker silent for this long is declared lost.
  absl::Duration heartbeat_timeout = absl::Seconds(10);
  // Finished jobs kept for GetJob and ListJobs; older ones are forgotten.
  int max_finished_jobs = 1000;
  // Jobs queued or running at once; more are refused.
  int max_active_jobs = 10000;
  // Near the end of a job, an idle slot runs a backup copy of an in-flight
  // chunk that has run this many times longer than expected.
  double straggler_factor = 3;
  // ... and at least this long.
  absl::Duration straggler_min_time = absl::Seconds(2);
  // A job that no connected worker can run (its kernel or executor is
  // missing) fails after waiting this long.
  absl::Duration unrunnable_timeout = absl::Minutes(10);
};

struct WorkerHello {
  std::string name;
  std::string peer;
  // Slots per executor, indexed by ExecutorIndex (threads, processes,
  // command).
  std::array<int32_t, kExecutorKinds> slots{};
  // Kernels of the threads and processes executors.
  std::vector<v1::KernelInfo> kernels;
};

// Commands, grouped by kind. Within one batch, a worker applies job
// definitions, then assignments, then ended jobs, then cancellations.
struct Commands {
  struct Assign {
    WorkerId worker;
    AttemptKey key;
    int64_t end;
    // The worker has not seen this job yet: send its definition first.
    bool send_definition;
    // The chunk's number in its job, from 0 in the order chunks were cut.
    int64_t index;
  };
  struct CancelAttempt {
    WorkerId worker;
    AttemptKey key;
  };
  struct EndJob {
    WorkerId worker;
    JobId job;
  };
  struct Disconnect {
    WorkerId worker;
    std::string reason;
  };
  std::vector<Assign> assign;
  std::vector<CancelAttempt> cancel;
  std::vector<EndJob> end_job;
  std::vector<Disconnect> disconnect;
  // Jobs whose state or progress changed, for watchers.
  absl::flat_hash_set<JobId> changed_jobs;
  // What must be made durable, in order.
  std::vector<JournalEntry> journal;

  bool empty() const {
    return assign.empty() && cancel.empty() && end_job.empty() &&
           disconnect.empty() && changed_jobs.empty() && journal.empty();
  }
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // --- Events -------------------------------------------------------------

  // Validates and queues a job. INVALID_ARGUMENT names the bad field and the
  // fix; FAILED_PRECONDITION when workers are connected and none offers the
  // kernel; RESOURCE_EXHAUSTED past max_active_jobs.
  absl::StatusOr<v1::Job> SubmitJob(const v1::JobSpec& spec, absl::Time now);
  // Puts back a job read from the journal after a restart: an ended job as
  // it ended, an unfinished one with its completed chunks counted and the
  // rest queued. Call before any other event.
  void RestoreJob(const RecoveredJob& job, absl::Time now);
  // Cancels a queued or running job; NOT_FOUND for an unknown id. A finished
  // job is returned as it is.
  absl::StatusOr<v1::Job> CancelJob(JobId job, absl::Time now);

  // A worker connected. INVALID_ARGUMENT for a malformed hello (no slots, a
  // kernel announced with a broken parameter list).
  absl::Status WorkerJoined(WorkerId worker, WorkerHello hello, absl::Time now);
  // The worker's stream ended: its in-flight chunks go back to the queue.
  void WorkerLost(WorkerId worker, const std::string& reason, absl::Time now);
  // Any message from the worker.
  void WorkerSeen(WorkerId worker, absl::Time now);
  // The worker asks for `credits` more chunks of one executor.
  void CreditsGranted(WorkerId worker, v1::ExecutorKind executor,
                      int32_t credits, absl::Time now);
  // The worker takes no more chunks.
  void WorkerDraining(WorkerId worker, absl::Time now);

  // `value` is the chunk's value as the worker sent it.
  void ChunkSucceeded(WorkerId worker, const AttemptKey& key,
                      const v1::Value& value, absl::Duration kernel_time,
                      absl::Time now);
  void ChunkFailed(WorkerId worker, const AttemptKey& key,
                   const std::string& error, absl::Duration kernel_time,
                   absl::Time now);
  // A draining worker gives back a chunk it never started.
  void ChunkReleased(WorkerId worker, const AttemptKey& key, absl::Time now);

  // Time passed: declares silent workers lost, times out attempts, starts
  // backup copies of stragglers, fails jobs nobody can run.
  void Tick(absl::Time now);

  // Commands produced by the events so far; clears them.
  Commands TakeCommands();

  // --- Queries ------------------------------------------------------------

  // NOT_FOUND for an unknown or forgotten id.
  absl::StatusOr<v1::Job> GetJob(JobId job, bool with_recent_chunks) const;
  // Newest first.
  std::vector<v1::Job> ListJobs(int limit) const;
  std::vector<v1::WorkerInfo> ListWorkers(absl::Time now) const;
  std::vector<v1::KernelInfo> ListKernels() const;
  // What a worker needs to run the job's chunks; nullptr for unknown jobs.
  const v1::JobSpec* JobSpecFor(JobId job) const;
  // The job's validated parameters, defaults filled in.
  const Params* ParamsFor(JobId job) const;
  bool IsFinished(JobId job) const;

 private:
  struct Job;
  struct Worker;
  struct InFlight;

  Job* FindJob(JobId id);
  Worker* FindWorker(WorkerId id);
  const v1::KernelInfo* FindKernel(const std::string& name) const;

  // Adds (sign +1) or removes (-1) a worker's slots in the per-kernel and
  // command counts.
  void CountSlots(const Worker& worker, int sign);
  // Hands out chunks while some worker has credits and some job has work.
  void Dispatch(absl::Time now);
  Job* PickJob(const Worker& worker);
  bool HasWork(const Job& job) const;
  bool CanRun(const Worker& worker, const Job& job) const;
  // Starts a new attempt of the in-flight chunk at `begin` on `worker`.
  void Assign(Worker& worker, Job& job, int64_t begin, absl::Time now);
  // Takes a live attempt off its worker and its chunk; returns the chunk.
  InFlight* RevokeAttempt(Job& job, const AttemptKey& key, WorkerId worker);
  void AttemptFailed(Job& job, const AttemptKey& key, WorkerId worker,
                     const std::string& error, absl::Duration kernel_time,
                     absl::Time now);
  void StartBackups(absl::Time now);
  // Keeps a finished attempt for the status view (error empty on success).
  void Record(Job& job, const AttemptKey& key, int64_t end, WorkerId worker,
              absl::Duration kernel_time, const std::string& error);
  // Validates parameters of a job submitted before any worker offered its
  // kernel; fails the job when they are bad.
  bool EnsureParams(Job& job, absl::Time now);
  void Finish(Job& job, v1::JobState state, const std::string& error,
              absl::Time now);
  void MaybeSucceed(Job& job, absl::Time now);
  void ForgetOldJobs();
  // Slots of the job's executor on workers that can run it (0: none can).
  int64_t SlotsFor(const Job& job) const;
  // Why no connected worker can run the job; empty when one can.
  std::string Unrunnable(const v1::JobSpec& spec) const;
  v1::Job Snapshot(const Job& job, bool with_recent_chunks) const;
  std::string WaitingReason(const Job& job) const;
  void Changed(const Job& job);

  SchedulerOptions options_;
  JobId next_job_id_ = 1;
  std::map<JobId, std::unique_ptr<Job>> jobs_;
  // Queued and running jobs, in submission order.
  std::vector<Job*> active_;
  std::deque<JobId> finished_;
  absl::btree_map<WorkerId, std::unique_ptr<Worker>> workers_;
  // Workers with credits left, not draining.
  absl::btree_set<WorkerId> hungry_;
  WorkerId last_served_ = 0;
  // Kernels offered by connected workers: the first announcement, and how
  // many workers and slots (of workers not draining) offer each.
  struct KernelEntry {
    v1::KernelInfo info;
    int workers = 0;
    // Per executor, indexed by ExecutorIndex.
    std::array<int64_t, kExecutorKinds> slots{};
  };
  std::map<std::string, KernelEntry> kernels_;
  // Command slots of connected workers not draining.
  int64_t command_slots_ = 0;
  Commands commands_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SCHEDULER_H_
