// Bad input through the command line: every mistake gets a non-zero exit
// code, one line on stderr that names the problem, and nothing on stdout.
// Ranges at the int64 limits that are valid must work.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cluster.h"
#include "gtest/gtest.h"

namespace pfor::testing {
namespace {

using nlohmann::json;

constexpr int kBadInput = 2;
constexpr int kOtherError = 3;

struct BadInput {
  std::string name;               // test name
  std::vector<std::string> args;  // after `pfor --coordinator ADDRESS`
  int exit_code;
  std::string phrase;  // the part of the message that names the problem
  bool own_coordinator = false;  // args carry their own --coordinator
};

void PrintTo(const BadInput& input, std::ostream* out) {
  *out << "pfor " << absl::StrJoin(input.args, " ");
}

const std::vector<BadInput>& Cases() {
  static const auto* cases = new std::vector<BadInput>{
      {"BeginAfterEnd",
       {"submit", "count_primes", "--range", "20:10"},
       kBadInput,
       "range end 10 is before begin 20"},
      {"EmptyRange",
       {"submit", "count_primes", "--range", "5:5"},
       kBadInput,
       "range [5, 5) is empty"},
      {"RangeOverTheWholeInt64",
       {"submit", "count_primes", "--range",
        "-9223372036854775808:9223372036854775807"},
       kBadInput,
       "more than 2^63-1 indices"},
      {"RangeOneIndexTooWide",
       {"submit", "count_primes", "--range", "-1:9223372036854775807"},
       kBadInput,
       "more than 2^63-1 indices"},
      {"RangeBeyondInt64",
       {"submit", "count_primes", "--range", "0:1e30"},
       kBadInput,
       "--range end '1e30' is 1000000000000000000000000000000, outside the "
       "64-bit range"},
      // Through a double, 2^63 became 2^63-1 or failed quoting a number
      // nobody typed.
      {"RangeEndOneBeyondInt64",
       {"submit", "count_primes", "--range", "0:2^63"},
       kBadInput,
       "--range end '2^63' is 9223372036854775808, outside the 64-bit range"},
      {"RangeBeginOneBelowInt64",
       {"submit", "count_primes", "--range", "-2^63-1:0"},
       kBadInput,
       "--range begin '-2^63-1' is -9223372036854775809"},
      {"RangeBoundThatIsAFraction",
       {"submit", "count_primes", "--range", "0:1e3/7"},
       kBadInput,
       "--range end '1e3/7' is not an integer"},
      {"ZeroPoints",
       {"submit", "integrate", "--param", "a=0", "--param", "b=1", "--points",
        "0"},
       kBadInput,
       "--points 0 is not positive"},
      {"NegativePoints",
       {"submit", "integrate", "--param", "a=0", "--param", "b=1", "--points",
        "-5"},
       kBadInput,
       "--points -5 is not positive"},
      {"NanBound",
       {"submit", "integrate", "--param", "a=0", "--param", "b=nan", "--points",
        "1000"},
       kBadInput,
       "--param b 'nan'"},
      {"InfiniteBound",
       {"submit", "integrate", "--param", "a=0", "--param", "b=1e999",
        "--points", "1000"},
       kBadInput,
       "--param b '1e999'"},
      {"NegativeInfiniteBound",
       {"submit", "integrate", "--param", "a=-inf", "--param", "b=1",
        "--points", "1000"},
       kBadInput,
       "--param a '-inf'"},
      {"UnknownKernel",
       {"submit", "no_such_kernel", "--range", "0:10"},
       kBadInput,
       "no connected worker offers kernel 'no_such_kernel'"},
      {"OutputWithoutCommand",
       {"submit", "count_primes", "--range", "0:10", "--output", "integer"},
       kBadInput,
       "--output applies to a --command only"},
      {"ShellWithoutCommand",
       {"submit", "count_primes", "--range", "0:10", "--shell"},
       kBadInput,
       "--shell applies to a --command only"},
      {"CommandExecutorWithoutCommand",
       {"submit", "sleep", "--range", "0:10", "--executor", "command"},
       kBadInput,
       "--executor command needs --command"},
      {"ZeroMaxAttempts",
       {"submit", "count_primes", "--range", "0:10", "--max-attempts", "0"},
       kBadInput,
       "--max-attempts 0 is not positive"},
      {"JobNameWithTerminalEscapes",
       {"submit", "count_primes", "--range", "0:10", "--name", "\x1b[2Jx"},
       kBadInput,
       "job name has control characters"},
      {"PortBeyond65535",
       {"--coordinator", "localhost:99999", "workers"},
       kBadInput,
       "has no port between 1 and 65535",
       true},
      {"UnknownIntegrand",
       {"submit", "integrate", "--param", "a=0", "--param", "b=1", "--param",
        "integrand=no_such_function", "--points", "1000"},
       kBadInput,
       "parameter integrand is 'no_such_function'"},
      {"UnknownParamName",
       {"submit", "count_primes", "--range", "0:10", "--param", "foo=1"},
       kBadInput,
       "has no parameter 'foo'"},
      {"MissingParam",
       {"submit", "integrate", "--param", "b=1", "--points", "1000"},
       kBadInput,
       "needs parameter a"},
      {"ParamOutOfRange",
       {"submit", "sleep", "--range", "0:10", "--param", "us=-1"},
       kBadInput,
       "parameter us is -1"},
      {"ChunkSizeZero",
       {"submit", "count_primes", "--range", "0:100", "--chunks", "fixed:0"},
       kBadInput,
       "--chunks fixed size '0'"},
      {"ChunkSizeLargerThanRange",
       {"submit", "count_primes", "--range", "0:100", "--chunks", "fixed:101"},
       kBadInput,
       "chunk size 101 is larger than the range"},
      {"ChunkCountZero",
       {"submit", "count_primes", "--range", "0:100", "--chunks", "count:0"},
       kBadInput,
       "--chunks count '0'"},
      {"ChunkCountLargerThanRange",
       {"submit", "count_primes", "--range", "0:100", "--chunks", "count:101"},
       kBadInput,
       "chunk count 101"},
      {"UnknownChunkPolicy",
       {"submit", "count_primes", "--range", "0:100", "--chunks", "halves"},
       kBadInput,
       "--chunks 'halves'"},
      {"UnparsableRangeEnd",
       {"submit", "count_primes", "--range", "0:abc"},
       kBadInput,
       "--range end 'abc'"},
      {"UnparsableRangeBegin",
       {"submit", "count_primes", "--range", "x1:10"},
       kBadInput,
       "--range begin 'x1'"},
      {"RangeWithoutColon",
       {"submit", "count_primes", "--range", "100"},
       kBadInput,
       "--range '100'"},
      {"UnparsableParam",
       {"submit", "integrate", "--param", "a=xyz", "--param", "b=1", "--points",
        "1000"},
       kBadInput,
       "--param a 'xyz'"},
      {"UnknownReduction",
       {"submit", "count_primes", "--range", "0:100", "--reduce", "median"},
       kBadInput,
       "median"},
      {"MaxAttemptsOutOfRange",
       {"submit", "count_primes", "--range", "0:100", "--max-attempts",
        "1000000"},
       kBadInput,
       "max attempts 1000000"},
      {"NoRange", {"submit", "count_primes"}, kBadInput, "no range"},
      {"UnreachableCoordinator",
       {"--coordinator", "127.0.0.1:1", "submit", "count_primes", "--range",
        "0:100"},
       kOtherError,
       "127.0.0.1:1",
       /*own_coordinator=*/true},
      {"SubmitWithoutCoordinator",
       {"submit", "count_primes", "--range", "0:100"},
       kBadInput,
       "submit needs a coordinator",
       /*own_coordinator=*/true},
      {"StatusOfUnknownJob",
       {"status", "999"},
       kOtherError,
       "job 999 does not exist"},
      {"CancelOfUnknownJob",
       {"cancel", "999"},
       kOtherError,
       "job 999 does not exist"},
      {"StatusOfNonNumericJob", {"status", "abc"}, kBadInput, "job id 'abc'"},
      {"StatusOfJobZero", {"status", "0"}, kBadInput, "job id '0'"},
  };
  return *cases;
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Cluster>> cluster = StartCluster();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static Cluster* cluster_;
};

Cluster* BadInputTest::cluster_ = nullptr;

TEST_P(BadInputTest, FailsWithOneLineNamingTheProblem) {
  ASSERT_NE(cluster_, nullptr);
  const BadInput& input = GetParam();
  RunResult result = input.own_coordinator
                         ? RunCli(input.args, absl::Seconds(30))
                         : cluster_->Cli(input.args, absl::Seconds(30));
  ASSERT_FALSE(result.timed_out) << Describe(result);
  ASSERT_FALSE(result.status.signaled) << Describe(result);
  EXPECT_EQ(result.status.code, input.exit_code) << Describe(result);
  EXPECT_EQ(result.out, "") << Describe(result);
  // Exactly one line, "pfor: ..." with the phrase.
  ASSERT_FALSE(result.err.empty());
  EXPECT_EQ(result.err.back(), '\n') << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
      << result.err;
  EXPECT_EQ(result.err.rfind("pfor: ", 0), 0u) << result.err;
  EXPECT_NE(result.err.find(input.phrase), std::string::npos)
      << "expected '" << input.phrase << "' in: " << result.err;
}

INSTANTIATE_TEST_SUITE_P(Cli, BadInputTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<BadInput>& info) {
                           return info.param.name;
                         });

// A port on loopback where the kernel completes TCP handshakes but nothing
// ever speaks: a coordinator that does not answer, as a stopped process or
// a silent network would be. Closed with the object.
class SilentPort {
 public:
  SilentPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    if (fd_ < 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentPort() {
    if (fd_ >= 0) close(fd_);
  }
  SilentPort(const SilentPort&) = delete;
  SilentPort& operator=(const SilentPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// Every command against a coordinator that cannot be reached ends within
// its --timeout (give or take a connection attempt) with one line naming
// the address and the fix. Before, `pfor wait` sat silent for 30 to 50 s
// whatever --timeout said.
TEST(Unreachable, EveryCommandEndsWithinItsTimeoutNamingTheAddress) {
  SilentPort silent;
  ASSERT_NE(silent.port(), 0);
  int closed_port;
  {
    SilentPort closed;  // a port nothing listens on once it is closed
    closed_port = closed.port();
  }
  for (const int port : {silent.port(), closed_port}) {
    const std::string address = absl::StrCat("127.0.0.1:", port);
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{
             {"wait", "5", "--no-progress"},
             {"status", "5"},
             {"jobs"},
             {"cancel", "5"},
             {"submit", "count_primes", "--range", "0:10", "--wait"}}) {
      std::vector<std::string> args = {"--coordinator", address, "--timeout",
                                       "2s"};
      args.insert(args.end(), command.begin(), command.end());
      RunResult result = RunCli(args, absl::Seconds(20));
      ASSERT_FALSE(result.timed_out) << Describe(result);
      EXPECT_EQ(result.status.code, kOtherError) << Describe(result);
      EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
          << result.err;
      EXPECT_NE(result.err.find(address), std::string::npos) << result.err;
      EXPECT_TRUE(result.err.find("--coordinator") != std::string::npos ||
                  result.err.find("--timeout") != std::string::npos)
          << result.err;
    }
  }
}

// Deterministic Miller-Rabin for 64-bit n.
bool IsPrime(uint64_t n) {
  if (n < 2) return false;
  constexpr uint64_t kBases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  for (uint64_t p : kBases) {
    if (n % p == 0) return n == p;
  }
  auto mul = [n](uint64_t a, uint64_t b) {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b % n);
  };
  auto pow = [&](uint64_t base, uint64_t exponent) {
    uint64_t result = 1;
    for (; exponent > 0; exponent >>= 1, base = mul(base, base)) {
      if (exponent & 1) result = mul(result, base);
    }
    return result;
  };
  uint64_t d = n - 1;
  int s = 0;
  for (; d % 2 == 0; d /= 2) ++s;
  for (uint64_t a : kBases) {
    uint64_t x = pow(a, d);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int i = 1; i < s && composite; ++i) {
      x = mul(x, x);
      composite = x != n - 1;
    }
    if (composite) return false;
  }
  return true;
}

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

int64_t PrimesBelowInt64Max(int64_t count) {
  int64_t primes = 0;
  for (int64_t i = kMax - count; i < kMax; ++i) primes += IsPrime(i);
  return primes;
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Cluster>> cluster = StartCluster();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(LimitsTest, CountPrimesJustBelowInt64MaxIsExact) {
  const int64_t expected = PrimesBelowInt64Max(807);
  ASSERT_EQ(expected, 19);  // the reference itself, checked once
  RunResult result =
      cluster_->Cli({"submit", "count_primes", "--range",
                     "9223372036854775000:9223372036854775807", "--chunks",
                     "count:2", "--wait", "--no-progress"},
                    absl::Seconds(60));
  ASSERT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, absl::StrCat(expected, "\n"));
}

// The default chunk policy must cope with a kernel whose chunks cost about
// a second each whatever their size (sieving primes up to sqrt(2^63)): 807
// indices are a few seconds of work, not one second per index.
TEST_F(LimitsTest, CountPrimesJustBelowInt64MaxFinishesWithAutoChunks) {
  RunResult result = cluster_->Cli(
      {"submit", "count_primes", "--range",
       "9223372036854775000:9223372036854775807", "--wait", "--no-progress"},
      absl::Seconds(45));
  ASSERT_FALSE(result.timed_out)
      << "807 indices took more than 45 s with --chunks auto";
  ASSERT_TRUE(result.status.ExitedWith(0)) << Describe(result);
  EXPECT_EQ(result.out, absl::StrCat(PrimesBelowInt64Max(807), "\n"));
}

TEST_F(LimitsTest, ChunksEndingAtInt64LimitsCountEveryIndexOnce) {
  // 807 = 8 chunks of 100 and a last one of 7 ending at INT64_MAX.
  RunResult top = cluster_->Cli({"submit", "sleep", "--param", "us=0",
                                 "--range", absl::StrCat(kMax - 807, ":", kMax),
                                 "--chunks", "fixed:100", "--reduce", "sum",
                                 "--wait", "--no-progress"});
  ASSERT_TRUE(top.status.ExitedWith(0)) << Describe(top);
  EXPECT_EQ(top.out, "807\n");

  RunResult bottom =
      cluster_->Cli({"submit", "sleep", "--param", "us=0", "--range",
                     absl::StrCat(kMin, ":", kMin + 808), "--chunks", "count:3",
                     "--reduce", "sum", "--wait", "--no-progress"});
  ASSERT_TRUE(bottom.status.ExitedWith(0)) << Describe(bottom);
  EXPECT_EQ(bottom.out, "808\n");
}

// Bounds written as expressions are exact to the last index: through a
// double, 2^53+3 read as 2^53+4 and -2^63+5 as -2^63.
TEST_F(LimitsTest, BoundsWrittenAsExpressionsAreExact) {
  for (const auto& [range, count] :
       std::vector<std::pair<std::string, std::string>>{
           {"2^53:2^53+3", "3\n"},
           {"2^53+1:2^53+2", "1\n"},
           {"3*2^60+7:3*2^60+10", "3\n"},
           {"-2^63:-2^63+5", "5\n"},
           {"2^63-6:2^63-1", "5\n"},
           {"1e18:1e18+1_000", "1000\n"}}) {
    RunResult result =
        cluster_->Cli({"submit", "sleep", "--param", "us=0", "--range", range,
                       "--wait", "--no-progress"});
    ASSERT_TRUE(result.status.ExitedWith(0))
        << range << ": " << Describe(result);
    EXPECT_EQ(result.out, count) << range;
  }
}

TEST_F(LimitsTest, WidestValidRangeIsAccepted) {
  // 2^63-1 indices, the most a job may have.
  ASSERT_OK_AND_ASSIGN(
      uint64_t job,
      cluster_->Submit({"noop", "--range", absl::StrCat("0:", kMax)}));
  ASSERT_OK_AND_ASSIGN(json status, cluster_->Status(job));
  EXPECT_EQ(Progress(status, "indices_total"), kMax) << status.dump();
  EXPECT_EQ(status["begin"], 0);
  EXPECT_EQ(status["end"], kMax);
  RunResult cancel = cluster_->Cli({"cancel", absl::StrCat(job)});
  EXPECT_TRUE(cancel.status.ExitedWith(0)) << Describe(cancel);
}

}  // namespace
}  // namespace pfor::testing
