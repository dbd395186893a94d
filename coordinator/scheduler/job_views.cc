#include "job_views.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <variant>

#include "scheduled_job.h"
#include "worker_registry.h"

namespace pfor::coordinator {
namespace {

constexpr absl::Duration kRateWindow = absl::Seconds(5);

// The status of a job not yet ended, or just ending (without its result).
JobStatus LiveStatus(const ScheduledJob& job, std::string waiting_reason) {
  JobStatus out;
  out.id = job.id;
  out.spec = job.spec;
  out.state = job.state;
  out.task_count = static_cast<int64_t>(job.spec->tasks.size());
  out.progress = Progress(job);
  out.error = job.error;
  out.waiting_reason = std::move(waiting_reason);
  out.submit_time = job.submit_time;
  out.start_time = job.start_time;
  out.end_time = job.end_time;
  return out;
}

// What a std::map node costs beside its value: three pointers and a colour.
constexpr int64_t kMapNodeBytes = 32;
// An exact sum's limbs, out of line.
constexpr int64_t kExactSumBytes = 300;

int64_t TextBytes(const std::string& text) {
  // Short strings live inside the object.
  return text.size() > 15 ? static_cast<int64_t>(text.capacity()) + 1 : 0;
}

int64_t ValueBytes(const Value& value) {
  return static_cast<int64_t>(sizeof(Value)) +
         (std::holds_alternative<ExactSum>(value) ? kExactSumBytes : 0);
}

int64_t ParamsBytes(const std::map<std::string, ParamValue>& params) {
  int64_t bytes = 0;
  for (const auto& [name, value] : params) {
    bytes +=
        kMapNodeBytes +
        static_cast<int64_t>(sizeof(std::pair<const std::string, ParamValue>)) +
        TextBytes(name);
    if (const auto* text = std::get_if<std::string>(&value)) {
      bytes += TextBytes(*text);
    }
  }
  return bytes;
}

int64_t SpecBytes(const JobSpec& spec) {
  int64_t bytes = static_cast<int64_t>(sizeof(JobSpec)) +
                  ParamsBytes(spec.params) + TextBytes(spec.name) +
                  TextBytes(spec.kernel);
  for (const std::string& arg : spec.command.argv) {
    bytes += static_cast<int64_t>(sizeof(std::string)) + TextBytes(arg);
  }
  bytes += static_cast<int64_t>(spec.tasks.capacity() * sizeof(Task));
  for (const Task& task : spec.tasks) bytes += ParamsBytes(task.params);
  return bytes;
}

// The status's own bytes, its spec left out.
int64_t StatusBytes(const JobStatus& status) {
  int64_t bytes = static_cast<int64_t>(sizeof(JobStatus)) +
                  TextBytes(status.error) + TextBytes(status.waiting_reason);
  bytes += static_cast<int64_t>(status.task_results.capacity() *
                                (sizeof(TaskResult) - sizeof(Value)));
  for (const TaskResult& result : status.task_results) {
    bytes += result.ok()
                 ? ValueBytes(*result)
                 : static_cast<int64_t>(sizeof(Value)) + 64 +
                       static_cast<int64_t>(result.status().message().size());
  }
  bytes += static_cast<int64_t>(status.chunk_values.capacity() *
                                (sizeof(ChunkValue) - sizeof(Value)));
  for (const ChunkValue& chunk : status.chunk_values) {
    bytes += ValueBytes(chunk.value);
  }
  return bytes;
}

}  // namespace

void RateMeter::Add(absl::Time now, absl::Time start, int64_t indices) {
  const absl::Duration kBucket = kRateWindow / kBuckets;
  int64_t bucket = (now - absl::UnixEpoch()) / kBucket;
  if (empty_) {
    newest_ = bucket;
    empty_ = false;
  }
  if (bucket > newest_) {
    // Buckets that fell out of the window start over.
    const int64_t stale = std::min<int64_t>(bucket - newest_, kBuckets);
    for (int64_t i = 1; i <= stale; ++i) {
      int64_t& count =
          counts_[((newest_ + i) % kBuckets + kBuckets) % kBuckets];
      in_window_ -= count;
      count = 0;
    }
    newest_ = bucket;
  } else {
    bucket = newest_;  // time never runs backwards here
  }
  counts_[(bucket % kBuckets + kBuckets) % kBuckets] += indices;
  in_window_ += indices;
  const absl::Duration window =
      std::clamp(now - start, absl::Milliseconds(1), kRateWindow);
  rate_ = static_cast<double>(in_window_) / absl::ToDoubleSeconds(window);
}

void RecentAttempts::Add(AttemptRecord record) {
  if (ring_.size() < kKept) {
    ring_.push_back(std::move(record));
    return;
  }
  ring_[next_] = std::move(record);
  next_ = (next_ + 1) % kKept;
}

std::vector<ChunkAttempt> RecentAttempts::View(
    const WorkerRegistry& workers) const {
  std::vector<ChunkAttempt> out;
  out.reserve(ring_.size());
  for (size_t i = 0; i < ring_.size(); ++i) {
    const AttemptRecord& record = ring_[(next_ + i) % ring_.size()];
    out.push_back({record.begin, record.end, record.attempt,
                   workers.NameOf(record.worker), record.kernel_time,
                   record.error, record.finished});
  }
  return out;
}

JobProgress Progress(const ScheduledJob& job) {
  if (job.final_status != nullptr) return job.final_status->progress;
  const ChunkLedger& ledger = job.ledger;
  JobProgress progress;
  progress.indices_total = job.spec->end - job.spec->begin;
  progress.indices_done = ledger.indices_done();
  progress.chunks_done = ledger.chunks_done();
  progress.chunks_in_flight = static_cast<int64_t>(ledger.in_flight().size());
  progress.attempts_failed = ledger.attempts_failed();
  progress.chunks_requeued = ledger.chunks_requeued();
  progress.rate = job.state == JobState::kRunning ? job.rate.rate() : 0;
  return progress;
}

std::string WaitingReason(const ScheduledJob& job,
                          const WorkerRegistry& workers) {
  if (job.ended()) return "";
  if (!job.ledger.HasWork()) {
    // Handed out, not started: queued on workers behind other chunks.
    return job.state == JobState::kQueued
               ? "its chunks wait in busy workers' queues"
               : "";
  }
  if (workers.empty()) return "waiting for a worker to connect";
  if (std::string problem =
          workers.Unrunnable(*job.spec, job.Fitting(), job.refusal);
      !problem.empty()) {
    return problem;
  }
  return job.state == JobState::kQueued ? "waiting for a free slot" : "";
}

JobStatus StatusOf(const ScheduledJob& job, const WorkerRegistry& workers,
                   bool with_recent_chunks, TaskPage tasks) {
  JobStatus out = job.final_view != nullptr
                      ? *job.final_view
                      : LiveStatus(job, WaitingReason(job, workers));
  if (job.final_status != nullptr) {
    const std::vector<TaskResult>& all = job.final_status->task_results;
    const auto total = static_cast<int64_t>(all.size());
    const int64_t first = std::clamp<int64_t>(tasks.first, 0, total);
    const int64_t count = std::clamp<int64_t>(tasks.count, 0, total - first);
    out.task_results.assign(all.begin() + first, all.begin() + first + count);
    out.first_task = first;
  }
  if (with_recent_chunks) out.recent_chunks = job.recent.View(workers);
  return out;
}

int64_t KeptBytes(const ScheduledJob& job) {
  int64_t bytes =
      static_cast<int64_t>(sizeof(ScheduledJob)) + SpecBytes(*job.spec);
  if (job.final_status != nullptr) bytes += StatusBytes(*job.final_status);
  if (job.final_view != nullptr && job.final_view != job.final_status) {
    bytes += StatusBytes(*job.final_view);
  }
  return bytes;
}

std::shared_ptr<const JobStatus> StatusView(const ScheduledJob& job,
                                            const WorkerRegistry& workers) {
  if (job.final_view != nullptr) return job.final_view;
  return std::make_shared<const JobStatus>(
      LiveStatus(job, WaitingReason(job, workers)));
}

JobStatus FinalStatus(const ScheduledJob& job) {
  JobStatus out = LiveStatus(job, "");
  if (job.state == JobState::kSucceeded) {
    out.value = job.result.value();
    out.chunk_values = job.result.chunk_values();
    out.task_results = job.result.task_results();
  }
  return out;
}

std::shared_ptr<const JobStatus> WithoutTaskResults(
    std::shared_ptr<const JobStatus> status) {
  if (status->task_results.empty()) return status;
  auto view = std::make_shared<JobStatus>();
  const JobStatus& full = *status;
  view->id = full.id;
  view->spec = full.spec;
  view->state = full.state;
  view->progress = full.progress;
  view->value = full.value;
  view->chunk_values = full.chunk_values;
  view->error = full.error;
  view->waiting_reason = full.waiting_reason;
  view->submit_time = full.submit_time;
  view->start_time = full.start_time;
  view->end_time = full.end_time;
  view->recent_chunks = full.recent_chunks;
  view->task_count = full.task_count;
  return view;
}

JobEvent CatchUpEvent(const ScheduledJob& job, const WorkerRegistry& workers) {
  JobEvent event;
  event.job = job.id;
  event.state = job.state;
  event.progress = Progress(job);
  event.status = StatusView(job, workers);
  if (job.final_status != nullptr) {
    if (!job.final_status->task_results.empty()) {
      event.tasks.push_back(
          {0, std::shared_ptr<const std::vector<TaskResult>>(
                  job.final_status, &job.final_status->task_results)});
    }
  } else {
    event.tasks = job.result.task_runs();
  }
  return event;
}

JobEvent& EventLog::Changed(ScheduledJob& job) {
  if (job.event_batch != batch_) {
    job.event_batch = batch_;
    job.event_index = events_.size();
    events_.emplace_back().job = job.id;
  }
  JobEvent& event = events_[job.event_index];
  event.state = job.state;
  event.progress = Progress(job);
  return event;
}

void EventLog::StateChanged(ScheduledJob& job) {
  Changed(job);
  if (job.state_changed) return;
  job.state_changed = true;
  state_changed_.push_back(&job);
}

void EventLog::Settle(const WorkerRegistry& workers) {
  for (ScheduledJob* job : state_changed_) {
    Changed(*job).status = StatusView(*job, workers);
    job->state_changed = false;
  }
  state_changed_.clear();
}

std::vector<JobEvent> EventLog::Take() {
  batch_ += 1;
  return std::exchange(events_, {});
}

}  // namespace pfor::coordinator
