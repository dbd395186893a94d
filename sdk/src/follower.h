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
#include "pfor/v1/coordinator.grpc.pb.h"

namespace pfor::internal {

// Thread-safe. Handlers run on the follower's own thread, one at a time, in
// the order the events arrived: never on a gRPC thread, so they may block
// briefly or call back into the client.
class Follower {
 public:
  // Receives each event of one job, then nothing more once the job has ended
  // (an event with a final state, or `missing`). When the stream to the
  // coordinator breaks, receives that error instead, as its last call.
  using Handler = std::function<void(const absl::StatusOr<v1::JobEvent>&)>;

  // `stub` must outlive the follower.
  explicit Follower(v1::Coordinator::Stub& stub);
  // Ends the stream; jobs still followed get CANCELLED.
  ~Follower();

  void Follow(uint64_t job, Handler handler);

 private:
  class Stream;
  struct Item {
    // An event, or the stream's end.
    absl::StatusOr<v1::JobEvent> event;
  };

  void Post(absl::StatusOr<v1::JobEvent> item);
  void Dispatch();

  v1::Coordinator::Stub& stub_;
  std::mutex mu_;
  std::condition_variable posted_;
  absl::flat_hash_map<uint64_t, Handler> handlers_;  // guarded by mu_
  std::deque<Item> queue_;                           // guarded by mu_
  // Every stream opened (one is open at a time; a broken one is replaced),
  // destroyed with the follower.
  std::vector<std::shared_ptr<Stream>> streams_;  // guarded by mu_
  bool stream_open_ = false;                      // guarded by mu_
  bool stopping_ = false;                         // guarded by mu_
  std::thread dispatcher_;
};

}  // namespace pfor::internal

#endif  // PFOR_SDK_FOLLOWER_H_
