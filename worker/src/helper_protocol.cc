#include "helper_protocol.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace pfor::worker {

void AppendFrame(const google::protobuf::MessageLite& message,
                 std::string& out) {
  uint64_t size = message.ByteSizeLong();
  while (size >= 0x80) {
    out.push_back(static_cast<char>((size & 0x7f) | 0x80));
    size >>= 7;
  }
  out.push_back(static_cast<char>(size));
  message.AppendToString(&out);
}

absl::StatusOr<bool> FrameReader::Next(google::protobuf::MessageLite& message) {
  uint64_t size = 0;
  size_t header = 0;
  for (int shift = 0;; shift += 7) {
    if (header == buffer_.size()) return false;
    // Ten varint bytes hold any uint64; a sane size needs at most four.
    if (header == 10) return absl::DataLossError("frame size is not a varint");
    const auto byte = static_cast<uint8_t>(buffer_[header++]);
    size |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) break;
    if (size > kMaxFrameBytes) break;
  }
  if (size > kMaxFrameBytes) {
    return absl::DataLossError(
        absl::StrCat("frame of ", size, " bytes is larger than the limit of ",
                     kMaxFrameBytes));
  }
  if (buffer_.size() - header < size) return false;
  if (!message.ParseFromArray(buffer_.data() + header,
                              static_cast<int>(size))) {
    return absl::DataLossError(absl::StrCat(
        "frame of ", size, " bytes is not a ", message.GetTypeName()));
  }
  buffer_.erase(0, header + size);
  return true;
}

}  // namespace pfor::worker
