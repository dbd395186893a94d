// A stream's message, reused for one read or write after another, on an
// arena emptied before each use. A plain message would do the same work in
// malloc: proto3's Clear() deletes every sub-message (a chunk of 100,000
// task results is 200,000 frees, then as many mallocs to read the next),
// where an arena drops its few blocks at once.
//
// Encode straight into the message (ToProto(x, out)): assigning a message
// built on the heap to one on an arena copies it.
#ifndef PFOR_COMMON_WIRE_BUFFER_H_
#define PFOR_COMMON_WIRE_BUFFER_H_

#include "google/protobuf/arena.h"

namespace pfor {

template <typename Message>
class WireBuffer {
 public:
  WireBuffer() : arena_(Options()), message_(New()) {}
  WireBuffer(const WireBuffer&) = delete;
  WireBuffer& operator=(const WireBuffer&) = delete;

  // An empty message; references to the previous one are gone.
  Message& Reset() {
    arena_.Reset();
    message_ = New();
    return *message_;
  }

  Message& operator*() { return *message_; }
  Message* operator->() { return message_; }
  Message* get() { return message_; }

 private:
  static google::protobuf::ArenaOptions Options() {
    google::protobuf::ArenaOptions options;
    // Big blocks: a message of a million tasks takes some tens of them.
    options.start_block_size = 4 << 10;
    options.max_block_size = 1 << 20;
    return options;
  }
  Message* New() {
    return google::protobuf::Arena::CreateMessage<Message>(&arena_);
  }

  google::protobuf::Arena arena_;
  Message* message_;
};

}  // namespace pfor

#endif  // PFOR_COMMON_WIRE_BUFFER_H_
