#include "pfor/kernel.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace pfor {
namespace {

bool IsValidKernelName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

KernelRegistry& KernelRegistry::Global() {
  static auto* registry = new KernelRegistry;
  return *registry;
}

absl::Status KernelRegistry::Add(KernelDef def) {
  std::vector<KernelDef> defs;
  defs.push_back(std::move(def));
  return AddAll(std::move(defs));
}

absl::Status KernelRegistry::AddAll(std::vector<KernelDef> defs) {
  for (size_t i = 0; i < defs.size(); ++i) {
    const KernelDef& def = defs[i];
    if (!IsValidKernelName(def.name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kernel name '", def.name,
          "' is not valid; use 1 to 64 lowercase letters, digits and '_', "
          "starting with a letter"));
    }
    if (!def.run) {
      return absl::InvalidArgumentError(
          absl::StrCat("kernel ", def.name, " has no run function"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (defs[j].name == def.name) {
        return absl::AlreadyExistsError(
            absl::StrCat("kernel ", def.name, " is defined twice"));
      }
    }
  }
  std::lock_guard lock(mu_);
  for (const KernelDef& def : defs) {
    for (const auto& kernel : kernels_) {
      if (kernel->name == def.name) {
        return absl::AlreadyExistsError(
            absl::StrCat("kernel ", def.name, " is already registered"));
      }
    }
  }
  for (KernelDef& def : defs) {
    kernels_.push_back(std::make_unique<KernelDef>(std::move(def)));
  }
  return absl::OkStatus();
}

const KernelDef* KernelRegistry::Find(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& kernel : kernels_) {
    if (kernel->name == name) return kernel.get();
  }
  return nullptr;
}

std::vector<const KernelDef*> KernelRegistry::List() const {
  std::lock_guard lock(mu_);
  std::vector<const KernelDef*> list;
  for (const auto& kernel : kernels_) list.push_back(kernel.get());
  std::sort(
      list.begin(), list.end(),
      [](const KernelDef* a, const KernelDef* b) { return a->name < b->name; });
  return list;
}

void IndexFold::AddExtreme(double value, int64_t int_value, bool is_int) {
  const bool take_min = reduction_ == Reduction::kMin;
  bool better;
  if (!has_extreme_) {
    better = true;
  } else if (std::isnan(extreme_) && !extreme_is_int_) {
    better = false;  // NaN, once seen, is the answer
  } else if (std::isnan(value)) {
    better = true;
  } else if (is_int && extreme_is_int_) {
    better = take_min ? int_value < int_extreme_ : int_value > int_extreme_;
  } else {
    better = take_min ? value < extreme_ : value > extreme_;
  }
  if (better) {
    has_extreme_ = true;
    extreme_is_int_ = is_int;
    extreme_ = value;
    int_extreme_ = int_value;
  }
}

absl::StatusOr<Value> IndexFold::Finish() const {
  switch (reduction_) {
    case Reduction::kCount:
      return count_;
    case Reduction::kMin:
    case Reduction::kMax:
      // Like Combine: once floats are involved the result is a float, so its
      // type never depends on which value won.
      if (extreme_is_int_ && !has_float_) return int_extreme_;
      return extreme_;
    case Reduction::kSum:
    case Reduction::kCollect:
      break;
  }
  if (!has_float_) {
    if (int_sum_ > INT64_MAX || int_sum_ < INT64_MIN) {
      return absl::OutOfRangeError(
          "integer sum of the chunk overflows int64; use smaller chunks or "
          "a kernel that returns floats");
    }
    return static_cast<int64_t>(int_sum_);
  }
  ExactSum sum = float_sum_;
  if (has_int_) {
    // Split the 128-bit integer sum into exactly representable pieces.
    const __int128 high = int_sum_ / (__int128{1} << 62);
    const __int128 low = int_sum_ - high * (__int128{1} << 62);
    sum.Add(std::ldexp(static_cast<double>(static_cast<int64_t>(high)), 62));
    sum.AddInteger(static_cast<int64_t>(low));
  }
  return sum;
}

}  // namespace pfor
