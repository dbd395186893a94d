// What the SDK costs a program: the round trip of one small job through an
// Executor (submit(...).result() of a one-chunk noop job, one call at a
// time) and the throughput of Executor::map over many noop tasks.
//
//   sdk_bench                              embedded cluster (every core)
//   sdk_bench --coordinator 127.0.0.1:7070 a running coordinator
//   sdk_bench --coordinator 127.0.0.1:7070 --tls-ca ca.pem --token-file T
//                                          ...one with TLS and tokens
//   sdk_bench --calls 1000 --map-tasks 100000 --rounds 5 --json
//
// Latencies are percentiles over all calls; map throughput is the median
// over rounds. compare.py runs this next to Python's executors.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "nlohmann/json.hpp"
#include "pfor/common/security_flags.h"
#include "pfor/executor.h"

namespace {

double Percentile(std::vector<double> sorted, double p) {
  std::sort(sorted.begin(), sorted.end());
  const size_t at =
      static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[at];
}

double Median(std::vector<double> values) { return Percentile(values, 0.5); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sdk_bench: latency of Executor.submit().result() and "
      "throughput of Executor.map, on noop jobs"};
  std::string coordinator;
  int calls = 1000;
  int map_tasks = 100'000;
  int rounds = 3;
  bool json = false;
  app.add_option("--coordinator", coordinator,
                 "HOST:PORT of a running coordinator (default: embedded)");
  app.add_option("--calls", calls, "submit().result() calls; 0 skips them")
      ->check(CLI::Range(0, 10'000'000));
  app.add_option("--map-tasks", map_tasks, "tasks per map call; 0 skips map")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--rounds", rounds, "map calls (the median is reported)")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--json", json, "One JSON object instead of text");
  pfor::TlsFiles tls;
  pfor::AddTlsFlags(app, tls, pfor::FlagSide::kClient);
  std::string token_file;
  pfor::AddTokenFileFlag(app, token_file);
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<std::string> token = pfor::ReadToken(token_file);
  absl::StatusOr<std::unique_ptr<pfor::Client>> client =
      token.ok() ? pfor::Client::Connect({.coordinator = coordinator,
                                          .tls_ca = tls.ca,
                                          .tls_cert = tls.cert,
                                          .tls_key = tls.key,
                                          .token = *token})
                 : token.status();
  if (!client.ok()) {
    std::fprintf(stderr, "sdk_bench: %s\n", client.status().ToString().c_str());
    return 1;
  }
  pfor::Executor executor(**client);

  // Warm up: the follower stream, the worker's first job definitions.
  for (int i = 0; i < 20; ++i) {
    if (!executor.submit<int64_t>("noop", {0, 1}).result().ok()) {
      std::fprintf(stderr, "sdk_bench: the noop kernel does not run here\n");
      return 1;
    }
  }
  std::vector<double> latencies_us;
  latencies_us.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    const absl::Time start = absl::Now();
    absl::StatusOr<int64_t> value =
        executor.submit<int64_t>("noop", {0, 1}).result();
    latencies_us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
    if (!value.ok() || *value != 0) {
      std::fprintf(stderr, "sdk_bench: submit failed: %s\n",
                   value.status().ToString().c_str());
      return 1;
    }
  }

  const std::string where = coordinator.empty() ? "embedded" : coordinator;
  nlohmann::json report = {{"where", where}};
  if (calls > 0) {
    double total_us = 0;
    for (double us : latencies_us) total_us += us;
    report["calls"] = calls;
    report["submit_result_total_s"] = total_us / 1e6;
    report["submit_result_p50_us"] = Percentile(latencies_us, 0.5);
    report["submit_result_p90_us"] = Percentile(latencies_us, 0.9);
    report["submit_result_p99_us"] = Percentile(latencies_us, 0.99);
    if (!json) {
      std::printf(
          "%s: submit(noop).result(): p50 %.0f us, p90 %.0f us, p99 %.0f us "
          "over %d calls\n",
          where.c_str(), report["submit_result_p50_us"].get<double>(),
          report["submit_result_p90_us"].get<double>(),
          report["submit_result_p99_us"].get<double>(), calls);
    }
  }

  if (map_tasks > 0) {
    std::vector<pfor::Range> inputs;
    inputs.reserve(map_tasks);
    for (int64_t i = 0; i < map_tasks; ++i) inputs.push_back({i, i + 1});
    std::vector<double> map_seconds;
    for (int round = 0; round < rounds; ++round) {
      const absl::Time start = absl::Now();
      std::vector<absl::StatusOr<int64_t>> results =
          executor.map<int64_t>("noop", inputs);
      map_seconds.push_back(absl::ToDoubleSeconds(absl::Now() - start));
      for (const absl::StatusOr<int64_t>& result : results) {
        if (!result.ok() || *result != 0) {
          std::fprintf(stderr, "sdk_bench: map failed: %s\n",
                       result.status().ToString().c_str());
          return 1;
        }
      }
    }
    const double median = Median(map_seconds);
    report["map_tasks"] = map_tasks;
    report["map_median_s"] = median;
    report["map_tasks_per_s"] = map_tasks / median;
    if (!json) {
      std::printf(
          "%s: map(noop) over %d tasks: median %.3f s of %d rounds, %.0f "
          "tasks/s\n",
          where.c_str(), map_tasks, median, rounds, map_tasks / median);
    }
  }
  if (json) std::printf("%s\n", report.dump().c_str());
  return 0;
}
