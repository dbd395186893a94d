// A job as the scheduler keeps it: its spec and definition, its chunks
// (ChunkLedger), its result so far (JobResult), its state and what the views
// need. Plain data that the scheduler's parts share; the scheduler owns every
// ScheduledJob and keeps it until it forgets the job.
#ifndef PFOR_COORDINATOR_SCHEDULED_JOB_H_
#define PFOR_COORDINATOR_SCHEDULED_JOB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "chunk_ledger.h"
#include "chunk_sizer.h"
#include "job_result.h"
#include "job_views.h"
#include "journal.h"
#include "pfor/common/link.h"
#include "pfor/job.h"
#include "pfor/params.h"

namespace pfor::coordinator {

inline constexpr int kDefaultMaxAttempts = 3;

// What the jobs of one submitter (a token, or a client without tokens) run
// together: slots are shared fairly between submitters first, then between
// each one's jobs (Dispatcher).
struct SubmitterShare {
  // Live attempts of the submitter's active jobs.
  int64_t live_attempts = 0;
  // When a chunk of theirs was last handed out (a dispatch count).
  uint64_t served = 0;
  // Active jobs.
  int jobs = 0;
};

struct ScheduledJob {
  ScheduledJob(JobId id, std::shared_ptr<const JobSpec> job_spec,
               ChunkSizer sizer, absl::Time submitted)
      : id(id),
        spec(std::move(job_spec)),
        max_attempts(spec->max_attempts > 0 ? spec->max_attempts
                                            : kDefaultMaxAttempts),
        ledger(spec->begin, spec->end, std::move(sizer)),
        result(spec->reduction, static_cast<int64_t>(spec->tasks.size())),
        submit_time(submitted) {
    if (!spec->tasks.empty()) {
      tasks = std::shared_ptr<const std::vector<Task>>(spec, &spec->tasks);
    }
  }

  bool ended() const { return IsFinal(state); }

  // The definition workers get, with `params` as checked against one
  // declaration of the kernel (defaults filled in).
  std::shared_ptr<const JobDefinition> MakeDefinition(Params params) const;
  // The declarations that take the job's parameters.
  std::vector<uint64_t> Fitting() const {
    std::vector<uint64_t> out;
    for (const KernelFit& fit : fits) {
      if (fit.definition != nullptr) out.push_back(fit.kernel);
    }
    return out;
  }
  // After a restart, a job that had ended, as it ended.
  void RestoreEnded(std::shared_ptr<const JobStatus> final_state);
  // After a restart, an unfinished job's completed work: counted, its
  // result folded in, the holes between completed chunks queued again.
  void RestoreProgress(const RecoveredJob& recovered);

  const JobId id;
  const std::shared_ptr<const JobSpec> spec;
  const int32_t max_attempts;
  ChunkLedger ledger;
  // Emptied when the job ends (final_status holds the result then).
  JobResult result;

  // The declarations of the kernel (WorkerRegistry's KernelIds) the job's
  // parameters were checked against, each with the definition its workers
  // get before their first chunk of the job (nullptr: it refused them). A
  // command job has one, numbered 0.
  struct KernelFit {
    uint64_t kernel = 0;
    std::shared_ptr<const JobDefinition> definition;
  };
  absl::InlinedVector<KernelFit, 1> fits;
  // The first definition made: set once some declaration took the
  // parameters (the job can run somewhere).
  std::shared_ptr<const JobDefinition> definition;
  // Some declaration took the parameters, once (a job read back from the
  // journal had been accepted): a declaration refusing them later leaves it
  // waiting rather than failed.
  bool ever_fit = false;
  // Why the last declaration that refused the parameters did.
  std::string refusal;
  // A batch: the spec's tasks, shared with every chunk assignment.
  std::shared_ptr<const std::vector<Task>> tasks;
  // The submitter's share, while the job is active (Dispatcher::Join).
  SubmitterShare* share = nullptr;
  // Workers sent the definition, in that order (they hear when the job
  // ends).
  std::vector<uint64_t> known_by;

  JobState state = JobState::kQueued;
  std::string error;
  absl::Time submit_time;
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  // Since when no connected worker could run the job's remaining work.
  absl::Time unrunnable_since = absl::InfiniteFuture();

  RateMeter rate;
  RecentAttempts recent;

  // Once the job ended: its status as it ended (a batch's task results
  // included), and the same without them.
  std::shared_ptr<const JobStatus> final_status;
  std::shared_ptr<const JobStatus> final_view;

  // EventLog's: this job's event in the current batch, if event_batch is
  // the current one; whether its state changed since the last Settle.
  uint64_t event_batch = 0;
  size_t event_index = 0;
  bool state_changed = false;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SCHEDULED_JOB_H_
