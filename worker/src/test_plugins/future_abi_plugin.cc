// A plugin as a future pfor would build it: its entry points announce the
// next kernel API version. Written by hand here; real plugins use PFOR_PLUGIN.
#include <cstdint>

#include "pfor/kernel.h"

extern "C" __attribute__((visibility("default"))) int pfor_plugin_abi_version(
    void) {
  return pfor::kKernelAbiVersion + 1;
}
extern "C" __attribute__((visibility("default"))) uint64_t
pfor_plugin_abi_layout(void) {
  return pfor::internal::KernelAbiLayout();
}
extern "C" __attribute__((visibility("default"))) const char* pfor_plugin_name(
    void) {
  return "test_future_abi";
}
extern "C" __attribute__((visibility("default")))
const std::vector<pfor::KernelDef>*
pfor_plugin_kernels(void) {
  return &pfor::internal::PluginKernels();
}

PFOR_KERNEL({.name = "plugin_future",
             .run = [](const pfor::ChunkContext&)
                 -> absl::StatusOr<pfor::Value> { return int64_t{1}; }});
