// pfor's client: submit parallel-for jobs to a coordinator and follow them.
//
//   auto client = pfor::Client::Connect({});  // embedded: uses every local
//   core pfor::JobRequest job{.kernel = "count_primes", .begin = 1, .end =
//   10'000'000'000}; absl::StatusOr<pfor::JobStatus> done =
//   (*client)->Run(job);
//   // done->value holds 455052511
//
// With an address (or PFOR_COORDINATOR in the environment) the same code
// runs on a cluster. Without one, Connect starts an in-process coordinator
// and worker, like Dask's Client() with no address.
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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/params.h"
#include "pfor/value.h"

namespace pfor {

// How a job's range is cut into chunks.
struct ChunkPolicy {
  enum class Kind { kAuto, kFixed, kCount };
  Kind kind = Kind::kAuto;
  // Indices per chunk (kFixed) or number of chunks (kCount).
  int64_t value = 0;
  // kAuto: kernel time to aim for per chunk.
  absl::Duration target = absl::Milliseconds(100);

  static ChunkPolicy Auto(absl::Duration target = absl::Milliseconds(100)) {
    return {Kind::kAuto, 0, target};
  }
  static ChunkPolicy Fixed(int64_t size) {
    return {Kind::kFixed, size, absl::ZeroDuration()};
  }
  static ChunkPolicy Count(int64_t chunks) {
    return {Kind::kCount, chunks, absl::ZeroDuration()};
  }
};

// Where chunks run on a worker.
enum class ExecutorKind {
  kThreads,    // in the worker daemon: cheapest
  kProcesses,  // in helper processes: a crash costs one helper
  kCommand,    // an external program per chunk (workers with --allow-commands)
};

// What the command executor runs for each chunk.
struct Command {
  // The program and its arguments; {begin}, {end} and {chunk} are replaced,
  // and PFOR_BEGIN, PFOR_END, PFOR_CHUNK and PFOR_JOB are set.
  std::vector<std::string> argv = {};
  // Run argv[0] as a /bin/sh script instead.
  bool shell = false;
  // How standard output reads: kAuto is an integer if it parses as one,
  // else a float. (Numbered as on the wire.)
  enum class Output { kAuto, kInteger, kFloat, kJson } output = Output::kAuto;
};

// An index range [begin, end).
struct Range {
  int64_t begin = 0;
  int64_t end = 0;
};

// One call of a batch job's kernel: its own range, and parameters on top of
// the job's.
struct Task {
  Range range = {};
  std::map<std::string, ParamValue> params = {};
};

struct JobRequest {
  // Empty for command jobs.
  std::string kernel = {};
  // The index range [begin, end). For a batch, [0, number of tasks).
  int64_t begin = 0;
  int64_t end = 0;
  std::map<std::string, ParamValue> params = {};
  ChunkPolicy chunks = {};
  Reduction reduction = Reduction::kSum;
  // A label for listings.
  std::string name = {};
  // Attempts per chunk before the job fails; 0 means the default, 3.
  int max_attempts = 0;
  // An attempt running longer fails; infinite means no limit.
  absl::Duration chunk_timeout = absl::InfiniteDuration();
  ExecutorKind executor = ExecutorKind::kThreads;
  // For ExecutorKind::kCommand.
  Command command = {};
  // A batch: one call of the kernel per task, and one result per task (the
  // task's value under the reduction) instead of one for the job.
  std::vector<Task> tasks = {};
  // At most this many chunks run at once; 0 means no limit.
  int max_parallel = 0;
};

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };

// "queued", "running", ...
const char* JobStateName(JobState state);

struct ChunkValue {
  int64_t begin = 0;
  int64_t end = 0;
  Value value;
};

// One finished attempt at a chunk, for the status view.
struct ChunkAttempt {
  int64_t begin = 0;
  int64_t end = 0;
  int attempt = 0;
  std::string worker;
  absl::Duration kernel_time;
  // Empty when the attempt succeeded.
  std::string error;
};

struct JobStatus {
  uint64_t id = 0;
  JobRequest request;
  JobState state = JobState::kQueued;
  int64_t indices_total = 0;
  int64_t indices_done = 0;
  int64_t chunks_done = 0;
  int64_t chunks_in_flight = 0;
  int64_t attempts_failed = 0;
  int64_t chunks_requeued = 0;
  // Indices per second, recently.
  double rate = 0;
  // The result of a SUCCEEDED job: an integer or a double (sum, min, max,
  // count)...
  std::optional<Value> value;
  // ...or one value per chunk, ordered by range (collect)...
  std::vector<ChunkValue> chunk_values;
  // ...or one result per task of a batch, in task order.
  std::vector<absl::StatusOr<Value>> task_results;
  // Why the job FAILED or was CANCELLED.
  std::string error;
  // Why a QUEUED job waits.
  std::string waiting_reason;
  absl::Time submit_time = absl::InfinitePast();
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  // The most recent finished attempts, oldest first (Get only).
  std::vector<ChunkAttempt> recent_chunks;

  bool finished() const {
    return state == JobState::kSucceeded || state == JobState::kFailed ||
           state == JobState::kCancelled;
  }
};

struct WorkerStatus {
  uint64_t id = 0;
  std::string name;
  std::string peer;
  // All slots, and per executor.
  int slots = 0;
  int thread_slots = 0;
  int process_slots = 0;
  int command_slots = 0;
  int chunks_in_flight = 0;
  int64_t chunks_done = 0;
  absl::Time connected_time;
  absl::Duration since_last_message;
  std::vector<std::string> kernels;
  bool draining = false;
  // Chunks asked for and not yet sent (free slots and prefetch waiting for
  // work).
  int credits = 0;
};

struct KernelInfo {
  std::string name;
  std::string help;
  std::vector<ParamSpec> params;
};

struct ClientOptions {
  // host:port of a coordinator. Empty: $PFOR_COORDINATOR, and when that is
  // unset too, an embedded cluster.
  std::string coordinator = {};
  // Embedded cluster: worker threads; 0 means one per core.
  int embedded_threads = 0;
  // Deadline of each call (watching a job has none).
  absl::Duration timeout = absl::Seconds(10);
  // How long futures wait for a coordinator they lost (a restart, a network
  // drop) before failing with UNAVAILABLE. A coordinator with a journal
  // (--state-dir) still has their jobs when it comes back.
  absl::Duration reconnect_timeout = absl::Seconds(30);
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

  absl::StatusOr<JobStatus> Submit(const JobRequest& request);
  // With the most recent finished attempts.
  absl::StatusOr<JobStatus> Get(uint64_t job);
  // Cancels a queued or running job; returns its state after.
  absl::StatusOr<JobStatus> Cancel(uint64_t job);
  // Follows a job until it finishes, calling `on_update` (if set) with each
  // new state at most every `interval`; returns the final state. Blocks.
  absl::StatusOr<JobStatus> Wait(
      uint64_t job,
      const std::function<void(const JobStatus&)>& on_update = nullptr,
      absl::Duration interval = absl::Milliseconds(200));
  // Submit, then Wait.
  absl::StatusOr<JobStatus> Run(
      const JobRequest& request,
      const std::function<void(const JobStatus&)>& on_update = nullptr);

  // Newest first.
  absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit = 100);
  absl::StatusOr<std::vector<WorkerStatus>> ListWorkers();
  absl::StatusOr<std::vector<KernelInfo>> ListKernels();

 private:
  friend internal::Follower& internal::FollowerOf(Client& client);
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pfor

#endif  // PFOR_CLIENT_H_
