#include "thread_executor.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace pfor::worker {

ThreadExecutor::ThreadExecutor(int threads,
                               std::function<void(ChunkOutcome)> on_outcome)
    : on_outcome_(std::move(on_outcome)) {
  for (int i = 0; i < threads; ++i) slots_.push_back(std::make_unique<Slot>());
  for (auto& slot : slots_)
    threads_.emplace_back([this, s = slot.get()] { Loop(*s); });
}

ThreadExecutor::~ThreadExecutor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
    for (auto& slot : slots_) slot->cancel = true;
  }
  work_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void ThreadExecutor::Submit(ChunkTask task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  work_.notify_one();
}

int ThreadExecutor::CancelJob(uint64_t job) {
  std::lock_guard lock(mu_);
  const size_t before = queue_.size();
  std::erase_if(queue_,
                [&](const ChunkTask& task) { return task.job->id == job; });
  for (auto& slot : slots_) {
    if (slot->task && slot->task->job->id == job) slot->cancel = true;
  }
  return static_cast<int>(before - queue_.size());
}

int ThreadExecutor::CancelAttempt(uint64_t job, int64_t begin,
                                  int32_t attempt) {
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

void ThreadExecutor::CancelAll() {
  std::lock_guard lock(mu_);
  queue_.clear();
  for (auto& slot : slots_) {
    if (slot->task) slot->cancel = true;
  }
}

std::vector<ChunkTask> ThreadExecutor::TakeQueued() {
  std::lock_guard lock(mu_);
  std::vector<ChunkTask> taken(std::make_move_iterator(queue_.begin()),
                               std::make_move_iterator(queue_.end()));
  queue_.clear();
  return taken;
}

int ThreadExecutor::Load() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size()) + running_;
}

int ThreadExecutor::Running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void ThreadExecutor::Loop(Slot& slot) {
  while (true) {
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      slot.task = std::move(queue_.front());
      queue_.pop_front();
      slot.cancel = false;
      running_ += 1;
    }
    ChunkOutcome outcome = Run(*slot.task, slot.cancel);
    {
      // The slot is free before the outcome is reported, so the report can
      // ask for the next chunk.
      std::lock_guard lock(mu_);
      slot.task.reset();
      running_ -= 1;
    }
    on_outcome_(std::move(outcome));
  }
}

ChunkOutcome ThreadExecutor::Run(const ChunkTask& task,
                                 const std::atomic<bool>& cancel) {
  ChunkOutcome outcome{task.job->id, task.begin, task.attempt,
                       absl::UnknownError(""), absl::ZeroDuration()};
  const JobContext& job = *task.job;
  if (job.kernel == nullptr) {
    outcome.value = absl::FailedPreconditionError(
        absl::StrCat("this worker has no kernel named ", job.kernel_name));
    return outcome;
  }
  ChunkContext context{task.begin,    task.end,    job.begin, job.end,
                       job.reduction, &job.params, &cancel};
  const absl::Time start = absl::Now();
  // User kernels are the one place exceptions may come from.
  try {
    outcome.value = job.kernel->run(context);
  } catch (const std::exception& e) {
    outcome.value = absl::InternalError(
        absl::StrCat("kernel ", job.kernel_name, " threw: ", e.what()));
  } catch (...) {
    outcome.value = absl::InternalError(
        absl::StrCat("kernel ", job.kernel_name,
                     " threw an exception that is not a std::exception"));
  }
  outcome.kernel_time = absl::Now() - start;
  return outcome;
}

}  // namespace pfor::worker
