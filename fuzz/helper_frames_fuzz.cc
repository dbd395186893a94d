// The byte stream between a worker and its helper processes, cut into
// frames as it arrives in pieces: a corrupt stream is an error, never a
// crash or an endless loop.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "helper_protocol.h"
#include "pfor/v1/helper.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pfor::worker::FrameReader reader;
  // The first byte sets how the bytes arrive: in pieces of 1 to 256.
  const size_t piece = size == 0 ? 1 : data[0] + 1;
  for (size_t at = 0; at < size; at += piece) {
    reader.Append(reinterpret_cast<const char*>(data) + at,
                  std::min(piece, size - at));
    while (true) {
      pfor::v1::HelperResponse message;
      absl::StatusOr<bool> next = reader.Next(message);
      if (!next.ok()) return 0;
      if (!*next) break;
    }
  }
  return 0;
}
