// A submitted job spec, as a client sends it: decoded, then checked as the
// coordinator checks every job before accepting it.
#include <cstddef>
#include <cstdint>

#include "job_spec_check.h"
#include "pfor/common/wire_job.h"
#include "pfor/v1/job.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pfor::v1::JobSpec wire;
  if (!wire.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<pfor::JobSpec> spec = pfor::FromProto(wire);
  if (!spec.ok()) return 0;
  (void)pfor::coordinator::CheckJob(*spec);
  // What was accepted encodes and decodes to the same job.
  absl::StatusOr<pfor::JobSpec> again = pfor::FromProto(pfor::ToProto(*spec));
  if (!again.ok() || again->begin != spec->begin || again->end != spec->end ||
      again->params != spec->params ||
      again->tasks.size() != spec->tasks.size()) {
    __builtin_trap();
  }
  return 0;
}
