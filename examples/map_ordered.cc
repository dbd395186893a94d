// Executor.map (and multiprocessing.Pool.map): one kernel over many inputs,
// results in input order whatever order they complete in. Counts the primes
// of each decade [10^k, 10^(k+1)) below 10^7, in one batch job.
#include <cstdio>

#include "pfor/executor.h"

int main() {
  absl::StatusOr<std::unique_ptr<pfor::Client>> client =
      pfor::Client::Connect({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  std::vector<pfor::Range> decades;
  for (int64_t low = 1; low < 10'000'000; low *= 10) {
    decades.push_back({low, low * 10});
  }
  pfor::Executor executor(**client);
  std::vector<absl::StatusOr<int64_t>> counts =
      executor.map<int64_t>("count_primes", decades);
  for (size_t i = 0; i < decades.size(); ++i) {
    if (!counts[i].ok()) {
      std::fprintf(stderr, "%s\n", counts[i].status().ToString().c_str());
      return 1;
    }
    std::printf("[%lld, %lld): %lld\n",
                static_cast<long long>(decades[i].begin),
                static_cast<long long>(decades[i].end),
                static_cast<long long>(*counts[i]));
  }
  return 0;
}
