// A fleet of simulated workers against a real coordinator: one process
// holds many worker links over gRPC (the worker's own link code, one TCP
// connection each unless told otherwise), each announcing the `sleep`
// kernel on a few slots. Their chunks use no CPU: a chunk's value comes from
// the real sleep kernel run with us=0, and its result goes back when a timer
// says its sleep would have ended. Then it submits one sleep job of
// streams x slots x rounds one-index chunks and reports how busy the slots
// were, the dispatch rate, and the coordinator's CPU time and memory.
//
//   fleet_bench --coordinator 127.0.0.1:7070 --coordinator-pid PID
//   fleet_bench --coordinator 127.0.0.1:7070 --streams 10000 --json
//
// Slot utilisation = the slot time of the chunks that completed / (slots x
// the job's time from submit to end, as the coordinator stamped them). A
// slot whose chunk ends starts the next chunk it holds at that moment, as a
// worker would, so only the coordinator's dispatch (and the loopback) can
// keep a slot waiting. Exit status 1 when the job fails, its result is not
// the number of indices, or an index never ran.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc_link.h"
#include "grpcpp/grpcpp.h"
#include "kernel_call.h"
#include "nlohmann/json.hpp"
#include "pfor/builtin_kernels.h"
#include "pfor/common/link.h"
#include "pfor/common/rpc.h"
#include "pfor/common/wire_job.h"
#include "pfor/v1/coordinator.grpc.pb.h"
#include "prefetch.h"
#include "process_usage.h"

namespace pfor {
namespace {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

constexpr char kSleep[] = "sleep";

struct FleetOptions {
  std::string coordinator;
  int coordinator_pid = 0;
  int streams = 1000;
  int slots = 4;
  int connections = 0;  // 0: one per stream
  absl::Duration chunk_time = absl::Milliseconds(200);
  int rounds = 25;
  absl::Duration connect_timeout = absl::Seconds(300);
  bool json = false;
};

// A job as the simulated workers hold it.
struct SimJob {
  // The job with us=0: running its kernel gives a chunk's value at once.
  std::shared_ptr<const worker::JobContext> instant;
  // How long each index would sleep; zero for other kernels (which fail).
  absl::Duration per_index;
};

struct Held {
  uint64_t id = 0;  // the fleet's number for this copy, for its timer
  AttemptRef attempt;
  int64_t end = 0;
  absl::StatusOr<ChunkOutput> output = absl::UnknownError("not run");
  std::chrono::nanoseconds duration{0};
  SteadyTime arrived;
  SteadyTime start;  // running chunks only
};

class SimWorker;

// What the whole fleet counts. Thread-safe.
struct FleetCounters {
  std::atomic<int> welcomed{0};
  std::atomic<int> closed{0};
  std::atomic<int> lost{0};  // links closed before the fleet closed them
  std::atomic<int64_t> attempts{0};
  std::atomic<int64_t> results{0};
  std::atomic<int64_t> dropped{0};  // ended or cancelled before their end
  std::atomic<int64_t> busy_ns{0};  // slot time of completed chunks
  std::atomic<int> running{0};
  std::atomic<int> peak_running{0};
  std::atomic<int64_t> all_busy_ns{-1};  // first time every slot ran, since t0
  SteadyTime t0 = SteadyClock::now();
  std::mutex mu;
  std::string first_loss;  // guarded by mu
  // Completed runs per index of the job (its range starts at 0).
  std::vector<int32_t> completions;  // guarded by mu
  int total_slots = 0;
};

// Chunk ends, in time order, on one thread that sleeps between them.
class Timers {
 public:
  explicit Timers(std::vector<std::unique_ptr<SimWorker>>& workers)
      : workers_(workers), thread_([this] { Loop(); }) {}
  ~Timers() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void Add(SteadyTime due, int worker, uint64_t id) {
    bool earliest;
    {
      std::lock_guard lock(mu_);
      earliest = heap_.empty() || due < heap_.top().due;
      heap_.push({due, worker, id});
    }
    if (earliest) wake_.notify_one();
  }

 private:
  struct Entry {
    SteadyTime due;
    int worker;
    uint64_t id;
    bool operator>(const Entry& other) const { return due > other.due; }
  };
  void Loop();

  std::vector<std::unique_ptr<SimWorker>>& workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

// One simulated worker: one link, `slots` slots of the threads executor,
// credits as the real worker's engine asks for them (worker/src/prefetch.h).
class SimWorker final : public WorkerLinkHandler {
 public:
  SimWorker(int index, int slots, FleetCounters& counters,
            const KernelRegistry& kernels)
      : index_(index),
        slots_(slots),
        counters_(counters),
        kernels_(kernels),
        prefetch_(slots, -1, absl::Milliseconds(2)) {}

  void set_timers(Timers* timers) { timers_ = timers; }

  void Open(const WorkerLinkOpener& opener, const KernelInfo& sleep) {
    WorkerMessage hello;
    hello.hello.emplace();
    hello.hello->name = absl::StrCat("sim-", index_);
    // The coordinator takes only workers of its own version.
    hello.hello->version = PFOR_VERSION;
    hello.hello->slots[static_cast<int>(ExecutorKind::kThreads)] = slots_;
    hello.hello->kernels = {sleep};
    {
      std::lock_guard lock(mu_);
      AskLocked(hello);
      last_send_ = SteadyClock::now();
    }
    std::shared_ptr<WorkerLink> link = opener(std::move(hello), this);
    std::lock_guard lock(mu_);
    link_ = std::move(link);
    // Whatever came before the link was known here goes now.
    SendLocked();
  }

  void OnMessage(CoordinatorMessage message) override {
    const SteadyTime now = SteadyClock::now();
    std::lock_guard lock(mu_);
    if (message.welcome) {
      heartbeat_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
          absl::ToChronoNanoseconds(message.welcome->heartbeat_interval));
      counters_.welcomed.fetch_add(1);
    }
    for (std::shared_ptr<const JobDefinition>& definition : message.jobs) {
      if (definition != nullptr) AddJobLocked(std::move(definition));
    }
    for (ChunkAssignment& chunk : message.chunks) ReceiveLocked(chunk, now);
    for (uint64_t job : message.ended_jobs) {
      DropLocked([job](const Held& held) { return held.attempt.job == job; });
      jobs_.erase(job);
    }
    for (const AttemptRef& attempt : message.cancelled) {
      DropLocked(
          [&attempt](const Held& held) { return held.attempt == attempt; });
    }
    SendLocked();
  }

  void OnClosed(const absl::Status& status) override {
    std::lock_guard lock(mu_);
    closed_ = true;
    counters_.closed.fetch_add(1);
    if (!closing_) {
      counters_.lost.fetch_add(1);
      std::lock_guard counters_lock(counters_.mu);
      if (counters_.first_loss.empty()) {
        counters_.first_loss =
            absl::StrCat("stream ", index_, ": ", status.ToString());
      }
    }
  }

  // The timer of the chunk copies `ids` (this worker's) went off at `due`.
  void Finish(const std::vector<uint64_t>& ids, SteadyTime due) {
    std::lock_guard lock(mu_);
    for (uint64_t id : ids) {
      auto it = std::find_if(running_.begin(), running_.end(),
                             [id](const Held& held) { return held.id == id; });
      if (it == running_.end()) continue;  // dropped meanwhile
      Held held = std::move(*it);
      running_.erase(it);
      counters_.running.fetch_sub(1);
      load_ -= 1;
      counters_.results.fetch_add(1);
      if (held.output.ok()) {
        counters_.busy_ns.fetch_add(held.duration.count());
        CountCompletion(held);
      }
      prefetch_.Observe(absl::FromChrono(held.duration));
      outbox_.results.push_back({held.attempt, std::move(held.output),
                                 absl::FromChrono(held.duration)});
      // The slot takes the next chunk it holds when this one ends.
      if (!queued_.empty()) {
        Held next = std::move(queued_.front());
        queued_.pop_front();
        StartLocked(std::move(next), std::max(due, next.arrived));
      }
    }
    SendLocked();
  }

  // Sends a heartbeat when nothing went out for an interval, as the
  // worker's engine does.
  void Heartbeat(SteadyTime now) {
    std::lock_guard lock(mu_);
    if (link_ == nullptr || closed_ || now - last_send_ < heartbeat_) {
      return;
    }
    last_send_ = now;
    link_->Send(WorkerMessage());
  }

  void CloseWrites() {
    std::lock_guard lock(mu_);
    closing_ = true;
    if (link_ != nullptr && !closed_) link_->CloseWrites();
  }

  // Lets the link go on the caller's thread (never on one of gRPC's).
  void DropLink() {
    std::shared_ptr<WorkerLink> link;
    std::lock_guard lock(mu_);
    closing_ = true;
    link = std::move(link_);
  }

 private:
  void AddJobLocked(std::shared_ptr<const JobDefinition> definition) {
    SimJob job;
    auto instant = std::make_shared<JobDefinition>(*definition);
    if (definition->kernel == kSleep) {
      job.per_index = absl::Microseconds(definition->params.Int("us"));
      std::map<std::string, ParamValue> values = definition->params.values();
      values["us"] = int64_t{0};
      instant->params = Params(std::move(values));
    }
    job.instant = worker::MakeJobContext(std::move(instant), kernels_);
    jobs_[definition->job] = std::move(job);
  }

  void ReceiveLocked(ChunkAssignment& chunk, SteadyTime now) {
    counters_.attempts.fetch_add(1);
    asked_ = std::max(0, asked_ - 1);
    load_ += 1;
    Held held;
    held.attempt = chunk.attempt;
    held.end = chunk.end;
    held.arrived = now;
    auto job = jobs_.find(chunk.attempt.job);
    if (job == jobs_.end()) {
      held.output = absl::InternalError("chunk of an undefined job");
    } else {
      const worker::ChunkTask task{job->second.instant, chunk.attempt.begin,
                                   chunk.end,           chunk.attempt.attempt,
                                   chunk.index,         std::move(chunk.tasks),
                                   chunk.first_task};
      const std::atomic<bool> never{false};
      held.output = worker::RunChunk(task, never);
      held.duration = absl::ToChronoNanoseconds(
          job->second.per_index * (chunk.end - chunk.attempt.begin));
    }
    if (static_cast<int>(running_.size()) < slots_) {
      StartLocked(std::move(held), now);
    } else {
      queued_.push_back(std::move(held));
    }
  }

  void StartLocked(Held held, SteadyTime at) {
    held.id = next_id_++;
    held.start = at;
    timers_->Add(at + held.duration, index_, held.id);
    running_.push_back(std::move(held));
    const int running = counters_.running.fetch_add(1) + 1;
    int peak = counters_.peak_running.load();
    while (running > peak &&
           !counters_.peak_running.compare_exchange_weak(peak, running)) {
    }
    if (running == counters_.total_slots) {
      int64_t unset = -1;
      counters_.all_busy_ns.compare_exchange_strong(
          unset, std::chrono::duration_cast<std::chrono::nanoseconds>(
                     at - counters_.t0)
                     .count());
    }
  }

  template <typename Match>
  void DropLocked(Match match) {
    const auto before = queued_.size() + running_.size();
    std::erase_if(queued_, match);
    const auto running_before = running_.size();
    std::erase_if(running_, match);
    const int stopped = static_cast<int>(running_before - running_.size());
    counters_.running.fetch_sub(stopped);
    const int dropped =
        static_cast<int>(before - queued_.size() - running_.size());
    load_ -= dropped;
    counters_.dropped.fetch_add(dropped);
    // Freed slots take queued chunks at once.
    const SteadyTime now = SteadyClock::now();
    while (static_cast<int>(running_.size()) < slots_ && !queued_.empty()) {
      Held next = std::move(queued_.front());
      queued_.pop_front();
      StartLocked(std::move(next), now);
    }
  }

  void CountCompletion(const Held& held) {
    std::lock_guard lock(counters_.mu);
    const auto size = static_cast<int64_t>(counters_.completions.size());
    for (int64_t i = std::max<int64_t>(held.attempt.begin, 0);
         i < std::min(held.end, size); ++i) {
      counters_.completions[i] += 1;
    }
  }

  void AskLocked(WorkerMessage& message) {
    const int missing = prefetch_.Wanted() - load_ - asked_;
    if (missing <= 0) return;
    asked_ += missing;
    message.credits[static_cast<int>(ExecutorKind::kThreads)] += missing;
  }

  // Sends what is queued, with credits for what the slots will want.
  void SendLocked() {
    AskLocked(outbox_);
    if (link_ == nullptr || closed_ || outbox_.empty()) return;
    last_send_ = SteadyClock::now();
    // Send only queues: it never calls back into this worker.
    link_->Send(std::exchange(outbox_, WorkerMessage()));
  }

  const int index_;
  const int slots_;
  FleetCounters& counters_;
  const KernelRegistry& kernels_;
  Timers* timers_ = nullptr;

  std::mutex mu_;
  std::shared_ptr<WorkerLink> link_;  // guarded by mu_
  bool closing_ = false;              // guarded by mu_
  bool closed_ = false;               // guarded by mu_
  std::chrono::nanoseconds heartbeat_ = std::chrono::seconds(1);
  SteadyTime last_send_;             // guarded by mu_
  worker::Prefetch prefetch_;        // guarded by mu_
  int load_ = 0;                     // guarded by mu_
  int asked_ = 0;                    // guarded by mu_
  uint64_t next_id_ = 1;             // guarded by mu_
  std::map<uint64_t, SimJob> jobs_;  // guarded by mu_
  std::vector<Held> running_;        // guarded by mu_
  std::deque<Held> queued_;          // guarded by mu_
  WorkerMessage outbox_;             // guarded by mu_
};

void Timers::Loop() {
  constexpr auto kHeartbeatScan = std::chrono::milliseconds(250);
  SteadyTime next_scan = SteadyClock::now() + kHeartbeatScan;
  std::vector<Entry> due;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const SteadyTime until =
        heap_.empty() ? next_scan : std::min(next_scan, heap_.top().due);
    wake_.wait_until(lock, until, [&] {
      return stopping_ || (!heap_.empty() && heap_.top().due < until);
    });
    const SteadyTime now = SteadyClock::now();
    due.clear();
    while (!heap_.empty() && heap_.top().due <= now) {
      due.push_back(heap_.top());
      heap_.pop();
    }
    lock.unlock();
    // One message per worker for the chunks that ended together.
    std::stable_sort(
        due.begin(), due.end(),
        [](const Entry& a, const Entry& b) { return a.worker < b.worker; });
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < due.size();) {
      ids.clear();
      size_t j = i;
      for (; j < due.size() && due[j].worker == due[i].worker; ++j) {
        ids.push_back(due[j].id);
      }
      workers_[due[i].worker]->Finish(ids, due[j - 1].due);
      i = j;
    }
    if (now >= next_scan) {
      for (auto& worker : workers_) worker->Heartbeat(now);
      next_scan = now + kHeartbeatScan;
    }
    lock.lock();
  }
}

std::chrono::system_clock::time_point Deadline(absl::Duration timeout) {
  return std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout);
}

absl::StatusOr<JobStatus> SubmitAndWait(v1::Coordinator::Stub& stub,
                                        const JobSpec& spec) {
  v1::SubmitJobRequest request;
  ToProto(spec, *request.mutable_spec());
  v1::SubmitJobResponse response;
  grpc::ClientContext submit;
  submit.set_deadline(Deadline(absl::Seconds(30)));
  if (grpc::Status s = stub.SubmitJob(&submit, request, &response); !s.ok()) {
    return FromGrpcStatus(s);
  }
  v1::GetJobRequest get;
  get.set_job_id(response.job().id());
  while (true) {
    v1::Job job;
    grpc::ClientContext context;
    context.set_deadline(Deadline(absl::Seconds(30)));
    if (grpc::Status s = stub.GetJob(&context, get, &job); !s.ok()) {
      return FromGrpcStatus(s);
    }
    absl::StatusOr<JobStatus> status = FromProto(job);
    if (!status.ok() || status->finished()) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

double Mib(int64_t kb) { return static_cast<double>(kb) / 1024.0; }

void PrintReport(const nlohmann::json& report, bool json) {
  if (report.contains("error")) {
    std::fprintf(stderr, "fleet_bench: %s\n",
                 report["error"].get<std::string>().c_str());
  }
  if (json) {
    std::printf("%s\n", report.dump().c_str());
    return;
  }
  std::printf(
      "fleet: %d streams x %d slots = %d slots on %d connections, chunks of "
      "%.0f ms\n",
      report["streams"].get<int>(), report["slots_per_stream"].get<int>(),
      report["slots"].get<int>(), report["connections"].get<int>(),
      report["chunk_time_s"].get<double>() * 1e3);
  std::printf("connected: %d streams in %.2f s", report["connected"].get<int>(),
              report["connect_s"].get<double>());
  if (report.contains("coordinator_idle_rss_mib")) {
    std::printf("; coordinator RSS %.1f MiB with them idle",
                report["coordinator_idle_rss_mib"].get<double>());
  }
  std::printf("\n");
  if (report.contains("job_s")) {
    std::printf(
        "job: %ld one-index chunks in %.3f s, %s, result %ld; %ld attempts, "
        "%ld dropped, %ld indices ran twice, %d streams lost\n",
        report["chunks"].get<int64_t>(), report["job_s"].get<double>(),
        report["state"].get<std::string>().c_str(),
        report["result"].get<int64_t>(), report["attempts"].get<int64_t>(),
        report["dropped"].get<int64_t>(), report["extra_runs"].get<int64_t>(),
        report["lost_streams"].get<int>());
    std::printf("slot utilisation: %.1f %%",
                report["utilisation"].get<double>() * 100);
    if (report.contains("all_slots_busy_after_s")) {
      std::printf(" (every slot busy %.3f s after the submit)",
                  report["all_slots_busy_after_s"].get<double>());
    }
    std::printf("\ndispatch: %.0f chunks/s over the job\n",
                report["dispatch_per_s"].get<double>());
    if (report.contains("coordinator_cpu_s")) {
      const double cpu = report["coordinator_cpu_s"].get<double>();
      std::printf(
          "coordinator: %.2f s CPU during the job (%.0f %% of one core), RSS "
          "%.1f MiB, peak %.1f MiB\n",
          cpu, 100 * cpu / report["job_s"].get<double>(),
          report["coordinator_rss_mib"].get<double>(),
          report["coordinator_peak_rss_mib"].get<double>());
    }
    std::printf("fleet_bench itself: %.2f s CPU during the job\n",
                report["fleet_cpu_s"].get<double>());
  }
}

int Run(const FleetOptions& options) {
  RaiseFileLimit();
  KernelRegistry builtins;
  if (absl::Status s = RegisterBuiltinKernels(builtins); !s.ok()) {
    std::fprintf(stderr, "fleet_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  const KernelDef& sleep_def = *builtins.Find(kSleep);
  KernelRegistry kernels;
  (void)kernels.Add(sleep_def);
  const KernelInfo sleep{sleep_def.name,
                         sleep_def.help,
                         sleep_def.params,
                         {ExecutorKind::kThreads}};

  const int connections = options.connections > 0
                              ? std::min(options.connections, options.streams)
                              : options.streams;
  const int64_t chunks =
      int64_t{options.streams} * options.slots * options.rounds;
  FleetCounters counters;
  counters.total_slots = options.streams * options.slots;
  counters.completions.assign(chunks, 0);

  std::vector<std::unique_ptr<SimWorker>> workers;
  for (int i = 0; i < options.streams; ++i) {
    workers.push_back(
        std::make_unique<SimWorker>(i, options.slots, counters, kernels));
  }
  int status = 0;
  {
    Timers timers(workers);
    for (auto& worker : workers) worker->set_timers(&timers);
    std::vector<WorkerLinkOpener> openers;
    for (int i = 0; i < connections; ++i) {
      // Plaintext, no token: a coordinator on loopback without tokens.
      absl::StatusOr<WorkerLinkOpener> opener = worker::GrpcLinkOpener(
          options.coordinator, {}, {.own_connection = connections > 1});
      if (!opener.ok()) {
        std::cerr << "fleet_bench: " << opener.status().message() << "\n";
        return 2;
      }
      openers.push_back(*std::move(opener));
    }
    const absl::Time connect_start = absl::Now();
    for (int i = 0; i < options.streams; ++i) {
      workers[i]->Open(openers[i % connections], sleep);
    }
    const absl::Time connect_deadline = connect_start + options.connect_timeout;
    while (counters.welcomed.load() + counters.lost.load() < options.streams &&
           absl::Now() < connect_deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    const double connect_seconds =
        absl::ToDoubleSeconds(absl::Now() - connect_start);
    const ProcessUsage idle = ReadUsage(options.coordinator_pid);

    nlohmann::json report = {
        {"streams", options.streams},
        {"slots_per_stream", options.slots},
        {"slots", counters.total_slots},
        {"connections", connections},
        {"chunk_time_s", absl::ToDoubleSeconds(options.chunk_time)},
        {"chunks", chunks},
        {"connected", counters.welcomed.load()},
        {"connect_s", connect_seconds},
    };
    if (idle.rss_kb >= 0) report["coordinator_idle_rss_mib"] = Mib(idle.rss_kb);

    if (counters.welcomed.load() < options.streams) {
      std::lock_guard lock(counters.mu);
      report["error"] = absl::StrFormat(
          "only %d of %d streams were welcomed within %s (%s); raise "
          "--connect-timeout or the open-file limits (ulimit -n)",
          counters.welcomed.load(), options.streams,
          absl::FormatDuration(options.connect_timeout),
          counters.first_loss.empty() ? "no stream closed"
                                      : counters.first_loss);
      status = 1;
    } else {
      auto channel = grpc::CreateChannel(options.coordinator,
                                         grpc::InsecureChannelCredentials());
      auto stub = v1::Coordinator::NewStub(channel);
      JobSpec spec;
      spec.kernel = kSleep;
      spec.begin = 0;
      spec.end = chunks;
      spec.params["us"] = absl::ToInt64Microseconds(options.chunk_time);
      spec.chunks = ChunkPolicy::Fixed(1);
      spec.name = "fleet";
      const double cpu_before = OwnCpuSeconds();
      const ProcessUsage before = ReadUsage(options.coordinator_pid);
      const SteadyTime submitted = SteadyClock::now();
      absl::StatusOr<JobStatus> job = SubmitAndWait(*stub, spec);
      const ProcessUsage after = ReadUsage(options.coordinator_pid);
      const double own_cpu = OwnCpuSeconds() - cpu_before;
      if (!job.ok()) {
        report["error"] = absl::StrCat("the job: ", job.status().ToString());
        status = 1;
      } else {
        const double seconds =
            absl::ToDoubleSeconds(job->end_time - job->submit_time);
        const int64_t result =
            job->value && std::holds_alternative<int64_t>(*job->value)
                ? std::get<int64_t>(*job->value)
                : -1;
        int64_t never_ran = 0;
        int64_t extra_runs = 0;
        {
          std::lock_guard lock(counters.mu);
          for (int32_t runs : counters.completions) {
            if (runs == 0) ++never_ran;
            if (runs > 1) extra_runs += runs - 1;
          }
        }
        const double busy = static_cast<double>(counters.busy_ns.load()) / 1e9;
        report["state"] = JobStateName(job->state);
        report["result"] = result;
        report["job_s"] = seconds;
        report["utilisation"] = busy / (counters.total_slots * seconds);
        report["dispatch_per_s"] = static_cast<double>(chunks) / seconds;
        report["attempts"] = counters.attempts.load();
        report["results"] = counters.results.load();
        report["dropped"] = counters.dropped.load();
        report["extra_runs"] = extra_runs;
        report["never_ran"] = never_ran;
        report["peak_running"] = counters.peak_running.load();
        const int64_t all_busy = counters.all_busy_ns.load();
        if (all_busy >= 0) {
          report["all_slots_busy_after_s"] =
              static_cast<double>(all_busy) / 1e9 -
              std::chrono::duration<double>(submitted - counters.t0).count();
        }
        report["lost_streams"] = counters.lost.load();
        report["fleet_cpu_s"] = own_cpu;
        if (before.cpu_seconds >= 0 && after.cpu_seconds >= 0) {
          report["coordinator_cpu_s"] = after.cpu_seconds - before.cpu_seconds;
          report["coordinator_rss_mib"] = Mib(after.rss_kb);
          report["coordinator_peak_rss_mib"] = Mib(after.peak_rss_kb);
        }
        if (job->state != JobState::kSucceeded) {
          report["error"] = absl::StrCat(
              "the job ended ", JobStateName(job->state), ": ", job->error);
          status = 1;
        } else if (result != chunks || never_ran != 0) {
          report["error"] = absl::StrFormat(
              "the job's result is %d for %d indices, and %d indices never "
              "ran",
              result, chunks, never_ran);
          status = 1;
        }
      }
    }

    // Closing: chunks ended, timers stopped, then the links, on this thread.
    for (auto& worker : workers) worker->CloseWrites();
    const absl::Time close_deadline = absl::Now() + absl::Seconds(10);
    while (counters.closed.load() < options.streams &&
           absl::Now() < close_deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    for (auto& worker : workers) worker->DropLink();
    openers.clear();
    PrintReport(report, options.json);
  }
  return status;
}

}  // namespace
}  // namespace pfor

int main(int argc, char** argv) {
  CLI::App app{
      "fleet_bench: many simulated workers (one gRPC link each, chunks "
      "answered on timers) against a running coordinator; reports slot "
      "utilisation, dispatch rate, and the coordinator's CPU and memory"};
  pfor::FleetOptions options;
  std::string chunk_time = "200ms";
  std::string connect_timeout = "300s";
  app.add_option("--coordinator", options.coordinator,
                 "HOST:PORT of a running coordinator with no other workers")
      ->required();
  app.add_option("--coordinator-pid", options.coordinator_pid,
                 "its process id, to report its CPU time and memory (from "
                 "/proc)");
  app.add_option("--streams", options.streams,
                 "simulated workers, one link each")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--slots", options.slots, "slots per simulated worker")
      ->check(CLI::Range(1, 1024));
  app.add_option("--connections", options.connections,
                 "TCP connections the links share (default: one per link)")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--chunk-time", chunk_time,
                 "how long each one-index chunk sleeps, such as 200ms");
  app.add_option("--rounds", options.rounds,
                 "chunks per slot: the job has streams x slots x rounds")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--connect-timeout", connect_timeout,
                 "how long the streams may take to be welcomed");
  app.add_flag("--json", options.json, "One JSON object instead of text");
  CLI11_PARSE(app, argc, argv);
  for (auto [text, out, name] :
       {std::tuple{&chunk_time, &options.chunk_time, "--chunk-time"},
        std::tuple{&connect_timeout, &options.connect_timeout,
                   "--connect-timeout"}}) {
    if (!absl::ParseDuration(*text, out) || *out < absl::ZeroDuration()) {
      std::fprintf(stderr,
                   "fleet_bench: %s %s is not a duration; pass one such as "
                   "200ms or 2s\n",
                   name, text->c_str());
      return 2;
    }
  }
  return pfor::Run(options);
}
