#include "pfor/common/rpc.h"

#include <string>

#include "gtest/gtest.h"

namespace pfor {
namespace {

TEST(RpcStatusTest, KeepsCodeAndMessageBothWays) {
  for (int code = 0; code <= 16; ++code) {
    const absl::Status status(static_cast<absl::StatusCode>(code),
                              code == 0 ? "" : "job 42: something went wrong");
    const grpc::Status grpc_status = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(grpc_status.error_code()), code);
    EXPECT_EQ(grpc_status.error_message(), std::string(status.message()));
    EXPECT_EQ(FromGrpcStatus(grpc_status), status);
  }
}

TEST(RpcStatusTest, MapsNamedCodes) {
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("bad range")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("job 7")).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::DeadlineExceededError("slow")).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  const absl::Status unavailable = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator draining"));
  EXPECT_TRUE(absl::IsUnavailable(unavailable));
  EXPECT_EQ(unavailable.message(), "coordinator draining");
}

}  // namespace
}  // namespace pfor
