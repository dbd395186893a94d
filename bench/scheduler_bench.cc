// How many chunks per second the scheduler core can hand out.
//
// Drives the I/O-free Scheduler the way the coordinator's adapters do, with
// simulated workers of one slot each: every iteration completes the oldest
// chunk in flight, gives its worker a credit back and takes the resulting
// assignment. No gRPC, no clock, no threads: this is the ceiling the
// decision logic puts on dispatch, before any network cost.
#include <cstdint>
#include <deque>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "pfor/common/wire.h"
#include "scheduler.h"

namespace pfor::coordinator {
namespace {

constexpr char kKernel[] = "ones";
// Large enough that no benchmark run reaches the end of the job.
constexpr int64_t kRangeEnd = int64_t{1} << 60;

struct Running {
  WorkerId worker;
  AttemptKey key;
  int64_t end;
};

// Moves the new assignments to the back of `running`; counts the others.
int64_t Collect(Scheduler& scheduler, std::deque<Running>& running) {
  Commands commands = scheduler.TakeCommands();
  for (const Commands::Assign& assign : commands.assign) {
    running.push_back({assign.worker, assign.key, assign.end});
  }
  return static_cast<int64_t>(commands.assign.size());
}

// Arguments: number of workers (one slot each), fixed chunk size.
void BM_DispatchFixedChunks(benchmark::State& state) {
  const int64_t workers = state.range(0);
  const int64_t chunk_size = state.range(1);
  Scheduler scheduler;
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  std::deque<Running> running;
  for (WorkerId id = 1; id <= static_cast<WorkerId>(workers); ++id) {
    WorkerHello hello;
    hello.name = absl::StrCat("w", id);
    hello.slots = {1, 0, 0};
    v1::KernelInfo kernel;
    kernel.set_name(kKernel);
    kernel.add_executors(v1::EXECUTOR_KIND_THREADS);
    hello.kernels.push_back(kernel);
    if (!scheduler.WorkerJoined(id, std::move(hello), now).ok()) {
      state.SkipWithError("worker refused");
      return;
    }
    scheduler.CreditsGranted(id, v1::EXECUTOR_KIND_THREADS, 1, now);
  }
  v1::JobSpec spec;
  spec.set_kernel(kKernel);
  spec.set_begin(0);
  spec.set_end(kRangeEnd);
  spec.mutable_chunking()->set_fixed_size(chunk_size);
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
    const Running run = running.front();
    running.pop_front();
    // 100k chunks per simulated second: the scheduler's rate window then
    // holds a bounded number of entries however long the benchmark runs.
    now += absl::Microseconds(10);
    scheduler.ChunkSucceeded(run.worker, run.key,
                             ToProto(Value(run.end - run.key.begin)),
                             absl::Milliseconds(10), now);
    scheduler.CreditsGranted(run.worker, v1::EXECUTOR_KIND_THREADS, 1, now);
    assigned += Collect(scheduler, running);
  }
  if (assigned != static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("a completed chunk was not replaced");
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["workers"] = static_cast<double>(workers);
}

BENCHMARK(BM_DispatchFixedChunks)
    ->ArgNames({"workers", "chunk"})
    ->Args({1, 1000})
    ->Args({100, 1000})
    ->Args({10'000, 1000});

}  // namespace
}  // namespace pfor::coordinator
