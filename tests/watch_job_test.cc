// WatchJob, the coordinator's stream for a client that follows one job
// without the SDK: progress at most every interval, ending with the final
// state and the result; NOT_FOUND for a job it does not know.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pfor/v1/coordinator.grpc.pb.h"

namespace pfor::testing {
namespace {

std::unique_ptr<v1::Coordinator::Stub> Stub(const Cluster& cluster) {
  return v1::Coordinator::NewStub(grpc::CreateChannel(
      cluster.address(), grpc::InsecureChannelCredentials()));
}

TEST(WatchJob, StreamsTheJobUntilItsResult) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster(1));
  // About 0.3 s of sleeping in 15 chunks on one slot.
  ASSERT_OK_AND_ASSIGN(
      uint64_t job, cluster->Submit({"sleep", "--param", "us=1000", "--range",
                                     "0:300", "--chunks", "fixed:20"}));
  std::unique_ptr<v1::Coordinator::Stub> stub = Stub(*cluster);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(60));
  v1::WatchJobRequest request;
  request.set_job_id(job);
  request.mutable_interval()->set_nanos(10'000'000);
  std::unique_ptr<grpc::ClientReader<v1::Job>> reader =
      stub->WatchJob(&context, request);
  std::vector<v1::Job> states;
  v1::Job state;
  while (reader->Read(&state)) states.push_back(state);
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(states.size(), 2u);
  int64_t done = -1;
  for (const v1::Job& seen : states) {
    EXPECT_EQ(seen.id(), job);
    EXPECT_GE(seen.progress().indices_done(), done) << "progress went back";
    done = seen.progress().indices_done();
  }
  const v1::Job& last = states.back();
  EXPECT_EQ(last.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(last.result().int_value(), 300);
  EXPECT_EQ(last.progress().indices_done(), 300);
  EXPECT_EQ(last.spec().kernel(), "sleep");
}

TEST(WatchJob, UnknownJobIsNotFound) {
  ASSERT_OK_AND_ASSIGN(auto cluster, StartCluster(1));
  std::unique_ptr<v1::Coordinator::Stub> stub = Stub(*cluster);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::WatchJobRequest request;
  request.set_job_id(987654);
  std::unique_ptr<grpc::ClientReader<v1::Job>> reader =
      stub->WatchJob(&context, request);
  v1::Job state;
  EXPECT_FALSE(reader->Read(&state));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("987654"), std::string::npos)
      << status.error_message();
}

}  // namespace
}  // namespace pfor::testing
