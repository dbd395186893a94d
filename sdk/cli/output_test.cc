#include "output.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A finished batch of three tasks, the second of which failed.
JobStatus Batch() {
  JobStatus job;
  job.id = 4;
  job.state = JobState::kSucceeded;
  auto spec = std::make_shared<JobSpec>();
  spec->kernel = "fault";
  spec->begin = 0;
  spec->end = 3;
  spec->tasks = {{{0, 100}, {}}, {{100, 200}, {}}, {{200, 300}, {}}};
  job.spec = std::move(spec);
  job.task_results = {Value(int64_t{100}), absl::UnknownError("boom"),
                      Value(2.5)};
  job.task_count = 3;
  return job;
}

TEST(OutputTest, StatusOfABatchListsItsTasks) {
  const std::string text = FormatStatus(Batch());
  EXPECT_THAT(text, HasSubstr("kernel   fault, a batch of 3 tasks"));
  EXPECT_THAT(text, HasSubstr("task 0: 100\n"));
  EXPECT_THAT(text, HasSubstr("task 1: error: boom\n"));
  EXPECT_THAT(text, HasSubstr("task 2: 2.5\n"));
  EXPECT_THAT(FormatJobLine(Batch()), HasSubstr("3 task results, 1 failed"));
}

TEST(OutputTest, JsonOfABatchHasEveryTask) {
  const nlohmann::json json = ToJson(Batch());
  ASSERT_EQ(json["result"].size(), 3u);
  EXPECT_EQ(json["result"][0]["value"], 100);
  EXPECT_EQ(json["result"][1]["error"], "boom");
  EXPECT_EQ(json["result"][2]["value"], 2.5);
}

TEST(OutputTest, LongBatchesAreCutInText) {
  JobStatus job = Batch();
  job.task_results.assign(25, Value(int64_t{1}));
  const std::string text = FormatStatus(job);
  EXPECT_THAT(text, HasSubstr("task 19: 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("task 20:")));
  EXPECT_THAT(text, HasSubstr("... 5 more tasks (--json shows every one)"));
}

TEST(OutputTest, APageOfTaskResultsSaysWhichAndHowToSeeOthers) {
  JobStatus job = Batch();
  EXPECT_EQ(FormatTaskPage(job), "");
  job.task_count = 1'000'000;
  job.first_task = 500;
  const std::string text = FormatStatus(job) + FormatTaskPage(job);
  EXPECT_THAT(text, HasSubstr("task 500: 100\n"));
  EXPECT_THAT(text, HasSubstr("task 502: 2.5\n"));
  EXPECT_THAT(text, HasSubstr("tasks    500 to 502 of 1000000; --from K "
                              "--tasks N fetches others"));
  job.task_results.clear();
  EXPECT_THAT(FormatTaskPage(job), HasSubstr("none of 1000000 fetched"));
  EXPECT_THAT(FormatJobLine(job), HasSubstr("1000000 task results"));
}

}  // namespace
// Names come from other clients and workers: escapes must not reach the
// terminal.
TEST(OutputTest, ControlCharactersInNamesAreShownEscaped) {
  auto spec = std::make_shared<JobSpec>();
  spec->name = "\x1b]0;owned\x07";
  spec->kernel = "count_primes";
  JobStatus job;
  job.spec = spec;
  job.state = JobState::kFailed;
  job.error = "bad\x1b[2J";
  const std::string line = FormatJobLine(job);
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_NE(line.find("\\x1b]0;owned\\x07"), std::string::npos) << line;
  EXPECT_NE(line.find("bad\\x1b[2J"), std::string::npos) << line;
  WorkerStatus worker;
  worker.name = "w\r\n";
  EXPECT_NE(FormatWorkerLine(worker).find("w\\x0d\\x0a"), std::string::npos);
}

}  // namespace pfor::cli
