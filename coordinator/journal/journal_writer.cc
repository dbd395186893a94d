#include "journal_writer.h"

#include <utility>

namespace pfor::coordinator {

JournalWriter::JournalWriter(Journal* journal, absl::Duration retry_interval)
    : journal_(journal),
      retry_interval_(retry_interval),
      thread_([this] { Loop(); }) {}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_.notify_one();
  thread_.join();
}

uint64_t JournalWriter::Append(std::vector<JournalEntry> entries) {
  uint64_t count;
  {
    std::lock_guard lock(mu_);
    appended_count_ += entries.size();
    count = appended_count_;
    if (entries.empty()) return count;
    for (JournalEntry& entry : entries) queue_.push_back(std::move(entry));
  }
  queued_.notify_one();
  return count;
}

absl::Status JournalWriter::Sync() {
  std::unique_lock lock(mu_);
  const uint64_t target = appended_count_;
  written_.wait(lock, [&] { return written_count_ >= target; });
  return status_;
}

absl::Status JournalWriter::status() {
  std::lock_guard lock(mu_);
  return status_;
}

void JournalWriter::WhenWritten(uint64_t count, Written done) {
  {
    std::lock_guard lock(mu_);
    waiting_.emplace(count, std::move(done));
  }
  // Already written, it runs on the next turn of the writer's loop.
  queued_.notify_one();
}

void JournalWriter::Loop() {
  while (true) {
    std::vector<JournalEntry> batch;
    bool stop = false;
    bool retry = false;
    {
      std::unique_lock lock(mu_);
      auto ready = [&] {
        return stopping_ || !queue_.empty() ||
               (!waiting_.empty() && waiting_.begin()->first <= written_count_);
      };
      if (status_.ok()) {
        queued_.wait(lock, ready);
      } else {
        queued_.wait_for(lock, absl::ToChronoNanoseconds(retry_interval_),
                         ready);
      }
      batch.swap(queue_);
      // Stopping, and everything is written.
      stop = stopping_ && batch.empty();
      // The journal still holds entries of a failed write.
      retry = !status_.ok();
    }
    if (!batch.empty() || retry) {
      absl::Status status = journal_->Write(batch);
      std::lock_guard lock(mu_);
      written_count_ += batch.size();
      status_ = std::move(status);
    }
    written_.notify_all();
    // The callbacks whose entries are written, outside the lock.
    std::vector<Written> ready;
    absl::Status status;
    {
      std::lock_guard lock(mu_);
      auto end = waiting_.upper_bound(written_count_);
      for (auto it = waiting_.begin(); it != end; ++it) {
        ready.push_back(std::move(it->second));
      }
      waiting_.erase(waiting_.begin(), end);
      status = status_;
    }
    for (Written& done : ready) done(status);
    if (stop) break;
  }
  // Waiting for entries never appended: they will not be written now.
  std::multimap<uint64_t, Written> left;
  {
    std::lock_guard lock(mu_);
    left.swap(waiting_);
  }
  for (auto& [count, done] : left) {
    done(absl::CancelledError("the journal writer stopped"));
  }
}

}  // namespace pfor::coordinator
