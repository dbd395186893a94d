// joblib in C++: integrates cos over [0, pi/2] (exactly 1) as eight delayed
// calls, once on the threads backend and once on the processes backend.
//
//   pieces = Parallel(n_jobs=-1, backend=...)(
//       delayed(integrate)(a, b) for a, b in ...)
//   total = sum(pieces)
#include <cstdio>
#include <numbers>

#include "pfor/parallel.h"

int main() {
  absl::StatusOr<std::unique_ptr<pfor::Client>> client =
      pfor::Client::Connect({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  constexpr int kPieces = 8;
  const double width = std::numbers::pi / 2 / kPieces;
  std::vector<pfor::DelayedCall> calls;
  for (int i = 0; i < kPieces; ++i) {
    // Each piece: the midpoint rule over 10^6 points of [a, b].
    calls.push_back(pfor::delayed("integrate")(
        {0, 1'000'000}, {{"a", i * width},
                         {"b", (i + 1) * width},
                         {"integrand", std::string("cos")}}));
  }
  for (pfor::Backend backend :
       {pfor::Backend::kThreads, pfor::Backend::kProcesses}) {
    pfor::ParallelResults pieces =
        pfor::Parallel(**client, {.n_jobs = -1, .backend = backend})(calls);
    double total = 0;
    for (const absl::StatusOr<double>& piece : pieces.list<double>()) {
      if (!piece.ok()) {
        std::fprintf(stderr, "%s\n", piece.status().ToString().c_str());
        return 1;
      }
      total += *piece;
    }
    std::printf("%s: %.12f\n",
                backend == pfor::Backend::kThreads ? "threads" : "processes",
                total);
  }
  return 0;
}
