// Running kernels in tests the way an executor would: one chunk, or a whole
// job cut into chunks whose values are combined under the job's reduction.
#ifndef PFOR_KERNELS_KERNEL_TEST_UTIL_H_
#define PFOR_KERNELS_KERNEL_TEST_UTIL_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "pfor/kernel.h"
#include "pfor/params.h"
#include "pfor/value.h"

namespace pfor::kernel_test {

struct RunOptions {
  Reduction reduction = Reduction::kSum;
  // Checked and completed with defaults as a coordinator would.
  std::map<std::string, ParamValue> params = {};
  const std::atomic<bool>* cancel = nullptr;
};

// Runs chunk [begin, end) of job [job_begin, job_end).
inline absl::StatusOr<Value> RunChunk(const KernelDef& kernel,
                                      int64_t job_begin, int64_t job_end,
                                      int64_t begin, int64_t end,
                                      const RunOptions& options) {
  absl::StatusOr<Params> params =
      ValidateParams(kernel.name, kernel.params, options.params);
  if (!params.ok()) return params.status();
  ChunkContext chunk{.begin = begin,
                     .end = end,
                     .job_begin = job_begin,
                     .job_end = job_end,
                     .reduction = options.reduction,
                     .params = &*params,
                     .cancel = options.cancel};
  return kernel.run(chunk);
}

// Runs job [begin, end) as a single chunk.
inline absl::StatusOr<Value> RunJob(const KernelDef& kernel, int64_t begin,
                                    int64_t end, const RunOptions& options) {
  return RunChunk(kernel, begin, end, begin, end, options);
}

// Runs job [begin, end) cut at `cuts` (sorted, each strictly inside) and
// combines the chunk values in range order.
inline absl::StatusOr<Value> RunCut(const KernelDef& kernel, int64_t begin,
                                    int64_t end,
                                    const std::vector<int64_t>& cuts,
                                    const RunOptions& options) {
  std::vector<int64_t> bounds = {begin};
  bounds.insert(bounds.end(), cuts.begin(), cuts.end());
  bounds.push_back(end);
  absl::StatusOr<Value> result;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    absl::StatusOr<Value> value =
        RunChunk(kernel, begin, end, bounds[i], bounds[i + 1], options);
    if (!value.ok()) return value;
    if (i == 0) {
      result = *value;
    } else {
      result = Combine(options.reduction, *result, *value);
      if (!result.ok()) return result;
    }
  }
  return result;
}

// Up to `count` distinct cut points strictly inside [begin, end), sorted;
// the same for the same seed.
inline std::vector<int64_t> RandomCuts(int64_t begin, int64_t end, int count,
                                       uint64_t seed) {
  std::vector<int64_t> cuts;
  if (end - begin < 2) return cuts;
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int64_t> point(begin + 1, end - 1);
  for (int i = 0; i < count; ++i) cuts.push_back(point(random));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

// Expects sum, count, min and max of job [begin, end) to come out the same,
// to the bit, whether it runs as one chunk or cut at random in a few ways.
inline void ExpectSameForEveryCut(const KernelDef& kernel, int64_t begin,
                                  int64_t end, int cuts,
                                  RunOptions options = {}) {
  for (Reduction reduction :
       {Reduction::kSum, Reduction::kCount, Reduction::kMin, Reduction::kMax}) {
    options.reduction = reduction;
    const absl::StatusOr<Value> whole = RunJob(kernel, begin, end, options);
    ASSERT_TRUE(whole.ok()) << whole.status();
    for (uint64_t seed : {1, 2, 3}) {
      SCOPED_TRACE(testing::Message()
                   << kernel.name << " " << ReductionName(reduction) << " seed "
                   << seed);
      const absl::StatusOr<Value> cut = RunCut(
          kernel, begin, end, RandomCuts(begin, end, cuts, seed), options);
      ASSERT_TRUE(cut.ok()) << cut.status();
      EXPECT_EQ(FormatValue(*cut), FormatValue(*whole));
      EXPECT_TRUE(*cut == *whole);
      if (const auto* sum = std::get_if<ExactSum>(&*whole)) {
        ASSERT_TRUE(std::holds_alternative<ExactSum>(*cut));
        EXPECT_EQ(std::get<ExactSum>(*cut).Round(), sum->Round());
      }
    }
  }
}

// Runs a chunk that would take far longer than a minute, cancels it after
// 20 ms and expects it to stop promptly.
inline void ExpectStopsPromptly(const KernelDef& kernel, int64_t begin,
                                int64_t end, RunOptions options = {}) {
  std::atomic<bool> cancel{false};
  options.cancel = &cancel;
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Value> value = RunJob(kernel, begin, end, options);
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  EXPECT_EQ(value.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(took, std::chrono::seconds(2));
}

}  // namespace pfor::kernel_test

#endif  // PFOR_KERNELS_KERNEL_TEST_UTIL_H_
