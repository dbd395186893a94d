// What arrives from the network: a worker's messages at the coordinator, the
// coordinator's at a worker, jobs and events at a client. The first byte
// picks the message.
#include <cstddef>
#include <cstdint>

#include "pfor/common/wire_job.h"
#include "pfor/common/wire_link.h"
#include "pfor/v1/coordinator.pb.h"
#include "pfor/v1/worker_link.pb.h"

namespace {

template <typename Message>
void Decode(const uint8_t* data, size_t size) {
  Message message;
  if (message.ParseFromArray(data, static_cast<int>(size))) {
    (void)pfor::FromProto(message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  switch (data[0] % 4) {
    case 0:
      Decode<pfor::v1::WorkerMessage>(data + 1, size - 1);
      break;
    case 1:
      Decode<pfor::v1::CoordinatorMessage>(data + 1, size - 1);
      break;
    case 2:
      Decode<pfor::v1::Job>(data + 1, size - 1);
      break;
    default:
      Decode<pfor::v1::JobEvent>(data + 1, size - 1);
  }
  return 0;
}
