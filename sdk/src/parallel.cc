#include "pfor/parallel.h"

#include <algorithm>
#include <cstdio>

#include "batch_stop.h"

namespace pfor {
namespace {

ExecutorOptions ExecutorFor(const ParallelOptions& options) {
  ExecutorOptions executor;
  executor.executor = options.backend == Backend::kProcesses
                          ? ExecutorKind::kProcesses
                          : ExecutorKind::kThreads;
  if (options.batch_size > 0) {
    executor.chunks = ChunkPolicy::Fixed(options.batch_size);
  }
  return executor;
}

// joblib's verbose lines on stderr: at most one a second, and the last.
internal::BatchCore::Progress Reporter(int n_jobs) {
  struct Last {
    absl::Time start = absl::Now();
    absl::Time printed = absl::InfinitePast();
  };
  return [n_jobs, last = std::make_shared<Last>()](size_t done, size_t total) {
    const absl::Time now = absl::Now();
    if (done < total && now - last->printed < absl::Seconds(1)) return;
    last->printed = now;
    std::fprintf(stderr,
                 "[Parallel(n_jobs=%d)]: Done %zu out of %zu | elapsed: "
                 "%.1fs%s\n",
                 n_jobs, done, total, absl::ToDoubleSeconds(now - last->start),
                 done == total ? " finished" : "");
  };
}

absl::Time DeadlineAfter(absl::Duration timeout) {
  return timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                             : absl::Now() + timeout;
}

}  // namespace

bool ParallelResults::cancel() {
  bool any = false;
  for (const auto& job : jobs_) any = job->Cancel(/*running_too=*/false) || any;
  return any;
}

bool ParallelResults::terminate() {
  bool any = false;
  for (const auto& job : jobs_) any = job->Cancel(/*running_too=*/true) || any;
  return any;
}

void ParallelResults::StopAfterTimeout(size_t index) {
  std::vector<size_t> all(results_->size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  results_->End(absl::DeadlineExceededError(absl::StrCat(
                    "task ", index, " did not finish within the timeout of ",
                    absl::FormatDuration(timeout_),
                    "; the call was stopped (ParallelOptions::timeout)")),
                all);
  terminate();
}

absl::Status ParallelResults::AwaitOrStop(size_t index,
                                          absl::Duration timeout) {
  const bool bounded_by_call = timeout_ <= timeout;
  absl::Status waited =
      results_->WaitFor(index, DeadlineAfter(std::min(timeout, timeout_)));
  if (waited.code() == absl::StatusCode::kDeadlineExceeded && bounded_by_call) {
    StopAfterTimeout(index);
    return absl::OkStatus();
  }
  return waited;
}

absl::Status ParallelResults::Settle() {
  if (timeout_ == absl::InfiniteDuration()) {
    return results_->WaitForAll(absl::InfiniteFuture());
  }
  // joblib's timeout is per result, from when the caller waits for it.
  for (size_t i = 0; i < results_->size(); ++i) {
    if (absl::Status waited = AwaitOrStop(i, absl::InfiniteDuration());
        !waited.ok()) {
      return waited;
    }
  }
  return absl::OkStatus();
}

std::vector<absl::StatusOr<Value>> ParallelResults::ListValues() {
  const absl::Status waited = Settle();
  std::vector<std::optional<absl::StatusOr<Value>>> results =
      results_->Snapshot();
  std::vector<absl::StatusOr<Value>> out;
  out.reserve(results.size());
  for (std::optional<absl::StatusOr<Value>>& result : results) {
    out.push_back(result.has_value() ? *std::move(result) : waited);
  }
  return out;
}

absl::StatusOr<TaskOutcome> ParallelResults::NextValue(absl::Duration timeout) {
  if (handed_out_ == results_->size() || failure_handed_out_) {
    return absl::OutOfRangeError("every result was handed out");
  }
  // joblib raises the first error at once, ahead of results before it.
  if (fail_fast_) {
    if (std::optional<size_t> failed = results_->first_failure()) {
      failure_handed_out_ = true;
      return TaskOutcome{*failed, results_->ResultOf(*failed)};
    }
  }
  size_t index = handed_out_;
  if (order_ == ReturnAs::kGeneratorUnordered) {
    absl::StatusOr<size_t> next = results_->WaitForCompleted(
        handed_out_, DeadlineAfter(std::min(timeout, timeout_)));
    if (next.ok()) {
      index = *next;
    } else if (next.status().code() == absl::StatusCode::kDeadlineExceeded &&
               timeout_ <= timeout) {
      // The oldest result still missing stands for the call's timeout.
      index = 0;
      while (results_->WaitFor(index, absl::InfinitePast()).ok()) ++index;
      StopAfterTimeout(index);
      return NextValue(absl::ZeroDuration());
    } else {
      return next.status();
    }
  } else if (absl::Status waited = AwaitOrStop(index, timeout); !waited.ok()) {
    return waited;
  }
  if (fail_fast_) {
    if (std::optional<size_t> failed = results_->first_failure()) {
      failure_handed_out_ = true;
      return TaskOutcome{*failed, results_->ResultOf(*failed)};
    }
  }
  ++handed_out_;
  return TaskOutcome{index, results_->ResultOf(index)};
}

Parallel::Parallel(Client& client, ParallelOptions options)
    : client_(client),
      options_(std::move(options)),
      executor_(std::make_shared<Executor>(client, ExecutorFor(options_))) {}

ParallelResults Parallel::operator()(const std::vector<DelayedCall>& calls) {
  auto results =
      std::make_shared<internal::BatchCore>(calls.size(), options_.fail_fast);
  std::vector<std::shared_ptr<internal::FutureCore>> jobs;
  std::vector<size_t> all(calls.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;

  if (options_.return_as == ReturnAs::kList && internal::OnCallbackThread()) {
    results->End(internal::WaitOnCallbackThread("Parallel(...) returning a "
                                                "list"),
                 all);
    return ParallelResults(executor_, results, {}, options_);
  }
  int max_parallel = options_.n_jobs > 0 ? options_.n_jobs : 0;
  if (options_.n_jobs == 0 || options_.batch_size < 0 ||
      options_.timeout <= absl::ZeroDuration()) {
    results->End(absl::InvalidArgumentError(
                     options_.n_jobs == 0
                         ? "n_jobs = 0 runs nothing; pass -1 for every slot "
                           "or a positive cap"
                     : options_.batch_size < 0
                         ? "batch_size must be 0 (auto) or positive"
                         : "timeout must be positive; infinite means none"),
                 all);
    return ParallelResults(executor_, results, {}, options_);
  }
  if (options_.n_jobs < -1) {
    // joblib: -2 is every slot but one.
    int slots = 0;
    if (absl::StatusOr<std::vector<WorkerStatus>> workers =
            client_.ListWorkers();
        workers.ok()) {
      for (const WorkerStatus& worker : *workers) {
        const ExecutorKind executor = options_.backend == Backend::kProcesses
                                          ? ExecutorKind::kProcesses
                                          : ExecutorKind::kThreads;
        slots += worker.slots[static_cast<int>(executor)];
      }
    }
    max_parallel = std::max(1, slots + 1 + options_.n_jobs);
  }

  // One batch job per kernel, in order of first appearance.
  std::vector<std::string> kernels;
  std::map<std::string, std::pair<std::vector<Task>, std::vector<size_t>>>
      groups;
  for (size_t i = 0; i < calls.size(); ++i) {
    auto [it, added] = groups.try_emplace(calls[i].kernel);
    if (added) kernels.push_back(calls[i].kernel);
    it->second.first.push_back(calls[i].task);
    it->second.second.push_back(i);
  }
  if (options_.verbose > 0) results->SetProgress(Reporter(options_.n_jobs));
  for (const std::string& kernel : kernels) {
    auto& [tasks, positions] = groups[kernel];
    jobs.push_back(executor_->SubmitBatchInto(kernel, std::move(tasks), {},
                                              max_parallel, results,
                                              std::move(positions)));
  }
  if (options_.fail_fast) {
    internal::StopJobsOnFailure(client_, *results, jobs);
  }
  ParallelResults out(executor_, results, std::move(jobs), options_);
  if (options_.return_as == ReturnAs::kList) out.Settle().IgnoreError();
  return out;
}

}  // namespace pfor
