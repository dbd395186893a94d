#include "journal_writer.h"

namespace pfor::coordinator {

JournalWriter::JournalWriter(Journal* journal,
                             std::function<void(const absl::Status&)> on_error)
    : journal_(journal),
      on_error_(std::move(on_error)),
      thread_([this] { Loop(); }) {}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_.notify_one();
  thread_.join();
}

void JournalWriter::Append(std::vector<JournalEntry> entries) {
  if (entries.empty()) return;
  {
    std::lock_guard lock(mu_);
    appended_count_ += entries.size();
    for (JournalEntry& entry : entries) queue_.push_back(std::move(entry));
  }
  queued_.notify_one();
}

absl::Status JournalWriter::Sync() {
  std::unique_lock lock(mu_);
  const uint64_t target = appended_count_;
  written_.wait(lock, [&] { return written_count_ >= target; });
  return error_;
}

void JournalWriter::Loop() {
  while (true) {
    std::vector<JournalEntry> batch;
    {
      std::unique_lock lock(mu_);
      queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      batch.swap(queue_);
    }
    absl::Status status = journal_->Write(batch);
    if (!status.ok() && on_error_) on_error_(status);
    {
      std::lock_guard lock(mu_);
      written_count_ += batch.size();
      if (!status.ok() && error_.ok()) error_ = status;
    }
    written_.notify_all();
  }
}

}  // namespace pfor::coordinator
