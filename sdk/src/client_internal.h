// What the SDK's parts share about the client that users do not see.
#ifndef PFOR_SDK_CLIENT_INTERNAL_H_
#define PFOR_SDK_CLIENT_INTERNAL_H_

#include "absl/status/statusor.h"
#include "pfor/client.h"
#include "pfor/v1/coordinator.pb.h"

namespace pfor::internal {

JobStatus FromJob(const v1::Job& job);
// A task's value, or its error as UNKNOWN with the kernel's message.
absl::StatusOr<Value> TaskValue(const v1::TaskResult& result);

}  // namespace pfor::internal

#endif  // PFOR_SDK_CLIENT_INTERNAL_H_
