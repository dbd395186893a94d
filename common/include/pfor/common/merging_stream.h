// The write side of every pfor stream, server or client: one write in
// flight, and everything queued meanwhile merged into the next one, so a
// busy stream carries many items per message and an idle one answers at
// once. Items are queued in their C++ form and encoded only when their write
// starts, outside the lock of whoever queued them.
//
//   class Session : public MergingStream<grpc::ServerBidiReactor<In, Out>,
//                                        Batch, Out> { ... };
//
// `Reactor` is a gRPC callback reactor (server or client, bidi or write);
// `Batch` has Merge(Batch&&) and empty(); `Wire` is the message written.
// Thread-safe.
#ifndef PFOR_COMMON_MERGING_STREAM_H_
#define PFOR_COMMON_MERGING_STREAM_H_

#include <mutex>
#include <utility>

#include "pfor/common/wire_buffer.h"

namespace pfor {

// For client streams written from any thread: gRPC must not end a call
// while a write may still start from outside its reactions. The reactor
// takes a hold (AddHold) before StartCall; every write from outside a
// reaction is bracketed by Enter and Leave; the hold goes (RemoveHold) once
// the read side has ended and no writer is inside. Thread-safe.
class WriterGate {
 public:
  // False once the read side has ended: the call is over, write nothing.
  bool Enter() {
    std::lock_guard lock(mu_);
    if (reads_done_) return false;
    ++writers_;
    return true;
  }
  // True when the caller must now remove the hold.
  bool Leave() {
    std::lock_guard lock(mu_);
    --writers_;
    return ReleaseLocked();
  }
  // The read side ended. True when the caller must now remove the hold.
  bool ReadsEnded() {
    std::lock_guard lock(mu_);
    reads_done_ = true;
    return ReleaseLocked();
  }

 private:
  bool ReleaseLocked() {
    if (!reads_done_ || writers_ > 0 || released_) return false;
    released_ = true;
    return true;
  }

  std::mutex mu_;
  int writers_ = 0;          // guarded by mu_
  bool reads_done_ = false;  // guarded by mu_
  bool released_ = false;    // guarded by mu_
};

template <typename Reactor, typename Batch, typename Wire>
class MergingStream : public Reactor {
 public:
  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok) {
        closing_ = true;
        broken_ = true;
      }
    }
    if (!ok) {
      OnWriteFailed();
      return;
    }
    WriteQueued();
  }

 protected:
  // Adds to the next write. False (and nothing queued) once the stream is
  // closing.
  bool Queue(Batch batch) {
    std::lock_guard lock(mu_);
    if (closing_) return false;
    pending_.Merge(std::move(batch));
    return true;
  }

  // Starts writing what is queued unless a write is in flight (its
  // completion writes the rest); after a requested close, ends the writes
  // once nothing is left.
  void WriteQueued() {
    Batch batch;
    {
      std::lock_guard lock(mu_);
      if (writing_ || ended_ || broken_) return;
      if (!pending_.empty()) {
        batch = std::exchange(pending_, Batch());
        writing_ = true;
      } else if (close_requested_) {
        ended_ = true;
      } else {
        return;
      }
    }
    if (batch.empty()) {
      EndWrites();
      return;
    }
    // Only this thread writes until OnWriteDone: `out_` is ours.
    Wire& out = out_.Reset();
    Encode(std::move(batch), out);
    this->StartWrite(&out);
  }

  // Stops queueing; once what is queued has been written, EndWrites runs.
  void CloseWrites() {
    {
      std::lock_guard lock(mu_);
      if (close_requested_) return;
      close_requested_ = true;
      closing_ = true;
    }
    WriteQueued();
  }

  // The call is over (OnDone ran): nothing more is queued or written.
  void Abandon() {
    std::lock_guard lock(mu_);
    closing_ = true;
    ended_ = true;
    pending_ = Batch();
  }

  // True once nothing more will be written.
  bool closing() {
    std::lock_guard lock(mu_);
    return closing_;
  }

  // Converts a batch into its wire message (an empty one on an arena:
  // encode into it, see wire_buffer.h).
  virtual void Encode(Batch batch, Wire& out) = 0;
  // Everything queued before CloseWrites is written: a server finishes the
  // call, a client half-closes.
  virtual void EndWrites() = 0;
  // A write failed: the stream is broken (the read side usually says why).
  virtual void OnWriteFailed() {}

 private:
  std::mutex mu_;
  Batch pending_;                 // guarded by mu_
  bool writing_ = false;          // guarded by mu_
  bool closing_ = false;          // guarded by mu_
  bool close_requested_ = false;  // guarded by mu_
  bool ended_ = false;            // guarded by mu_
  bool broken_ = false;           // guarded by mu_
  WireBuffer<Wire> out_;
};

}  // namespace pfor

#endif  // PFOR_COMMON_MERGING_STREAM_H_
