// A server bidi stream whose outgoing messages merge while a write is in
// flight: one write at a time, and everything sent meanwhile goes out as the
// next message, so a busy stream carries many updates per message.
#ifndef PFOR_COORDINATOR_MERGING_STREAM_H_
#define PFOR_COORDINATOR_MERGING_STREAM_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"

namespace pfor::coordinator {

template <typename Request, typename Response>
class MergingStream : public grpc::ServerBidiReactor<Request, Response> {
 public:
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (finishing_) {
      this->Finish(finish_status_);
      return;
    }
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    WriteLocked();
  }

 protected:
  // The message the next write sends: add to it, then call WriteLocked().
  // Null once the stream is finishing (nothing more goes out).
  Response* PendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finishing_) return nullptr;
    has_pending_ = true;
    return &pending_;
  }

  // Starts writing what is pending unless a write is in flight (its
  // completion writes it then).
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || !has_pending_ || finishing_) return;
    writing_message_ = std::move(pending_);
    pending_.Clear();
    has_pending_ = false;
    writing_ = true;
    this->StartWrite(&writing_message_);
  }

  // Finishes once; a write in flight completes first, and OnWriteDone
  // finishes instead of writing again.
  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finishing_) return;
    finishing_ = true;
    if (writing_) {
      finish_status_ = status;
    } else {
      this->Finish(status);
    }
  }

  // Guards the above and whatever the derived stream keeps with it.
  absl::Mutex mu_;

 private:
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
  Response pending_ ABSL_GUARDED_BY(mu_);
  Response writing_message_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_MERGING_STREAM_H_
