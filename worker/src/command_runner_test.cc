#include "command_runner.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::worker {
namespace {

using ::testing::HasSubstr;

ChunkTask Task(std::vector<std::string> argv, bool shell = false,
               absl::Duration timeout = absl::InfiniteDuration()) {
  auto definition = std::make_shared<JobDefinition>();
  definition->job = 42;
  definition->executor = ExecutorKind::kCommand;
  definition->command.argv = std::move(argv);
  definition->command.shell = shell;
  definition->chunk_timeout = timeout;
  auto job = std::make_shared<JobContext>();
  job->definition = std::move(definition);
  return {job, 100, 250, 1, 7};
}

absl::StatusOr<Value> RunCommand(const ChunkTask& task,
                                 std::vector<std::string> environment = {
                                     "PATH"}) {
  std::atomic<bool> cancel{false};
  absl::StatusOr<ChunkOutput> output =
      NewCommandRunner(std::move(environment))->Run(0, task, cancel);
  if (!output.ok()) return output.status();
  return std::get<Value>(*output);
}

std::string Message(const absl::StatusOr<Value>& value) {
  return std::string(value.status().message());
}

TEST(CommandRunnerTest, ReplacesPlaceholdersWithoutAShell) {
  absl::StatusOr<Value> value = RunCommand(Task({"echo", "{end}"}));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 250);
  // No shell: a semicolon is just an argument.
  EXPECT_THAT(Message(RunCommand(Task({"echo", "{begin}; echo 9"}))),
              HasSubstr("not a number"));
}

TEST(CommandRunnerTest, SetsTheChunkInTheEnvironment) {
  absl::StatusOr<Value> value = RunCommand(
      Task({"echo $((PFOR_END - PFOR_BEGIN + PFOR_CHUNK + PFOR_JOB))"}, true));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<int64_t>(*value), 150 + 7 + 42);
}

TEST(CommandRunnerTest, HidesTheWorkersVariablesOutsideTheAllowList) {
  setenv("PFOR_TOKEN", "13", 1);
  const ChunkTask task = Task({"echo ${PFOR_TOKEN:-7}"}, /*shell=*/true);
  absl::StatusOr<Value> hidden = RunCommand(task);
  ASSERT_TRUE(hidden.ok()) << hidden.status();
  EXPECT_EQ(std::get<int64_t>(*hidden), 7);
  absl::StatusOr<Value> allowed = RunCommand(task, {"PATH", "PFOR_TOKEN"});
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(std::get<int64_t>(*allowed), 13);
  unsetenv("PFOR_TOKEN");
}

TEST(CommandRunnerTest, ReportsExitStatusWithTheTailOfStderr) {
  const absl::StatusOr<Value> value =
      RunCommand(Task({"echo starting; echo boom >&2; exit 3"}, true));
  EXPECT_THAT(Message(value),
              HasSubstr("command exited with status 3; stderr: boom"));
}

TEST(CommandRunnerTest, ReportsTheSignalThatKilledIt) {
  EXPECT_THAT(Message(RunCommand(Task({"kill -SEGV $$"}, true))),
              HasSubstr("killed by SIGSEGV"));
}

TEST(CommandRunnerTest, ReportsAMissingProgram) {
  const absl::StatusOr<Value> value =
      RunCommand(Task({"pfor-no-such-program", "{begin}"}));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(value), HasSubstr("'pfor-no-such-program' not found"));
}

TEST(CommandRunnerTest, RejectsGarbageAndFloods) {
  EXPECT_THAT(Message(RunCommand(Task({"echo", "seventeen"}))),
              HasSubstr("printed 'seventeen', which is not a number"));
  EXPECT_THAT(Message(RunCommand(Task({"true"}))),
              HasSubstr("printed nothing"));
  EXPECT_THAT(Message(RunCommand(Task({"yes 1 | head -c 3000000"}, true))),
              HasSubstr("printed more than 1024 KiB"));
}

TEST(CommandRunnerTest, StopsAtTheChunkTimeout) {
  const absl::Time start = absl::Now();
  const absl::StatusOr<Value> value =
      RunCommand(Task({"sleep", "30"}, false, absl::Milliseconds(200)));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(Message(value), HasSubstr("timed out after 200ms"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(CommandRunnerTest, StopsWhenCancelled) {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(100));
    cancel = true;
  });
  // The shell's child sleeps too: the whole process group goes.
  const absl::StatusOr<ChunkOutput> value = NewCommandRunner({"PATH"})->Run(
      0, Task({"sleep 30; echo 1"}, true), cancel);
  canceller.join();
  EXPECT_EQ(value.status().code(), absl::StatusCode::kCancelled);
}

TEST(CommandRunnerTest, ReadsStandardErrorUntilTheCommandEnds) {
  // Standard output closes first; the exit status and the error come after.
  const absl::StatusOr<Value> value = RunCommand(
      Task({"exec >/dev/null; sleep 0.1; echo late >&2; exit 4"}, true));
  EXPECT_THAT(Message(value),
              HasSubstr("command exited with status 4; stderr: late"));
}

TEST(ParseCommandOutputTest, ReadsEachOutputKind) {
  using Output = Command::Output;
  EXPECT_EQ(std::get<int64_t>(*ParseCommandOutput(" 12\n", Output::kAuto)), 12);
  EXPECT_EQ(std::get<double>(*ParseCommandOutput("0.5", Output::kAuto)), 0.5);
  EXPECT_EQ(std::get<double>(*ParseCommandOutput("12", Output::kFloat)), 12.0);
  EXPECT_FALSE(ParseCommandOutput("0.5", Output::kInteger).ok());
  EXPECT_EQ(std::get<int64_t>(*ParseCommandOutput("7", Output::kJson)), 7);
  EXPECT_EQ(std::get<double>(*ParseCommandOutput("2.5e1", Output::kJson)),
            25.0);
  EXPECT_FALSE(ParseCommandOutput("[1]", Output::kJson).ok());
}

}  // namespace
}  // namespace pfor::worker
