// Exact answers through the real binaries: a cluster of a coordinator and
// two one-thread workers, and the embedded cluster of `pfor run`.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cluster.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;

// Parses the whole of `text` (but a trailing newline) as a double.
bool ParseDouble(const std::string& text, double* value) {
  const std::string trimmed(absl::StripTrailingAsciiWhitespace(text));
  if (trimmed.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *value = std::strtod(trimmed.c_str(), &end);
  return errno == 0 && end == trimmed.c_str() + trimmed.size() &&
         std::isfinite(*value);
}

TEST(Results, CountPrimesBelowTenToTheTenIsExact) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  RunResult result = cluster->Cli({"submit", "count_primes", "--range",
                                   "0:1e10", "--wait", "--no-progress"});
  ASSERT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, "455052511\n");
  EXPECT_EQ(result.err, "");
}

TEST(Results, IntegralOfCosOverZeroToHalfPiIsOne) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  RunResult result =
      cluster->Cli({"submit", "integrate", "--param", "a=0", "--param",
                    "b=pi/2", "--points", "1e9", "--wait", "--no-progress"});
  ASSERT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  double value;
  ASSERT_TRUE(ParseDouble(result.out, &value))
      << "not a number: " << result.out;
  EXPECT_NEAR(value, 1.0, 1e-9) << result.out;
}

// Floating-point sums are exact until the final rounding, so the chunking
// cannot change a single bit of the result.
TEST(Results, IntegralIsBitIdenticalWhateverTheChunking) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  std::vector<double> values;
  for (const char* chunks : {"auto", "fixed:999983", "count:7", "count:1"}) {
    ASSERT_OK_AND_ASSIGN(
        json job,
        cluster->CliJson({"submit", "integrate", "--param", "integrand=exp",
                          "--param", "a=-1", "--param", "b=2.5", "--points",
                          "3e7", "--chunks", chunks, "--wait"}));
    ASSERT_EQ(State(job), "succeeded") << job.dump();
    ASSERT_TRUE(job["result"].is_number_float()) << job.dump();
    values.push_back(job["result"].get<double>());
  }
  EXPECT_NEAR(values[0], std::exp(2.5) - std::exp(-1.0), 1e-9);
  for (double value : values) {
    // Bitwise equality, not nearness.
    EXPECT_EQ(std::memcmp(&value, &values[0], sizeof value), 0)
        << absl::StrCat(value) << " vs " << absl::StrCat(values[0]);
  }
}

TEST(Results, MonteCarloPiDoesNotDependOnChunking) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());
  std::vector<std::string> outputs;
  for (const char* chunks : {"fixed:1000003", "count:3"}) {
    RunResult result = cluster->Cli({"submit", "monte_carlo_pi", "--param",
                                     "seed=42", "--range", "0:1e7", "--chunks",
                                     chunks, "--wait", "--no-progress"});
    ASSERT_TRUE(result.status.ExitedWith(0)) << Describe(result);
    outputs.push_back(result.out);
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  // The quarter circle holds pi/4 of the points: 7853981 expected,
  // standard deviation about 1300.
  double hits;
  ASSERT_TRUE(ParseDouble(outputs[0], &hits)) << outputs[0];
  EXPECT_NEAR(hits, 7853982, 10000);
}

TEST(Results, EmbeddedRunCountsPrimesBelowTenToTheNine) {
  // No --coordinator and no PFOR_COORDINATOR: an in-process cluster.
  RunResult result =
      RunCli({"run", "count_primes", "--range", "1:1e9", "--no-progress"});
  ASSERT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, "50847534\n");
}

TEST(Results, JsonOutputsParseAndCarryTheirFields) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster());

  // submit --json without --wait: the accepted job.
  ASSERT_OK_AND_ASSIGN(
      json submitted,
      cluster->CliJson({"submit", "count_primes_trial", "--range", "0:1e6",
                        "--chunks", "fixed:100000", "--name", "json-check"}));
  ASSERT_TRUE(submitted.is_object()) << submitted.dump();
  ASSERT_TRUE(submitted["id"].is_number_unsigned()) << submitted.dump();
  const uint64_t id = submitted["id"].get<uint64_t>();
  EXPECT_GT(id, 0u);
  EXPECT_EQ(submitted["kernel"], "count_primes_trial");
  EXPECT_EQ(submitted["name"], "json-check");

  // wait --json: the finished job with its result.
  ASSERT_OK_AND_ASSIGN(json waited,
                       cluster->CliJson({"wait", absl::StrCat(id)}));
  EXPECT_EQ(State(waited), "succeeded") << waited.dump();
  EXPECT_EQ(waited["result"], 78498) << waited.dump();

  // status --json: request, state, progress and result.
  ASSERT_OK_AND_ASSIGN(json status, cluster->Status(id));
  EXPECT_EQ(status["id"], id);
  EXPECT_EQ(status["kernel"], "count_primes_trial");
  EXPECT_EQ(status["begin"], 0);
  EXPECT_EQ(status["end"], 1000000);
  EXPECT_EQ(status["chunks"], "fixed:100000");
  EXPECT_EQ(status["reduce"], "sum");
  EXPECT_EQ(State(status), "succeeded");
  EXPECT_EQ(status["result"], 78498);
  EXPECT_EQ(Progress(status, "indices_total"), 1000000);
  EXPECT_EQ(Progress(status, "indices_done"), 1000000);
  EXPECT_EQ(Progress(status, "chunks_done"), 10);
  EXPECT_EQ(Progress(status, "chunks_in_flight"), 0);
  EXPECT_EQ(Progress(status, "attempts_failed"), 0);
  EXPECT_EQ(Progress(status, "chunks_requeued"), 0);
  EXPECT_TRUE(status["submit_time"].is_string());
  EXPECT_FALSE(status.contains("error")) << status.dump();

  // submit --wait --json with collect: one value per chunk, in range order.
  ASSERT_OK_AND_ASSIGN(json collected,
                       cluster->CliJson({"submit", "count_primes", "--range",
                                         "0:100", "--chunks", "fixed:25",
                                         "--reduce", "collect", "--wait"}));
  ASSERT_TRUE(collected["result"].is_array()) << collected.dump();
  const json expected_chunks = json::parse(R"([
      {"begin": 0, "end": 25, "value": 9},
      {"begin": 25, "end": 50, "value": 6},
      {"begin": 50, "end": 75, "value": 6},
      {"begin": 75, "end": 100, "value": 4}])");
  EXPECT_EQ(collected["result"], expected_chunks) << collected.dump();

  // jobs --json: newest first, both jobs listed.
  ASSERT_OK_AND_ASSIGN(json jobs, cluster->CliJson({"jobs"}));
  ASSERT_TRUE(jobs.is_array()) << jobs.dump();
  ASSERT_EQ(jobs.size(), 2u) << jobs.dump();
  EXPECT_EQ(jobs[0]["id"], collected["id"]);
  EXPECT_EQ(jobs[1]["id"], id);

  // workers --json: both workers with their names, slots and kernels.
  ASSERT_OK_AND_ASSIGN(json workers, cluster->Workers());
  ASSERT_TRUE(workers.is_array()) << workers.dump();
  ASSERT_EQ(workers.size(), 2u) << workers.dump();
  std::set<std::string> names;
  for (const json& worker : workers) {
    names.insert(worker["name"].get<std::string>());
    EXPECT_TRUE(worker["id"].is_number_unsigned()) << worker.dump();
    EXPECT_EQ(worker["slots"], 1) << worker.dump();
    EXPECT_EQ(worker["draining"], false) << worker.dump();
    ASSERT_TRUE(worker["kernels"].is_array()) << worker.dump();
    EXPECT_NE(std::find(worker["kernels"].begin(), worker["kernels"].end(),
                        "count_primes"),
              worker["kernels"].end())
        << worker.dump();
  }
  EXPECT_EQ(names, (std::set<std::string>{"w0", "w1"}));

  // kernels --json: integrate declares a, b and integrand.
  ASSERT_OK_AND_ASSIGN(json kernels, cluster->CliJson({"kernels"}));
  ASSERT_TRUE(kernels.is_array()) << kernels.dump();
  std::set<std::string> kernel_names;
  std::set<std::string> integrate_params;
  for (const json& kernel : kernels) {
    kernel_names.insert(kernel["name"].get<std::string>());
    if (kernel["name"] != "integrate") continue;
    for (const json& param : kernel["params"]) {
      integrate_params.insert(param["name"].get<std::string>());
    }
  }
  for (const char* name : {"count_primes", "count_primes_trial", "integrate",
                           "monte_carlo_pi", "noop", "sleep"}) {
    EXPECT_TRUE(kernel_names.contains(name)) << name << ": " << kernels.dump();
  }
  EXPECT_EQ(integrate_params, (std::set<std::string>{"a", "b", "integrand"}));
}

}  // namespace
}  // namespace pfor::testing
