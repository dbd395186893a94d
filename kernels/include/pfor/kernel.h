// The kernel API: how code that runs on workers is written and registered.
//
// A kernel turns one chunk [begin, end) of a job's index range into a chunk
// value. It declares a value per index (1 for a prime, f(x_i) * h for an
// integration point, ...) and folds the chunk's values under the job's
// reduction, usually with IndexFold, so that the job's result never depends
// on how the range was cut.
//
//   PFOR_KERNEL({
//       .name = "squares",
//       .help = "Sums i*i over the range.",
//       .run = [](const pfor::ChunkContext& chunk) ->
//       absl::StatusOr<pfor::Value> {
//         pfor::IndexFold fold(chunk.reduction);
//         for (int64_t i = chunk.begin; i < chunk.end; ++i) fold.Add(i * i);
//         return fold.Finish();
//       }});
//
// Kernels run concurrently on many threads: `run` must be thread-safe, and
// it is the only code in pfor allowed to throw (an exception fails the chunk
// with its what() text).
#ifndef PFOR_KERNEL_H_
#define PFOR_KERNEL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pfor/exact_sum.h"
#include "pfor/params.h"
#include "pfor/value.h"

namespace pfor {

// What a kernel sees of one chunk. begin < end always holds.
struct ChunkContext {
  int64_t begin = 0;
  int64_t end = 0;
  // The job's whole range, for kernels that map indices onto something else
  // (integration maps [job_begin, job_end) onto [a, b]).
  int64_t job_begin = 0;
  int64_t job_end = 0;
  Reduction reduction = Reduction::kSum;
  const Params* params = nullptr;
  // Set when the job is cancelled or the chunk is no longer wanted.
  const std::atomic<bool>* cancel = nullptr;

  // Long kernels poll this every few milliseconds and return
  // absl::CancelledError() when it turns true.
  bool cancelled() const {
    return cancel != nullptr && cancel->load(std::memory_order_relaxed);
  }
};

struct KernelDef {
  // Lowercase letters, digits and '_', starting with a letter.
  std::string name = {};
  // One line for `pfor kernels`.
  std::string help = {};
  std::vector<ParamSpec> params = {};
  std::function<absl::StatusOr<Value>(const ChunkContext&)> run = {};
};

// Kernels by name. Filled at start-up, read by executor threads afterwards.
// Thread-safe.
class KernelRegistry {
 public:
  // The registry PFOR_KERNEL adds to; workers and embedded clusters serve
  // every kernel in it.
  static KernelRegistry& Global();

  // INVALID_ARGUMENT for a bad name or a missing run function,
  // ALREADY_EXISTS for a name taken.
  absl::Status Add(KernelDef def);
  // nullptr when there is no such kernel. The pointer stays valid for the
  // registry's lifetime.
  const KernelDef* Find(std::string_view name) const;
  // Every kernel, sorted by name.
  std::vector<const KernelDef*> List() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<KernelDef>> kernels_;  // guarded by mu_
};

// Folds the per-index values of one chunk under the job's reduction: sums
// (exactly, for floats), counts non-zero values, keeps the minimum or the
// maximum; for collect it sums, since collect keeps one sum per chunk.
// Add at least one value before Finish.
class IndexFold {
 public:
  explicit IndexFold(Reduction reduction) : reduction_(reduction) {}

  void Add(int64_t value) {
    switch (reduction_) {
      case Reduction::kSum:
      case Reduction::kCollect:
        int_sum_ += value;
        break;
      case Reduction::kCount:
        count_ += value != 0;
        break;
      case Reduction::kMin:
      case Reduction::kMax:
        AddExtreme(static_cast<double>(value), value, /*is_int=*/true);
        break;
    }
    has_int_ = true;
  }

  // Integers of any width, without ambiguity between the overloads.
  template <typename Int>
  requires std::is_integral_v<Int>
  void Add(Int value) { Add(static_cast<int64_t>(value)); }

  void Add(double value) {
    switch (reduction_) {
      case Reduction::kSum:
      case Reduction::kCollect:
        float_sum_.Add(value);
        break;
      case Reduction::kCount:
        count_ += value != 0;
        break;
      case Reduction::kMin:
      case Reduction::kMax:
        AddExtreme(value, 0, /*is_int=*/false);
        break;
    }
    has_float_ = true;
  }

  // Fails with OUT_OF_RANGE when an integer sum does not fit in int64.
  absl::StatusOr<Value> Finish() const;

 private:
  void AddExtreme(double value, int64_t int_value, bool is_int);

  Reduction reduction_;
  bool has_int_ = false;
  bool has_float_ = false;
  __int128 int_sum_ = 0;
  ExactSum float_sum_;
  int64_t count_ = 0;
  bool has_extreme_ = false;
  bool extreme_is_int_ = false;
  double extreme_ = 0;
  int64_t int_extreme_ = 0;
};

namespace internal {
// Adds to the global registry; aborts with the reason on failure, since a
// kernel that cannot register is a bug in the program being started.
bool RegisterKernelOrDie(KernelDef def);
}  // namespace internal

}  // namespace pfor

#define PFOR_KERNEL_CONCAT_INNER(a, b) a##b
#define PFOR_KERNEL_CONCAT(a, b) PFOR_KERNEL_CONCAT_INNER(a, b)
// Registers a kernel with the global registry at program start; the argument
// is a braced KernelDef initializer.
#define PFOR_KERNEL(...)                                 \
  [[maybe_unused]] static const bool PFOR_KERNEL_CONCAT( \
      pfor_kernel_registered_, __LINE__) =               \
      ::pfor::internal::RegisterKernelOrDie(::pfor::KernelDef __VA_ARGS__)

#endif  // PFOR_KERNEL_H_
