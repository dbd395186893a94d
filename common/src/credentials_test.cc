#include "pfor/common/credentials.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/common/grpc_credentials.h"

namespace pfor {
namespace {

using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / name).string();
  std::ofstream(path) << text;
  return path;
}

class ReadTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv(kTokenEnv);
    unsetenv(kTokenFileEnv);
  }
  void TearDown() override { SetUp(); }
};

TEST_F(ReadTokenTest, ReadsTheFirstLineOfTheFileTrimmed) {
  const std::string path = WriteFile("token", "  s3cret \nignored\n");
  absl::StatusOr<std::string> token = ReadToken(path);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "s3cret");
}

TEST_F(ReadTokenTest, FallsBackToTheEnvironmentThenToNone) {
  absl::StatusOr<std::string> none = ReadToken("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
  setenv(kTokenFileEnv, WriteFile("token_env", "from-file\n").c_str(), 1);
  EXPECT_EQ(*ReadToken(""), "from-file");
  setenv(kTokenEnv, "from-env", 1);
  EXPECT_EQ(*ReadToken(""), "from-env");
}

TEST_F(ReadTokenTest, NamesTheFlagAndFileThatCannotBeRead) {
  absl::StatusOr<std::string> token = ReadToken("/nonexistent/token");
  EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(token.status().message()),
              HasSubstr("--token-file /nonexistent/token: cannot read"));
  token = ReadToken(WriteFile("blank", "\n\n"));
  EXPECT_THAT(std::string(token.status().message()),
              HasSubstr("holds no token"));
}

TEST(VersionTest, AcceptsTheSameMinorBeforeOneAndRefusesOthersNamingBoth) {
  EXPECT_TRUE(CheckCompatibleVersion(PforVersion(), "worker w1").ok());
  const absl::Status old = CheckCompatibleVersion("0.0.9", "worker w1");
  EXPECT_EQ(old.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(old.message()),
              HasSubstr(absl::StrCat("worker w1 runs pfor 0.0.9 and this "
                                     "coordinator runs pfor ",
                                     PforVersion())));
  EXPECT_FALSE(CheckCompatibleVersion("", "worker w1").ok());
  EXPECT_FALSE(CheckCompatibleVersion("garbage", "worker w1").ok());
  EXPECT_FALSE(CheckCompatibleVersion("9.1.0", "worker w1").ok());
}

TEST(TlsCredentialsTest, RefusesACertificateWithoutItsKeyAndMissingFiles) {
  EXPECT_THAT(
      std::string(MakeChannelCredentials({.cert = "c.pem"}).status().message()),
      HasSubstr("--tls-cert and --tls-key go together"));
  EXPECT_THAT(std::string(MakeChannelCredentials({.ca = "/nonexistent/ca.pem"})
                              .status()
                              .message()),
              HasSubstr("--tls-ca /nonexistent/ca.pem: cannot read"));
  EXPECT_THAT(
      std::string(MakeServerCredentials({.ca = "ca.pem"}).status().message()),
      HasSubstr("needs --tls-cert and --tls-key"));
  EXPECT_TRUE(MakeChannelCredentials({}).ok());
  EXPECT_TRUE(MakeServerCredentials({}).ok());
}

TEST(DescribeUnavailableTest, TellsWhichCertificateFailedAndTheFix) {
  const TlsFiles tls{.ca = "ca.pem"};
  auto describe = [&](const char* detail) {
    return DescribeHandshakeFailure(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, detail), "h:1", tls);
  };
  EXPECT_THAT(describe("Ssl handshake failed: error:0A000086:SSL "
                       "routines::certificate verify failed"),
              HasSubstr("the coordinator's certificate at h:1 is not signed "
                        "by --tls-ca ca.pem"));
  EXPECT_THAT(describe("SSL_ERROR_SSL: tlsv1 alert unknown ca"),
              HasSubstr("refused this end's certificate"));
  EXPECT_EQ(describe("Connection refused"), "");
  EXPECT_THAT(describe("SSL_ERROR_SSL: wrong version number"),
              HasSubstr("does not serve TLS"));
  EXPECT_THAT(DescribeUnavailable(
                  grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed"),
                  "h:1", {}),
              HasSubstr("if it serves TLS, pass --tls-ca"));
}

}  // namespace
}  // namespace pfor
