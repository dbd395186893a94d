// pfor's client: submit parallel-for jobs to a coordinator and follow them.
//
//   auto client = pfor::Client::Connect({});  // embedded: every local core
//   pfor::JobSpec job{.kernel = "count_primes", .begin = 1,
//                     .end = 10'000'000'000};
//   absl::StatusOr<pfor::JobStatus> done = (*client)->Run(job);
//   // done->value holds 455052511
//
// With an address (or PFOR_COORDINATOR in the environment) the same code
// runs on a cluster. Without one, Connect starts an in-process coordinator
// and worker, like Dask's Client() with no address; they talk to this
// client by plain calls, without gRPC.
//
// Errors are absl::Status values carrying the coordinator's message:
// INVALID_ARGUMENT for a bad request (the message names the fix),
// NOT_FOUND for an unknown job, UNAVAILABLE when the coordinator cannot be
// reached, DEADLINE_EXCEEDED when a call outlives its timeout.
//
// Thread-safe: one Client may be shared by many threads.
#ifndef PFOR_CLIENT_H_
#define PFOR_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/cluster.h"
#include "pfor/job.h"

namespace pfor {

struct ClientOptions {
  // host:port of a coordinator. Empty: $PFOR_COORDINATOR, and when that is
  // unset too, an embedded cluster.
  std::string coordinator = {};
  // Embedded cluster: worker threads; 0 means one per core.
  int embedded_threads = 0;
  // Deadline of each call (following a job has none).
  absl::Duration timeout = absl::Seconds(10);
  // How long followed jobs (futures, Wait) wait for a coordinator they lost
  // (a restart, a network drop) before failing with UNAVAILABLE. A
  // coordinator with a journal (--state-dir) still has their jobs when it
  // comes back. A coordinator that never answers (nothing listens, packets
  // vanish) fails them after as long.
  absl::Duration reconnect_timeout = absl::Seconds(30);
  // TLS to the coordinator: PEM files. With `tls_ca` set, the coordinator's
  // certificate must be signed by it; `tls_cert` and `tls_key` add this
  // client's own certificate (mutual TLS). Empty: plaintext.
  std::string tls_ca = {};
  std::string tls_cert = {};
  std::string tls_key = {};
  // The token's secret, for a coordinator with tokens. Empty: $PFOR_TOKEN,
  // or the first line of the file $PFOR_TOKEN_FILE names, or none.
  std::string token = {};
  // Embedded cluster: also offer the test-only kernels (`fault`, which
  // crashes, hangs or fails on purpose).
  bool embedded_test_kernels = false;
};

class Client;

namespace internal {
class Follower;
Follower& FollowerOf(Client& client);
}  // namespace internal

class Client {
 public:
  // Connects (lazily: an unreachable coordinator shows up on the first
  // call) or starts the embedded cluster and waits for its worker.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ClientOptions& options);
  ~Client();

  // True when this client runs its own in-process cluster.
  bool embedded() const;
  // The coordinator address, or "embedded".
  std::string target() const;

  absl::StatusOr<JobStatus> Submit(const JobSpec& spec);
  // With the most recent finished attempts and, for a batch, the task
  // results of `tasks` (by default the first 1000; Wait has them all).
  absl::StatusOr<JobStatus> Get(uint64_t job, TaskPage tasks = {});
  // Cancels a queued or running job; returns its state after. With
  // `only_if_queued`, a job that has started (a worker runs one of its
  // chunks) is left alone and returned as it is.
  absl::StatusOr<JobStatus> Cancel(uint64_t job, bool only_if_queued = false);
  // Follows a job until it finishes, calling `on_update` (if set) with each
  // new state at most every `interval`; returns the final state (a batch's
  // with every task result). Blocks. Survives coordinator outages up to
  // ClientOptions::reconnect_timeout. `on_update` runs on a thread of the
  // client's: it must be quick.
  absl::StatusOr<JobStatus> Wait(
      uint64_t job,
      const std::function<void(const JobStatus&)>& on_update = nullptr,
      absl::Duration interval = absl::Milliseconds(200));
  // The same for the job `submitted` describes, as Submit returned it: if
  // the coordinator's job of that id turns out to be another one (a
  // coordinator that lost its state), fails with DATA_LOSS rather than
  // report the other job's result.
  absl::StatusOr<JobStatus> Wait(
      const JobStatus& submitted,
      const std::function<void(const JobStatus&)>& on_update = nullptr,
      absl::Duration interval = absl::Milliseconds(200));
  // Submit, then Wait.
  absl::StatusOr<JobStatus> Run(
      const JobSpec& spec,
      const std::function<void(const JobStatus&)>& on_update = nullptr);

  // Newest first.
  absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit = 100);
  absl::StatusOr<std::vector<WorkerStatus>> ListWorkers();
  absl::StatusOr<std::vector<KernelInfo>> ListKernels();

 private:
  friend internal::Follower& internal::FollowerOf(Client& client);
  class Impl;
  absl::StatusOr<JobStatus> WaitFor(
      uint64_t job, absl::Time submitted,
      const std::function<void(const JobStatus&)>& on_update,
      absl::Duration interval);
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pfor

#endif  // PFOR_CLIENT_H_
