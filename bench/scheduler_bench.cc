// How many chunks per second the scheduler core can hand out.
//
// Drives the I/O-free Scheduler the way the coordinator's host does, with
// simulated workers of one slot each: every iteration completes the oldest
// chunk in flight, gives its worker a credit back and takes the resulting
// commands (the assignment, the journal entry, the job's event). No gRPC,
// no clock, no threads: this is the ceiling the decision logic puts on
// dispatch, before any encoding or network cost.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "scheduler.h"

namespace pfor::coordinator {
namespace {

constexpr char kKernel[] = "ones";
// Large enough that no benchmark run reaches the end of the job.
constexpr int64_t kRangeEnd = int64_t{1} << 60;

struct Running {
  WorkerId worker;
  AttemptRef attempt;
  int64_t end;
};

// Moves the new assignments to the back of `running`; counts them.
int64_t Collect(Scheduler& scheduler, std::deque<Running>& running) {
  Commands commands = scheduler.TakeCommands();
  for (const Commands::Assign& assign : commands.assign) {
    running.push_back({assign.worker, assign.chunk.attempt, assign.chunk.end});
  }
  benchmark::DoNotOptimize(commands.events.data());
  benchmark::DoNotOptimize(commands.journal.data());
  return static_cast<int64_t>(commands.assign.size());
}

// Arguments: number of workers (one slot each), fixed chunk size, tasks per
// chunk (0: a plain job; otherwise a batch, each chunk that many tasks).
void BM_DispatchFixedChunks(benchmark::State& state) {
  const int64_t workers = state.range(0);
  const int64_t chunk_size = state.range(1);
  const int64_t batch = state.range(2);
  Scheduler scheduler;
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  std::deque<Running> running;
  for (WorkerId id = 1; id <= static_cast<WorkerId>(workers); ++id) {
    Hello hello;
    hello.name = absl::StrCat("w", id);
    hello.slots = {1, 0, 0};
    hello.kernels.push_back({.name = kKernel,
                             .help = "",
                             .params = {},
                             .executors = {ExecutorKind::kThreads}});
    if (!scheduler.WorkerJoined(id, std::move(hello), "bench", now).ok()) {
      state.SkipWithError("worker refused");
      return;
    }
    scheduler.CreditsGranted(id, ExecutorKind::kThreads, 1, now);
  }
  auto spec = std::make_shared<JobSpec>();
  spec->kernel = kKernel;
  spec->begin = 0;
  spec->end = kRangeEnd;
  spec->chunks = ChunkPolicy::Fixed(chunk_size);
  if (batch > 0) {
    // A batch big enough for the run: its chunks run `batch` tasks each.
    constexpr int64_t kTasks = 1'000'000;
    spec->end = kTasks;
    spec->chunks = ChunkPolicy::Fixed(batch);
    spec->tasks.resize(kTasks, Task{.range = {0, 1}});
  }
  if (!scheduler.SubmitJob(spec, now).ok()) {
    state.SkipWithError("job refused");
    return;
  }
  Collect(scheduler, running);
  if (static_cast<int64_t>(running.size()) != workers) {
    state.SkipWithError("not every worker got a chunk");
    return;
  }

  int64_t assigned = 0;
  for (auto _ : state) {
    if (running.empty()) {
      state.SkipWithError("the batch ran out of tasks; run fewer iterations");
      break;
    }
    const Running run = running.front();
    running.pop_front();
    // 100k chunks per simulated second: what the rate window sees.
    now += absl::Microseconds(10);
    ChunkResult result;
    result.attempt = run.attempt;
    result.kernel_time = absl::Milliseconds(10);
    if (batch > 0) {
      result.output = ChunkOutput(std::vector<TaskResult>(
          static_cast<size_t>(run.end - run.attempt.begin), Value(int64_t{1})));
    } else {
      result.output = ChunkOutput(Value(run.end - run.attempt.begin));
    }
    scheduler.ChunkFinished(run.worker, std::move(result), now);
    scheduler.CreditsGranted(run.worker, ExecutorKind::kThreads, 1, now);
    assigned += Collect(scheduler, running);
  }
  if (assigned != static_cast<int64_t>(state.iterations()) && batch == 0) {
    state.SkipWithError("a completed chunk was not replaced");
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["workers"] = static_cast<double>(workers);
}

BENCHMARK(BM_DispatchFixedChunks)
    ->ArgNames({"workers", "chunk", "batch"})
    ->Args({1, 1000, 0})
    ->Args({100, 1000, 0})
    ->Args({10'000, 1000, 0});
// A batch of 10^6 tasks has 62,500 chunks of 16 tasks.
BENCHMARK(BM_DispatchFixedChunks)
    ->ArgNames({"workers", "chunk", "batch"})
    ->Args({100, 1000, 16})
    ->Iterations(50'000);

}  // namespace
}  // namespace pfor::coordinator
