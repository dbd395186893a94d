// The coordinator daemon as a library: the pfor-coordinator binary and the
// SDK's embedded cluster both start it through this header.
#ifndef PFOR_COORDINATOR_SERVER_H_
#define PFOR_COORDINATOR_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace pfor::coordinator {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port. Empty: in-process
  // channels only.
  std::string listen = "127.0.0.1:7070";
  // Workers send something at least this often...
  absl::Duration heartbeat_interval = absl::Seconds(1);
  // ...and are declared lost after this much silence.
  absl::Duration heartbeat_timeout = absl::Seconds(5);
  // Finished jobs kept for listings.
  int max_finished_jobs = 1000;
  // A job whose remaining work no connected worker can run (kernel or
  // executor missing) fails after waiting this long.
  absl::Duration unrunnable_timeout = absl::Minutes(10);
  // Directory of the journal (created if missing): jobs and completed
  // chunks survive a restart there. Empty: nothing survives.
  std::string state_dir;
  // Receives one line per notable event (journal failures); nullptr means
  // silence.
  std::function<void(const std::string&)> log;
};

// A running coordinator. Thread-safe.
class CoordinatorServer {
 public:
  // Opens the journal, resumes its jobs, binds and starts serving.
  // UNAVAILABLE when the address cannot be bound or the journal cannot be
  // used, naming it and the fix.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(
      const ServerOptions& options);

  // Shuts down (see Shutdown).
  ~CoordinatorServer();

  // The port bound; 0 when serving in-process only.
  int port() const;
  // Unfinished jobs resumed from the journal at start.
  int resumed_jobs() const;
  // A channel to this server that stays inside the process.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Ends worker streams (workers reconnect elsewhere or retry), then stops
  // serving; calls still running after `grace` are cancelled. Blocks until
  // done. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(2));
  // Blocks until Shutdown has been called (by another thread or a signal
  // handler thread).
  void Wait();

 private:
  struct State;
  explicit CoordinatorServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_SERVER_H_
