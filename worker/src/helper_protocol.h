// Framing of the messages between the processes executor and its pfor-helper
// processes (proto/pfor/v1/helper.proto): each message preceded by its size
// as a varint, protobuf's length-delimited form. No I/O here: callers move
// the bytes through their pipes.
#ifndef PFOR_WORKER_HELPER_PROTOCOL_H_
#define PFOR_WORKER_HELPER_PROTOCOL_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message_lite.h"

namespace pfor::worker {

// No request or response comes near this; a larger size means the stream
// is corrupt.
inline constexpr size_t kMaxFrameBytes = size_t{64} << 20;

// Appends `message`, preceded by its size, to `out`.
void AppendFrame(const google::protobuf::MessageLite& message,
                 std::string& out);

// Collects the bytes of a stream of frames as they arrive and cuts them into
// messages. Not thread-safe.
class FrameReader {
 public:
  void Append(const char* data, size_t size) { buffer_.append(data, size); }

  // Parses the next complete frame into `message`. Returns true when it did,
  // false when more bytes are needed; DATA_LOSS when the size exceeds
  // kMaxFrameBytes or the message does not parse (the stream is corrupt and
  // cannot be resynchronized).
  absl::StatusOr<bool> Next(google::protobuf::MessageLite& message);

  // Bytes received and not yet parsed.
  size_t buffered() const { return buffer_.size(); }
  void Clear() { buffer_.clear(); }

 private:
  std::string buffer_;
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_HELPER_PROTOCOL_H_
