#include "slot_pool.h"

#include <iterator>

#include "pfor/common/spin.h"

namespace pfor::worker {

SlotPool::SlotPool(int slots, std::unique_ptr<ChunkRunner> runner,
                   ResultCallback on_result, Clock& clock)
    : runner_(std::move(runner)),
      on_result_(std::move(on_result)),
      clock_(clock) {
  for (int i = 0; i < slots; ++i) slots_.push_back(std::make_unique<Slot>());
  for (int i = 0; i < slots; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

SlotPool::~SlotPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    has_work_.store(true);
    queue_.clear();
    for (auto& slot : slots_) slot->cancel = true;
  }
  work_.notify_all();
  for (std::thread& thread : threads_) thread.join();
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
  Slot& slot = *slots_[index];
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
      if (queue_.empty() && !stopping_ && !spinner_) {
        spinner_ = true;
        spinning_.store(true);
        lock.unlock();
        SpinUntil([this] { return has_work_.load(); });
        spinning_.store(false);
        lock.lock();
        spinner_ = false;
      }
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      has_work_.store(!queue_.empty());
      slot.task = &task;
      slot.cancel = false;
      running_ += 1;
      unreported_ += 1;
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
}

}  // namespace pfor::worker
