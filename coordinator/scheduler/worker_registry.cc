#include "worker_registry.h"

#include <algorithm>

#include "absl/base/casts.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pfor::coordinator {
namespace {

constexpr size_t kMaxWorkerName = 256;
constexpr size_t kMaxKernels = 10000;
// Names of departed workers kept for the records of their attempts.
constexpr size_t kDepartedNamesKept = 4096;

absl::Status CheckParamList(const KernelInfo& kernel) {
  absl::flat_hash_set<std::string> names;
  for (const ParamSpec& param : kernel.params) {
    if (param.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kernel ", kernel.name,
                       " has a bad parameter list: a parameter has no name"));
    }
    if (!names.insert(param.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kernel ", kernel.name, " has a bad parameter list: parameter ",
          param.name, " is declared twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHello(const Hello& hello) {
  if (hello.name.size() > kMaxWorkerName ||
      hello.kernels.size() > kMaxKernels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker hello is too large: a name of at most ", kMaxWorkerName,
        " characters and at most ", kMaxKernels, " kernels are allowed"));
  }
  int64_t total = 0;
  for (int32_t slots : hello.slots) {
    if (slots < 0 || slots > WorkerRegistry::kMaxSlots) {
      return absl::InvalidArgumentError(absl::StrCat(
          "worker announces ", slots, " slots of one executor; at most ",
          WorkerRegistry::kMaxSlots, " are allowed"));
    }
    total += slots;
  }
  if (total == 0) {
    return absl::InvalidArgumentError(
        "worker announces no slots; start it with --threads or --processes");
  }
  absl::flat_hash_set<std::string> names;
  for (const KernelInfo& kernel : hello.kernels) {
    if (!names.insert(kernel.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("worker announces kernel ", kernel.name,
                       " twice; give each kernel of a worker its own name"));
    }
    if (absl::Status status = CheckParamList(kernel); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

// What decides which jobs a declaration takes, in one string: the kernel's
// name and its parameters (their order aside), not its help text.
std::string Signature(const KernelInfo& kernel) {
  std::vector<const ParamSpec*> params;
  for (const ParamSpec& param : kernel.params) params.push_back(&param);
  std::sort(
      params.begin(), params.end(),
      [](const ParamSpec* a, const ParamSpec* b) { return a->name < b->name; });
  // Every part is length-prefixed, so that no two declarations read alike.
  std::string out;
  auto add = [&out](absl::string_view part) {
    absl::StrAppend(&out, part.size(), ":", part, ";");
  };
  auto add_number = [&add](const std::optional<double>& number) {
    add(number ? absl::StrCat(absl::bit_cast<uint64_t>(*number)) : "-");
  };
  add(kernel.name);
  for (const ParamSpec* param : params) {
    add(param->name);
    add(absl::StrCat(static_cast<int>(param->type)));
    if (!param->default_value) {
      add("-");
    } else if (const auto* i = std::get_if<int64_t>(&*param->default_value)) {
      add(absl::StrCat("i", *i));
    } else if (const auto* d = std::get_if<double>(&*param->default_value)) {
      add(absl::StrCat("d", absl::bit_cast<uint64_t>(*d)));
    } else {
      add(absl::StrCat("s", std::get<std::string>(*param->default_value)));
    }
    add_number(param->min);
    add_number(param->max);
    add(absl::StrCat(param->choices.size()));
    for (const std::string& choice : param->choices) add(choice);
    add(param->expression_variable);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<KernelId>> WorkerRegistry::Add(WorkerId id,
                                                          Hello hello,
                                                          std::string peer,
                                                          absl::Time now) {
  if (absl::Status status = CheckHello(hello); !status.ok()) return status;
  if (workers_.contains(id)) {
    return absl::FailedPreconditionError(
        absl::StrCat("worker ", id, " has already joined"));
  }
  auto worker = std::make_unique<ConnectedWorker>();
  worker->id = id;
  worker->name = hello.name.empty() ? peer : std::move(hello.name);
  worker->peer = std::move(peer);
  worker->slots = hello.slots;
  worker->kernels = std::move(hello.kernels);
  worker->connected = now;
  worker->last_seen = now;
  std::vector<KernelId> appeared;
  for (const KernelInfo& kernel : worker->kernels) {
    unsigned executors = 0;
    for (ExecutorKind executor : kernel.executors) {
      const int kind = ExecutorIndex(executor);
      if (kind >= 0 && kind < kExecutorKinds) executors |= 1u << kind;
    }
    std::string signature = Signature(kernel);
    KernelOffer& offer = kernels_[kernel.name];
    auto [numbered, added] =
        declaration_ids_.try_emplace(signature, next_declaration_);
    if (added) {
      next_declaration_ += 1;
      Declared& declared = declared_[numbered->second];
      declared.signature = std::move(signature);
      declared.kernel = std::make_shared<const KernelInfo>(kernel);
      offer.declarations.push_back(numbered->second);
      appeared.push_back(numbered->second);
    }
    declared_.at(numbered->second).workers += 1;
    worker->runs.push_back({numbered->second, executors});
    offer.by_worker.emplace(id, &kernel);
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      offer.announced[kind] += (executors >> kind) & 1;
    }
  }
  CountSlots(*worker, +1);
  ids_.insert(id);
  workers_.emplace(id, std::move(worker));
  departed_.erase(id);
  return appeared;
}

void WorkerRegistry::Remove(WorkerId id) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return;
  ConnectedWorker& worker = *it->second;
  if (!worker.draining) CountSlots(worker, -1);
  for (const ConnectedWorker::KernelExecutors& run : worker.runs) {
    auto declared = declared_.find(run.kernel);
    auto offer = kernels_.find(declared->second.kernel->name);
    offer->second.by_worker.erase(id);
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      offer->second.announced[kind] -= (run.executors >> kind) & 1;
    }
    if (--declared->second.workers == 0) {
      auto& list = offer->second.declarations;
      list.erase(std::find(list.begin(), list.end(), run.kernel));
      declaration_ids_.erase(declared->second.signature);
      declared_.erase(declared);
    }
    if (offer->second.by_worker.empty()) kernels_.erase(offer);
  }
  hungry_.erase(id);
  quarantined_.erase(id);
  ids_.erase(id);
  departed_.insert_or_assign(id, std::move(worker.name));
  departed_order_.push_back(id);
  while (departed_order_.size() > kDepartedNamesKept) {
    departed_.erase(departed_order_.front());
    departed_order_.pop_front();
  }
  workers_.erase(it);
}

void WorkerRegistry::ForEach(
    const std::function<void(ConnectedWorker&)>& visit) {
  for (WorkerId id : ids_) visit(*workers_.at(id));
}

std::string WorkerRegistry::NameOf(WorkerId id) const {
  if (const ConnectedWorker* worker = Find(id)) return worker->name;
  auto it = departed_.find(id);
  if (it != departed_.end()) return it->second;
  return id == 0 ? std::string() : absl::StrCat("worker ", id);
}

void WorkerRegistry::CountSlots(const ConnectedWorker& worker, int sign) {
  for (const ConnectedWorker::KernelExecutors& run : worker.runs) {
    Declared& declared = declared_.at(run.kernel);
    KernelOffer& offer = kernels_.at(declared.kernel->name);
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if ((run.executors >> kind & 1) == 0) continue;
      offer.slots[kind] += sign * int64_t{worker.slots[kind]};
      declared.slots[kind] += sign * int64_t{worker.slots[kind]};
    }
  }
  command_slots_ +=
      sign * int64_t{worker.slots[ExecutorIndex(ExecutorKind::kCommand)]};
}

void WorkerRegistry::UpdateHungry(const ConnectedWorker& worker) {
  const bool hungry = !worker.draining && !Quarantined(worker) &&
                      std::any_of(worker.credits.begin(), worker.credits.end(),
                                  [](int32_t credits) { return credits > 0; });
  if (hungry) {
    hungry_.insert(worker.id);
  } else {
    hungry_.erase(worker.id);
  }
}

void WorkerRegistry::Grant(ConnectedWorker& worker, ExecutorKind executor,
                           int32_t credits) {
  const int kind = ExecutorIndex(executor);
  if (credits <= 0 || kind < 0 || kind >= kExecutorKinds || worker.draining ||
      worker.slots[kind] == 0) {
    return;
  }
  // Beyond what a worker could ever use (its slots and a prefetch of at
  // most 256 chunks per slot, decision 9) is a worker bug: capped, so a bad
  // worker cannot hoard a job's chunks.
  const int64_t cap = 257 * int64_t{worker.slots[kind]} + 64;
  worker.credits[kind] = static_cast<int32_t>(
      std::min<int64_t>(cap, int64_t{worker.credits[kind]} + credits));
  UpdateHungry(worker);
}

void WorkerRegistry::Spend(ConnectedWorker& worker, ExecutorKind executor) {
  int32_t& credits = worker.credits[ExecutorIndex(executor)];
  credits -= 1;
  if (credits == 0) UpdateHungry(worker);
}

void WorkerRegistry::Drain(ConnectedWorker& worker) {
  if (worker.draining) return;
  worker.draining = true;
  worker.credits.fill(0);
  hungry_.erase(worker.id);
  CountSlots(worker, -1);
}

void WorkerRegistry::AttemptTimedOut(ConnectedWorker& worker,
                                     const SchedulerOptions& options,
                                     absl::Time now) {
  worker.attempts_timed_out += 1;
  worker.timeouts_in_a_row += 1;
  if (Quarantined(worker) || worker.draining ||
      worker.timeouts_in_a_row < options.quarantine_after) {
    return;
  }
  const bool another = std::any_of(ids_.begin(), ids_.end(), [&](WorkerId id) {
    const ConnectedWorker& other = *workers_.at(id);
    return id != worker.id && !other.draining && !Quarantined(other);
  });
  if (!another) return;
  worker.quarantined_until = now + options.quarantine_time;
  quarantined_.insert(worker.id);
  UpdateHungry(worker);
}

void WorkerRegistry::AttemptInTime(ConnectedWorker& worker) {
  worker.timeouts_in_a_row = 0;
  if (!Quarantined(worker)) return;
  worker.quarantined_until = absl::InfinitePast();
  quarantined_.erase(worker.id);
  UpdateHungry(worker);
}

void WorkerRegistry::EndQuarantines(const SchedulerOptions& options,
                                    absl::Time now) {
  std::vector<WorkerId> ended;
  for (WorkerId id : quarantined_) {
    if (workers_.at(id)->quarantined_until <= now) ended.push_back(id);
  }
  for (WorkerId id : ended) {
    ConnectedWorker& worker = *workers_.at(id);
    AttemptInTime(worker);
    worker.timeouts_in_a_row = options.quarantine_after - 1;
  }
}

std::vector<KernelId> WorkerRegistry::DeclarationsOf(
    const std::string& name) const {
  auto it = kernels_.find(name);
  if (it == kernels_.end()) return {};
  return it->second.declarations;
}

const KernelInfo* WorkerRegistry::Declaration(KernelId kernel) const {
  auto it = declared_.find(kernel);
  return it == declared_.end() ? nullptr : it->second.kernel.get();
}

bool WorkerRegistry::CanRun(const ConnectedWorker& worker,
                            ExecutorKind executor, KernelId kernel) const {
  const int kind = ExecutorIndex(executor);
  if (worker.slots[kind] == 0) return false;
  if (executor == ExecutorKind::kCommand) return true;
  for (const ConnectedWorker::KernelExecutors& run : worker.runs) {
    if (run.kernel == kernel) return (run.executors >> kind & 1) != 0;
  }
  return false;
}

int64_t WorkerRegistry::SlotsFor(ExecutorKind executor, KernelId kernel) const {
  if (executor == ExecutorKind::kCommand) return command_slots_;
  auto it = declared_.find(kernel);
  return it == declared_.end() ? 0 : it->second.slots[ExecutorIndex(executor)];
}

std::string WorkerRegistry::Unrunnable(const JobSpec& spec,
                                       const std::vector<KernelId>& fitting,
                                       const std::string& refusal) const {
  if (workers_.empty()) return "no worker is connected";
  const ExecutorKind executor = spec.executor;
  if (executor == ExecutorKind::kCommand) {
    return command_slots_ > 0 ? ""
                              : "no connected worker runs commands; start "
                                "workers with --allow-commands";
  }
  auto it = kernels_.find(spec.kernel);
  if (it == kernels_.end()) {
    std::vector<std::string> names;
    for (const auto& [name, offer] : kernels_) names.push_back(name);
    return absl::StrCat(
        "no connected worker offers kernel '", spec.kernel,
        "'; offered: ", names.empty() ? "none" : absl::StrJoin(names, ", "),
        ". Check the name, or start a worker that has it");
  }
  bool declared = false;
  for (KernelId kernel : fitting) {
    if (!declared_.contains(kernel)) continue;
    declared = true;
    if (SlotsFor(executor, kernel) > 0) return "";
  }
  if (!declared) {
    return absl::StrCat(
        "no connected worker's kernel ", spec.kernel,
        " takes the job's parameters (workers declare it differently)",
        refusal.empty() ? "" : absl::StrCat(": ", refusal));
  }
  return absl::StrCat("no connected worker has ", ExecutorName(executor),
                      " slots for kernel ", spec.kernel,
                      executor == ExecutorKind::kProcesses
                          ? "; start workers with --processes N"
                          : "; start workers with --threads N");
}

std::vector<WorkerStatus> WorkerRegistry::List(absl::Time now) const {
  std::vector<WorkerStatus> out;
  out.reserve(workers_.size());
  for (WorkerId id : ids_) {
    const ConnectedWorker& worker = *workers_.at(id);
    WorkerStatus& status = out.emplace_back();
    status.id = id;
    status.name = worker.name;
    status.peer = worker.peer;
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      status.slots[kind] = worker.slots[kind];
      status.credits += worker.credits[kind];
    }
    status.chunks_in_flight = worker.attempts;
    status.chunks_done = worker.chunks_done;
    status.connected_time = worker.connected;
    status.since_last_message = now - worker.last_seen;
    for (const KernelInfo& kernel : worker.kernels) {
      status.kernels.push_back(kernel.name);
    }
    std::sort(status.kernels.begin(), status.kernels.end());
    status.draining = worker.draining;
    status.quarantined = Quarantined(worker);
    status.attempts_timed_out = worker.attempts_timed_out;
  }
  return out;
}

std::vector<KernelInfo> WorkerRegistry::Kernels() const {
  std::vector<KernelInfo> out;
  out.reserve(kernels_.size());
  for (const auto& [name, offer] : kernels_) {
    KernelInfo& kernel = out.emplace_back(*offer.by_worker.begin()->second);
    kernel.executors.clear();
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if (offer.announced[kind] > 0) {
        kernel.executors.push_back(static_cast<ExecutorKind>(kind));
      }
    }
  }
  return out;
}

}  // namespace pfor::coordinator
