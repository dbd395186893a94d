#include "slot_pool.h"

#include <iterator>

#include "pfor/common/spin.h"

namespace pfor::worker {

SlotPool::SlotPool(int slots, std::unique_ptr<ChunkRunner> runner,
                   ResultCallback on_result, Clock& clock, SlotPoolHooks hooks)
    : slots_count_(slots),
      runner_(std::move(runner)),
      on_result_(std::move(on_result)),
      clock_(clock),
      hooks_(std::move(hooks)) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < slots; ++i) StartThreadLocked();
}

SlotPool::~SlotPool() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    has_work_.store(true);
    queue_.clear();
    for (auto& slot : slots_) slot->cancel = true;
    // No thread starts once stopping_ is set.
    threads.swap(threads_);
  }
  work_.notify_all();
  for (std::thread& thread : threads) thread.join();
}

void SlotPool::StartThreadLocked() {
  const int index = static_cast<int>(slots_.size());
  slots_.push_back(std::make_unique<Slot>(this));
  threads_.emplace_back([this, index] { Loop(index); });
}

void SlotPool::Lend(Slot& slot) {
  {
    std::lock_guard lock(mu_);
    // Only a running chunk lends its slot (a thread waiting for work does
    // not wait in the SDK).
    if (slot.task == nullptr || slot.blocked || stopping_) return;
    slot.blocked = true;
    blocked_ += 1;
    // Someone must take the chunks that come for the lent slot: a thread
    // already waiting for work, or a new stand-in.
    if (idle_ == 0) StartThreadLocked();
    has_work_.store(true);
  }
  work_.notify_all();
  if (hooks_.on_lent) hooks_.on_lent();
}

void SlotPool::Reclaim(Slot& slot) {
  std::lock_guard lock(mu_);
  if (!slot.blocked) return;
  slot.blocked = false;
  blocked_ -= 1;
  has_work_.store(!queue_.empty());
}

void SlotPool::Submit(ChunkTask task) {
  size_t queued;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
    queued = queue_.size();
    has_work_.store(true);
  }
  // A spinning slot takes a lone chunk (it stops spinning before it takes
  // one, so while it spins the chunk is still there for it).
  if (queued == 1 && spinning_.load()) return;
  work_.notify_one();
}

void SlotPool::Submit(std::vector<ChunkTask>& tasks) {
  if (tasks.empty()) return;
  const size_t count = tasks.size();
  {
    std::lock_guard lock(mu_);
    queue_.insert(queue_.end(), std::make_move_iterator(tasks.begin()),
                  std::make_move_iterator(tasks.end()));
    has_work_.store(true);
  }
  tasks.clear();
  if (count == 1) {
    work_.notify_one();
  } else {
    work_.notify_all();
  }
}

int SlotPool::CancelJob(uint64_t job) {
  std::lock_guard lock(mu_);
  const size_t before = queue_.size();
  std::erase_if(queue_,
                [&](const ChunkTask& task) { return task.job->id() == job; });
  for (auto& slot : slots_) {
    if (slot->task != nullptr && slot->task->job->id() == job) {
      slot->cancel = true;
    }
  }
  return static_cast<int>(before - queue_.size());
}

int SlotPool::CancelAttempt(const AttemptRef& attempt) {
  auto matches = [&](const ChunkTask& task) {
    return task.job->id() == attempt.job && task.begin == attempt.begin &&
           task.attempt == attempt.attempt;
  };
  std::lock_guard lock(mu_);
  const size_t before = queue_.size();
  std::erase_if(queue_, matches);
  for (auto& slot : slots_) {
    if (slot->task != nullptr && matches(*slot->task)) slot->cancel = true;
  }
  return static_cast<int>(before - queue_.size());
}

int SlotPool::CancelAll() {
  std::lock_guard lock(mu_);
  const int dropped = static_cast<int>(queue_.size());
  queue_.clear();
  for (auto& slot : slots_) {
    if (slot->task != nullptr) slot->cancel = true;
  }
  return dropped;
}

std::vector<ChunkTask> SlotPool::TakeQueued() {
  std::lock_guard lock(mu_);
  std::vector<ChunkTask> taken(std::make_move_iterator(queue_.begin()),
                               std::make_move_iterator(queue_.end()));
  queue_.clear();
  return taken;
}

int SlotPool::Load() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size()) + running_;
}

int SlotPool::Unreported() const {
  std::lock_guard lock(mu_);
  return unreported_;
}

int SlotPool::Running() const {
  std::lock_guard lock(mu_);
  return running_;
}

int SlotPool::Blocked() const {
  std::lock_guard lock(mu_);
  return blocked_;
}

bool SlotPool::AwaitReported(absl::Time deadline) {
  std::unique_lock lock(mu_);
  auto done = [&] { return unreported_ == 0; };
  if (deadline == absl::InfiniteFuture()) {
    reported_.wait(lock, done);
    return true;
  }
  return reported_.wait_until(lock, absl::ToChronoTime(deadline), done);
}

void SlotPool::Loop(int index) {
  Slot* slot_pointer;
  {
    std::lock_guard lock(mu_);
    slot_pointer = slots_[index].get();
  }
  Slot& slot = *slot_pointer;
  // The SDK's waits on this thread lend its slot.
  SetBlockingObserver(&slot);
  bool reported = false;
  while (true) {
    // Declared here so that the finished chunk (the last holder of a job's
    // context or a batch's tasks, maybe) goes outside the lock.
    ChunkTask task;
    {
      std::unique_lock lock(mu_);
      if (reported && --unreported_ == 0) reported_.notify_all();
      // A busy slot finds its next chunk queued and never waits here; an
      // idle one spins a little first, as the next chunk often follows at
      // once (a caller waiting on one job's result submits the next).
      auto can_start = [&] {
        return stopping_ || (!queue_.empty() && HasCapacityLocked());
      };
      idle_ += 1;
      if (!can_start() && !spinner_) {
        spinner_ = true;
        spinning_.store(true);
        lock.unlock();
        SpinUntil([this] { return has_work_.load(); });
        spinning_.store(false);
        lock.lock();
        spinner_ = false;
      }
      work_.wait(lock, can_start);
      idle_ -= 1;
      if (stopping_) break;
      task = std::move(queue_.front());
      queue_.pop_front();
      has_work_.store(!queue_.empty());
      slot.task = &task;
      slot.cancel = false;
      running_ += 1;
      unreported_ += 1;
    }
    if (hooks_.on_start &&
        !task.job->start_reported.load(std::memory_order_relaxed) &&
        !task.job->start_reported.exchange(true)) {
      hooks_.on_start(task);
    }
    const absl::Time start = clock_.Now();
    absl::StatusOr<ChunkOutput> output = runner_->Run(index, task, slot.cancel);
    ChunkResult result{task.ref(), std::move(output), clock_.Now() - start};
    {
      // The slot is free before the result is reported, so the report can
      // ask for the next chunk.
      std::lock_guard lock(mu_);
      slot.task = nullptr;
      running_ -= 1;
    }
    on_result_(task, std::move(result));
    reported = true;
  }
  SetBlockingObserver(nullptr);
}

}  // namespace pfor::worker
