// A test fixture that drives a Scheduler like a cluster would: workers run
// the chunks they are assigned (a kernel whose value is 1 per index, so a
// job's sum is its number of indices) in whatever order the test picks, and
// every command is kept for the test to look at. Test-only.
#ifndef PFOR_COORDINATOR_SCHEDULER_HARNESS_H_
#define PFOR_COORDINATOR_SCHEDULER_HARNESS_H_

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "scheduler.h"

namespace pfor::coordinator {

inline KernelInfo Kernel(const std::string& name) {
  KernelInfo kernel;
  kernel.name = name;
  kernel.executors = {ExecutorKind::kThreads, ExecutorKind::kProcesses};
  return kernel;
}

inline JobSpec Spec(int64_t begin, int64_t end, int64_t fixed_size = 0,
                    const std::string& kernel = "ones") {
  JobSpec spec;
  spec.kernel = kernel;
  spec.begin = begin;
  spec.end = end;
  if (fixed_size > 0) spec.chunks = ChunkPolicy::Fixed(fixed_size);
  return spec;
}

// A batch of `tasks` tasks, task i over [i, 2i + 1).
inline JobSpec Batch(int tasks, int64_t fixed_size = 0) {
  JobSpec spec = Spec(0, tasks, fixed_size);
  for (int i = 0; i < tasks; ++i) {
    spec.tasks.push_back({.range = {i, 2 * i + 1}});
  }
  return spec;
}

inline std::shared_ptr<const JobSpec> Share(JobSpec spec) {
  return std::make_shared<const JobSpec>(std::move(spec));
}

inline ChunkResult Succeeded(const AttemptRef& attempt, ChunkOutput output,
                             absl::Duration kernel_time) {
  return {attempt, std::move(output), kernel_time};
}

inline ChunkResult Failed(const AttemptRef& attempt, const std::string& error,
                          absl::Duration kernel_time = absl::Milliseconds(1)) {
  return {attempt, absl::UnknownError(error), kernel_time};
}

// The integer result of a succeeded job; -1 when there is none.
inline int64_t IntResult(const JobStatus& job) {
  if (!job.value.has_value() || !std::holds_alternative<int64_t>(*job.value)) {
    return -1;
  }
  return std::get<int64_t>(*job.value);
}

class SchedulerHarness : public ::testing::Test {
 protected:
  struct Running {
    WorkerId worker;
    AttemptRef attempt;
    int64_t end;
    int64_t index;
  };

  explicit SchedulerHarness(SchedulerOptions options = {})
      : scheduler_(options) {}

  void Join(WorkerId id, int32_t slots,
            std::vector<std::string> kernels = {"ones"}) {
    JoinWith(id, {slots, 0, 0}, std::move(kernels));
  }

  // A worker with slots per executor (threads, processes, command) that
  // asks for all of them.
  void JoinWith(WorkerId id, std::array<int32_t, kExecutorKinds> slots,
                std::vector<std::string> kernels = {"ones"}) {
    std::vector<KernelInfo> declared;
    for (const std::string& name : kernels) declared.push_back(Kernel(name));
    JoinDeclaring(id, slots, std::move(declared));
  }

  // The same, with the kernels declared as given.
  void JoinDeclaring(WorkerId id, std::array<int32_t, kExecutorKinds> slots,
                     std::vector<KernelInfo> kernels) {
    Hello hello;
    hello.name = absl::StrCat("w", id);
    hello.slots = slots;
    hello.kernels = std::move(kernels);
    ASSERT_TRUE(
        scheduler_.WorkerJoined(id, std::move(hello), "peer", now_).ok());
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      scheduler_.CreditsGranted(id, static_cast<ExecutorKind>(kind),
                                slots[kind], now_);
    }
    Collect();
  }

  // Moves new assignments into `running_` and keeps the other commands.
  void Collect() {
    Commands commands = scheduler_.TakeCommands();
    for (Commands::Assign& assign : commands.assign) {
      running_.push_back({assign.worker, assign.chunk.attempt, assign.chunk.end,
                          assign.chunk.index});
      if (assign.definition != nullptr) {
        definitions_sent_ += 1;
        executors_[assign.definition->job] = assign.definition->executor;
      }
      assignments_.push_back(std::move(assign));
    }
    for (const auto& cancel : commands.cancel) {
      cancelled_.push_back(cancel.attempt);
    }
    for (const auto& end : commands.end_job) ended_.push_back(end);
    for (const auto& d : commands.disconnect) disconnected_.push_back(d.worker);
    for (JournalEntry& entry : commands.journal) {
      journal_.push_back(std::move(entry));
    }
    batches_.push_back(std::move(commands.events));
  }

  // Finishes the running attempt at `index`, giving its worker a credit
  // back.
  void Complete(size_t index,
                absl::Duration kernel_time = absl::Milliseconds(10)) {
    Running run = running_[index];
    running_[index] = running_.back();
    running_.pop_back();
    now_ += absl::Microseconds(10);
    scheduler_.ChunkFinished(
        run.worker,
        Succeeded(run.attempt, Value(run.end - run.attempt.begin), kernel_time),
        now_);
    // The job may have ended with this chunk: ask for the executor anyway.
    scheduler_.CreditsGranted(run.worker, executors_[run.attempt.job], 1, now_);
    Collect();
  }

  // Completes attempts in random order until none is running.
  void RunAll(uint32_t seed = 1) {
    std::mt19937 rng(seed);
    while (!running_.empty()) {
      Complete(
          std::uniform_int_distribution<size_t>(0, running_.size() - 1)(rng));
    }
  }

  JobStatus Submit(JobSpec spec) {
    absl::StatusOr<JobStatus> job =
        scheduler_.SubmitJob(Share(std::move(spec)), now_);
    EXPECT_TRUE(job.ok()) << job.status();
    Collect();
    return job.ok() ? *job : JobStatus();
  }

  absl::Status SubmitStatus(JobSpec spec) {
    return scheduler_.SubmitJob(Share(std::move(spec)), now_).status();
  }

  JobStatus Get(JobId id) {
    absl::StatusOr<JobStatus> job = scheduler_.GetJob(id, true);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? *job : JobStatus();
  }

  // Every event of `job` so far, in order.
  std::vector<JobEvent> EventsOf(JobId job) const {
    std::vector<JobEvent> out;
    for (const std::vector<JobEvent>& batch : batches_) {
      for (const JobEvent& event : batch) {
        if (event.job == job) out.push_back(event);
      }
    }
    return out;
  }

  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  Scheduler scheduler_;
  std::vector<Running> running_;
  std::vector<Commands::Assign> assignments_;
  std::vector<AttemptRef> cancelled_;
  std::vector<Commands::EndJob> ended_;
  std::vector<WorkerId> disconnected_;
  std::vector<JournalEntry> journal_;
  // The events of each TakeCommands.
  std::vector<std::vector<JobEvent>> batches_;
  std::map<JobId, ExecutorKind> executors_;
  int definitions_sent_ = 0;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SCHEDULER_HARNESS_H_
