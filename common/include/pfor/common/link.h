// The worker link in C++: the messages of proto/pfor/v1/worker_link.proto
// as the coordinator and the worker handle them, and the link that carries
// them, whatever it is: a gRPC stream (between processes) or plain calls
// (the embedded cluster, within one process).
//
// Flow control is by credits: a worker asks for as many chunks as it has
// free slots plus a prefetch; the coordinator never sends more chunks than
// were asked for. Every message may carry many items.
#ifndef PFOR_COMMON_LINK_H_
#define PFOR_COMMON_LINK_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pfor/cluster.h"
#include "pfor/job.h"
#include "pfor/params.h"
#include "pfor/value.h"

namespace pfor {

// One attempt at one chunk: chunks are named by their job and begin, which
// never change; attempts are numbered from 1.
struct AttemptRef {
  uint64_t job = 0;
  int64_t begin = 0;
  int32_t attempt = 0;

  friend bool operator==(const AttemptRef&, const AttemptRef&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const AttemptRef& ref) {
    return H::combine(std::move(h), ref.job, ref.begin, ref.attempt);
  }
};

// --- Worker to coordinator -------------------------------------------------

// The first message of a link, and only that one.
struct Hello {
  // A name for listings, such as host-pid.
  std::string name;
  // Chunks the worker runs at once, per executor.
  std::array<int32_t, kExecutorKinds> slots{};
  // Kernels of the threads and processes executors.
  std::vector<KernelInfo> kernels;
  // The worker's pfor version, such as "0.1.0".
  std::string version;
};

// What one chunk produced: a value, or for a batch chunk one result per task
// (task begin + i is results[i]).
using ChunkOutput = std::variant<Value, std::vector<TaskResult>>;

struct ChunkResult {
  AttemptRef attempt;
  // The output, or why the attempt failed.
  absl::StatusOr<ChunkOutput> output = absl::UnknownError("no output");
  absl::Duration kernel_time;
};

struct WorkerMessage {
  std::optional<Hello> hello;
  // More chunks wanted per executor, on top of those asked for before.
  std::array<int32_t, kExecutorKinds> credits{};
  std::vector<ChunkResult> results;
  // Attempts that started to run on a slot: the first of each job on this
  // link (chunks only queued on the worker have not started).
  std::vector<AttemptRef> started;
  // Attempts given back unstarted (the worker is draining).
  std::vector<AttemptRef> released;
  // The worker will take no more chunks and leaves when its running chunks
  // finish.
  bool draining = false;

  // Appends `other` (credits add up), so that queued messages travel as one.
  void Merge(WorkerMessage&& other);
  bool empty() const;
};

// --- Coordinator to worker -------------------------------------------------

struct Welcome {
  uint64_t worker_id = 0;
  // Send something at least this often, or be declared lost.
  absl::Duration heartbeat_interval;
};

// What a worker needs to run a job's chunks; sent before the job's first
// chunk on each link, shared by all of them.
struct JobDefinition {
  uint64_t job = 0;
  std::string kernel;
  // Validated parameters, defaults filled in. For a batch, the job's own as
  // given: each task's are laid over them and checked on the worker.
  Params params;
  Reduction reduction = Reduction::kSum;
  ExecutorKind executor = ExecutorKind::kThreads;
  Range range;
  Command command;
  // An attempt running longer fails (the executor stops it).
  absl::Duration chunk_timeout = absl::InfiniteDuration();
  // A batch job: its chunks carry tasks.
  bool batch = false;
};

struct ChunkAssignment {
  AttemptRef attempt;
  int64_t end = 0;
  // The chunk's number, from 0 in the order chunks were cut.
  int64_t index = 0;
  // For a batch chunk: its tasks are (*tasks)[first_task + i] for i in
  // [0, end - begin). Shared with the job's spec within one process, decoded
  // for the chunk alone from the wire.
  std::shared_ptr<const std::vector<Task>> tasks;
  size_t first_task = 0;
};

struct CoordinatorMessage {
  std::optional<Welcome> welcome;
  // Definitions of jobs the worker has not seen yet, before their chunks.
  std::vector<std::shared_ptr<const JobDefinition>> jobs;
  std::vector<ChunkAssignment> chunks;
  // Jobs that ended or were cancelled: drop their queued chunks, cancel
  // their running ones, forget their definitions.
  std::vector<uint64_t> ended_jobs;
  // Single attempts no longer wanted (another copy won, or it timed out).
  std::vector<AttemptRef> cancelled;

  // Appends `other`, keeping the order of every list.
  void Merge(CoordinatorMessage&& other);
  bool empty() const;
};

// --- The link ---------------------------------------------------------------

// The worker's end of a link. Thread-safe; never blocks.
class WorkerLink {
 public:
  virtual ~WorkerLink() = default;
  // Queues a message for the coordinator; messages queued while one is on
  // its way are merged and go together. Dropped once the link is closing.
  virtual void Send(WorkerMessage message) = 0;
  // Closes the worker's side after the queued messages: the coordinator then
  // ends the link.
  virtual void CloseWrites() = 0;
  // Ends the link now.
  virtual void Cancel() = 0;
};

// What the worker hears on its link. Calls come one at a time, in order,
// on a thread of the link's (never under a lock the worker may hold while
// calling the link); OnClosed is the last one.
class WorkerLinkHandler {
 public:
  virtual ~WorkerLinkHandler() = default;
  virtual void OnMessage(CoordinatorMessage message) = 0;
  virtual void OnClosed(const absl::Status& status) = 0;
};

// Opens a link and sends `hello` first. The handler must outlive the link's
// OnClosed. Links open lazily: a coordinator out of reach shows up as
// OnClosed with UNAVAILABLE. Like the link's methods, call it without
// holding a lock the handler takes: a link within one process may deliver
// its first messages before the opener returns.
using WorkerLinkOpener = std::function<std::shared_ptr<WorkerLink>(
    WorkerMessage hello, WorkerLinkHandler* handler)>;

}  // namespace pfor

#endif  // PFOR_COMMON_LINK_H_
