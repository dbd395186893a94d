// PFOR_KERNEL in a plugin (pfor_plugin_api): definitions are only collected
// here, in the plugin's own copy of this file. The worker's loader reads them
// through pfor_plugin_kernels() once it has checked the plugin's kernel API
// version, and adds them to its registry, refusing a bad or taken name with
// an error instead of aborting the worker. See
// docs/decisions/0005-kernel-plugins.md.
#include <vector>

#include "pfor/kernel.h"

namespace pfor::internal {
namespace {

std::vector<KernelDef>& MutablePluginKernels() {
  // Destroyed when the plugin is unloaded; the loader copies what it keeps.
  static std::vector<KernelDef> kernels;
  return kernels;
}

}  // namespace

bool RegisterKernelOrDie(KernelDef def) {
  MutablePluginKernels().push_back(std::move(def));
  return true;
}

const std::vector<KernelDef>& PluginKernels() { return MutablePluginKernels(); }

}  // namespace pfor::internal
