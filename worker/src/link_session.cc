#include "link_session.h"

namespace pfor::worker {

std::shared_ptr<LinkSession> LinkSession::Open(v1::WorkerLink::Stub& stub,
                                               v1::WorkerMessage hello,
                                               Handler* handler) {
  std::shared_ptr<LinkSession> session(new LinkSession(handler));
  session->self_ = session;
  stub.async()->Connect(&session->context_, session.get());
  session->StartRead(&session->incoming_);
  // Writes start from worker threads at any time; the hold keeps OnDone
  // away until the read side has ended.
  session->AddHold();
  session->Send(hello);
  session->StartCall();
  return session;
}

void LinkSession::Send(const v1::WorkerMessage& message) {
  absl::MutexLock lock(&mu_);
  if (reads_done_ || close_writes_) return;
  // Every field but the hello and the draining flag is repeated, so merging
  // concatenates: results, releases and credits all add up.
  pending_.MergeFrom(message);
  has_pending_ = true;
  MaybeWriteLocked();
}

void LinkSession::CloseWrites() {
  absl::MutexLock lock(&mu_);
  close_writes_ = true;
  MaybeWriteLocked();
}

void LinkSession::MaybeWriteLocked() {
  if (writing_ || reads_done_ || writes_closed_) return;
  if (has_pending_) {
    writing_message_ = std::move(pending_);
    pending_.Clear();
    has_pending_ = false;
    writing_ = true;
    StartWrite(&writing_message_);
  } else if (close_writes_) {
    writes_closed_ = true;
    StartWritesDone();
  }
}

void LinkSession::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  // A failed write means the stream is broken; the read side reports it.
  if (ok) MaybeWriteLocked();
}

void LinkSession::OnReadDone(bool ok) {
  if (ok) {
    handler_->OnMessage(incoming_);
    StartRead(&incoming_);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    reads_done_ = true;
  }
  RemoveHold();
}

void LinkSession::OnDone(const grpc::Status& status) {
  handler_->OnClosed(status);
  // Last reaction: the session may now go.
  std::shared_ptr<LinkSession> self = std::move(self_);
}

}  // namespace pfor::worker
