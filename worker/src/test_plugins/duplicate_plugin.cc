// A plugin with a new kernel name and one the good plugin already uses.
#include <cstdint>

#include "pfor/kernel.h"

PFOR_PLUGIN("test_duplicate");

PFOR_KERNEL({.name = "plugin_fresh",
             .run = [](const pfor::ChunkContext&)
                 -> absl::StatusOr<pfor::Value> { return int64_t{1}; }});

PFOR_KERNEL({.name = "plugin_square_sum",
             .run = [](const pfor::ChunkContext&)
                 -> absl::StatusOr<pfor::Value> { return int64_t{-1}; }});
