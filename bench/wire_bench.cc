// What the worker link's codecs cost per chunk: a message of 64 chunks (the
// batching the link uses at full speed) encoded and serialized, and parsed
// and decoded, in each direction. 100,000 chunks/s leaves about 10 us per
// chunk for everything; the codecs should take well under 1 us of that.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "pfor/common/link.h"
#include "pfor/common/wire_link.h"

namespace pfor {
namespace {

constexpr int kChunks = 64;

ExactSum Integral(int terms) {
  ExactSum sum;
  for (int i = 0; i < terms; ++i) sum.Add(1.0 / (i + 1));
  return sum;
}

// Results of one-index chunks: integers (sleep, primes) or exact sums
// (integrate).
WorkerMessage Results(bool exact) {
  WorkerMessage message;
  message.credits[0] = kChunks;
  for (int i = 0; i < kChunks; ++i) {
    const Value value = exact ? Value{Integral(100)} : Value{int64_t{i}};
    message.results.push_back(ChunkResult{
        AttemptRef{7, i, 1}, ChunkOutput(value), absl::Microseconds(3)});
  }
  return message;
}

CoordinatorMessage Assignments() {
  CoordinatorMessage message;
  for (int i = 0; i < kChunks; ++i) {
    ChunkAssignment chunk;
    chunk.attempt = {7, i, 1};
    chunk.end = i + 1;
    chunk.index = i;
    message.chunks.push_back(chunk);
  }
  return message;
}

void BM_EncodeResults(benchmark::State& state) {
  const WorkerMessage message = Results(state.range(0) != 0);
  std::string bytes;
  for (auto _ : state) {
    ToProto(message).SerializeToString(&bytes);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kChunks);
}
BENCHMARK(BM_EncodeResults)->ArgName("exact")->Arg(0)->Arg(1);

void BM_DecodeResults(benchmark::State& state) {
  const std::string bytes =
      ToProto(Results(state.range(0) != 0)).SerializeAsString();
  for (auto _ : state) {
    v1::WorkerMessage wire;
    wire.ParseFromString(bytes);
    absl::StatusOr<WorkerMessage> message = FromProto(wire);
    benchmark::DoNotOptimize(message);
  }
  state.SetItemsProcessed(state.iterations() * kChunks);
}
BENCHMARK(BM_DecodeResults)->ArgName("exact")->Arg(0)->Arg(1);

void BM_EncodeAssignments(benchmark::State& state) {
  const CoordinatorMessage message = Assignments();
  std::string bytes;
  for (auto _ : state) {
    ToProto(message).SerializeToString(&bytes);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kChunks);
}
BENCHMARK(BM_EncodeAssignments);

void BM_DecodeAssignments(benchmark::State& state) {
  const std::string bytes = ToProto(Assignments()).SerializeAsString();
  for (auto _ : state) {
    v1::CoordinatorMessage wire;
    wire.ParseFromString(bytes);
    absl::StatusOr<CoordinatorMessage> message = FromProto(wire);
    benchmark::DoNotOptimize(message);
  }
  state.SetItemsProcessed(state.iterations() * kChunks);
}
BENCHMARK(BM_DecodeAssignments);

}  // namespace
}  // namespace pfor
