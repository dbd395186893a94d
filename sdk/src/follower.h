// The SDK's one way to follow jobs: one session per client (a gRPC stream,
// or calls within the process for the embedded cluster) that submits jobs,
// routes each job's events to its handler, and outlives outages. Executor,
// Parallel, Client::Wait and the CLI all follow jobs through it.
//
// When the session ends (the coordinator restarts, the network drops), a new
// one follows every job again after a backoff, for up to the reconnect
// timeout; a coordinator with a journal still knows the jobs and sends their
// state, results included. Past the timeout the jobs fail with UNAVAILABLE.
// The timeout also bounds a session that never hears from the coordinator
// (an address where nothing answers, or where packets vanish).
#ifndef PFOR_SDK_FOLLOWER_H_
#define PFOR_SDK_FOLLOWER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/common/backoff.h"
#include "pfor/common/session.h"

namespace pfor::internal {

// Thread-safe.
class Follower final : public SessionHandler {
 public:
  // Receives each event of one job in order, then nothing more after the
  // job's last (a final state, or missing). When the coordinator stays out
  // of reach for the reconnect timeout, or the client closes, receives that
  // error instead, as its last call. Called on the thread that delivers the
  // session's events (a gRPC thread, or a worker thread of the embedded
  // cluster): it must be quick and must not block.
  using Handler = std::function<void(const absl::StatusOr<JobEvent>&)>;

  // `calls` must outlive the follower; `coordinator` is its address, for
  // messages.
  Follower(CoordinatorCalls& calls, std::string coordinator,
           absl::Duration reconnect_timeout, absl::Duration call_timeout);
  // Close(), if it has not run.
  ~Follower() override;

  // Ends the session; jobs still followed get CANCELLED, and later submits
  // and follows fail at once. The follower stays usable as an object, for
  // code still running on other threads. Runs once; later calls return.
  void Close();

  // Submits `spec` and follows the job from its acceptance on; blocks until
  // the coordinator answers (at most the call timeout). The job as
  // accepted, or why not.
  absl::StatusOr<JobStatus> Submit(std::shared_ptr<const JobSpec> spec,
                                   Handler handler);
  // Follows an existing job: its current state (a batch's task results so
  // far) first. With a progress interval, progress comes too. With
  // `submitted` (the job's submit time, as its submit answered), a job of
  // that id submitted at another time is not the one followed: the handler
  // gets DATA_LOSS instead of its events (a coordinator that lost its state
  // must never pass another job off as this one).
  void Follow(uint64_t job, Handler handler,
              absl::Duration progress_interval = absl::ZeroDuration(),
              absl::Time submitted = absl::InfinitePast());
  // Runs `task` on the follower's own thread, after the tasks posted
  // before it: where user callbacks run, so that they may call back into
  // the client. The SDK's waits refuse to wait there
  // (internal::OnCallbackThread).
  void Post(std::function<void()> task);

  // SessionHandler
  void OnSubmitted(uint64_t call, absl::StatusOr<JobStatus> job) override;
  void OnEvents(std::vector<JobEvent> events) override;
  void OnClosed(const absl::Status& status) override;

 private:
  struct Answer;
  // The body of Close().
  void CloseOnce();
  struct PendingCall {
    std::shared_ptr<Answer> answer;
    std::shared_ptr<const JobSpec> spec;
    Handler handler;
    // Sent on the session that is now open (else: waits for the next one).
    bool sent = false;
  };
  struct FollowedJob {
    std::shared_ptr<const Handler> handler;
    absl::Duration progress_interval;
    // When known, the job's submit time: what tells it from another job
    // given the same id by a coordinator that lost its state.
    absl::Time submitted = absl::InfinitePast();
  };

  // The open session, opened if there is none (and no reconnect waits).
  std::shared_ptr<Session> SessionLocked();
  void Run();
  // After a session ended: a new one after a backoff, or, past the
  // reconnect timeout, every job and call fails.
  void Reconnect(std::unique_lock<std::mutex>& lock);
  // The coordinator was not heard from for the reconnect timeout: every
  // job and call fails with UNAVAILABLE, and the session (if any) closes.
  void GiveUp(std::unique_lock<std::mutex>& lock);
  void FailAllLocked(const absl::Status& error,
                     std::vector<std::shared_ptr<const Handler>>& failed);

  CoordinatorCalls& calls_;
  const std::string coordinator_;
  const absl::Duration reconnect_timeout_;
  const absl::Duration call_timeout_;

  std::mutex mu_;
  std::condition_variable changed_;
  std::shared_ptr<Session> session_;  // guarded by mu_
  // Sessions whose OnClosed has come, to be dropped on this thread (never
  // on a gRPC thread: gRPC 1.51 does not survive dropping a channel's last
  // reference there), and how many are still open.
  std::vector<std::shared_ptr<Session>> ended_;  // guarded by mu_
  int open_sessions_ = 0;                        // guarded by mu_
  bool reconnect_pending_ = false;               // guarded by mu_
  // Why the last session ended.
  absl::Status last_error_;  // guarded by mu_
  // Since when the coordinator has not been heard from (a session was
  // opened, or the last one ended, and nothing came since).
  absl::Time lost_since_ = absl::InfiniteFuture();  // guarded by mu_
  // Whether the coordinator ever answered this follower.
  bool heard_ = false;                                        // guarded by mu_
  Backoff backoff_;                                           // guarded by mu_
  uint64_t next_call_ = 1;                                    // guarded by mu_
  absl::flat_hash_map<uint64_t, PendingCall> calls_pending_;  // by mu_
  absl::flat_hash_map<uint64_t, FollowedJob> jobs_;           // by mu_
  std::deque<std::function<void()>> tasks_;                   // by mu_
  bool stopping_ = false;                                     // by mu_
  std::once_flag closed_;
  std::thread thread_;
};

}  // namespace pfor::internal

#endif  // PFOR_SDK_FOLLOWER_H_
