// A program outside the pfor tree, linked against an installed libpfor.so:
// counts the primes below 10^6 and runs a kernel of its own through the
// Executor, Parallel and parallel_reduce, on the embedded cluster.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "pfor/executor.h"
#include "pfor/kernel.h"
#include "pfor/parallel.h"
#include "pfor/parallel_for.h"

// Value i^3 per index: the sum over [0, n) is (n(n-1)/2)^2.
PFOR_KERNEL(
    {.name = "downstream_cubes",
     .help = "Value i^3 per index.",
     .run = [](const pfor::ChunkContext& chunk) -> absl::StatusOr<pfor::Value> {
       pfor::IndexFold fold(chunk.reduction);
       for (int64_t i = chunk.begin; i < chunk.end; ++i) fold.Add(i * i * i);
       return fold.Finish();
     }});

int main() {
  absl::StatusOr<std::unique_ptr<pfor::Client>> client =
      pfor::Client::Connect({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  // Each of the SDK's shapes once: a future, a joblib-style batch, and the
  // one-call helper.
  pfor::Executor executor(**client);
  absl::StatusOr<int64_t> primes =
      executor.submit<int64_t>("count_primes", {0, 1'000'000}).result();
  std::vector<absl::StatusOr<int64_t>> halves =
      pfor::Parallel(**client)(
          {pfor::delayed("downstream_cubes")({0, 5'000}),
           pfor::delayed("downstream_cubes")({5'000, 10'000})})
          .list<int64_t>();
  absl::StatusOr<int64_t> cubes =
      pfor::parallel_reduce<int64_t>(**client, "downstream_cubes", {0, 10'000});
  for (const absl::StatusOr<int64_t>* result :
       {&primes, &halves[0], &halves[1], &cubes}) {
    if (!result->ok()) {
      std::fprintf(stderr, "%s\n", result->status().ToString().c_str());
      return 1;
    }
  }
  std::printf("count_primes: %lld\n", static_cast<long long>(*primes));
  std::printf(
      "downstream_cubes: %lld = %lld + %lld\n", static_cast<long long>(*cubes),
      static_cast<long long>(*halves[0]), static_cast<long long>(*halves[1]));
  return 0;
}
