// Registers a kernel of its own and runs it on the embedded cluster: the sum
// of i*i over [0, 10^6), folded under whatever reduction the job asks for.
//
// The same kernel reaches remote workers two ways: this very program started
// as `user_kernel --pfor-worker --coordinator HOST:PORT` is a worker serving
// it (pfor/serve.h), or the kernel goes into a plugin that pfor-worker loads
// (docs/plugins.md).
#include <cstdio>

#include "pfor/client.h"
#include "pfor/kernel.h"
#include "pfor/serve.h"

PFOR_KERNEL(
    {.name = "sum_of_squares",
     .help = "Value i*i per index.",
     .run = [](const pfor::ChunkContext& chunk) -> absl::StatusOr<pfor::Value> {
       pfor::IndexFold fold(chunk.reduction);
       for (int64_t i = chunk.begin; i < chunk.end; ++i) fold.Add(i * i);
       return fold.Finish();
     }});

int main(int argc, char** argv) {
  if (std::optional<int> code = pfor::ServeIfWorker(argc, argv)) return *code;
  auto client = pfor::Client::Connect({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  for (pfor::Reduction reduction :
       {pfor::Reduction::kSum, pfor::Reduction::kMax}) {
    pfor::JobSpec job{.kernel = "sum_of_squares", .begin = 0, .end = 1'000'000};
    job.reduction = reduction;
    absl::StatusOr<pfor::JobStatus> done = (*client)->Run(job);
    if (!done.ok() || !done->value) {
      std::fprintf(
          stderr, "failed: %s\n",
          done.ok() ? done->error.c_str() : done.status().ToString().c_str());
      return 1;
    }
    std::printf("%s: %s\n", pfor::ReductionName(reduction),
                pfor::FormatValue(*done->value).c_str());
  }
  return 0;
}
