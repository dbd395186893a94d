#include "tokens.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;

std::string Hex(const TokenHash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t byte : hash) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 15]);
  }
  return hex;
}

TokenTable Table(const std::string& text) {
  absl::StatusOr<TokenTable> table = TokenTable::Parse(text, "tokens");
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : TokenTable();
}

TEST(TokenTableTest, HashesAsSha256sumDoes) {
  // printf %s abc | sha256sum
  EXPECT_EQ(Hex(HashSecret("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenTableTest, FindsTheCallerOfASecretWithItsRoles) {
  const std::string alice = Hex(HashSecret("alice-secret"));
  const std::string ops = Hex(HashSecret("ops-secret"));
  TokenTable table = Table("# who roles hash\n\nalice submit,commands " +
                           alice + "\n  ops admin " + ops + "  \n");
  EXPECT_EQ(table.size(), 2u);
  std::optional<Caller> caller = table.Find("alice-secret");
  ASSERT_TRUE(caller.has_value());
  EXPECT_EQ(caller->name, "alice");
  EXPECT_TRUE(caller->Has(kSubmitRole));
  EXPECT_TRUE(caller->Has(kCommandsRole));
  EXPECT_FALSE(caller->Has(kAdminRole));
  EXPECT_FALSE(caller->Has(kWorkerRole));
  EXPECT_TRUE(caller->Owns("alice"));
  EXPECT_FALSE(caller->Owns("bob"));
  EXPECT_TRUE(table.Find("ops-secret")->Owns("bob"));
}

TEST(TokenTableTest, RefusesForgedAndEmptySecrets) {
  TokenTable table =
      Table("alice submit " + Hex(HashSecret("alice-secret")) + "\n");
  EXPECT_FALSE(table.Find("alice-secreT").has_value());
  EXPECT_FALSE(table.Find("").has_value());
  // The hash itself is not the secret.
  EXPECT_FALSE(table.Find(Hex(HashSecret("alice-secret"))).has_value());
}

TEST(TokenTableTest, NamesTheLineAndTheProblemOfABadTable) {
  auto error = [](const std::string& text) {
    return std::string(TokenTable::Parse(text, "t.txt").status().message());
  };
  const std::string hash = Hex(HashSecret("x"));
  EXPECT_THAT(error("alice submit\n"),
              HasSubstr("t.txt line 1: expected three fields"));
  EXPECT_THAT(error("\nalice root " + hash),
              HasSubstr("line 2: unknown role 'root'"));
  EXPECT_THAT(error("alice submit abc"), HasSubstr("not 64 hex digits"));
  EXPECT_THAT(error("al/ice submit " + hash), HasSubstr("the name must be"));
  EXPECT_THAT(error("a submit " + hash + "\na admin " + Hex(HashSecret("y"))),
              HasSubstr("token a is given twice"));
  EXPECT_THAT(error("a submit " + hash + "\nb admin " + hash),
              HasSubstr("this secret is given twice"));
}

TEST(FailureLimiterTest, RefusesAHostPastTheLimitForTheRestOfTheMinute) {
  FailureLimiter limiter(3);
  const absl::Time start = absl::UnixEpoch();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Allowed("ipv4:10.0.0.1", start));
    limiter.Failed("ipv4:10.0.0.1", start);
  }
  EXPECT_FALSE(limiter.Allowed("ipv4:10.0.0.1", start + absl::Seconds(59)));
  EXPECT_TRUE(limiter.Allowed("ipv4:10.0.0.2", start));
  EXPECT_TRUE(limiter.Allowed("ipv4:10.0.0.1", start + absl::Seconds(60)));
}

TEST(StreamLimiterTest, CountsOpenStreamsPerKey) {
  StreamLimiter limiter(2);
  EXPECT_TRUE(limiter.Open("a"));
  EXPECT_TRUE(limiter.Open("a"));
  EXPECT_FALSE(limiter.Open("a"));
  EXPECT_TRUE(limiter.Open("b"));
  limiter.Close("a");
  EXPECT_TRUE(limiter.Open("a"));
}

}  // namespace
}  // namespace pfor::coordinator
