#include "engine.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kernel_call.h"
#include "pfor/common/backoff.h"

namespace pfor::worker {
namespace {

// A welcome may not ask for heartbeats more often than this.
constexpr absl::Duration kMinHeartbeatInterval = absl::Milliseconds(50);
// After the last result of a drain, how long the coordinator gets to end
// the link.
constexpr absl::Duration kCloseGrace = absl::Seconds(2);

std::chrono::nanoseconds Chrono(absl::Duration duration) {
  return absl::ToChronoNanoseconds(
      std::clamp(duration, absl::ZeroDuration(), absl::Hours(24)));
}

}  // namespace

Engine::Engine(EngineOptions options)
    : options_(std::move(options)),
      kernels_(*options_.kernels),
      clock_(options_.clock != nullptr ? *options_.clock : Clock::Real()) {
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    const int slots = options_.slots[kind];
    if (slots <= 0) continue;
    prefetch_[kind].emplace(slots, options_.prefetch, options_.prefetch_target);
    SlotPoolHooks hooks;
    hooks.on_start = [this](const ChunkTask& task) { OnStarted(task); };
    hooks.on_lent = [this] { AskForMore(); };
    pools_[kind] = std::make_unique<SlotPool>(
        slots, std::move(options_.runners[kind]),
        [this, kind](const ChunkTask& task, ChunkResult result) {
          OnResult(kind, task, std::move(result));
        },
        clock_, std::move(hooks));
  }
  supervisor_ = std::thread([this] { Supervise(); });
}

Engine::~Engine() {
  Stop();
  for (auto& pool : pools_) pool.reset();
}

int Engine::slots() const {
  return options_.slots[0] + options_.slots[1] + options_.slots[2];
}

bool Engine::connected() const {
  std::lock_guard lock(mu_);
  return welcomed_ && link_open_;
}

void Engine::Log(LogLevel level, const std::string& line) const {
  if (options_.log) options_.log(level, line);
}

WorkerStats Engine::Stats() const {
  WorkerStats stats;
  stats.slots = options_.slots;
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    if (pools_[kind] == nullptr) continue;
    stats.busy_slots[kind] = pools_[kind]->Running();
    stats.helper_restarts += pools_[kind]->runner().helper_restarts();
  }
  std::lock_guard lock(mu_);
  stats.connected = welcomed_ && link_open_;
  stats.kernel_time = kernel_time_;
  return stats;
}

void Engine::Drain(absl::Duration grace) {
  std::unique_lock lock(mu_);
  if (stopping_ || draining_) return;
  draining_ = true;
  WorkerMessage message;
  message.draining = true;
  int running = 0;
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    if (pools_[kind] == nullptr) continue;
    for (const ChunkTask& task : pools_[kind]->TakeQueued()) {
      load_[kind] -= 1;
      if (task.job->link == link_count_) message.released.push_back(task.ref());
    }
    running += pools_[kind]->Running();
  }
  Log(LogLevel::kInfo,
      absl::StrCat("draining: gave back ", message.released.size(),
                   " queued chunks, waiting for ", running, " running"));
  outbox_.Merge(std::move(message));
  FlushLocked(lock);
  lock.unlock();

  const absl::Time deadline = absl::Now() + grace;
  // Every started chunk reported, not just finished: a result sent after
  // CloseWrites would be lost.
  for (auto& pool : pools_) {
    if (pool != nullptr) pool->AwaitReported(deadline);
  }
  lock.lock();
  ++flush_waiters_;
  flushed_.wait_for(lock, Chrono(deadline - absl::Now()), [this] {
    return closed_ || (outbox_.empty() && !flushing_);
  });
  --flush_waiters_;
  close_writes_requested_ = true;
  changed_.notify_all();
  // The coordinator ends the link once it has read everything.
  changed_.wait_for(lock, Chrono(kCloseGrace), [this] { return closed_; });
  lock.unlock();
  Stop();
}

void Engine::Stop() {
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      changed_.wait(lock, [this] { return stopped_; });
      return;
    }
    stopping_ = true;
    changed_.notify_all();
  }
  supervisor_.join();
  std::lock_guard lock(mu_);
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    if (pools_[kind] != nullptr) load_[kind] -= pools_[kind]->CancelAll();
  }
  stopped_ = true;
  changed_.notify_all();
}

void Engine::OnMessage(CoordinatorMessage message) {
  std::unique_lock lock(mu_);
  if (!link_open_) return;
  if (message.welcome) {
    welcomed_ = true;
    heartbeat_interval_ =
        std::max(kMinHeartbeatInterval, message.welcome->heartbeat_interval);
    Log(LogLevel::kInfo,
        absl::StrCat("connected as worker ", message.welcome->worker_id,
                     " with ", options_.slots[0], " threads, ",
                     options_.slots[1], " processes and ", options_.slots[2],
                     " command slots"));
  }
  for (std::shared_ptr<const JobDefinition>& definition : message.jobs) {
    if (definition == nullptr) continue;
    const uint64_t id = definition->job;
    jobs_[id] = MakeJobContext(std::move(definition), kernels_, link_count_);
  }
  for (ChunkAssignment& chunk : message.chunks) {
    // Sent before the coordinator read that this worker drains: give it
    // back untouched.
    if (draining_) {
      outbox_.released.push_back(chunk.attempt);
      continue;
    }
    auto job = jobs_.find(chunk.attempt.job);
    // The coordinator always defines a job before its first chunk, and
    // sends chunks only to executors the worker announced.
    const int kind = job == jobs_.end()
                         ? -1
                         : static_cast<int>(job->second->definition->executor);
    if (kind < 0 || kind >= kExecutorKinds || pools_[kind] == nullptr) {
      outbox_.results.push_back(
          {chunk.attempt,
           absl::InternalError("this worker was sent a chunk it cannot run"),
           absl::ZeroDuration()});
      continue;
    }
    asked_[kind] = std::max(0, asked_[kind] - 1);
    load_[kind] += 1;
    arriving_[kind].push_back({job->second, chunk.attempt.begin, chunk.end,
                               chunk.attempt.attempt, chunk.index,
                               std::move(chunk.tasks), chunk.first_task});
  }
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    if (!arriving_[kind].empty()) pools_[kind]->Submit(arriving_[kind]);
  }
  for (uint64_t job : message.ended_jobs) {
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if (pools_[kind] != nullptr) load_[kind] -= pools_[kind]->CancelJob(job);
    }
    jobs_.erase(job);
  }
  for (const AttemptRef& attempt : message.cancelled) {
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if (pools_[kind] != nullptr) {
        load_[kind] -= pools_[kind]->CancelAttempt(attempt);
      }
    }
  }
  AskLocked(outbox_);
  FlushLocked(lock);
}

void Engine::OnClosed(const absl::Status& status) {
  std::lock_guard lock(mu_);
  link_open_ = false;
  closed_ = true;
  close_status_ = status;
  // What was not sent is moot: the coordinator requeues what this worker
  // held.
  outbox_ = WorkerMessage();
  heartbeat_due_ = false;
  changed_.notify_all();
  flushed_.notify_all();
}

void Engine::OnResult(int kind, const ChunkTask& task, ChunkResult result) {
  std::unique_lock lock(mu_);
  load_[kind] -= 1;
  kernel_time_.Observe(result.kernel_time);
  if (result.output.ok()) prefetch_[kind]->Observe(result.kernel_time);
  if (!link_open_) return;
  // A chunk of an older link was requeued by the coordinator already; its
  // slot is free all the same.
  if (task.job->link == link_count_) {
    outbox_.results.push_back(std::move(result));
  }
  AskLocked(outbox_);
  FlushLocked(lock);
}

void Engine::OnStarted(const ChunkTask& task) {
  std::unique_lock lock(mu_);
  // A chunk of an older link: that link's coordinator requeued it.
  if (!link_open_ || task.job->link != link_count_) return;
  outbox_.started.push_back(task.ref());
  FlushLocked(lock);
}

void Engine::AskForMore() {
  std::unique_lock lock(mu_);
  AskLocked(outbox_);
  FlushLocked(lock);
}

void Engine::AskLocked(WorkerMessage& message) {
  if (draining_ || !link_open_) return;
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    if (pools_[kind] == nullptr) continue;
    // A chunk waiting in the SDK lends its slot (slot_pool.h): the chunks
    // it waits for need one more.
    const int missing = prefetch_[kind]->Wanted() + pools_[kind]->Blocked() -
                        load_[kind] - asked_[kind];
    if (missing <= 0) continue;
    asked_[kind] += missing;
    message.credits[kind] += missing;
  }
}

void Engine::FlushLocked(std::unique_lock<std::mutex>& lock) {
  if (flushing_) return;
  flushing_ = true;
  while (link_ != nullptr && link_open_ &&
         (!outbox_.empty() || heartbeat_due_)) {
    WorkerMessage message = std::exchange(outbox_, WorkerMessage());
    heartbeat_due_ = false;
    last_send_ = absl::Now();
    // The supervisor keeps the link while flushing_ is set.
    WorkerLink* link = link_.get();
    lock.unlock();
    link->Send(std::move(message));
    lock.lock();
  }
  flushing_ = false;
  // Not a notification per chunk: the supervisor waits on another one.
  if (flush_waiters_ > 0) flushed_.notify_all();
}

void Engine::CallLinkLocked(std::unique_lock<std::mutex>& lock,
                            void (WorkerLink::*call)()) {
  if (link_ == nullptr) return;
  WorkerLink* link = link_.get();
  lock.unlock();
  (link->*call)();
  lock.lock();
}

Hello Engine::MakeHello() const {
  Hello hello;
  hello.name = options_.name;
  hello.version = options_.version;
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    hello.slots[kind] = options_.slots[kind];
  }
  const std::vector<std::string>& in_helper = options_.helper_kernels;
  for (const KernelDef* kernel : kernels_.List()) {
    KernelInfo info{
        kernel->name, kernel->help, kernel->params, {ExecutorKind::kThreads}};
    if (in_helper.empty() || std::find(in_helper.begin(), in_helper.end(),
                                       kernel->name) != in_helper.end()) {
      info.executors.push_back(ExecutorKind::kProcesses);
    }
    hello.kernels.push_back(std::move(info));
  }
  return hello;
}

void Engine::Supervise() {
  Backoff backoff(options_.reconnect_min, options_.reconnect_max);
  bool told_unreachable = false;
  std::unique_lock lock(mu_);
  while (!stopping_ && !draining_) {
    link_count_ += 1;
    link_open_ = true;
    closed_ = false;
    welcomed_ = false;
    asked_.fill(0);
    outbox_ = WorkerMessage();
    WorkerMessage hello;
    hello.hello = MakeHello();
    AskLocked(hello);
    last_send_ = absl::Now();
    lock.unlock();
    // May call OnMessage, and even OnClosed, before it returns.
    std::shared_ptr<WorkerLink> link = options_.opener(std::move(hello), this);
    lock.lock();
    link_ = std::move(link);
    if (link_ == nullptr && !closed_) {
      link_open_ = false;
      closed_ = true;
      close_status_ = absl::UnavailableError("no link to the coordinator");
    }
    // Results of chunks sent while the link was opening.
    FlushLocked(lock);

    // Heartbeats, and what Stop and Drain ask of the link, until it closes.
    bool cancelled = false;
    bool closing = false;
    while (!closed_) {
      if (stopping_ && !cancelled) {
        cancelled = true;
        CallLinkLocked(lock, &WorkerLink::Cancel);
        continue;
      }
      if (close_writes_requested_ && !closing) {
        closing = true;
        CallLinkLocked(lock, &WorkerLink::CloseWrites);
        continue;
      }
      changed_.wait_for(lock, Chrono(heartbeat_interval_ / 2), [&] {
        return closed_ || (stopping_ && !cancelled) ||
               (close_writes_requested_ && !closing);
      });
      if (!closed_ && !closing &&
          absl::Now() - last_send_ >= heartbeat_interval_) {
        heartbeat_due_ = true;
        FlushLocked(lock);
      }
    }

    // The link is dropped here, on the worker's own thread, once nobody
    // sends on it: the last reference to a gRPC stream must never go on one
    // of gRPC's threads.
    ++flush_waiters_;
    flushed_.wait(lock, [this] { return !flushing_; });
    --flush_waiters_;
    std::shared_ptr<WorkerLink> old = std::move(link_);
    jobs_.clear();
    // Whatever was held was requeued by the coordinator.
    for (int kind = 0; kind < kExecutorKinds; ++kind) {
      if (pools_[kind] != nullptr) load_[kind] -= pools_[kind]->CancelAll();
    }
    asked_.fill(0);
    const bool was_welcomed = welcomed_;
    welcomed_ = false;
    const std::string why(close_status_.message());
    // A token, certificate or version it does not accept: retrying helps
    // only once the operator has fixed it.
    const absl::StatusCode code = close_status_.code();
    const bool refused = code == absl::StatusCode::kUnauthenticated ||
                         code == absl::StatusCode::kPermissionDenied ||
                         code == absl::StatusCode::kFailedPrecondition;
    lock.unlock();
    old.reset();
    lock.lock();
    if (stopping_ || draining_) break;
    if (was_welcomed) {
      backoff.Reset();
      told_unreachable = false;
      Log(LogLevel::kWarning,
          absl::StrCat("lost the coordinator (", why, "); redialing"));
    } else if (!told_unreachable) {
      told_unreachable = true;
      Log(LogLevel::kWarning,
          absl::StrCat(refused ? "the coordinator refused this worker ("
                               : "cannot reach the coordinator (",
                       why, "); retrying with backoff up to ",
                       absl::FormatDuration(options_.reconnect_max)));
    }
    changed_.wait_for(lock, Chrono(backoff.Next()),
                      [this] { return stopping_ || draining_; });
  }
}

}  // namespace pfor::worker
