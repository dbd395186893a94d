// What bit-reproducible sums cost: ExactSum::Add and the kernels' IndexFold
// against a plain (order-dependent) double sum, on the terms an integration
// kernel produces (f(x_i) * h for cos over [0, pi/2]).
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "benchmark/benchmark.h"
#include "pfor/exact_sum.h"
#include "pfor/kernel.h"
#include "pfor/value.h"

namespace pfor {
namespace {

// Midpoint-rule terms of cos over [0, pi/2] with `n` points.
std::vector<double> IntegrationTerms(int64_t n) {
  const double a = 0;
  const double b = std::numbers::pi / 2;
  const double h = (b - a) / static_cast<double>(n);
  std::vector<double> terms(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    terms[static_cast<size_t>(i)] =
        std::cos(a + (static_cast<double>(i) + 0.5) * h) * h;
  }
  return terms;
}

void BM_PlainDoubleSum(benchmark::State& state) {
  const std::vector<double> terms = IntegrationTerms(state.range(0));
  for (auto _ : state) {
    // The terms never change: stop the compiler from summing them once.
    benchmark::ClobberMemory();
    double sum = 0;
    for (const double term : terms) sum += term;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(terms.size()));
}
BENCHMARK(BM_PlainDoubleSum)->Arg(4096);

void BM_ExactSumAdd(benchmark::State& state) {
  const std::vector<double> terms = IntegrationTerms(state.range(0));
  for (auto _ : state) {
    benchmark::ClobberMemory();
    ExactSum sum;
    for (const double term : terms) sum.Add(term);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(terms.size()));
}
BENCHMARK(BM_ExactSumAdd)->Arg(4096);

// Adds and rounds: what a chunk of this many points costs end to end.
void BM_ExactSumAddAndRound(benchmark::State& state) {
  const std::vector<double> terms = IntegrationTerms(state.range(0));
  for (auto _ : state) {
    benchmark::ClobberMemory();
    ExactSum sum;
    for (const double term : terms) sum.Add(term);
    benchmark::DoNotOptimize(sum.Round());
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(terms.size()));
}
BENCHMARK(BM_ExactSumAddAndRound)->Arg(64)->Arg(4096);

// Combining chunk results, as the coordinator's reduction does.
void BM_ExactSumMerge(benchmark::State& state) {
  const std::vector<double> terms = IntegrationTerms(4096);
  std::vector<ExactSum> parts(64);
  for (size_t i = 0; i < terms.size(); ++i)
    parts[i % parts.size()].Add(terms[i]);
  for (auto _ : state) {
    benchmark::ClobberMemory();
    ExactSum total;
    for (const ExactSum& part : parts) total.Add(part);
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(parts.size()));
}
BENCHMARK(BM_ExactSumMerge);

void BM_IndexFoldDouble(benchmark::State& state) {
  const std::vector<double> terms = IntegrationTerms(state.range(0));
  for (auto _ : state) {
    benchmark::ClobberMemory();
    IndexFold fold(Reduction::kSum);
    for (const double term : terms) fold.Add(term);
    absl::StatusOr<Value> value = fold.Finish();
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(terms.size()));
}
BENCHMARK(BM_IndexFoldDouble)->Arg(4096);

// Integer indicators (1 for a prime, 0 otherwise), as the prime kernels add.
void BM_IndexFoldInt(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = (i % 7) == 3;
  for (auto _ : state) {
    benchmark::ClobberMemory();
    IndexFold fold(Reduction::kSum);
    for (const int64_t value : values) fold.Add(value);
    absl::StatusOr<Value> value = fold.Finish();
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_IndexFoldInt)->Arg(4096);

}  // namespace
}  // namespace pfor
