// A plugin of the right kernel API version whose types have another layout,
// as a plugin built with another compiler or standard library would. Written
// by hand here; real plugins use PFOR_PLUGIN.
#include <cstdint>

#include "pfor/kernel.h"

extern "C" __attribute__((visibility("default"))) int pfor_plugin_abi_version(
    void) {
  return pfor::kKernelAbiVersion;
}
extern "C" __attribute__((visibility("default"))) uint64_t
pfor_plugin_abi_layout(void) {
  return pfor::internal::KernelAbiLayout() ^ 1;
}
extern "C" __attribute__((visibility("default"))) const char* pfor_plugin_name(
    void) {
  return "test_other_layout";
}
extern "C" __attribute__((visibility("default")))
const std::vector<pfor::KernelDef>*
pfor_plugin_kernels(void) {
  return &pfor::internal::PluginKernels();
}

PFOR_KERNEL({.name = "plugin_other_layout",
             .run = [](const pfor::ChunkContext&)
                 -> absl::StatusOr<pfor::Value> { return int64_t{1}; }});
