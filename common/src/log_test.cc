#include "pfor/common/log.h"

#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pfor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kTime = absl::FromUnixMillis(1795000000123);

TEST(LoggerTest, TextLineCarriesTimeLevelProgramIdsAndMessage) {
  Logger logger({.program = "pfor-coordinator"});
  EXPECT_EQ(
      logger.Format(kTime, LogLevel::kWarning, "attempt failed: boom",
                    {.job = 42, .chunk = 100, .attempt = 2, .worker = "w1"}),
      "2026-11-18T11:06:40.123Z warning pfor-coordinator: job=42 "
      "chunk=100 attempt=2 worker=w1 attempt failed: boom");
  EXPECT_EQ(logger.Format(kTime, LogLevel::kInfo, "listening", {}),
            "2026-11-18T11:06:40.123Z info pfor-coordinator: listening");
}

TEST(LoggerTest, JsonLineIsOneObjectWithTheIdsAsFields) {
  Logger logger({.program = "pfor-worker", .format = LogFormat::kJson});
  const std::string line =
      logger.Format(kTime, LogLevel::kError, "said \"no\"\nthen left",
                    {.job = 7, .chunk = 0});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["time"], "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(parsed["level"], "error");
  EXPECT_EQ(parsed["program"], "pfor-worker");
  EXPECT_EQ(parsed["msg"], "said \"no\"\nthen left");
  EXPECT_EQ(parsed["job"], 7);
  EXPECT_EQ(parsed["chunk"], 0);
  EXPECT_FALSE(parsed.contains("worker"));
  EXPECT_FALSE(parsed.contains("attempt"));
}

TEST(LoggerTest, JsonLineSurvivesTextThatIsNotUtf8) {
  Logger logger({.program = "p", .format = LogFormat::kJson});
  const std::string line =
      logger.Format(kTime, LogLevel::kInfo, "bad \xff byte", {});
  EXPECT_TRUE(nlohmann::json::accept(line)) << line;
}

TEST(LoggerTest, WritesOnlyLinesAtOrAboveItsLevel) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  Logger logger({.program = "p", .level = LogLevel::kInfo, .out = out});
  EXPECT_FALSE(logger.Enabled(LogLevel::kDebug));
  logger.Log(LogLevel::kDebug, "per chunk");
  logger.Log(LogLevel::kInfo, "job succeeded", {.job = 3});
  logger.Log(LogLevel::kError, "journal write failed");
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  EXPECT_THAT(text, Not(HasSubstr("per chunk")));
  EXPECT_THAT(text, HasSubstr(" info p: job=3 job succeeded\n"));
  EXPECT_THAT(text, HasSubstr(" error p: journal write failed\n"));
}

TEST(LoggerTest, ParsesLevelsAndFormatsAndNamesTheChoices) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarning);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  absl::StatusOr<LogLevel> level = ParseLogLevel("loud");
  EXPECT_EQ(level.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(level.status().message(),
              HasSubstr("pass debug, info, warning or error"));
  EXPECT_THAT(ParseLogFormat("xml").status().message(),
              HasSubstr("'xml' is unknown; pass text or json"));
}

}  // namespace
}  // namespace pfor
