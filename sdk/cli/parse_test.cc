#include "parse.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseIndexTest, ReadsIntegersAndIntegralExpressions) {
  EXPECT_EQ(*ParseIndex("-42", "--x"), -42);
  EXPECT_EQ(*ParseIndex("1_000_000", "--x"), 1000000);
  EXPECT_EQ(*ParseIndex("1e10", "--x"), 10000000000);
  EXPECT_EQ(*ParseIndex("2^40", "--x"), int64_t{1} << 40);
  EXPECT_EQ(*ParseIndex("9223372036854775807", "--x"), INT64_MAX);
  EXPECT_EQ(*ParseIndex("-9223372036854775808", "--x"), INT64_MIN);
}

TEST(ParseIndexTest, RejectsFractionsOverflowAndText) {
  for (const char* text :
       {"1.5", "1e19", "abc", "", "nan", "9223372036854775808", "pi", "1e-3",
        "2^-1", "(1", "1__0", "_1", "1_", "2^63", "-2^63-1", "1e1000000"}) {
    absl::StatusOr<int64_t> value = ParseIndex(text, "--range end");
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
    EXPECT_THAT(std::string(value.status().message()),
                HasSubstr(absl::StrCat("--range end '", text, "'")))
        << text;
  }
}

TEST(ParseIndexTest, IsExactAbove2To53) {
  // Through a double these lose their low bits (2^53 + 1 reads as 2^53).
  EXPECT_EQ(*ParseIndex("2^53", "--x"), int64_t{1} << 53);
  EXPECT_EQ(*ParseIndex("2^53+1", "--x"), (int64_t{1} << 53) + 1);
  EXPECT_EQ(*ParseIndex("2^53 - 1", "--x"), (int64_t{1} << 53) - 1);
  EXPECT_EQ(*ParseIndex("9007199254740993", "--x"), 9007199254740993);
  EXPECT_EQ(*ParseIndex("3*2^60+7", "--x"), 3 * (int64_t{1} << 60) + 7);
  EXPECT_EQ(*ParseIndex("1e18+1", "--x"), 1'000'000'000'000'000'001);
  EXPECT_EQ(*ParseIndex("1.5e3", "--x"), 1500);
  EXPECT_EQ(*ParseIndex("12.50e1", "--x"), 125);
  EXPECT_EQ(*ParseIndex("-2^2", "--x"), -4);
  EXPECT_EQ(*ParseIndex("(-2)^3", "--x"), -8);
  EXPECT_EQ(*ParseIndex("2^3^2", "--x"), 512);
  EXPECT_EQ(*ParseIndex("10^12", "--x"), 1'000'000'000'000);
  EXPECT_EQ(*ParseIndex("1_000 * 1e3", "--x"), 1'000'000);
}

TEST(ParseIndexTest, TakesTheEndsOfThe64BitRangeAndNothingBeyond) {
  EXPECT_EQ(*ParseIndex("2^63-1", "--x"), INT64_MAX);
  EXPECT_EQ(*ParseIndex("-2^63", "--x"), INT64_MIN);
  EXPECT_EQ(*ParseIndex("-(2^63)", "--x"), INT64_MIN);
  EXPECT_EQ(*ParseIndex("9223372036854775807", "--x"), INT64_MAX);
  // Beyond: refused with the value the text has, never clamped.
  EXPECT_THAT(std::string(ParseIndex("2^63", "--range end").status().message()),
              HasSubstr("'2^63' is 9223372036854775808, outside the 64-bit "
                        "range"));
  EXPECT_THAT(std::string(ParseIndex("-2^63-1", "--x").status().message()),
              HasSubstr("is -9223372036854775809"));
  EXPECT_THAT(std::string(ParseIndex("1e19", "--x").status().message()),
              HasSubstr("is 10000000000000000000"));
  EXPECT_THAT(std::string(ParseIndex("1.5", "--x").status().message()),
              HasSubstr("is not an integer"));
}

TEST(ParseRangeTest, SplitsAtTheColon) {
  EXPECT_EQ(*ParseRange("1:1e10"),
            std::make_pair(int64_t{1}, int64_t{10000000000}));
  EXPECT_EQ(*ParseRange("-5:-1"), std::make_pair(int64_t{-5}, int64_t{-1}));
  EXPECT_THAT(std::string(ParseRange("100").status().message()),
              HasSubstr("BEGIN:END"));
  EXPECT_FALSE(ParseRange("0:abc").ok());
}

TEST(ParseChunkPolicyTest, ReadsEveryForm) {
  EXPECT_EQ(ParseChunkPolicy("auto")->kind, ChunkPolicy::Kind::kAuto);
  EXPECT_EQ(ParseChunkPolicy("auto:250ms")->target, absl::Milliseconds(250));
  EXPECT_EQ(ParseChunkPolicy("fixed:1e6")->value, 1000000);
  EXPECT_EQ(ParseChunkPolicy("count:8")->kind, ChunkPolicy::Kind::kCount);
  for (const char* bad :
       {"fixed:0", "count:-1", "auto:-1s", "static", "fixed:"}) {
    EXPECT_EQ(ParseChunkPolicy(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ParseParamTest, UsesDeclaredTypes) {
  std::vector<ParamSpec> specs = {{.name = "b", .type = ParamType::kFloat},
                                  {.name = "n", .type = ParamType::kInt},
                                  {.name = "f", .type = ParamType::kString}};
  EXPECT_DOUBLE_EQ(std::get<double>(ParseParam("b=pi/2", &specs)->second),
                   M_PI / 2);
  EXPECT_EQ(std::get<int64_t>(ParseParam("n=1e3", &specs)->second), 1000);
  EXPECT_EQ(std::get<std::string>(ParseParam("f=4", &specs)->second), "4");
  EXPECT_THAT(std::string(ParseParam("b=xyz", &specs).status().message()),
              HasSubstr("--param b 'xyz' is not a number"));
  EXPECT_FALSE(ParseParam("n=1.5", &specs).ok());
}

TEST(ParseParamTest, GuessesTypesWithoutDeclarations) {
  EXPECT_EQ(std::get<int64_t>(ParseParam("a=3", nullptr)->second), 3);
  EXPECT_DOUBLE_EQ(std::get<double>(ParseParam("a=0.5", nullptr)->second), 0.5);
  EXPECT_EQ(std::get<std::string>(ParseParam("f=cos", nullptr)->second), "cos");
  EXPECT_EQ(std::get<std::string>(ParseParam("f=", nullptr)->second), "");
  EXPECT_FALSE(ParseParam("=3", nullptr).ok());
  EXPECT_FALSE(ParseParam("novalue", nullptr).ok());
}

TEST(SplitCommandLineTest, SplitsLikeAShellWithoutExpanding) {
  EXPECT_THAT(
      *SplitCommandLine("python3 count.py {begin} {end}"),
      ::testing::ElementsAre("python3", "count.py", "{begin}", "{end}"));
  EXPECT_THAT(*SplitCommandLine(R"(echo 'a b' "c \"d\"" e\ f $HOME)"),
              ::testing::ElementsAre("echo", "a b", "c \"d\"", "e f", "$HOME"));
  EXPECT_THAT(*SplitCommandLine("  x  ''  "), ::testing::ElementsAre("x", ""));
  EXPECT_THAT(std::string(SplitCommandLine("echo 'oops").status().message()),
              HasSubstr("unclosed ' quote"));
  EXPECT_FALSE(SplitCommandLine("   ").ok());
}

TEST(ParseExecutorTest, NamesTheChoices) {
  EXPECT_EQ(*ParseExecutor("processes"), ExecutorKind::kProcesses);
  EXPECT_THAT(std::string(ParseExecutor("gpu").status().message()),
              HasSubstr("threads, processes or command"));
  EXPECT_EQ(*ParseCommandOutput("json"), Command::Output::kJson);
  EXPECT_FALSE(ParseCommandOutput("xml").ok());
}

TEST(ParseDurationFlagTest, NeedsAPositiveDuration) {
  EXPECT_EQ(*ParseDurationFlag("30s", "--t"), absl::Seconds(30));
  EXPECT_FALSE(ParseDurationFlag("0s", "--t").ok());
  EXPECT_FALSE(ParseDurationFlag("soon", "--t").ok());
}

}  // namespace
}  // namespace pfor::cli
