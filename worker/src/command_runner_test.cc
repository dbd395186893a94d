#include "command_runner.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/wire.h"

namespace pfor::worker {
namespace {

using ::testing::HasSubstr;

ChunkTask Task(std::vector<std::string> argv, bool shell = false,
               absl::Duration timeout = absl::InfiniteDuration()) {
  auto job = std::make_shared<JobContext>();
  job->id = 42;
  v1::CommandSpec* command = job->definition.mutable_command();
  for (std::string& arg : argv) command->add_argv(std::move(arg));
  command->set_shell(shell);
  job->chunk_timeout = timeout;
  return {job, 100, 250, 1, 7};
}

absl::StatusOr<Value> RunCommand(const ChunkTask& task) {
  std::atomic<bool> cancel{false};
  absl::StatusOr<v1::Value> wire = NewCommandRunner()->Run(0, task, cancel);
  if (!wire.ok()) return wire.status();
  return FromProto(*wire);
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
  const absl::StatusOr<v1::Value> value =
      NewCommandRunner()->Run(0, Task({"sleep 30; echo 1"}, true), cancel);
  canceller.join();
  EXPECT_EQ(value.status().code(), absl::StatusCode::kCancelled);
}

TEST(ParseCommandOutputTest, ReadsEachOutputKind) {
  EXPECT_EQ(std::get<int64_t>(*ParseCommandOutput(
                " 12\n", v1::CommandSpec::OUTPUT_UNSPECIFIED)),
            12);
  EXPECT_EQ(std::get<double>(*ParseCommandOutput(
                "0.5", v1::CommandSpec::OUTPUT_UNSPECIFIED)),
            0.5);
  EXPECT_EQ(std::get<double>(
                *ParseCommandOutput("12", v1::CommandSpec::OUTPUT_FLOAT)),
            12.0);
  EXPECT_FALSE(ParseCommandOutput("0.5", v1::CommandSpec::OUTPUT_INTEGER).ok());
  EXPECT_EQ(
      std::get<int64_t>(*ParseCommandOutput("7", v1::CommandSpec::OUTPUT_JSON)),
      7);
  EXPECT_EQ(std::get<double>(
                *ParseCommandOutput("2.5e1", v1::CommandSpec::OUTPUT_JSON)),
            25.0);
  EXPECT_FALSE(ParseCommandOutput("[1]", v1::CommandSpec::OUTPUT_JSON).ok());
}

}  // namespace
}  // namespace pfor::worker
