// The fleet simulator (bench/fleet_bench.cc) against a real coordinator: a
// small fleet runs one job to its end, every chunk counted once. Not timed:
// the utilisation only has to be a fraction.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pfor::testing {
namespace {

TEST(FleetBench, SmallFleetRunsEveryChunkOnce) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator());
  const RunResult run =
      testing::Run(PFOR_FLEET_BIN,
                   {"--coordinator", cluster.address(), "--coordinator-pid",
                    absl::StrCat(cluster.coordinator().pid()), "--streams",
                    "50", "--rounds", "3", "--json"},
                   ChildEnv(), absl::Seconds(120));
  ASSERT_TRUE(run.status.ExitedWith(0)) << Describe(run);
  const nlohmann::json report = nlohmann::json::parse(run.out);
  const int64_t chunks = 50 * 4 * 3;
  EXPECT_EQ(report["connected"], 50);
  EXPECT_EQ(report["connections"], 50);
  EXPECT_EQ(report["chunks"], chunks);
  EXPECT_EQ(report["state"], "succeeded");
  // The sleep kernel's value is 1 per index: the sum counts each chunk once.
  EXPECT_EQ(report["result"], chunks);
  EXPECT_EQ(report["never_ran"], 0);
  EXPECT_EQ(report["lost_streams"], 0);
  EXPECT_GE(report["attempts"].get<int64_t>(), chunks);
  EXPECT_GE(report["results"].get<int64_t>(), chunks);
  const double utilisation = report["utilisation"];
  EXPECT_GT(utilisation, 0.1) << run.out;
  EXPECT_LE(utilisation, 1.01) << run.out;
  EXPECT_GT(report["coordinator_rss_mib"].get<double>(), 0) << run.out;
  EXPECT_GE(report["coordinator_cpu_s"].get<double>(), 0) << run.out;
}

TEST(FleetBench, BadDurationIsOneLineAndExitTwo) {
  const RunResult run = testing::Run(
      PFOR_FLEET_BIN, {"--coordinator", "127.0.0.1:1", "--chunk-time", "soon"},
      ChildEnv());
  EXPECT_TRUE(run.status.ExitedWith(2)) << Describe(run);
  EXPECT_EQ(run.err,
            "fleet_bench: --chunk-time soon is not a duration; pass one such "
            "as 200ms or 2s\n");
}

}  // namespace
}  // namespace pfor::testing
