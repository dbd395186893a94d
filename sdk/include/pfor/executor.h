// Executor: concurrent.futures for pfor jobs.
//
//   pfor::Executor executor(*client);
//   pfor::Future<int64_t> primes =
//       executor.submit<int64_t>("count_primes", {0, 10'000'000});
//   ... primes.result() ...                      // 664579
//   std::vector<absl::StatusOr<int64_t>> each =  // in input order
//       executor.map<int64_t>("count_primes", {{0, 100}, {100, 200}});
//
// submit() makes one job per call; map() makes one batch job for all its
// inputs, so thousands of small calls cost one round of scheduling, not
// thousands. Futures resolve as the coordinator reports, over one stream
// per client. Destroying the executor is Python's leaving a `with` block:
// shutdown(wait = true). Thread-safe.
#ifndef PFOR_EXECUTOR_H_
#define PFOR_EXECUTOR_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "pfor/batch.h"
#include "pfor/client.h"
#include "pfor/future.h"

namespace pfor {

// What the jobs an executor submits share (Python's pool arguments).
struct ExecutorOptions {
  ExecutorKind executor = ExecutorKind::kThreads;
  // How each job's range (or a map's inputs) is cut into chunks.
  ChunkPolicy chunks = {};
  int max_attempts = 0;
  absl::Duration chunk_timeout = absl::InfiniteDuration();
  // map() stops at its first error: the inputs without a result then
  // become CANCELLED and the batch stops (as Python's map raises the first
  // error and cancels the calls not started). false: every input runs and
  // keeps its own result or error.
  bool fail_fast = true;
};

class Executor {
 public:
  // `client` must outlive the executor and its futures.
  explicit Executor(Client& client, ExecutorOptions options = {});
  // shutdown(/*wait=*/true): blocks until every future is done.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs `kernel` over `range` as one job; the future holds its result as a
  // T (int64_t, double or pfor::Value). After shutdown, the future fails
  // with FAILED_PRECONDITION.
  template <typename T = Value>
  Future<T> submit(const std::string& kernel, Range range,
                   std::map<std::string, ParamValue> params = {}) {
    return Future<T>(Submit(Spec(kernel, range, std::move(params))));
  }
  // The same for a job spelled out in full (reduction, name, ...).
  template <typename T = Value>
  Future<T> submit(JobSpec spec) {
    return Future<T>(Submit(std::move(spec)));
  }

  // Calls `kernel` once per input range, with `params`, as one batch job.
  // Results in input order: each input's value as a T, or its error (the
  // kernel's message, numbered by the input's position; INVALID_ARGUMENT
  // for an input whose range is empty or reversed, the others running all
  // the same; the job's error when the job failed). With fail_fast (the
  // default), the first error stops the call: inputs without a result are
  // CANCELLED. When `timeout` passes first, inputs not done are
  // DEADLINE_EXCEEDED and the batch is stopped: what has not run never
  // runs, what runs is cancelled (nobody could receive its result).
  template <typename T = Value>
  std::vector<absl::StatusOr<T>> map(
      const std::string& kernel, const std::vector<Range>& inputs,
      std::map<std::string, ParamValue> params = {},
      absl::Duration timeout = absl::InfiniteDuration()) {
    std::vector<absl::StatusOr<T>> out;
    out.reserve(inputs.size());
    for (absl::StatusOr<Value>& value :
         MapValues(kernel, inputs, std::move(params), timeout)) {
      if (value.ok()) {
        out.push_back(internal::ValueAs<T>(*value, kernel));
      } else {
        out.push_back(value.status());
      }
    }
    return out;
  }

  // A batch job of `tasks`, followed as its results arrive (Parallel's way).
  // `max_parallel` > 0 caps the chunks running at once. Every task keeps
  // its own result (no fail-fast); a task whose range is empty or reversed
  // fails alone with INVALID_ARGUMENT and is not sent.
  BatchResults SubmitBatch(const std::string& kernel, std::vector<Task> tasks,
                           std::map<std::string, ParamValue> params,
                           int max_parallel);

  // The same, with the results going to `positions` of `into` (so that
  // batches of several kernels fill one set of results), errors numbered by
  // those positions. Returns the job's future.
  std::shared_ptr<internal::FutureCore> SubmitBatchInto(
      const std::string& kernel, std::vector<Task> tasks,
      std::map<std::string, ParamValue> params, int max_parallel,
      std::shared_ptr<internal::BatchCore> into, std::vector<size_t> positions);

  // Stops taking work. With `cancel_futures`, cancels the jobs none of
  // whose chunks has started (Future::cancel); with `wait`, blocks until
  // every future is done. On the client's callback thread, where nothing
  // may wait, it does not wait.
  void shutdown(bool wait = true, bool cancel_futures = false);

 private:
  JobSpec Spec(const std::string& kernel, Range range,
               std::map<std::string, ParamValue> params) const;
  std::vector<absl::StatusOr<Value>> MapValues(
      const std::string& kernel, const std::vector<Range>& inputs,
      std::map<std::string, ParamValue> params, absl::Duration timeout);
  // Where a batch job's task results go: task i of the job is position
  // positions[i] of `results`.
  struct BatchTarget {
    std::shared_ptr<internal::BatchCore> results;
    std::vector<size_t> positions;
  };
  // With `batch`, also feeds the batch's task results.
  std::shared_ptr<internal::FutureCore> Submit(
      JobSpec spec, std::shared_ptr<const BatchTarget> batch = nullptr);
  // Done when the job is; forgotten then.
  void Track(std::shared_ptr<internal::FutureCore> core);

  // Shared with the futures' callbacks, which may run after the executor is
  // gone.
  struct Pending {
    std::mutex mu;
    bool shut_down = false;  // guarded by mu
    // Futures and batches not done yet.
    absl::flat_hash_set<std::shared_ptr<internal::FutureCore>> cores;  // mu
  };

  Client& client_;
  const ExecutorOptions options_;
  const std::shared_ptr<Pending> pending_ = std::make_shared<Pending>();
};

}  // namespace pfor

#endif  // PFOR_EXECUTOR_H_
