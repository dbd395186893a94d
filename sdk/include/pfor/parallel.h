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
// (kGeneratorUnordered). Thread-safe.
#ifndef PFOR_PARALLEL_H_
#define PFOR_PARALLEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
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
};

// The results of one Parallel call. They keep the jobs going after the
// Parallel is gone; dropping them cancels the jobs still running (as
// dropping a joblib generator does). Move-only.
class ParallelResults {
 public:
  ParallelResults(std::shared_ptr<Executor> executor,
                  std::shared_ptr<internal::BatchCore> results,
                  std::vector<std::shared_ptr<internal::FutureCore>> jobs,
                  ReturnAs order)
      : executor_(std::move(executor)),
        results_(std::move(results)),
        jobs_(std::move(jobs)),
        order_(order) {}
  ParallelResults(ParallelResults&&) = default;
  ParallelResults& operator=(ParallelResults&&) = default;
  ~ParallelResults() { cancel(); }

  size_t size() const { return results_->size(); }

  // Every result in input order, each as a T or its error. Blocks.
  template <typename T = Value>
  std::vector<absl::StatusOr<T>> list() const {
    std::vector<absl::StatusOr<T>> out;
    for (size_t i = 0; i < results_->size(); ++i) {
      out.push_back(As<T>(i, *results_->WaitFor(i, absl::InfiniteFuture())));
    }
    return out;
  }

  // The next result, in input order or in completion order as return_as
  // says; OUT_OF_RANGE after the last. Blocks.
  template <typename T = Value>
  absl::StatusOr<std::pair<size_t, absl::StatusOr<T>>> next() {
    if (handed_out_ == results_->size()) {
      return absl::OutOfRangeError("every result was handed out");
    }
    const size_t index =
        order_ == ReturnAs::kGeneratorUnordered
            ? *results_->WaitForCompleted(handed_out_, absl::InfiniteFuture())
            : handed_out_;
    ++handed_out_;
    return std::make_pair(
        index, As<T>(index, *results_->WaitFor(index, absl::InfiniteFuture())));
  }

  // Cancels the jobs still running; true when any was. Results not in yet
  // become CANCELLED.
  bool cancel();

 private:
  template <typename T>
  static absl::StatusOr<T> As(size_t index,
                              const absl::StatusOr<Value>& value) {
    if (!value.ok()) return value.status();
    return internal::ValueAs<T>(*value, absl::StrCat("task ", index));
  }

  // First, so it goes last: its destructor waits for the cancelled jobs.
  std::shared_ptr<Executor> executor_;
  std::shared_ptr<internal::BatchCore> results_;
  std::vector<std::shared_ptr<internal::FutureCore>> jobs_;
  ReturnAs order_;
  size_t handed_out_ = 0;
};

class Parallel {
 public:
  // `client` must outlive the Parallel and its results.
  Parallel(Client& client, ParallelOptions options = {});

  // Runs the calls: one batch job per kernel. With return_as = kList it
  // returns once every result is in; the generators return at once and
  // hand results out as they come. Bad options (n_jobs = 0) fail every
  // result with INVALID_ARGUMENT.
  ParallelResults operator()(const std::vector<DelayedCall>& calls);

 private:
  Client& client_;
  ParallelOptions options_;
  // Shared with the results it makes, which may outlive this Parallel.
  std::shared_ptr<Executor> executor_;
};

}  // namespace pfor

#endif  // PFOR_PARALLEL_H_
