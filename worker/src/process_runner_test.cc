#include "process_runner.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernel_call.h"
#include "pfor/builtin_kernels.h"

namespace pfor::worker {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizer = true;
#else
constexpr bool kSanitizer = false;
#endif

const KernelRegistry& Kernels() {
  static const KernelRegistry* const registry = [] {
    auto* registry = new KernelRegistry;
    absl::Status status = RegisterBuiltinKernels(*registry);
    if (status.ok()) status = RegisterTestKernels(*registry);
    if (!status.ok()) std::abort();
    return registry;
  }();
  return *registry;
}

struct JobOptions {
  std::string kernel;
  int64_t begin = 0;
  int64_t end = 0;
  std::map<std::string, ParamValue> params = {};
  absl::Duration chunk_timeout = absl::InfiniteDuration();
  uint64_t id = 1;
  bool batch = false;
};

// A job as the worker builds it from the coordinator's definition, with
// parameters validated and defaults filled in as the coordinator does (a
// batch's as given).
std::shared_ptr<const JobContext> Job(const JobOptions& options) {
  auto definition = std::make_shared<JobDefinition>();
  definition->job = options.id;
  definition->kernel = options.kernel;
  definition->range = {options.begin, options.end};
  definition->executor = ExecutorKind::kProcesses;
  definition->chunk_timeout = options.chunk_timeout;
  definition->batch = options.batch;
  const KernelDef* kernel = Kernels().Find(options.kernel);
  if (kernel != nullptr && !options.batch) {
    absl::StatusOr<Params> params =
        ValidateParams(options.kernel, kernel->params, options.params);
    EXPECT_TRUE(params.ok()) << params.status();
    if (params.ok()) definition->params = *params;
  } else {
    definition->params = Params(options.params);
  }
  return MakeJobContext(std::move(definition), Kernels());
}

std::shared_ptr<const JobContext> FaultJob(
    const std::string& mode,
    absl::Duration timeout = absl::InfiniteDuration()) {
  return Job({.kernel = "fault",
              .begin = 0,
              .end = 1000,
              .params = {{"mode", mode}, {"at", int64_t{500}}},
              .chunk_timeout = timeout});
}

ChunkTask Chunk(std::shared_ptr<const JobContext> job, int64_t begin,
                int64_t end) {
  return {std::move(job), begin, end, 1, 0};
}

std::unique_ptr<ProcessRunner> Runner(int64_t memory_limit_bytes = 0) {
  return NewProcessRunner({.helper_path = PFOR_HELPER_BIN,
                           .memory_limit_bytes = memory_limit_bytes});
}

// The chunk's value, for a chunk that is not a batch's.
absl::StatusOr<Value> Read(const absl::StatusOr<ChunkOutput>& output) {
  if (!output.ok()) return output.status();
  return std::get<Value>(*output);
}

absl::StatusOr<Value> RunOn(ProcessRunner& runner, int slot,
                            const ChunkTask& task) {
  const std::atomic<bool> cancel{false};
  return Read(runner.Run(slot, task, cancel));
}

std::string Message(const absl::StatusOr<Value>& value) {
  return std::string(value.status().message());
}

// Whether `pid` is gone (reaped), not merely a zombie.
bool Gone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

TEST(ProcessRunnerTest, CountsPrimesExactlyAsTheThreadsExecutorDoes) {
  auto runner = Runner();
  const ChunkTask primes =
      Chunk(Job({.kernel = "count_primes", .begin = 0, .end = 1'000'000}), 0,
            1'000'000);
  absl::StatusOr<Value> value = RunOn(*runner, 0, primes);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 78498);

  const std::atomic<bool> cancel{false};
  const ChunkTask integral =
      Chunk(Job({.kernel = "integrate",
                 .begin = 0,
                 .end = 1'000'000,
                 .params = {{"a", 0.0},
                            {"b", 1.5707963267948966},
                            {"integrand", std::string("cos")}}}),
            12'345, 678'901);
  absl::StatusOr<Value> in_helper = RunOn(*runner, 0, integral);
  absl::StatusOr<Value> in_process = Read(RunChunk(integral, cancel));
  ASSERT_TRUE(in_helper.ok()) << in_helper.status();
  ASSERT_TRUE(in_process.ok()) << in_process.status();
  ASSERT_TRUE(std::holds_alternative<ExactSum>(*in_helper));
  EXPECT_TRUE(*in_helper == *in_process);
  EXPECT_EQ(FormatValue(*in_helper), FormatValue(*in_process));
}

TEST(ProcessRunnerTest, ReusesTheSlotsHelperAcrossChunksAndJobs) {
  auto runner = Runner();
  EXPECT_EQ(runner->HelperPid(0), 0);
  auto primes =
      Job({.kernel = "count_primes", .begin = 0, .end = 200, .id = 1});
  ASSERT_TRUE(RunOn(*runner, 0, Chunk(primes, 0, 100)).ok());
  const pid_t pid = runner->HelperPid(0);
  EXPECT_GT(pid, 0);

  absl::StatusOr<Value> value = RunOn(*runner, 0, Chunk(primes, 100, 200));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 21);  // primes in [100, 200)
  EXPECT_EQ(runner->HelperPid(0), pid);

  // Another job: the helper is sent its definition and runs its kernel.
  auto sleeps = Job({.kernel = "sleep",
                     .begin = 0,
                     .end = 50,
                     .params = {{"us", int64_t{0}}},
                     .id = 2});
  value = RunOn(*runner, 0, Chunk(sleeps, 0, 50));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 50);
  EXPECT_EQ(runner->HelperPid(0), pid);
  // Back to the first job: its definition is sent again.
  value = RunOn(*runner, 0, Chunk(primes, 0, 100));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 25);
  EXPECT_EQ(runner->HelperPid(0), pid);
}

struct FaultCase {
  std::string mode;
  std::string reason;
  // Exceptions and errors leave the helper running; the rest cost it.
  bool helper_survives = false;
  absl::StatusCode code = absl::StatusCode::kUnknown;
};

class FaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultTest, FailsTheChunkWithTheReasonAndTheNextChunkSucceeds) {
  const FaultCase& fault = GetParam();
  auto runner = Runner();
  auto job = FaultJob(fault.mode);
  absl::StatusOr<Value> value = RunOn(*runner, 0, Chunk(job, 0, 100));
  ASSERT_TRUE(value.ok()) << value.status();
  const pid_t before = runner->HelperPid(0);

  value = RunOn(*runner, 0, Chunk(job, 450, 550));
  EXPECT_EQ(value.status().code(), fault.code) << value.status();
  EXPECT_THAT(Message(value), HasSubstr(fault.reason));
  if (fault.helper_survives) {
    EXPECT_EQ(runner->HelperPid(0), before);
  } else {
    EXPECT_THAT(Message(value), HasSubstr("while running the chunk"));
    EXPECT_EQ(runner->HelperPid(0), 0);
    EXPECT_TRUE(Gone(before));
  }

  value = RunOn(*runner, 0, Chunk(job, 550, 1000));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 450);
  EXPECT_GT(runner->HelperPid(0), 0);
  // The first start is not a restart; replacing a lost helper is.
  EXPECT_EQ(runner->helper_restarts(), fault.helper_survives ? 0 : 1);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, FaultTest,
    ::testing::Values(
        FaultCase{"segfault",
                  "helper was killed by SIGSEGV (Segmentation fault)"},
        FaultCase{"abort", "helper was killed by SIGABRT (Aborted)"},
        FaultCase{"exit", "helper exited with status 7"},
        FaultCase{"throw",
                  "kernel fault threw: kernel fault: mode throw at index 500",
                  true, absl::StatusCode::kInternal},
        FaultCase{"error", "kernel fault: mode error at index 500", true,
                  absl::StatusCode::kInternal}),
    [](const ::testing::TestParamInfo<FaultCase>& info) {
      return info.param.mode;
    });

TEST(ProcessRunnerTest, KillsAHelperThatRunsPastTheChunkTimeout) {
  auto runner = Runner();
  auto job = FaultJob("hang", absl::Milliseconds(300));
  ASSERT_TRUE(RunOn(*runner, 0, Chunk(job, 0, 100)).ok());
  const pid_t hung = runner->HelperPid(0);

  const absl::Time start = absl::Now();
  absl::StatusOr<Value> value = RunOn(*runner, 0, Chunk(job, 500, 501));
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(value.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(Message(value), HasSubstr("timed out after 300ms"));
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_TRUE(Gone(hung));

  value = RunOn(*runner, 0, Chunk(job, 501, 600));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 99);
}

TEST(ProcessRunnerTest, ReportsTheMemoryLimitWhenAKernelExceedsIt) {
  if (kSanitizer)
    GTEST_SKIP() << "sanitizers reserve terabytes of address space";
  auto runner = Runner(int64_t{256} << 20);
  auto job = FaultJob("allocate");
  absl::StatusOr<Value> value = RunOn(*runner, 0, Chunk(job, 500, 501));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kResourceExhausted)
      << value.status();
  EXPECT_THAT(Message(value),
              AllOf(HasSubstr("ran out of memory"),
                    HasSubstr("memory limit 256 MiB exceeded")));
  value = RunOn(*runner, 0, Chunk(job, 501, 600));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 99);
}

TEST(ProcessRunnerTest, CancellingKillsAHungHelperPromptly) {
  auto runner = Runner();
  auto job = FaultJob("hang");
  ASSERT_TRUE(RunOn(*runner, 0, Chunk(job, 0, 100)).ok());
  const pid_t hung = runner->HelperPid(0);

  std::atomic<bool> cancel{false};
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<Value> value =
      Read(runner->Run(0, Chunk(job, 500, 501), cancel));
  const absl::Duration took = absl::Now() - start;
  canceller.join();
  EXPECT_EQ(value.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_TRUE(Gone(hung));
  EXPECT_TRUE(RunOn(*runner, 0, Chunk(job, 600, 700)).ok());
}

TEST(ProcessRunnerTest, KeepsTheHelperOfAChunkCancelledBeforeItStarts) {
  auto runner = Runner();
  auto job = FaultJob("none");
  ASSERT_TRUE(RunOn(*runner, 0, Chunk(job, 0, 10)).ok());
  const pid_t pid = runner->HelperPid(0);
  const std::atomic<bool> cancelled{true};
  EXPECT_EQ(runner->Run(0, Chunk(job, 10, 20), cancelled).status().code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(runner->HelperPid(0), pid);
  EXPECT_TRUE(RunOn(*runner, 0, Chunk(job, 20, 30)).ok());
  EXPECT_EQ(runner->HelperPid(0), pid);
}

TEST(ProcessRunnerTest, SlotsRunConcurrentlyInTheirOwnHelpers) {
  auto runner = Runner();
  // 250 indices of 1 ms: 250 ms a chunk.
  auto job = Job({.kernel = "sleep",
                  .begin = 0,
                  .end = 1000,
                  .params = {{"us", int64_t{1000}}}});
  // Started first, so that start-up does not count.
  ASSERT_TRUE(RunOn(*runner, 0, Chunk(job, 0, 1)).ok());
  ASSERT_TRUE(RunOn(*runner, 1, Chunk(job, 1, 2)).ok());
  EXPECT_NE(runner->HelperPid(0), runner->HelperPid(1));

  const absl::Time start = absl::Now();
  absl::StatusOr<Value> first;
  std::thread other([&] { first = RunOn(*runner, 0, Chunk(job, 0, 250)); });
  absl::StatusOr<Value> second = RunOn(*runner, 1, Chunk(job, 250, 500));
  other.join();
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(std::get<int64_t>(*first) + std::get<int64_t>(*second), 500);
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Milliseconds(450));
}

TEST(ProcessRunnerTest, ReplacesAHelperThatDiedBetweenChunks) {
  auto runner = Runner();
  auto job = FaultJob("none");
  ASSERT_TRUE(RunOn(*runner, 0, Chunk(job, 0, 10)).ok());
  const pid_t pid = runner->HelperPid(0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // Until it is a zombie, waiting to be reaped.
  for (int i = 0; i < 500; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    if (line.find(") Z ") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  absl::StatusOr<Value> value = RunOn(*runner, 0, Chunk(job, 10, 20));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_NE(runner->HelperPid(0), pid);
  EXPECT_TRUE(Gone(pid));
}

TEST(ProcessRunnerTest, SaysWhichKernelTheHelperLacks) {
  auto runner = Runner();
  absl::StatusOr<Value> value = RunOn(
      *runner, 0,
      Chunk(Job({.kernel = "no_such_kernel", .begin = 0, .end = 10}), 0, 10));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(value),
              HasSubstr("pfor-helper has no kernel named no_such_kernel"));
}

TEST(ProcessRunnerTest, RunsKernelsOfPluginsInTheHelper) {
  auto runner = NewProcessRunner(
      {.helper_path = PFOR_HELPER_BIN, .plugins = {PFOR_TEST_PLUGIN}});
  absl::StatusOr<Value> value =
      RunOn(*runner, 0,
            Chunk(Job({.kernel = "plugin_square_sum", .begin = 0, .end = 10}),
                  0, 10));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 285);  // 0 + 1 + 4 + ... + 81

  auto broken = NewProcessRunner(
      {.helper_path = PFOR_HELPER_BIN, .plugins = {"/nonexistent.so"}});
  value = RunOn(*broken, 0, Chunk(FaultJob("none"), 0, 10));
  EXPECT_THAT(Message(value), AllOf(HasSubstr("helper exited with status 2"),
                                    HasSubstr("/nonexistent.so")));
}

TEST(ProcessRunnerTest, FailsClearlyWhenTheHelperCannotStart) {
  auto runner = NewProcessRunner({.helper_path = "/nonexistent/pfor-helper"});
  absl::StatusOr<Value> value =
      RunOn(*runner, 0, Chunk(FaultJob("none"), 0, 10));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(value), AllOf(HasSubstr("cannot start the helper"),
                                    HasSubstr("/nonexistent/pfor-helper"),
                                    HasSubstr("--helper")));
}

// A stand-in helper written as a shell script.
class ScriptHelper {
 public:
  explicit ScriptHelper(const std::string& body) {
    char dir[] = "/tmp/pfor-helper-test-XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/helper.sh";
    std::ofstream(path_) << "#!/bin/sh\n" << body << "\n";
    chmod(path_.c_str(), 0755);
  }
  ~ScriptHelper() {
    std::remove(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

TEST(ProcessRunnerTest, ReportsHowTheHelperDiedWithTheTailOfItsStderr) {
  // 100 KiB of standard error first: more than a pipe holds, so the helper
  // only gets to exit if it is read all the while.
  ScriptHelper script(
      "head -c 100000 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'something "
      "broke' >&2; "
      "exit 3");
  auto runner = NewProcessRunner({.helper_path = script.path()});
  absl::StatusOr<Value> value =
      RunOn(*runner, 0, Chunk(FaultJob("none"), 0, 10));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(Message(value),
              AllOf(HasSubstr("helper exited with status 3 while running the "
                              "chunk; stderr: ..."),
                    EndsWith("something broke")));
  EXPECT_LT(Message(value).size(), 2300u);
}

TEST(ProcessRunnerTest, RunsABatchsTasksInTheHelperAsTheThreadsExecutorDoes) {
  auto runner = Runner();
  auto tasks = std::make_shared<const std::vector<Task>>(std::vector<Task>{
      {{0, 100}},
      {{100, 200}, {{"mode", std::string("error")}}},
      {{0, 1'000'000}, {{"a", 0.0}}},
  });
  // The job's parameters are checked on the worker, once: those of the
  // fault kernel, with the mode each task may change.
  auto job =
      Job({.kernel = "fault",
           .begin = 0,
           .end = 3,
           .params = {{"mode", std::string("none")}, {"at", int64_t{150}}},
           .batch = true});
  const ChunkTask chunk{job, 4, 6, 2, 1, tasks, 0};
  const std::atomic<bool> cancel{false};
  absl::StatusOr<ChunkOutput> in_helper = runner->Run(0, chunk, cancel);
  absl::StatusOr<ChunkOutput> in_process = RunChunk(chunk, cancel);
  ASSERT_TRUE(in_helper.ok()) << in_helper.status();
  ASSERT_TRUE(in_process.ok()) << in_process.status();
  const auto& helper_results = std::get<std::vector<TaskResult>>(*in_helper);
  const auto& process_results = std::get<std::vector<TaskResult>>(*in_process);
  ASSERT_EQ(helper_results.size(), 2u);
  ASSERT_EQ(process_results.size(), 2u);
  ASSERT_TRUE(helper_results[0].ok()) << helper_results[0].status();
  EXPECT_EQ(std::get<int64_t>(*helper_results[0]), 100);
  EXPECT_EQ(std::get<int64_t>(*process_results[0]), 100);
  EXPECT_THAT(std::string(helper_results[1].status().message()),
              HasSubstr("task 5 over [100, 200) failed (chunk of tasks [4, "
                        "6), attempt 2): kernel fault: mode error at index "
                        "150"));
  EXPECT_EQ(helper_results[1].status().message(),
            process_results[1].status().message());
}

TEST(ProcessRunnerTest, FindsTheHelper) {
  ASSERT_EQ(setenv("PFOR_HELPER", "/opt/pfor/bin/pfor-helper", 1), 0);
  EXPECT_EQ(DefaultHelperPath(), "/opt/pfor/bin/pfor-helper");
  ASSERT_EQ(unsetenv("PFOR_HELPER"), 0);
  const std::string path = DefaultHelperPath();
  EXPECT_THAT(path, EndsWith("/pfor-helper"));
  EXPECT_EQ(access(path.c_str(), X_OK), 0) << path;
}

}  // namespace
}  // namespace pfor::worker
