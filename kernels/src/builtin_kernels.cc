#include "pfor/builtin_kernels.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fault.h"
#include "integrate.h"
#include "monte_carlo_pi.h"
#include "primes.h"
#include "test_kernels.h"

namespace pfor {

namespace {

std::vector<KernelDef> Builtins() {
  std::vector<KernelDef> kernels;
  kernels.push_back(CountPrimesKernel());
  kernels.push_back(CountPrimesTrialKernel());
  kernels.push_back(IntegrateKernel());
  kernels.push_back(MonteCarloPiKernel());
  kernels.push_back(NoopKernel());
  kernels.push_back(SleepKernel());
  return kernels;
}

std::vector<KernelDef> TestKernels() {
  std::vector<KernelDef> kernels;
  kernels.push_back(FaultKernel());
  return kernels;
}

std::vector<std::string> NamesOf(const std::vector<KernelDef>& kernels) {
  std::vector<std::string> names;
  for (const KernelDef& kernel : kernels) names.push_back(kernel.name);
  return names;
}

absl::Status RegisterAll(KernelRegistry& registry,
                         std::vector<KernelDef> kernels) {
  // Checked up front so that a clash leaves the registry as it was.
  for (const KernelDef& kernel : kernels) {
    if (registry.Find(kernel.name) != nullptr) {
      return absl::AlreadyExistsError(absl::StrCat(
          "kernel ", kernel.name,
          " is already registered; a plugin or PFOR_KERNEL must not reuse "
          "a built-in kernel's name"));
    }
  }
  for (KernelDef& kernel : kernels) {
    if (absl::Status s = registry.Add(std::move(kernel)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> BuiltinKernelNames() { return NamesOf(Builtins()); }

std::vector<std::string> TestKernelNames() { return NamesOf(TestKernels()); }

absl::Status RegisterBuiltinKernels(KernelRegistry& registry) {
  return RegisterAll(registry, Builtins());
}

absl::Status RegisterTestKernels(KernelRegistry& registry) {
  return RegisterAll(registry, TestKernels());
}

absl::Status RegisterBuiltinKernelsOnce() {
  static const absl::Status* status =
      new absl::Status(RegisterBuiltinKernels(KernelRegistry::Global()));
  return *status;
}

absl::Status RegisterTestKernelsOnce() {
  static const absl::Status* status =
      new absl::Status(RegisterTestKernels(KernelRegistry::Global()));
  return *status;
}

}  // namespace pfor
