#include "subprocess.h"

#include <fcntl.h>
#include <sys/wait.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::worker {
namespace {

using ::testing::HasSubstr;

Subprocess Shell(const std::string& script, bool pipe_stdin = false) {
  absl::StatusOr<Subprocess> child =
      Subprocess::Spawn({.argv = {"/bin/sh", "-c", script},
                         .environment = {},
                         .inherit = {},
                         .pipe_stdin = pipe_stdin});
  EXPECT_TRUE(child.ok()) << child.status();
  return *std::move(child);
}

PumpOptions Collect(std::string& out, std::string& err) {
  PumpOptions options;
  options.on_stdout = [&out](std::string_view data) {
    out.append(data);
    return false;
  };
  options.on_stderr = [&err](std::string_view data) { err.append(data); };
  return options;
}

TEST(PumpTest, ReadsBothStreamsUntilOutputEnds) {
  Subprocess child = Shell("echo out; echo err >&2");
  std::string out, err;
  absl::StatusOr<PumpResult> pumped = Pump(child, Collect(out, err));
  ASSERT_TRUE(pumped.ok()) << pumped.status();
  EXPECT_EQ(pumped->end, PumpEnd::kClosed);
  EXPECT_EQ(out, "out\n");
  // Standard error alone, until it ends too.
  PumpOptions rest = Collect(out, err);
  rest.on_stdout = nullptr;
  pumped = Pump(child, rest);
  ASSERT_TRUE(pumped.ok()) << pumped.status();
  EXPECT_EQ(pumped->end, PumpEnd::kClosed);
  EXPECT_EQ(err, "err\n");
  EXPECT_EQ(WEXITSTATUS(child.Wait()), 0);
}

TEST(PumpTest, WritesTheInputAndStopsWhenTheExchangeIsComplete) {
  Subprocess child = Shell("cat", /*pipe_stdin=*/true);
  // More than a pipe holds: written as the child reads.
  const std::string input(200'000, 'x');
  fcntl(child.stdin_fd(), F_SETFL,
        fcntl(child.stdin_fd(), F_GETFL) | O_NONBLOCK);
  std::string out;
  PumpOptions options;
  options.input = input;
  options.on_stdout = [&](std::string_view data) {
    out.append(data);
    return out.size() == input.size();
  };
  absl::StatusOr<PumpResult> pumped = Pump(child, options);
  ASSERT_TRUE(pumped.ok()) << pumped.status();
  EXPECT_EQ(pumped->end, PumpEnd::kComplete);
  EXPECT_EQ(pumped->written, input.size());
  EXPECT_EQ(out, input);
  // cat still runs, waiting for more input.
  EXPECT_FALSE(child.TryWait().has_value());
}

TEST(PumpTest, StopsWhenCancelled) {
  Subprocess child = Shell("sleep 30");
  std::atomic<bool> cancel{true};
  std::string out, err;
  PumpOptions options = Collect(out, err);
  options.cancel = &cancel;
  absl::StatusOr<PumpResult> pumped = Pump(child, options);
  ASSERT_TRUE(pumped.ok());
  EXPECT_EQ(pumped->end, PumpEnd::kCancelled);
}

TEST(PumpTest, NoticesCancellationWhileWaiting) {
  Subprocess child = Shell("sleep 30");
  std::atomic<bool> cancel{false};
  std::string out, err;
  PumpOptions options = Collect(out, err);
  options.cancel = &cancel;
  // The pump only sees the flag: whenever it turns, it must end the wait.
  std::thread canceller([&cancel] { cancel = true; });
  absl::StatusOr<PumpResult> pumped = Pump(child, options);
  canceller.join();
  ASSERT_TRUE(pumped.ok());
  EXPECT_EQ(pumped->end, PumpEnd::kCancelled);
}

TEST(PumpTest, StopsAtTheDeadline) {
  Subprocess child = Shell("sleep 30");
  std::string out, err;
  PumpOptions options = Collect(out, err);
  const absl::Time start = absl::Now();
  options.deadline = start + absl::Milliseconds(50);
  absl::StatusOr<PumpResult> pumped = Pump(child, options);
  ASSERT_TRUE(pumped.ok());
  EXPECT_EQ(pumped->end, PumpEnd::kTimedOut);
  EXPECT_GE(absl::Now(), options.deadline);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(PumpTest, KillsAChildThatRefusesItsInput) {
  // Closes its standard input, then would sleep with its output open.
  Subprocess child = Shell("exec 0<&-; sleep 30", /*pipe_stdin=*/true);
  fcntl(child.stdin_fd(), F_SETFL,
        fcntl(child.stdin_fd(), F_GETFL) | O_NONBLOCK);
  const std::string input(1'000'000, 'x');
  std::string out, err;
  PumpOptions options = Collect(out, err);
  options.input = input;
  options.deadline = absl::Now() + absl::Seconds(20);
  absl::StatusOr<PumpResult> pumped = Pump(child, options);
  ASSERT_TRUE(pumped.ok());
  EXPECT_EQ(pumped->end, PumpEnd::kClosed);
  EXPECT_LT(pumped->written, input.size());
  EXPECT_THAT(DescribeExit(child.Wait()), HasSubstr("SIGKILL"));
}

}  // namespace
}  // namespace pfor::worker
