#include "scheduler.h"

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "job_spec_check.h"
#include "pfor/common/wire.h"

namespace pfor::coordinator {
namespace {

constexpr int kDefaultMaxAttempts = 3;
constexpr int kRecentChunks = 64;
constexpr int32_t kMaxSlots = 4096;
constexpr absl::Duration kRateWindow = absl::Seconds(5);

}  // namespace

struct Scheduler::InFlight {
  struct Live {
    WorkerId worker;
    int32_t attempt;
    absl::Time started;
  };
  int64_t end = 0;
  // The chunk's number in its job, in the order chunks were cut.
  int64_t index = 0;
  int32_t attempts_started = 0;
  int32_t failures = 0;
  std::vector<Live> live;
};

struct Scheduler::Job {
  Job(JobId id, v1::JobSpec spec, ChunkSizer sizer, absl::Time now)
      : id(id),
        spec(std::move(spec)),
        reduction(FromProto(this->spec.reduction())),
        sizer(std::move(sizer)),
        result(reduction, this->spec.tasks_size()),
        submit_time(now),
        cursor(this->spec.begin()) {}

  struct Pending {
    int64_t begin;
    InFlight chunk;
  };

  JobId id;
  v1::JobSpec spec;
  Reduction reduction;
  ChunkSizer sizer;
  JobResult result;
  // Set once the parameters are checked against the kernel's declaration.
  std::optional<Params> params;
  // A job that had ended before a restart, as it was then.
  std::optional<v1::Job> frozen;
  // Since when no connected worker could run the job's remaining work.
  absl::Time unrunnable_since = absl::InfiniteFuture();
  int32_t max_attempts = kDefaultMaxAttempts;
  absl::Duration chunk_timeout = absl::InfiniteDuration();

  v1::JobState state = v1::JOB_STATE_QUEUED;
  std::string error;
  absl::Time submit_time;
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();

  // Chunks are cut from here as they are handed out.
  int64_t cursor;
  // Chunks to run again (their worker was lost or the attempt failed).
  std::deque<Pending> retry;
  absl::btree_map<int64_t, InFlight> in_flight;
  int64_t live_attempts = 0;

  // Chunks cut so far: the next chunk's number.
  int64_t chunks_cut = 0;
  int64_t indices_done = 0;
  int64_t chunks_done = 0;
  int64_t attempts_failed = 0;
  int64_t chunks_requeued = 0;
  std::deque<v1::ChunkRecord> recent;
  std::deque<std::pair<absl::Time, int64_t>> done_log;
  int64_t done_in_window = 0;
  double rate = 0;
};

struct Scheduler::Worker {
  WorkerId id;
  WorkerHello hello;
  absl::Time connected;
  absl::Time last_seen;
  // Chunks asked for and not yet sent, per executor.
  std::array<int32_t, kExecutorKinds> credits{};
  bool draining = false;
  int64_t chunks_done = 0;
  // Kernels by name, with the executors (bits by ExecutorIndex) that run
  // them on this worker.
  absl::flat_hash_map<std::string, unsigned> kernels;
  // Jobs whose definition this worker has received.
  absl::flat_hash_set<JobId> known_jobs;
  // Live attempts: (job, chunk begin) -> attempt.
  absl::flat_hash_map<std::pair<JobId, int64_t>, int32_t> live;
};

Scheduler::Scheduler(SchedulerOptions options) : options_(std::move(options)) {}
Scheduler::~Scheduler() = default;

Scheduler::Job* Scheduler::FindJob(JobId id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second.get();
}

Scheduler::Worker* Scheduler::FindWorker(WorkerId id) {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : it->second.get();
}

const v1::KernelInfo* Scheduler::FindKernel(const std::string& name) const {
  auto it = kernels_.find(name);
  return it == kernels_.end() ? nullptr : &it->second.info;
}

void Scheduler::Changed(const Job& job) {
  commands_.changed_jobs.insert(job.id);
}

absl::StatusOr<v1::Job> Scheduler::SubmitJob(const v1::JobSpec& spec,
                                             absl::Time now) {
  if (absl::Status status = ValidateJobSpec(spec); !status.ok()) return status;
  absl::StatusOr<ChunkSizer> sizer =
      ChunkSizer::Create(spec.chunking(), spec.begin(), spec.end());
  if (!sizer.ok()) return sizer.status();
  if (spec.reduction() == v1::REDUCTION_COLLECT &&
      sizer->PlannedChunks() > JobResult::kMaxCollected) {
    return absl::InvalidArgumentError(
        absl::StrCat("collect keeps at most ", JobResult::kMaxCollected,
                     " chunk values but the job has ", sizer->PlannedChunks(),
                     " chunks; use larger chunks or another reduction"));
  }
  std::optional<Params> params;
  if (spec.executor() == v1::EXECUTOR_KIND_COMMAND) {
    params = Params();  // commands take no parameters
  } else if (const v1::KernelInfo* kernel = FindKernel(spec.kernel())) {
    absl::StatusOr<Params> checked = CheckParams(spec, *kernel);
    if (!checked.ok()) return checked.status();
    params = *std::move(checked);
  }
  // With workers connected, a job none of them can run is most likely a
  // mistake: say so now. With none, it waits for them.
  if (!workers_.empty()) {
    v1::JobSpec normalized = spec;
    if (normalized.executor() == v1::EXECUTOR_KIND_UNSPECIFIED) {
      normalized.set_executor(v1::EXECUTOR_KIND_THREADS);
    }
    if (std::string problem = Unrunnable(normalized); !problem.empty()) {
      return absl::FailedPreconditionError(problem);
    }
  }
  if (static_cast<int>(active_.size()) >= options_.max_active_jobs) {
    return absl::ResourceExhaustedError(
        absl::StrCat(options_.max_active_jobs,
                     " jobs are queued or running; wait for some to finish"));
  }

  const JobId id = next_job_id_++;
  auto job = std::make_unique<Job>(id, spec, *std::move(sizer), now);
  job->params = std::move(params);
  if (spec.retry().max_attempts() > 0)
    job->max_attempts = spec.retry().max_attempts();
  if (spec.retry().has_chunk_timeout()) {
    job->chunk_timeout = FromProto(spec.retry().chunk_timeout());
  }
  if (job->spec.reduction() == v1::REDUCTION_UNSPECIFIED) {
    job->spec.set_reduction(v1::REDUCTION_SUM);
  }
  if (job->spec.executor() == v1::EXECUTOR_KIND_UNSPECIFIED) {
    job->spec.set_executor(v1::EXECUTOR_KIND_THREADS);
  }
  Job& ref = *job;
  jobs_.emplace(id, std::move(job));
  active_.push_back(&ref);
  commands_.journal.push_back(JobAccepted{id, ref.spec, now});
  Changed(ref);
  Dispatch(now);
  return Snapshot(ref, false);
}

void Scheduler::RestoreJob(const RecoveredJob& recovered, absl::Time now) {
  const JobId id = recovered.job;
  next_job_id_ = std::max(next_job_id_, id + 1);
  const v1::JobSpec& spec = recovered.spec;
  absl::StatusOr<ChunkSizer> sizer =
      ChunkSizer::Create(spec.chunking(), spec.begin(), spec.end());
  if (!sizer.ok())
    sizer = ChunkSizer::Create(v1::ChunkPolicy(), spec.begin(), spec.end());
  auto job =
      std::make_unique<Job>(id, spec, *std::move(sizer), recovered.submit_time);
  Job& ref = *job;
  jobs_.emplace(id, std::move(job));
  if (recovered.final_state) {
    ref.frozen = *recovered.final_state;
    ref.state = recovered.final_state->state();
    finished_.push_back(id);
    ForgetOldJobs();
    return;
  }
  if (spec.retry().max_attempts() > 0)
    ref.max_attempts = spec.retry().max_attempts();
  if (spec.retry().has_chunk_timeout())
    ref.chunk_timeout = FromProto(spec.retry().chunk_timeout());
  // Completed work counts; the holes between completed chunks (in flight
  // when the coordinator stopped) run again.
  auto count_done = [&](int64_t begin, int64_t end, const v1::Value& value,
                        int64_t chunks) {
    ref.result.Add(begin, end, value).IgnoreError();
    ref.indices_done += end - begin;
    ref.chunks_done += chunks;
  };
  int64_t cursor = spec.begin();
  if (recovered.prefix_value) {
    count_done(spec.begin(), recovered.prefix_end, *recovered.prefix_value,
               recovered.prefix_chunks);
    cursor = recovered.prefix_end;
  }
  for (const ChunkDone& chunk : recovered.chunks) {
    if (chunk.begin > cursor)
      ref.retry.push_back({cursor, InFlight{.end = chunk.begin, .live = {}}});
    count_done(chunk.begin, chunk.end, chunk.value, 1);
    cursor = chunk.end;
  }
  ref.cursor = cursor;
  ref.sizer.ResumeAt(cursor);
  active_.push_back(&ref);
  Changed(ref);
  MaybeSucceed(ref, now);
}

absl::StatusOr<v1::Job> Scheduler::CancelJob(JobId id, absl::Time now) {
  Job* job = FindJob(id);
  if (job == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("job ", id, " does not exist; pfor jobs lists the jobs"));
  }
  if (!IsFinished(id))
    Finish(*job, v1::JOB_STATE_CANCELLED, "cancelled on request", now);
  return Snapshot(*job, false);
}

absl::Status Scheduler::WorkerJoined(WorkerId id, WorkerHello hello,
                                     absl::Time now) {
  int64_t total = 0;
  for (int32_t slots : hello.slots) {
    if (slots < 0 || slots > kMaxSlots) {
      return absl::InvalidArgumentError(absl::StrCat(
          "worker announces ", slots, " slots of one executor; at most ",
          kMaxSlots, " are allowed"));
    }
    total += slots;
  }
  if (total == 0) {
    return absl::InvalidArgumentError(
        "worker announces no slots; start it with --threads or --processes");
  }
  for (const v1::KernelInfo& kernel : hello.kernels) {
    if (absl::Status status = FromProto(kernel.params()).status();
        !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kernel ", kernel.name(),
                       " has a bad parameter list: ", status.message()));
    }
  }
  auto worker = std::make_unique<Worker>();
  worker->id = id;
  worker->connected = now;
  worker->last_seen = now;
  for (const v1::KernelInfo& kernel : hello.kernels) {
    unsigned executors = 0;
    for (int kind : kernel.executors()) {
      if (v1::ExecutorKind_IsValid(kind)) {
        executors |= 1u << ExecutorIndex(static_cast<v1::ExecutorKind>(kind));
      }
    }
    if (!worker->kernels.try_emplace(kernel.name(), executors).second) continue;
    auto [it, inserted] =
        kernels_.try_emplace(kernel.name(), KernelEntry{kernel, 0, {}});
    it->second.workers += 1;
  }
  worker->hello = std::move(hello);
  CountSlots(*worker, +1);
  workers_.emplace(id, std::move(worker));
  Dispatch(now);
  return absl::OkStatus();
}

void Scheduler::CountSlots(const Worker& worker, int sign) {
  for (const auto& [kernel, executors] : worker.kernels) {
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if ((executors >> kind & 1) == 0) continue;
      kernels_[kernel].slots[kind] += sign * worker.hello.slots[kind];
    }
  }
  command_slots_ +=
      sign * worker.hello.slots[ExecutorIndex(v1::EXECUTOR_KIND_COMMAND)];
}

void Scheduler::WorkerSeen(WorkerId id, absl::Time now) {
  if (Worker* worker = FindWorker(id)) worker->last_seen = now;
}

void Scheduler::CreditsGranted(WorkerId id, v1::ExecutorKind executor,
                               int32_t credits, absl::Time now) {
  Worker* worker = FindWorker(id);
  if (worker == nullptr || credits <= 0) return;
  worker->last_seen = now;
  const int kind = ExecutorIndex(executor);
  // Credits beyond what the worker could ever use are a worker bug; cap them
  // so a bad worker cannot hoard a job's chunks.
  const int64_t cap = 2 * int64_t{worker->hello.slots[kind]} + 64;
  worker->credits[kind] = static_cast<int32_t>(
      std::min<int64_t>(cap, int64_t{worker->credits[kind]} + credits));
  if (!worker->draining && worker->hello.slots[kind] > 0) hungry_.insert(id);
  Dispatch(now);
}

void Scheduler::WorkerDraining(WorkerId id, absl::Time now) {
  Worker* worker = FindWorker(id);
  if (worker == nullptr || worker->draining) return;
  worker->draining = true;
  worker->credits.fill(0);
  hungry_.erase(id);
  CountSlots(*worker, -1);
  worker->last_seen = now;
}

void Scheduler::WorkerLost(WorkerId id, const std::string& reason,
                           absl::Time now) {
  Worker* worker = FindWorker(id);
  if (worker == nullptr) return;
  std::vector<AttemptKey> live;
  for (const auto& [chunk, attempt] : worker->live) {
    live.push_back({chunk.first, chunk.second, attempt});
  }
  // Range order keeps retries deterministic.
  std::sort(live.begin(), live.end(),
            [](const AttemptKey& a, const AttemptKey& b) {
              return std::tie(a.job, a.begin) < std::tie(b.job, b.begin);
            });
  const std::string error =
      absl::StrCat("worker ", worker->hello.name,
                   " was lost while running it (", reason, ")");
  for (const AttemptKey& key : live) {
    Job* job = FindJob(key.job);
    if (job == nullptr || IsFinished(key.job)) continue;
    job->chunks_requeued += 1;
    AttemptFailed(*job, key, id, error, absl::ZeroDuration(), now);
  }
  if (!worker->draining) CountSlots(*worker, -1);
  for (const auto& [kernel, executors] : worker->kernels) {
    auto it = kernels_.find(kernel);
    it->second.workers -= 1;
    if (it->second.workers == 0) kernels_.erase(it);
  }
  hungry_.erase(id);
  workers_.erase(id);
  for (Job* job : active_) Changed(*job);
  Dispatch(now);
}

Scheduler::InFlight* Scheduler::RevokeAttempt(Job& job, const AttemptKey& key,
                                              WorkerId worker_id) {
  auto it = job.in_flight.find(key.begin);
  if (it == job.in_flight.end()) return nullptr;
  InFlight& chunk = it->second;
  auto live = std::find_if(
      chunk.live.begin(), chunk.live.end(), [&](const InFlight::Live& l) {
        return l.worker == worker_id && l.attempt == key.attempt;
      });
  if (live == chunk.live.end()) return nullptr;
  chunk.live.erase(live);
  job.live_attempts -= 1;
  if (Worker* worker = FindWorker(worker_id))
    worker->live.erase({key.job, key.begin});
  return &chunk;
}

void Scheduler::ChunkSucceeded(WorkerId worker_id, const AttemptKey& key,
                               const v1::Value& value,
                               absl::Duration kernel_time, absl::Time now) {
  WorkerSeen(worker_id, now);
  Job* job = FindJob(key.job);
  if (job == nullptr || IsFinished(key.job)) return;
  InFlight* chunk = RevokeAttempt(*job, key, worker_id);
  if (chunk == nullptr)
    return;  // a late or losing copy: already counted or requeued
  // First result wins: the other copies are cancelled.
  for (const InFlight::Live& other : chunk->live) {
    commands_.cancel.push_back(
        {other.worker, {key.job, key.begin, other.attempt}});
    if (Worker* worker = FindWorker(other.worker))
      worker->live.erase({key.job, key.begin});
    job->live_attempts -= 1;
  }
  const int64_t end = chunk->end;
  job->in_flight.erase(key.begin);

  const int64_t indices = end - key.begin;
  job->sizer.Observe(indices, kernel_time);
  job->indices_done += indices;
  job->chunks_done += 1;
  if (Worker* worker = FindWorker(worker_id)) worker->chunks_done += 1;

  Record(*job, key, end, worker_id, kernel_time, "");

  commands_.journal.push_back(ChunkDone{key.job, key.begin, end, value});
  job->done_log.emplace_back(now, indices);
  job->done_in_window += indices;
  while (job->done_log.front().first < now - kRateWindow) {
    job->done_in_window -= job->done_log.front().second;
    job->done_log.pop_front();
  }
  const absl::Duration window =
      std::clamp(now - job->start_time, absl::Milliseconds(1), kRateWindow);
  job->rate =
      static_cast<double>(job->done_in_window) / absl::ToDoubleSeconds(window);
  Changed(*job);

  if (absl::Status status = job->result.Add(key.begin, end, value);
      !status.ok()) {
    Finish(*job, v1::JOB_STATE_FAILED,
           absl::StrCat("chunk ", RangeText(key.begin, end), ": ",
                        status.message()),
           now);
    return;
  }
  MaybeSucceed(*job, now);
}

void Scheduler::Record(Job& job, const AttemptKey& key, int64_t end,
                       WorkerId worker_id, absl::Duration kernel_time,
                       const std::string& error) {
  v1::ChunkRecord record;
  record.set_begin(key.begin);
  record.set_end(end);
  record.set_attempt(key.attempt);
  if (Worker* worker = FindWorker(worker_id)) {
    record.set_worker(worker->hello.name);
  }
  *record.mutable_duration() = ToProto(kernel_time);
  record.set_error(error);
  job.recent.push_back(std::move(record));
  if (job.recent.size() > kRecentChunks) job.recent.pop_front();
}

void Scheduler::ChunkFailed(WorkerId worker_id, const AttemptKey& key,
                            const std::string& error,
                            absl::Duration kernel_time, absl::Time now) {
  WorkerSeen(worker_id, now);
  Job* job = FindJob(key.job);
  if (job == nullptr || IsFinished(key.job)) return;
  AttemptFailed(*job, key, worker_id, error, kernel_time, now);
  Dispatch(now);
}

void Scheduler::AttemptFailed(Job& job, const AttemptKey& key,
                              WorkerId worker_id, const std::string& error,
                              absl::Duration kernel_time, absl::Time now) {
  InFlight* chunk = RevokeAttempt(job, key, worker_id);
  if (chunk == nullptr) return;
  job.attempts_failed += 1;
  chunk->failures += 1;

  Record(job, key, chunk->end, worker_id, kernel_time, error);
  Changed(job);

  if (chunk->failures >= job.max_attempts) {
    Finish(
        job, v1::JOB_STATE_FAILED,
        absl::StrCat("chunk ", RangeText(key.begin, chunk->end), " failed ",
                     chunk->failures, chunk->failures == 1 ? " time" : " times",
                     "; last error: ", error),
        now);
    return;
  }
  // Another copy is still running: let it finish.
  if (!chunk->live.empty()) return;
  job.retry.push_back({key.begin, std::move(*chunk)});
  job.in_flight.erase(key.begin);
}

void Scheduler::ChunkReleased(WorkerId worker_id, const AttemptKey& key,
                              absl::Time now) {
  WorkerSeen(worker_id, now);
  Job* job = FindJob(key.job);
  if (job == nullptr || IsFinished(key.job)) return;
  InFlight* chunk = RevokeAttempt(*job, key, worker_id);
  if (chunk == nullptr || !chunk->live.empty()) return;
  job->retry.push_front({key.begin, std::move(*chunk)});
  job->in_flight.erase(key.begin);
  Dispatch(now);
}

void Scheduler::Finish(Job& job, v1::JobState state, const std::string& error,
                       absl::Time now) {
  job.state = state;
  job.error = error;
  job.end_time = now;
  for (const auto& [begin, chunk] : job.in_flight) {
    for (const InFlight::Live& live : chunk.live) {
      if (Worker* worker = FindWorker(live.worker))
        worker->live.erase({job.id, begin});
    }
  }
  job.in_flight.clear();
  job.retry.clear();
  job.live_attempts = 0;
  for (auto& [id, worker] : workers_) {
    if (worker->known_jobs.erase(job.id) > 0)
      commands_.end_job.push_back({id, job.id});
  }
  active_.erase(std::find(active_.begin(), active_.end(), &job));
  finished_.push_back(job.id);
  commands_.journal.push_back(JobEnded{job.id, Snapshot(job, false)});
  Changed(job);
  ForgetOldJobs();
}

void Scheduler::MaybeSucceed(Job& job, absl::Time now) {
  if (job.cursor == job.spec.end() && job.retry.empty() &&
      job.in_flight.empty()) {
    Finish(job, v1::JOB_STATE_SUCCEEDED, "", now);
  }
}

void Scheduler::ForgetOldJobs() {
  while (static_cast<int>(finished_.size()) > options_.max_finished_jobs) {
    jobs_.erase(finished_.front());
    finished_.pop_front();
  }
}

bool Scheduler::IsFinished(JobId id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return true;
  const v1::JobState state = it->second->state;
  return state != v1::JOB_STATE_QUEUED && state != v1::JOB_STATE_RUNNING;
}

bool Scheduler::HasWork(const Job& job) const {
  return !job.retry.empty() || job.cursor < job.spec.end();
}

bool Scheduler::CanRun(const Worker& worker, const Job& job) const {
  const v1::ExecutorKind executor = job.spec.executor();
  if (!job.params.has_value() ||
      worker.hello.slots[ExecutorIndex(executor)] == 0) {
    return false;
  }
  if (executor == v1::EXECUTOR_KIND_COMMAND) return true;
  auto it = worker.kernels.find(job.spec.kernel());
  return it != worker.kernels.end() &&
         (it->second >> ExecutorIndex(executor) & 1) != 0;
}

int64_t Scheduler::SlotsFor(const Job& job) const {
  const int kind = ExecutorIndex(job.spec.executor());
  if (job.spec.executor() == v1::EXECUTOR_KIND_COMMAND) return command_slots_;
  auto it = kernels_.find(job.spec.kernel());
  return it == kernels_.end() ? 0 : it->second.slots[kind];
}

std::string Scheduler::Unrunnable(const v1::JobSpec& spec) const {
  if (workers_.empty()) return "no worker is connected";
  const v1::ExecutorKind executor = spec.executor();
  if (executor == v1::EXECUTOR_KIND_COMMAND) {
    return command_slots_ > 0 ? ""
                              : "no connected worker runs commands; start "
                                "workers with --allow-commands";
  }
  auto it = kernels_.find(spec.kernel());
  if (it == kernels_.end()) {
    std::vector<std::string> names;
    for (const auto& [name, entry] : kernels_) names.push_back(name);
    return absl::StrCat(
        "no connected worker offers kernel '", spec.kernel(),
        "'; offered: ", names.empty() ? "none" : absl::StrJoin(names, ", "),
        ". Check the name, or start a worker that has it");
  }
  if (it->second.slots[ExecutorIndex(executor)] > 0) return "";
  return absl::StrCat("no connected worker has ", ExecutorName(executor),
                      " slots for kernel ", spec.kernel(),
                      executor == v1::EXECUTOR_KIND_PROCESSES
                          ? "; start workers with --processes N"
                          : "; start workers with --threads N");
}

bool Scheduler::EnsureParams(Job& job, absl::Time now) {
  if (job.params) return true;
  if (job.spec.executor() == v1::EXECUTOR_KIND_COMMAND) {
    job.params = Params();
    return true;
  }
  const v1::KernelInfo* kernel = FindKernel(job.spec.kernel());
  if (kernel == nullptr) return false;
  absl::StatusOr<Params> params = CheckParams(job.spec, *kernel);
  if (!params.ok()) {
    Finish(job, v1::JOB_STATE_FAILED, std::string(params.status().message()),
           now);
    return false;
  }
  job.params = *std::move(params);
  return true;
}

Scheduler::Job* Scheduler::PickJob(const Worker& worker) {
  // Fair share: the job with the fewest running attempts goes first; ties go
  // to the oldest job.
  Job* best = nullptr;
  for (Job* job : active_) {
    if (!HasWork(*job) || !CanRun(worker, *job) ||
        worker.credits[ExecutorIndex(job->spec.executor())] <= 0 ||
        (job->spec.max_parallel() > 0 &&
         job->live_attempts >= job->spec.max_parallel())) {
      continue;
    }
    if (best == nullptr || job->live_attempts < best->live_attempts) best = job;
  }
  return best;
}

void Scheduler::Assign(Worker& worker, Job& job, int64_t begin,
                       absl::Time now) {
  InFlight& chunk = job.in_flight.at(begin);
  chunk.attempts_started += 1;
  const AttemptKey key{job.id, begin, chunk.attempts_started};
  chunk.live.push_back({worker.id, key.attempt, now});
  worker.live[{job.id, begin}] = key.attempt;
  job.live_attempts += 1;
  worker.credits[ExecutorIndex(job.spec.executor())] -= 1;
  if (std::all_of(worker.credits.begin(), worker.credits.end(),
                  [](int32_t credits) { return credits <= 0; })) {
    hungry_.erase(worker.id);
  }
  const bool send_definition = worker.known_jobs.insert(job.id).second;
  commands_.assign.push_back(
      {worker.id, key, chunk.end, send_definition, chunk.index});
  if (job.state == v1::JOB_STATE_QUEUED) {
    job.state = v1::JOB_STATE_RUNNING;
    job.start_time = now;
  }
  Changed(job);
}

void Scheduler::Dispatch(absl::Time now) {
  if (hungry_.empty() || active_.empty()) return;
  bool any_work = false;
  for (Job* job : std::vector<Job*>(active_)) {
    any_work = (EnsureParams(*job, now) && HasWork(*job)) || any_work;
  }
  if (!any_work) return;
  // One chunk per worker per round, starting after the last worker served,
  // so scarce chunks spread over workers instead of piling on one.
  bool progress = true;
  while (progress && !hungry_.empty()) {
    progress = false;
    std::vector<WorkerId> order;
    order.reserve(hungry_.size());
    for (auto it = hungry_.upper_bound(last_served_); it != hungry_.end(); ++it)
      order.push_back(*it);
    for (auto it = hungry_.begin(); it != hungry_.end() && *it <= last_served_;
         ++it)
      order.push_back(*it);
    for (WorkerId id : order) {
      Worker& worker = *workers_.at(id);
      Job* job = PickJob(worker);
      if (job == nullptr) continue;
      int64_t begin;
      if (!job->retry.empty()) {
        Job::Pending pending = std::move(job->retry.front());
        job->retry.pop_front();
        begin = pending.begin;
        job->in_flight.emplace(begin, std::move(pending.chunk));
      } else {
        begin = job->cursor;
        job->cursor =
            job->sizer.NextEnd(begin, static_cast<int>(std::clamp<int64_t>(
                                          SlotsFor(*job), 1, INT32_MAX)));
        InFlight& chunk = job->in_flight[begin];
        chunk.end = job->cursor;
        chunk.index = job->chunks_cut++;
      }
      Assign(worker, *job, begin, now);
      last_served_ = id;
      progress = true;
      if (!HasWork(*job) && std::none_of(active_.begin(), active_.end(),
                                         [&](Job* j) { return HasWork(*j); })) {
        return;
      }
    }
  }
}

void Scheduler::StartBackups(absl::Time now) {
  for (WorkerId id : std::vector<WorkerId>(hungry_.begin(), hungry_.end())) {
    Worker& worker = *workers_.at(id);
    // The straggler that has overrun its expected time the most.
    Job* best_job = nullptr;
    int64_t best_begin = 0;
    double best_ratio = 0;
    for (Job* job : active_) {
      if (HasWork(*job) || !CanRun(worker, *job)) continue;
      for (const auto& [begin, chunk] : job->in_flight) {
        if (chunk.live.size() != 1 || chunk.live[0].worker == id) continue;
        const absl::Duration expected = job->sizer.Expected(chunk.end - begin);
        if (expected <= absl::ZeroDuration()) continue;
        const absl::Duration elapsed = now - chunk.live[0].started;
        if (elapsed < options_.straggler_min_time) continue;
        const double ratio = absl::FDivDuration(elapsed, expected);
        if (ratio >= options_.straggler_factor && ratio > best_ratio) {
          best_job = job;
          best_begin = begin;
          best_ratio = ratio;
        }
      }
    }
    if (best_job != nullptr) Assign(worker, *best_job, best_begin, now);
  }
}

void Scheduler::Tick(absl::Time now) {
  std::vector<WorkerId> silent;
  for (const auto& [id, worker] : workers_) {
    if (now - worker->last_seen > options_.heartbeat_timeout)
      silent.push_back(id);
  }
  for (WorkerId id : silent) {
    const std::string reason = absl::StrCat(
        "no message for ", absl::FormatDuration(options_.heartbeat_timeout));
    commands_.disconnect.push_back({id, reason});
    WorkerLost(id, reason, now);
  }

  for (Job* job : std::vector<Job*>(active_)) {
    if (job->chunk_timeout == absl::InfiniteDuration()) continue;
    std::vector<std::pair<WorkerId, AttemptKey>> overdue;
    for (const auto& [begin, chunk] : job->in_flight) {
      for (const InFlight::Live& live : chunk.live) {
        if (now - live.started > job->chunk_timeout) {
          overdue.push_back({live.worker, {job->id, begin, live.attempt}});
        }
      }
    }
    for (const auto& [worker, key] : overdue) {
      if (IsFinished(job->id)) break;
      commands_.cancel.push_back({worker, key});
      AttemptFailed(*job, key, worker,
                    absl::StrCat("timed out after ",
                                 absl::FormatDuration(job->chunk_timeout)),
                    job->chunk_timeout, now);
    }
  }

  // Jobs left with work that no connected worker can do wait, then fail.
  for (Job* job : std::vector<Job*>(active_)) {
    const std::string problem =
        HasWork(*job) ? Unrunnable(job->spec) : std::string();
    if (problem.empty()) {
      job->unrunnable_since = absl::InfiniteFuture();
      continue;
    }
    job->unrunnable_since = std::min(job->unrunnable_since, now);
    if (now - job->unrunnable_since >= options_.unrunnable_timeout) {
      Finish(*job, v1::JOB_STATE_FAILED,
             absl::StrCat("no worker could run it for ",
                          absl::FormatDuration(options_.unrunnable_timeout),
                          ": ", problem),
             now);
    }
  }
  Dispatch(now);
  StartBackups(now);
}

Commands Scheduler::TakeCommands() {
  return std::exchange(commands_, Commands{});
}

std::string Scheduler::WaitingReason(const Job& job) const {
  if (IsFinished(job.id) || !HasWork(job)) return "";
  if (workers_.empty()) return "waiting for a worker to connect";
  if (std::string problem = Unrunnable(job.spec); !problem.empty()) {
    return problem;
  }
  return job.state == v1::JOB_STATE_QUEUED ? "waiting for a free slot" : "";
}

v1::Job Scheduler::Snapshot(const Job& job, bool with_recent_chunks) const {
  if (job.frozen) return *job.frozen;
  v1::Job out;
  out.set_id(job.id);
  *out.mutable_spec() = job.spec;
  out.set_state(job.state);
  v1::JobProgress* progress = out.mutable_progress();
  progress->set_indices_total(job.spec.end() - job.spec.begin());
  progress->set_indices_done(job.indices_done);
  progress->set_chunks_done(job.chunks_done);
  progress->set_chunks_in_flight(static_cast<int64_t>(job.in_flight.size()));
  progress->set_attempts_failed(job.attempts_failed);
  progress->set_chunks_requeued(job.chunks_requeued);
  progress->set_rate(job.state == v1::JOB_STATE_RUNNING ? job.rate : 0);
  if (job.state == v1::JOB_STATE_SUCCEEDED)
    *out.mutable_result() = job.result.ToProto();
  out.set_error(job.error);
  out.set_waiting_reason(WaitingReason(job));
  *out.mutable_submit_time() = ToProto(job.submit_time);
  if (job.start_time != absl::InfinitePast())
    *out.mutable_start_time() = ToProto(job.start_time);
  if (job.end_time != absl::InfinitePast())
    *out.mutable_end_time() = ToProto(job.end_time);
  if (with_recent_chunks) {
    for (const v1::ChunkRecord& record : job.recent)
      *out.add_recent_chunks() = record;
  }
  return out;
}

absl::StatusOr<v1::Job> Scheduler::GetJob(JobId id,
                                          bool with_recent_chunks) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "job ", id,
        id < next_job_id_ ? " is no longer kept" : " does not exist",
        "; pfor jobs lists the jobs"));
  }
  return Snapshot(*it->second, with_recent_chunks);
}

std::vector<v1::Job> Scheduler::ListJobs(int limit) const {
  std::vector<v1::Job> out;
  for (auto it = jobs_.rbegin();
       it != jobs_.rend() && static_cast<int>(out.size()) < limit; ++it) {
    out.push_back(Snapshot(*it->second, false));
  }
  return out;
}

std::vector<v1::WorkerInfo> Scheduler::ListWorkers(absl::Time now) const {
  std::vector<v1::WorkerInfo> out;
  for (const auto& [id, worker] : workers_) {
    v1::WorkerInfo info;
    info.set_id(id);
    info.set_name(worker->hello.name);
    info.set_peer(worker->hello.peer);
    int32_t slots = 0;
    int32_t credits = 0;
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      slots += worker->hello.slots[kind];
      credits += worker->credits[kind];
      if (worker->hello.slots[kind] == 0) continue;
      v1::ExecutorSlots* executor = info.add_executors();
      executor->set_kind(ExecutorAt(kind));
      executor->set_slots(worker->hello.slots[kind]);
    }
    info.set_slots(slots);
    info.set_credits(credits);
    info.set_chunks_in_flight(static_cast<int32_t>(worker->live.size()));
    info.set_chunks_done(worker->chunks_done);
    *info.mutable_connected_time() = ToProto(worker->connected);
    *info.mutable_since_last_message() = ToProto(now - worker->last_seen);
    std::vector<std::string> kernels;
    for (const auto& [kernel, executors] : worker->kernels) {
      kernels.push_back(kernel);
    }
    std::sort(kernels.begin(), kernels.end());
    for (std::string& kernel : kernels) info.add_kernels(std::move(kernel));
    info.set_draining(worker->draining);
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<v1::KernelInfo> Scheduler::ListKernels() const {
  std::vector<v1::KernelInfo> out;
  for (const auto& [name, entry] : kernels_) out.push_back(entry.info);
  return out;
}

const v1::JobSpec* Scheduler::JobSpecFor(JobId id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second->spec;
}

const Params* Scheduler::ParamsFor(JobId id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() || !it->second->params ? nullptr
                                                  : &*it->second->params;
}

}  // namespace pfor::coordinator
