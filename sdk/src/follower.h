// One FollowJobs stream per client: the executors' way to learn that jobs
// started, ended, or finished some of their tasks, without a stream per job.
#ifndef PFOR_SDK_FOLLOWER_H_
#define PFOR_SDK_FOLLOWER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/v1/coordinator.grpc.pb.h"

namespace pfor::internal {

// Thread-safe. Handlers run on the follower's own thread, one at a time, in
// the order the events arrived: never on a gRPC thread, so they may block
// briefly or call back into the client.
//
// When the stream breaks (the coordinator restarts, the network drops), the
// follower opens a new one and follows every job again, with backoff, for
// up to `reconnect_timeout`; a coordinator with a journal still knows the
// jobs and sends their state, results included.
class Follower {
 public:
  // Receives each event of one job, then nothing more once the job has ended
  // (an event with a final state, or `missing`). When the coordinator stays
  // out of reach for the reconnect timeout, receives that error instead, as
  // its last call.
  using Handler = std::function<void(const absl::StatusOr<v1::JobEvent>&)>;

  // `stub` must outlive the follower.
  Follower(v1::Coordinator::Stub& stub, absl::Duration reconnect_timeout);
  // Ends the stream; jobs still followed get CANCELLED.
  ~Follower();

  void Follow(uint64_t job, Handler handler);

 private:
  class Stream;
  struct Item {
    // An event, or the end of `ended` with why.
    absl::StatusOr<v1::JobEvent> event;
    const Stream* ended = nullptr;
  };

  void Post(Item item);
  void Dispatch();
  // The stream `ended` is over: drops it, then follows every job over a new
  // stream after a backoff; past the reconnect timeout, returns the handlers
  // to fail instead. Called with `lock` held.
  std::vector<Handler> Reconnect(std::unique_lock<std::mutex>& lock,
                                 const Stream* ended);

  v1::Coordinator::Stub& stub_;
  const absl::Duration reconnect_timeout_;
  std::mutex mu_;
  std::condition_variable posted_;
  absl::flat_hash_map<uint64_t, Handler> handlers_;  // guarded by mu_
  std::deque<Item> queue_;                           // guarded by mu_
  // The streams not yet over (the open one, and those ending), destroyed on
  // this follower's threads, never on gRPC's.
  std::vector<std::shared_ptr<Stream>> streams_;  // guarded by mu_
  // The open stream; null before the first Follow and while reconnecting.
  std::shared_ptr<Stream> open_;  // guarded by mu_
  bool reconnecting_ = false;     // guarded by mu_
  // Since when the coordinator has been out of reach (InfiniteFuture: it
  // is not), and the next backoff.
  absl::Time lost_since_ = absl::InfiniteFuture();  // guarded by mu_
  absl::Duration backoff_;                          // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  std::thread dispatcher_;
};

}  // namespace pfor::internal

#endif  // PFOR_SDK_FOLLOWER_H_
