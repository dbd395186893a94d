// One stream from a worker to the coordinator (the callback API's client
// reactor). Keeps one read and at most one write in flight; messages sent
// while a write is in flight are merged into the next one, so results and
// credits travel in batches.
#ifndef PFOR_WORKER_LINK_SESSION_H_
#define PFOR_WORKER_LINK_SESSION_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "pfor/v1/worker_link.grpc.pb.h"

namespace pfor::worker {

class LinkSession final
    : public grpc::ClientBidiReactor<v1::WorkerMessage,
                                     v1::CoordinatorMessage> {
 public:
  // Reactions of the worker, called on gRPC threads, never under the
  // session's lock.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnMessage(const v1::CoordinatorMessage& message) = 0;
    // The stream ended; the last call the session makes.
    virtual void OnClosed(const grpc::Status& status) = 0;
  };

  // Dials and sends `hello`. The session keeps itself alive until the stream
  // ends; `handler` must outlive that.
  static std::shared_ptr<LinkSession> Open(v1::WorkerLink::Stub& stub,
                                           v1::WorkerMessage hello,
                                           Handler* handler);

  // Queues a message (merged with any not yet written). Dropped once the
  // stream is closing.
  void Send(const v1::WorkerMessage& message);
  // Half-closes after the queued messages: the coordinator then ends the
  // stream.
  void CloseWrites();
  // Ends the stream now.
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnWritesDoneDone(bool) override {}
  void OnDone(const grpc::Status& status) override;

 private:
  explicit LinkSession(Handler* handler) : handler_(handler) {}
  void MaybeWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Handler* const handler_;
  grpc::ClientContext context_;
  v1::CoordinatorMessage incoming_;
  std::shared_ptr<LinkSession> self_;

  absl::Mutex mu_;
  v1::WorkerMessage pending_ ABSL_GUARDED_BY(mu_);
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  v1::WorkerMessage writing_message_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool close_writes_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_closed_ ABSL_GUARDED_BY(mu_) = false;
  // The read side ended: no more writes, and the hold is released.
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace pfor::worker

#endif  // PFOR_WORKER_LINK_SESSION_H_
