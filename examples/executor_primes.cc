// concurrent.futures in C++: counts the primes below 10^7 as ten jobs
// submitted to an Executor, adding each count as its job completes.
//
//   with ProcessPoolExecutor() as executor:
//       futures = [executor.submit(count_primes, lo, lo + step) for lo in ...]
//       total = sum(f.result() for f in as_completed(futures))
#include <cstdio>

#include "pfor/executor.h"

int main() {
  absl::StatusOr<std::unique_ptr<pfor::Client>> client =
      pfor::Client::Connect({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  constexpr int64_t kEnd = 10'000'000;
  constexpr int64_t kStep = kEnd / 10;
  pfor::Executor executor(**client);
  std::vector<pfor::Future<int64_t>> futures;
  for (int64_t begin = 1; begin < kEnd; begin += kStep) {
    futures.push_back(executor.submit<int64_t>(
        "count_primes", {begin, std::min(begin + kStep, kEnd)}));
  }
  int64_t total = 0;
  for (const absl::StatusOr<pfor::Future<int64_t>>& done :
       pfor::as_completed(futures)) {
    absl::StatusOr<int64_t> count = done.ok() ? done->result() : done.status();
    if (!count.ok()) {
      std::fprintf(stderr, "%s\n", count.status().ToString().c_str());
      return 1;
    }
    total += *count;
  }
  std::printf("primes below 10^7: %lld\n", static_cast<long long>(total));
  return 0;
}
