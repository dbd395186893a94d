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
//
// The same PFOR_KERNEL definitions can live in a plugin, a shared library a
// worker loads at start-up (`pfor-worker --plugin libmine.so`): write
// PFOR_PLUGIN("mine") once in one of its source files and link it against
// pfor_plugin_api instead of pfor_kernel_api. See docs/plugins.md.
#ifndef PFOR_KERNEL_H_
#define PFOR_KERNEL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
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

// The version of the kernel API: of the types a plugin hands to the worker
// that loads it (KernelDef and everything it holds). A plugin built against
// another version is refused. Bump it whenever one of those types changes.
inline constexpr int kKernelAbiVersion = 2;

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
  // Adds every kernel of `defs`, or none of them when one cannot be added:
  // INVALID_ARGUMENT for a bad name or a missing run function,
  // ALREADY_EXISTS for a name taken or given twice in `defs`.
  absl::Status AddAll(std::vector<KernelDef> defs);
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

// What PFOR_KERNEL calls. In a program (linked with pfor_kernel_api) it adds
// to the global registry and aborts with the reason on failure, since a
// kernel that cannot register is a bug in the program being started. In a
// plugin (linked with pfor_plugin_api) it only appends to PluginKernels():
// the worker's plugin loader checks the definitions and adds them to its
// own registry, so a plugin never aborts the worker that loads it.
bool RegisterKernelOrDie(KernelDef def);

// The kernels this plugin defined, in registration order (pfor_plugin_api
// only). Filled by static initializers, read-only afterwards.
const std::vector<KernelDef>& PluginKernels();

// A fingerprint of the sizes and alignments of the types that cross from a
// plugin to the worker, so that a plugin built with another compiler,
// standard library or revision of these headers is refused even when
// kKernelAbiVersion was not bumped.
constexpr uint64_t KernelAbiLayout() {
  uint64_t hash = 14695981039346656037u;  // FNV-1a
  for (size_t size :
       {sizeof(KernelDef), alignof(KernelDef), sizeof(ChunkContext),
        alignof(ChunkContext), sizeof(ParamSpec), sizeof(ParamValue),
        sizeof(Params), sizeof(Value), alignof(Value),
        sizeof(absl::StatusOr<Value>), sizeof(std::string),
        sizeof(std::vector<KernelDef>)}) {
    hash = (hash ^ size) * 1099511628211u;
  }
  return hash;
}

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

// Makes this shared library a pfor plugin named `name` (a string literal,
// shown in the worker's messages). Write it once, at namespace scope, in one
// source file of the plugin itself (not of a static library it links), and
// link the plugin against pfor_plugin_api. It defines the plugin's entry
// points, which the worker's loader reads: the kernel API version and type
// layout the plugin was built against, its name and its kernels.
#define PFOR_PLUGIN(name)                                       \
  extern "C" __attribute__((visibility("default"))) int         \
  pfor_plugin_abi_version(void) {                               \
    return ::pfor::kKernelAbiVersion;                           \
  }                                                             \
  extern "C" __attribute__((visibility("default"))) uint64_t    \
  pfor_plugin_abi_layout(void) {                                \
    return ::pfor::internal::KernelAbiLayout();                 \
  }                                                             \
  extern "C" __attribute__((visibility("default"))) const char* \
  pfor_plugin_name(void) {                                      \
    return "" name;                                             \
  }                                                             \
  extern "C" __attribute__((visibility("default")))             \
  const ::std::vector<::pfor::KernelDef>*                       \
  pfor_plugin_kernels(void) {                                   \
    return &::pfor::internal::PluginKernels();                  \
  }                                                             \
  static_assert(true, "PFOR_PLUGIN takes a semicolon")

#endif  // PFOR_KERNEL_H_
