// Counts the primes below 10^8 on an embedded cluster (every local core), or
// on a cluster when PFOR_COORDINATOR is set: the same code runs both ways.
#include <cstdio>

#include "pfor/client.h"

int main() {
  absl::StatusOr<std::unique_ptr<pfor::Client>> client =
      pfor::Client::Connect({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  const pfor::JobSpec job{
      .kernel = "count_primes", .begin = 0, .end = 100'000'000};
  absl::StatusOr<pfor::JobStatus> done = (*client)->Run(job);
  if (!done.ok() || done->state != pfor::JobState::kSucceeded) {
    std::fprintf(
        stderr, "failed: %s\n",
        done.ok() ? done->error.c_str() : done.status().ToString().c_str());
    return 1;
  }
  std::printf("primes below 10^8: %s (%lld chunks)\n",
              pfor::FormatValue(*done->value).c_str(),
              static_cast<long long>(done->progress.chunks_done));
  return 0;
}
