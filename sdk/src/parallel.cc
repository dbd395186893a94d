#include "pfor/parallel.h"

#include <cstdio>

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

}  // namespace

bool ParallelResults::cancel() {
  bool any = false;
  for (const auto& job : jobs_) any = job->Cancel() || any;
  return any;
}

Parallel::Parallel(Client& client, ParallelOptions options)
    : client_(client),
      options_(std::move(options)),
      executor_(std::make_shared<Executor>(client, ExecutorFor(options_))) {}

ParallelResults Parallel::operator()(const std::vector<DelayedCall>& calls) {
  auto results = std::make_shared<internal::BatchCore>(calls.size());
  std::vector<std::shared_ptr<internal::FutureCore>> jobs;
  std::vector<size_t> all(calls.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;

  int max_parallel = options_.n_jobs > 0 ? options_.n_jobs : 0;
  if (options_.n_jobs == 0 || options_.batch_size < 0) {
    results->End(absl::InvalidArgumentError(
                     options_.n_jobs == 0
                         ? "n_jobs = 0 runs nothing; pass -1 for every slot "
                           "or a positive cap"
                         : "batch_size must be 0 (auto) or positive"),
                 all);
    return ParallelResults(executor_, results, {}, options_.return_as);
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
  ParallelResults out(executor_, results, std::move(jobs), options_.return_as);
  if (options_.return_as == ReturnAs::kList) {
    for (size_t i = 0; i < calls.size(); ++i) {
      results->WaitFor(i, absl::InfiniteFuture());
    }
  }
  return out;
}

}  // namespace pfor
