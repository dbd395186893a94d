// A well-formed plugin with two kernels, one of them with a parameter.
#include <cstdint>

#include "pfor/kernel.h"

PFOR_PLUGIN("test_good");

PFOR_KERNEL(
    {.name = "plugin_square_sum",
     .help = "Folds i*i over the chunk (test plugin).",
     .run = [](const pfor::ChunkContext& chunk) -> absl::StatusOr<pfor::Value> {
       pfor::IndexFold fold(chunk.reduction);
       for (int64_t i = chunk.begin; i < chunk.end; ++i) {
         fold.Add(i * i);
       }
       return fold.Finish();
     }});

PFOR_KERNEL(
    {.name = "plugin_scaled_sum",
     .help = "Folds scale*i over the chunk (test plugin).",
     .params = {{.name = "scale",
                 .type = pfor::ParamType::kFloat,
                 .help = "Factor applied to every index.",
                 .default_value = 0.5}},
     .run = [](const pfor::ChunkContext& chunk) -> absl::StatusOr<pfor::Value> {
       const double scale = chunk.params->Float("scale");
       pfor::IndexFold fold(chunk.reduction);
       for (int64_t i = chunk.begin; i < chunk.end; ++i) {
         fold.Add(scale * static_cast<double>(i));
       }
       return fold.Finish();
     }});
