// The workers connected to the coordinator, as the scheduler sees them: what
// each announced (slots per executor, kernels), the credits it granted, the
// attempts it runs, and the counts dispatch needs (slots per kernel and
// executor, the workers with credits left).
//
// Pure bookkeeping: no clock, no I/O. Not thread-safe.
#ifndef PFOR_COORDINATOR_WORKER_REGISTRY_H_
#define PFOR_COORDINATOR_WORKER_REGISTRY_H_

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "journal.h"
#include "pfor/cluster.h"
#include "pfor/common/link.h"
#include "pfor/coordinator/options.h"
#include "pfor/job.h"

namespace pfor::coordinator {

using WorkerId = uint64_t;

inline int ExecutorIndex(ExecutorKind executor) {
  return static_cast<int>(executor);
}

// One declaration of a kernel: its name and its parameters, as workers
// announce them. Workers may declare a kernel of one name differently
// (another version, a plugin of the same name): each declaration is a
// kernel of its own to the scheduler, and a job runs only on workers whose
// declaration takes its parameters. Numbered while some connected worker
// announces the declaration (a declaration that comes back gets a new
// number), so that "can this worker run this job" reads only the worker's
// own record.
using KernelId = uint64_t;

// One worker on the other end of a link. (The worker daemon is
// worker::Worker; this is the coordinator's record of one.) What dispatch
// reads for every chunk lives inline here, not behind pointers: with
// thousands of workers, each lookup elsewhere is a cache miss.
struct ConnectedWorker {
  struct KernelExecutors {
    KernelId kernel = 0;
    // Bits by ExecutorIndex.
    unsigned executors = 0;
  };

  WorkerId id = 0;
  std::string name;
  std::string peer;
  std::array<int32_t, kExecutorKinds> slots{};
  // The kernels as this worker announced them.
  std::vector<KernelInfo> kernels;
  // The executors that run each kernel here.
  absl::InlinedVector<KernelExecutors, 16> runs;
  absl::Time connected;
  absl::Time last_seen;
  // Chunks asked for and not yet sent, per executor.
  std::array<int32_t, kExecutorKinds> credits{};
  bool draining = false;
  int64_t chunks_done = 0;
  // Attempts that ran past their deadline: in all, and since the worker
  // last finished one in time.
  int64_t attempts_timed_out = 0;
  int32_t timeouts_in_a_row = 0;
  // Quarantined (given no chunks) until then; InfinitePast when not.
  absl::Time quarantined_until = absl::InfinitePast();
  // Live attempts on this worker (the chunk ledgers know which).
  int32_t attempts = 0;
  // Jobs whose definition this worker has received and not seen end.
  absl::InlinedVector<JobId, 4> known_jobs;
};

class WorkerRegistry {
 public:
  // Most slots a worker may announce for one executor.
  static constexpr int32_t kMaxSlots = 4096;

  // Adds a worker. INVALID_ARGUMENT for a malformed hello: no slots, too
  // many, too long a name or too many kernels, a kernel announced twice or
  // with unnamed or repeated parameters. FAILED_PRECONDITION for an id in
  // use. An empty name becomes the peer. Returns the kernels (declarations)
  // no connected worker announced before this one.
  absl::StatusOr<std::vector<KernelId>> Add(WorkerId id, Hello hello,
                                            std::string peer, absl::Time now);
  // Forgets a worker, its slots and its kernels (its name stays known for
  // a while, for the records of attempts it ran). The caller has taken its
  // live attempts back first.
  void Remove(WorkerId id);

  ConnectedWorker* Find(WorkerId id) {
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : it->second.get();
  }
  const ConnectedWorker* Find(WorkerId id) const {
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : it->second.get();
  }
  bool empty() const { return workers_.empty(); }
  // Calls `visit` for every worker, by id.
  void ForEach(const std::function<void(ConnectedWorker&)>& visit);
  // The worker's name, also for a while after it left; "worker N" after
  // that.
  std::string NameOf(WorkerId id) const;

  // The worker asks for `credits` more chunks of `executor`. Credits of an
  // executor it has no slots of, or of a draining worker, are ignored; a
  // total beyond 2 * slots + 64 is capped (a worker bug must not let it
  // hoard a job's chunks).
  void Grant(ConnectedWorker& worker, ExecutorKind executor, int32_t credits);
  // One chunk of `executor` was sent: spends a credit (the caller checked
  // HasCredit).
  void Spend(ConnectedWorker& worker, ExecutorKind executor);
  bool HasCredit(const ConnectedWorker& worker, ExecutorKind executor) const {
    return worker.credits[ExecutorIndex(executor)] > 0;
  }
  // The worker takes no more chunks: its credits and slots stop counting.
  void Drain(ConnectedWorker& worker);

  // An attempt of the worker ran past its deadline. After
  // `options.quarantine_after` in a row the worker is quarantined for
  // `options.quarantine_time`: it keeps its link,
  // its credits and its running attempts, but gets no chunks. Never
  // quarantines the last worker that is not (then the work is slow, not
  // the workers).
  void AttemptTimedOut(ConnectedWorker& worker, const SchedulerOptions& options,
                       absl::Time now);
  // An attempt of the worker finished in time: its count of timeouts in a
  // row starts again, and a quarantine ends.
  void AttemptInTime(ConnectedWorker& worker);
  // Ends the quarantines that are over at `now`; one more timeout puts
  // such a worker back at once.
  void EndQuarantines(const SchedulerOptions& options, absl::Time now);
  static bool Quarantined(const ConnectedWorker& worker) {
    return worker.quarantined_until != absl::InfinitePast();
  }
  // Workers with credits left, not draining nor quarantined, by id.
  const absl::btree_set<WorkerId>& hungry() const { return hungry_; }

  // The declarations of kernel `name` that connected workers announce, in
  // the order they appeared; empty when none does.
  std::vector<KernelId> DeclarationsOf(const std::string& name) const;
  // A declaration some connected worker announces (its name, help and
  // parameters); nullptr once none does.
  const KernelInfo* Declaration(KernelId kernel) const;
  // Whether the worker has slots of `executor` and, unless it runs
  // commands, offers `kernel` on it. Credits are not considered.
  bool CanRun(const ConnectedWorker& worker, ExecutorKind executor,
              KernelId kernel) const;
  // Slots of `executor` of workers not draining that offer `kernel` on it
  // (or run commands); 0 when none does.
  int64_t SlotsFor(ExecutorKind executor, KernelId kernel) const;
  // Why no connected worker can run the job, whose parameters the
  // declarations `fitting` take (the others refused them, the last one
  // with `refusal`); empty when one can.
  std::string Unrunnable(const JobSpec& spec,
                         const std::vector<KernelId>& fitting,
                         const std::string& refusal) const;

  std::vector<WorkerStatus> List(absl::Time now) const;
  // Every kernel offered, by name, with the executors that run it on some
  // worker.
  std::vector<KernelInfo> Kernels() const;

 private:
  // What connected workers offer of one kernel name.
  struct KernelOffer {
    // Each worker's own announcement, by worker id.
    absl::btree_map<WorkerId, const KernelInfo*> by_worker;
    // Its declarations, in the order they appeared.
    std::vector<KernelId> declarations;
    // Workers announcing each executor.
    std::array<int, kExecutorKinds> announced{};
    // Slots per executor of workers not draining.
    std::array<int64_t, kExecutorKinds> slots{};
  };
  // One declaration of a kernel, while some worker announces it.
  struct Declared {
    std::string signature;
    // As the first worker announcing it did.
    std::shared_ptr<const KernelInfo> kernel;
    // Workers announcing it.
    int workers = 0;
    // Slots per executor of workers not draining that run it.
    std::array<int64_t, kExecutorKinds> slots{};
  };

  // Adds (sign +1) or removes (-1) a worker's slots in the counts.
  void CountSlots(const ConnectedWorker& worker, int sign);
  void UpdateHungry(const ConnectedWorker& worker);

  absl::flat_hash_map<WorkerId, std::unique_ptr<ConnectedWorker>> workers_;
  // The same ids, in order.
  absl::btree_set<WorkerId> ids_;
  absl::btree_set<WorkerId> hungry_;
  // Workers quarantined now.
  absl::btree_set<WorkerId> quarantined_;
  std::map<std::string, KernelOffer> kernels_;
  // The declarations announced, by number and by signature.
  absl::flat_hash_map<KernelId, Declared> declared_;
  absl::flat_hash_map<std::string, KernelId> declaration_ids_;
  KernelId next_declaration_ = 1;
  // Command slots of connected workers not draining.
  int64_t command_slots_ = 0;
  // Names of the workers that left most recently.
  absl::flat_hash_map<WorkerId, std::string> departed_;
  std::deque<WorkerId> departed_order_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_WORKER_REGISTRY_H_
