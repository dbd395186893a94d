#include "journal_writer.h"

namespace pfor::coordinator {

JournalWriter::JournalWriter(Journal* journal,
                             std::function<void(const absl::Status&)> on_error)
    : journal_(journal),
      on_error_(std::move(on_error)),
      thread_([this] { Loop(); }) {}

JournalWriter::~JournalWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void JournalWriter::Append(std::vector<JournalEntry> entries) {
  if (entries.empty()) return;
  absl::MutexLock lock(&mu_);
  appended_ += entries.size();
  for (JournalEntry& entry : entries) queue_.push_back(std::move(entry));
}

absl::Status JournalWriter::Sync() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = appended_;
  auto written = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return written_ >= target;
  };
  mu_.Await(absl::Condition(&written));
  return error_;
}

void JournalWriter::Loop() {
  while (true) {
    std::vector<JournalEntry> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and everything is written
      batch.swap(queue_);
    }
    absl::Status status = journal_->Write(batch);
    if (!status.ok() && on_error_) on_error_(status);
    absl::MutexLock lock(&mu_);
    written_ += batch.size();
    if (!status.ok() && error_.ok()) error_ = status;
  }
}

}  // namespace pfor::coordinator
