// A program outside the pfor tree, linked against an installed libpfor.so:
// counts the primes below 10^6 and runs a kernel of its own, both on the
// embedded cluster.
#include <cstdint>
#include <cstdio>
#include <string>

#include "pfor/client.h"
#include "pfor/kernel.h"

// Value i^3 per index: the sum over [0, n) is (n(n-1)/2)^2.
PFOR_KERNEL(
    {.name = "downstream_cubes",
     .help = "Value i^3 per index.",
     .run = [](const pfor::ChunkContext& chunk) -> absl::StatusOr<pfor::Value> {
       pfor::IndexFold fold(chunk.reduction);
       for (int64_t i = chunk.begin; i < chunk.end; ++i) fold.Add(i * i * i);
       return fold.Finish();
     }});

namespace {

bool Run(pfor::Client& client, const std::string& kernel, int64_t end) {
  absl::StatusOr<pfor::JobStatus> done =
      client.Run({.kernel = kernel, .begin = 0, .end = end});
  if (!done.ok() || !done->value) {
    std::fprintf(
        stderr, "%s failed: %s\n", kernel.c_str(),
        done.ok() ? done->error.c_str() : done.status().ToString().c_str());
    return false;
  }
  std::printf("%s: %s\n", kernel.c_str(),
              pfor::FormatValue(*done->value).c_str());
  return true;
}

}  // namespace

int main() {
  absl::StatusOr<std::unique_ptr<pfor::Client>> client =
      pfor::Client::Connect({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  return Run(**client, "count_primes", 1'000'000) &&
                 Run(**client, "downstream_cubes", 10'000)
             ? 0
             : 1;
}
