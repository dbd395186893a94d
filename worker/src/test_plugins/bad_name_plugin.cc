// A plugin whose kernel name breaks the naming rules.
#include <cstdint>

#include "pfor/kernel.h"

PFOR_PLUGIN("test_bad_name");

PFOR_KERNEL({.name = "Plugin-Kernel",
             .run = [](const pfor::ChunkContext&)
                 -> absl::StatusOr<pfor::Value> { return int64_t{1}; }});
