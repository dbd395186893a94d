// Parallel and delayed: joblib's shape for pfor.
//
//   std::vector<pfor::DelayedCall> calls;
//   for (int i = 0; i < 8; ++i) {
//     calls.push_back(pfor::delayed("integrate")(
//         {0, 1'000'000}, {{"a", i * 0.5}, {"b", (i + 1) * 0.5}}));
//   }
//   auto results = pfor::Parallel(*client, {.n_jobs = 2})(calls);
//   for (const absl::StatusOr<double>& piece : results.list<double>()) ...
//
// Each call is one task: a kernel over its own range with its own
// parameters. Calls of the same kernel travel as one batch job (many tasks,
// one round of scheduling), so thousands of small calls stay cheap; tasks
// are grouped into chunks of `batch_size`. Results come back in input
// order (return_as = kList, kGenerator) or as they complete
// (kGeneratorUnordered). As in joblib, the first error stops the call
// (fail_fast) and `timeout` bounds the wait for each result. A kernel of
// this process may run a Parallel of its own (nested loops): the slot it
// runs on is lent while it waits. Thread-safe.
#ifndef PFOR_PARALLEL_H_
#define PFOR_PARALLEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pfor/batch.h"
#include "pfor/client.h"
#include "pfor/executor.h"
#include "pfor/future.h"

namespace pfor {

// One call of a kernel, made by delayed("kernel")(range, params).
struct DelayedCall {
  std::string kernel;
  Task task;
};

class Delayed {
 public:
  explicit Delayed(std::string kernel) : kernel_(std::move(kernel)) {}
  DelayedCall operator()(Range range,
                         std::map<std::string, ParamValue> params = {}) const {
    return {kernel_, {range, std::move(params)}};
  }

 private:
  std::string kernel_;
};

// joblib.delayed: `delayed("integrate")({0, n}, {{"a", 0.0}, {"b", 1.0}})`.
inline Delayed delayed(std::string kernel) {
  return Delayed(std::move(kernel));
}

enum class Backend { kThreads, kProcesses };
enum class ReturnAs { kList, kGenerator, kGeneratorUnordered };

struct ParallelOptions {
  // Chunks running at once: -1 every slot of the cluster, -2 all but one,
  // and so on (joblib's convention); a positive number caps them.
  int n_jobs = -1;
  Backend backend = Backend::kThreads;
  // Tasks per chunk; 0 means auto (sized from measured task times).
  int64_t batch_size = 0;
  ReturnAs return_as = ReturnAs::kList;
  // > 0: progress lines on stderr as tasks complete (at most one a second,
  // and the last), like joblib's verbose.
  int verbose = 0;
  // joblib's timeout: a result not in within `timeout` of when the caller
  // starts waiting for it (list(), or a generator's next()) stops the
  // call: that result and every one not in are DEADLINE_EXCEEDED, and the
  // jobs stop. Infinite: no limit.
  absl::Duration timeout = absl::InfiniteDuration();
  // As joblib does, the first error stops the call: the results not in
  // become CANCELLED, the jobs stop, and a generator hands out that error
  // next and then ends. false: every call runs and keeps its own result
  // or error.
  bool fail_fast = true;
};

// The results of one Parallel call. They keep the jobs going after the
// Parallel is gone; dropping them stops the jobs still running (as dropping
// a joblib generator does). Move-only; one thread at a time.
class ParallelResults {
 public:
  ParallelResults(std::shared_ptr<Executor> executor,
                  std::shared_ptr<internal::BatchCore> results,
                  std::vector<std::shared_ptr<internal::FutureCore>> jobs,
                  const ParallelOptions& options)
      : executor_(std::move(executor)),
        results_(std::move(results)),
        jobs_(std::move(jobs)),
        order_(options.return_as),
        timeout_(options.timeout),
        fail_fast_(options.fail_fast) {}
  ParallelResults(ParallelResults&&) = default;
  ParallelResults& operator=(ParallelResults&&) = default;
  ~ParallelResults() { terminate(); }

  size_t size() const { return results_->size(); }

  // Every result in input order, each as a T or its error. Blocks (each
  // result at most the Parallel's timeout). On the client's callback
  // thread it does not wait: results not in are FAILED_PRECONDITION.
  template <typename T = Value>
  std::vector<absl::StatusOr<T>> list() {
    std::vector<absl::StatusOr<Value>> values = ListValues();
    std::vector<absl::StatusOr<T>> out;
    out.reserve(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      out.push_back(internal::TaskValueAs<T>(i, values[i]));
    }
    return out;
  }

  // The next (position, result), in input order or in completion order as
  // return_as says. Blocks up to `timeout` (and the Parallel's timeout,
  // which stops the call). Errors of the call itself: OUT_OF_RANGE after
  // the last result (or after the error that stopped a fail-fast call);
  // DEADLINE_EXCEEDED when `timeout` passed first (call again: nothing was
  // handed out); FAILED_PRECONDITION on the client's callback thread when
  // it would wait.
  template <typename T = Value>
  absl::StatusOr<std::pair<size_t, absl::StatusOr<T>>> next(
      absl::Duration timeout = absl::InfiniteDuration()) {
    absl::StatusOr<TaskOutcome> outcome = NextValue(timeout);
    if (!outcome.ok()) return outcome.status();
    return std::make_pair(outcome->index, internal::TaskValueAs<T>(
                                              outcome->index, outcome->value));
  }

  // Cancels the jobs none of whose chunks has started (Future::cancel);
  // true when any was. Their results become CANCELLED.
  bool cancel();
  // Stops every job still going, started or not; true when any was. The
  // results not in become CANCELLED.
  bool terminate();

 private:
  friend class Parallel;

  // Waits for every result (each up to the timeout, which stops the call);
  // OK once all are in.
  absl::Status Settle();
  std::vector<absl::StatusOr<Value>> ListValues();
  absl::StatusOr<TaskOutcome> NextValue(absl::Duration timeout);
  // Waits for position `index` up to `timeout`, and past the Parallel's
  // timeout stops the call. OK once it has a result.
  absl::Status AwaitOrStop(size_t index, absl::Duration timeout);
  // The Parallel's timeout passed waiting for `index`: it and every result
  // not in become DEADLINE_EXCEEDED and the jobs stop.
  void StopAfterTimeout(size_t index);

  // First, so it goes last: its destructor waits for the stopped jobs.
  std::shared_ptr<Executor> executor_;
  std::shared_ptr<internal::BatchCore> results_;
  std::vector<std::shared_ptr<internal::FutureCore>> jobs_;
  ReturnAs order_;
  absl::Duration timeout_;
  bool fail_fast_;
  size_t handed_out_ = 0;
  // A generator handed out the error that stopped a fail-fast call: it
  // ends there.
  bool failure_handed_out_ = false;
};

class Parallel {
 public:
  // `client` must outlive the Parallel and its results.
  Parallel(Client& client, ParallelOptions options = {});

  // Runs the calls: one batch job per kernel. With return_as = kList it
  // returns once every result is in (or the call stopped); the generators
  // return at once and hand results out as they come. Bad options
  // (n_jobs = 0) fail every result with INVALID_ARGUMENT; a call with an
  // empty or reversed range fails alone with INVALID_ARGUMENT (and, with
  // fail_fast, stops the call). On the client's callback thread, where
  // nothing may wait, kList fails every result with FAILED_PRECONDITION
  // and runs nothing.
  ParallelResults operator()(const std::vector<DelayedCall>& calls);

 private:
  Client& client_;
  ParallelOptions options_;
  // Shared with the results it makes, which may outlive this Parallel.
  std::shared_ptr<Executor> executor_;
};

}  // namespace pfor

#endif  // PFOR_PARALLEL_H_
