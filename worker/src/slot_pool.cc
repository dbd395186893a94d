#include "slot_pool.h"

#include <exception>

namespace pfor::worker {

SlotPool::SlotPool(int slots, std::unique_ptr<ChunkRunner> runner,
                   std::function<void(ChunkOutcome)> on_outcome)
    : runner_(std::move(runner)), on_outcome_(std::move(on_outcome)) {
  for (int i = 0; i < slots; ++i) slots_.push_back(std::make_unique<Slot>());
  for (int i = 0; i < slots; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

SlotPool::~SlotPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
    for (auto& slot : slots_) slot->cancel = true;
  }
  work_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void SlotPool::Submit(ChunkTask task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  work_.notify_one();
}

int SlotPool::CancelJob(uint64_t job) {
  std::lock_guard lock(mu_);
  const size_t before = queue_.size();
  std::erase_if(queue_,
                [&](const ChunkTask& task) { return task.job->id == job; });
  for (auto& slot : slots_) {
    if (slot->task && slot->task->job->id == job) slot->cancel = true;
  }
  return static_cast<int>(before - queue_.size());
}

int SlotPool::CancelAttempt(uint64_t job, int64_t begin, int32_t attempt) {
  auto matches = [&](const ChunkTask& task) {
    return task.job->id == job && task.begin == begin &&
           task.attempt == attempt;
  };
  std::lock_guard lock(mu_);
  const size_t before = queue_.size();
  std::erase_if(queue_, matches);
  for (auto& slot : slots_) {
    if (slot->task && matches(*slot->task)) slot->cancel = true;
  }
  return static_cast<int>(before - queue_.size());
}

void SlotPool::CancelAll() {
  std::lock_guard lock(mu_);
  queue_.clear();
  for (auto& slot : slots_) {
    if (slot->task) slot->cancel = true;
  }
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

void SlotPool::Loop(int index) {
  Slot& slot = *slots_[index];
  while (true) {
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      slot.task = std::move(queue_.front());
      queue_.pop_front();
      slot.cancel = false;
      running_ += 1;
      unreported_ += 1;
    }
    ChunkOutcome outcome = Run(index);
    {
      // The slot is free before the outcome is reported, so the report can
      // ask for the next chunk.
      std::lock_guard lock(mu_);
      slot.task.reset();
      running_ -= 1;
    }
    on_outcome_(std::move(outcome));
    std::lock_guard lock(mu_);
    unreported_ -= 1;
  }
}

ChunkOutcome SlotPool::Run(int index) {
  Slot& slot = *slots_[index];
  const ChunkTask& task = *slot.task;
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::Value> value = runner_->Run(index, task, slot.cancel);
  return {task.job->id, task.begin, task.attempt, std::move(value),
          absl::Now() - start};
}

}  // namespace pfor::worker
