// A cluster with TLS and tokens: the example jobs run with exact results,
// and whoever lacks a credential is refused with the status and message
// that say why: no token, a forged or revoked one, the wrong role, a
// certificate from another CA, another pfor version, too many failures.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pfor/common/grpc_credentials.h"
#include "pfor/v1/coordinator.grpc.pb.h"
#include "pfor/v1/worker_link.grpc.pb.h"

namespace pfor::testing {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Concat(std::vector<std::string> a,
                                const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Adds token NAME with ROLES and secret NAME-secret to the table (the
// coordinator reads it again), and writes DIR/NAME.token.
void AddToken(const Credentials& credentials, const std::string& name,
              const std::string& roles) {
  const std::string secret = name + "-secret";
  std::ofstream(credentials.Path(name + ".token")) << secret << "\n";
  const RunResult hash = pfor::testing::Run(
      "/bin/sh", {"-c", absl::StrCat("printf %s ", secret,
                                     " | sha256sum | cut -d' ' -f1")});
  ASSERT_TRUE(hash.status.ExitedWith(0)) << Describe(hash);
  std::ofstream(credentials.Path("tokens"), std::ios::app)
      << name << " " << roles << " " << hash.out;
}

// A raw stub over TLS trusting the test CA, for what `pfor` cannot send.
std::unique_ptr<v1::Coordinator::Stub> Stub(const Cluster& cluster,
                                            const Credentials& credentials) {
  return v1::Coordinator::NewStub(grpc::CreateChannel(
      cluster.address(),
      *MakeChannelCredentials({.ca = credentials.Path("ca.pem")})));
}

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(credentials_, Credentials::Make());
    ASSERT_OK_AND_ASSIGN(cluster_, StartCluster(2, {}, credentials_.get()));
  }

  // `pfor --coordinator ADDRESS FLAGS... ARGS...` without the cluster's
  // client flags.
  RunResult CliAs(const std::vector<std::string>& flags,
                  const std::vector<std::string>& args) {
    return RunCli(
        Concat(Concat({"--coordinator", cluster_->address()}, flags), args));
  }

  std::unique_ptr<Credentials> credentials_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(SecurityTest, RunsTheExampleJobsWithExactResultsAndRecordsTheToken) {
  ASSERT_OK_AND_ASSIGN(uint64_t job,
                       cluster_->Submit({"count_primes", "--range", "1:1e6"}));
  RunResult primes = cluster_->Cli({"wait", absl::StrCat(job)});
  ASSERT_TRUE(primes.status.ExitedWith(0)) << Describe(primes);
  EXPECT_EQ(primes.out, "78498\n");
  RunResult integral = cluster_->Cli(
      {"submit", "integrate", "--param", "integrand=4/(1+x^2)", "--param",
       "a=0", "--param", "b=1", "--points", "1e6", "--wait"});
  ASSERT_TRUE(integral.status.ExitedWith(0)) << Describe(integral);
  EXPECT_THAT(integral.out, HasSubstr("3.14159265358"));

  ASSERT_OK_AND_ASSIGN(nlohmann::json status, cluster_->Status(job));
  EXPECT_EQ(status["submitted_by"], "submit");
  RunResult text = cluster_->Cli({"status", absl::StrCat(job)});
  EXPECT_THAT(text.out, HasSubstr("  token    submit\n"));
}

TEST_F(SecurityTest, RefusesAClientWithoutTokenOrTlsOrWithAForgedToken) {
  RunResult plain = CliAs({}, {"jobs"});
  EXPECT_TRUE(plain.status.ExitedWith(3)) << Describe(plain);
  EXPECT_THAT(plain.err, HasSubstr("if it serves TLS, pass --tls-ca"));

  RunResult no_token =
      CliAs({"--tls-ca", credentials_->Path("ca.pem")}, {"jobs"});
  EXPECT_TRUE(no_token.status.ExitedWith(3)) << Describe(no_token);
  EXPECT_EQ(no_token.err,
            "pfor: this coordinator needs a token; pass --token-file FILE or "
            "set PFOR_TOKEN\n");

  std::ofstream(credentials_->Path("forged.token")) << "not-a-secret\n";
  RunResult forged = CliAs(credentials_->ClientArgs("forged"), {"jobs"});
  EXPECT_TRUE(forged.status.ExitedWith(3)) << Describe(forged);
  EXPECT_THAT(forged.err, HasSubstr("the token is not known to this "
                                    "coordinator (mistyped, or revoked)"));
}

TEST_F(SecurityTest, RefusesACoordinatorCertificateFromAnotherCa) {
  ASSERT_OK_AND_ASSIGN(auto other, Credentials::Make());
  RunResult result = CliAs({"--tls-ca", other->Path("ca.pem"), "--token-file",
                            credentials_->Path("submit.token")},
                           {"jobs"});
  EXPECT_TRUE(result.status.ExitedWith(3)) << Describe(result);
  EXPECT_THAT(result.err,
              HasSubstr(absl::StrCat(
                  "the coordinator's certificate at ", cluster_->address(),
                  " is not signed by --tls-ca ", other->Path("ca.pem"))));
}

TEST_F(SecurityTest, RefusesWorkersWithAForeignCertificateOrWithoutTheRole) {
  ASSERT_OK_AND_ASSIGN(auto other, Credentials::Make());
  const std::string ca = credentials_->Path("ca.pem");
  // Each worker is refused and says why; none joins.
  const struct {
    const char* who;
    std::vector<std::string> args;
    const char* why;
  } refused[] = {
      {"a certificate from another CA",
       {"--tls-ca", ca, "--tls-cert", other->Path("worker.pem"), "--tls-key",
        other->Path("worker.key"), "--token-file",
        credentials_->Path("worker.token")},
       "refused this end's certificate"},
      {"no certificate, though the token is right",
       {"--tls-ca", ca, "--token-file", credentials_->Path("worker.token")},
       "takes workers with a certificate signed by its --tls-ca"},
      {"a fake worker with a submit token, to return wrong results",
       {"--tls-ca", ca, "--tls-cert", credentials_->Path("worker.pem"),
        "--tls-key", credentials_->Path("worker.key"), "--token-file",
        credentials_->Path("submit.token")},
       "token submit lacks the worker role, so it cannot join"},
  };
  std::vector<std::unique_ptr<Process>> running;
  for (const auto& [who, args, why] : refused) {
    SCOPED_TRACE(who);
    ASSERT_OK_AND_ASSIGN(
        auto worker,
        Process::Start(WorkerBinary(),
                       Concat({"--coordinator", cluster_->address()}, args),
                       ChildEnv()));
    EXPECT_TRUE(worker->WaitForLine(Stream::kStderr, std::regex(why),
                                    absl::Seconds(30)))
        << worker->Stderr();
    running.push_back(std::move(worker));
  }
  ASSERT_OK_AND_ASSIGN(nlohmann::json workers, cluster_->Workers());
  EXPECT_EQ(workers.size(), 2u) << workers.dump();
}

TEST_F(SecurityTest, SubmitTokenTouchesOnlyItsOwnJobsAndNoCommands) {
  AddToken(*credentials_, "bob", "submit");
  // The table is read again within a tick.
  RunResult listed;
  ASSERT_TRUE(PollUntil(
      [&] {
        listed = CliAs(credentials_->ClientArgs("bob"), {"jobs"});
        return listed.status.ExitedWith(0);
      },
      absl::Seconds(10)))
      << Describe(listed);

  RunResult mine =
      CliAs(credentials_->ClientArgs("admin"),
            {"submit", "sleep", "--param", "us=100000", "--range", "0:1000"});
  ASSERT_TRUE(mine.status.ExitedWith(0)) << Describe(mine);
  const std::string job(absl::StripTrailingAsciiWhitespace(mine.out));
  RunResult cancel = CliAs(credentials_->ClientArgs("bob"), {"cancel", job});
  EXPECT_TRUE(cancel.status.ExitedWith(3)) << Describe(cancel);
  EXPECT_THAT(cancel.err,
              HasSubstr(absl::StrCat("job ", job,
                                     " belongs to token admin; "
                                     "token bob may see and cancel only its "
                                     "own jobs")));
  RunResult status = CliAs(credentials_->ClientArgs("bob"), {"status", job});
  EXPECT_TRUE(status.status.ExitedWith(3)) << Describe(status);
  RunResult jobs = CliAs(credentials_->ClientArgs("bob"), {"--json", "jobs"});
  EXPECT_EQ(jobs.out, "[]\n") << Describe(jobs);
  // Following it over the session reads as a job bob cannot see.
  RunResult wait = CliAs(credentials_->ClientArgs("bob"), {"wait", job});
  EXPECT_TRUE(wait.status.ExitedWith(3)) << Describe(wait);
  EXPECT_THAT(wait.err,
              HasSubstr(absl::StrCat("job ", job, " does not exist")));
  RunResult by_admin =
      CliAs(credentials_->ClientArgs("admin"), {"cancel", job});
  EXPECT_TRUE(by_admin.status.ExitedWith(0)) << Describe(by_admin);

  RunResult command =
      CliAs(credentials_->ClientArgs("bob"),
            {"submit", "--command", "echo 1", "--range", "0:10"});
  EXPECT_TRUE(command.status.ExitedWith(3)) << Describe(command);
  EXPECT_THAT(command.err, HasSubstr("token bob lacks the commands role"));
}

TEST_F(SecurityTest, RevokedTokenIsRefusedOnceRemovedFromTheTable) {
  RunResult before = cluster_->Cli({"jobs"});
  ASSERT_TRUE(before.status.ExitedWith(0)) << Describe(before);
  // Keep every line but the submit token's.
  const RunResult removed = pfor::testing::Run(
      "/bin/sh", {"-c", absl::StrCat("sed -i '/^submit /d' ",
                                     credentials_->Path("tokens"))});
  ASSERT_TRUE(removed.status.ExitedWith(0)) << Describe(removed);
  RunResult after;
  ASSERT_TRUE(PollUntil(
      [&] {
        after = cluster_->Cli({"jobs"});
        return !after.status.ExitedWith(0);
      },
      absl::Seconds(10)))
      << Describe(after);
  EXPECT_THAT(after.err, HasSubstr("not known to this coordinator"));
}

TEST_F(SecurityTest, RefusesAnotherVersionNamingBoth) {
  std::unique_ptr<v1::Coordinator::Stub> stub = Stub(*cluster_, *credentials_);
  grpc::ClientContext context;
  context.AddMetadata(kVersionKey, "0.0.1");
  v1::ListJobsResponse response;
  const grpc::Status status =
      stub->ListJobs(&context, v1::ListJobsRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr(absl::StrCat("this client runs pfor 0.0.1 and this "
                                     "coordinator runs pfor ",
                                     PforVersion())));
}

TEST_F(SecurityTest, RefusesAWorkerOfAnotherVersionNamingBoth) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
      MakeChannelCredentials({.cert = credentials_->Path("worker.pem"),
                              .key = credentials_->Path("worker.key"),
                              .ca = credentials_->Path("ca.pem")});
  ASSERT_TRUE(tls.ok()) << tls.status();
  auto stub =
      v1::WorkerLink::NewStub(grpc::CreateChannel(cluster_->address(), *tls));
  std::ifstream token_file(credentials_->Path("worker.token"));
  std::string token;
  std::getline(token_file, token);
  grpc::ClientContext context;
  AddCallMetadata(context, token);
  auto stream = stub->Connect(&context);
  v1::WorkerMessage hello;
  hello.mutable_hello()->set_name("old");
  hello.mutable_hello()->set_version("0.0.1");
  stream->Write(hello);
  stream->WritesDone();
  v1::CoordinatorMessage ignored;
  while (stream->Read(&ignored)) {
  }
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr(absl::StrCat("this worker runs pfor 0.0.1 and this "
                                     "coordinator runs pfor ",
                                     PforVersion())));
}

TEST_F(SecurityTest, RefusesAHostPastTheLimitOfFailedAuthentications) {
  std::unique_ptr<v1::Coordinator::Stub> stub = Stub(*cluster_, *credentials_);
  grpc::Status status;
  int attempts = 0;
  // The default limit is 20 a minute.
  for (; attempts < 30; ++attempts) {
    grpc::ClientContext context;
    AddCallMetadata(context, "forged");
    v1::ListJobsResponse response;
    status = stub->ListJobs(&context, v1::ListJobsRequest(), &response);
    if (status.error_code() != grpc::StatusCode::UNAUTHENTICATED) break;
  }
  EXPECT_EQ(attempts, 20);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("--max-auth-failures"));
}

TEST(Exposure, RefusesToListenBeyondLoopbackWithoutTokensUnlessInsecure) {
  RunResult refused = pfor::testing::Run(CoordinatorBinary(),
                                         {"--listen", "0.0.0.0:0"}, ChildEnv());
  EXPECT_TRUE(refused.status.ExitedWith(2)) << Describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("pass --tokens FILE"));

  ASSERT_OK_AND_ASSIGN(
      auto insecure,
      Process::Start(CoordinatorBinary(),
                     {"--listen", "0.0.0.0:0", "--insecure"}, ChildEnv()));
  EXPECT_TRUE(insecure->WaitForLine(
      Stream::kStderr,
      std::regex("warning pfor-coordinator: --insecure: anyone"),
      absl::Seconds(30)))
      << insecure->Stderr();

  Cluster loopback;
  ASSERT_OK(loopback.StartCoordinator());
  EXPECT_TRUE(loopback.coordinator().WaitForLine(
      Stream::kStderr, std::regex("accepting connections from this machine"),
      absl::Seconds(30)));
}

TEST(Limits, AMessagePastTheLimitIsRefusedNamingTheFlag) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator({"--max-message-size", "4KiB"}));
  RunResult result = cluster.Cli({"submit", "noop", "--range", "0:10",
                                  "--param", "text=" + std::string(4000, 'x')});
  EXPECT_TRUE(result.status.ExitedWith(3)) << Describe(result);
  EXPECT_THAT(result.err, HasSubstr("--max-message-size"));
}

TEST(Limits, AStreamPastTheLimitPerClientIsRefusedNamingTheFlag) {
  Cluster cluster;
  ASSERT_OK(cluster.StartCoordinator({"--max-streams-per-client", "1"}));
  auto stub = v1::Coordinator::NewStub(grpc::CreateChannel(
      cluster.address(), grpc::InsecureChannelCredentials()));
  // The first session is open once it has answered a follow.
  grpc::ClientContext first_context;
  auto first = stub->Session(&first_context);
  v1::SessionRequest follow;
  follow.add_follow()->set_job_id(12345);
  ASSERT_TRUE(first->Write(follow));
  v1::SessionEvents events;
  ASSERT_TRUE(first->Read(&events));
  EXPECT_TRUE(events.events(0).missing());

  grpc::ClientContext second_context;
  auto second = stub->Session(&second_context);
  second->WritesDone();
  while (second->Read(&events)) {
  }
  const grpc::Status status = second->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("--max-streams-per-client"));
  first_context.TryCancel();
}

}  // namespace
}  // namespace pfor::testing
