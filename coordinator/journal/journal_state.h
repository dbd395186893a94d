// The journal's picture of its jobs, shared by the journal implementations:
// applies entries, folds each job's contiguous prefix of completed chunks,
// and reports the changes a durable store must make. Pure logic.
#ifndef PFOR_COORDINATOR_JOURNAL_STATE_H_
#define PFOR_COORDINATOR_JOURNAL_STATE_H_

#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "journal.h"
#include "pfor/value.h"

namespace pfor::coordinator {

// What the journal knows of one job; the SQLite journal mirrors it in
// memory so that folding never has to read the database.
struct JobRecord {
  RecoveredJob job;
  Reduction reduction = Reduction::kSum;
  std::map<int64_t, ChunkDone> above;  // chunks beyond the prefix, by begin
};

struct Prefix {
  int64_t end;
  Value value;
  int64_t chunks;
};

// Changes one Write makes, for the SQLite journal to apply in this order.
// The changes of several writes merge into one that the SQLite journal
// applies in the same order: rows are inserted before they are deleted,
// jobs end after their last prefix and are forgotten after they end.
struct Changes {
  std::vector<JobAccepted> new_jobs;
  std::vector<std::pair<JobId, absl::Time>> started;
  std::vector<ChunkDone> inserted;
  std::vector<std::pair<JobId, int64_t>> deleted;  // chunk rows folded away
  std::map<JobId, Prefix> prefixes;  // the newest prefix of each job
  std::vector<std::pair<JobId, std::shared_ptr<const JobStatus>>> ended;
  std::vector<JobId> forgotten;

  // Appends the later changes `next`.
  void Merge(Changes&& next) {
    auto append = [](auto& to, auto& from) {
      to.insert(to.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
    };
    append(new_jobs, next.new_jobs);
    append(started, next.started);
    append(inserted, next.inserted);
    append(deleted, next.deleted);
    for (auto& [job, prefix] : next.prefixes) {
      prefixes.insert_or_assign(job, std::move(prefix));
    }
    append(ended, next.ended);
    append(forgotten, next.forgotten);
  }
  bool empty() const {
    return new_jobs.empty() && started.empty() && inserted.empty() &&
           deleted.empty() && prefixes.empty() && ended.empty() &&
           forgotten.empty();
  }
};

class JournalState {
 public:
  // Without `keep_ended`, an ended job is dropped from memory as soon as its
  // end is reported (the store has it): only its id stays, to forget it in
  // turn. Snapshot then holds the unfinished jobs only.
  explicit JournalState(int keep_jobs, bool keep_ended = true)
      : keep_jobs_(keep_jobs), keep_ended_(keep_ended) {}

  // Takes the entries in; never fails (a chunk that cannot be folded into
  // its job's prefix is kept on its own).
  void Apply(const std::vector<JournalEntry>& entries, Changes& changes) {
    for (const JournalEntry& entry : entries) {
      if (const auto* started = std::get_if<JobStarted>(&entry)) {
        auto it = jobs_.find(started->job);
        if (it == jobs_.end() || it->second.job.final_state != nullptr) {
          continue;
        }
        it->second.job.start_time = started->start_time;
        changes.started.emplace_back(started->job, started->start_time);
      } else if (const auto* accepted = std::get_if<JobAccepted>(&entry)) {
        JobRecord& record = jobs_[accepted->job];
        record.job.job = accepted->job;
        record.job.spec = accepted->spec;
        record.job.submit_time = accepted->submit_time;
        record.job.prefix_end = accepted->spec->begin;
        record.reduction = accepted->spec->reduction;
        changes.new_jobs.push_back(*accepted);
      } else if (const auto* done = std::get_if<ChunkDone>(&entry)) {
        auto it = jobs_.find(done->job);
        if (it == jobs_.end() || it->second.job.final_state != nullptr) {
          continue;
        }
        AddChunk(it->second, *done, changes);
      } else {
        const auto& ended = std::get<JobEnded>(entry);
        auto it = jobs_.find(ended.job);
        if (it == jobs_.end()) continue;
        JobRecord& record = it->second;
        record.job.final_state = ended.final_state;
        if (record.job.final_state == nullptr) {
          // Ended all the same: what is kept says only that.
          auto final_state = std::make_shared<JobStatus>();
          final_state->id = ended.job;
          record.job.final_state = std::move(final_state);
        }
        record.job.prefix_value.reset();
        record.job.chunks.clear();
        record.above.clear();
        changes.ended.emplace_back(ended.job, record.job.final_state);
        if (!keep_ended_) jobs_.erase(it);
        ended_order_.push_back(ended.job);
        while (static_cast<int>(ended_order_.size()) > keep_jobs_) {
          changes.forgotten.push_back(ended_order_.front());
          jobs_.erase(ended_order_.front());
          ended_order_.pop_front();
        }
      }
    }
  }

  // Adds a job as read back from disk.
  void Restore(RecoveredJob job) {
    if (job.final_state && !keep_ended_) {
      ended_order_.push_back(job.job);
      return;
    }
    JobRecord& record = jobs_[job.job];
    record.reduction = job.spec->reduction;
    for (ChunkDone& chunk : job.chunks)
      record.above.emplace(chunk.begin, std::move(chunk));
    job.chunks.clear();
    if (job.final_state) ended_order_.push_back(job.job);
    record.job = std::move(job);
  }

  std::vector<RecoveredJob> Snapshot() const {
    std::vector<RecoveredJob> out;
    for (const auto& [id, record] : jobs_) {
      RecoveredJob job = record.job;
      for (const auto& [begin, chunk] : record.above)
        job.chunks.push_back(chunk);
      out.push_back(std::move(job));
    }
    return out;
  }

 private:
  void AddChunk(JobRecord& record, const ChunkDone& done, Changes& changes) {
    RecoveredJob& job = record.job;
    // collect and batches keep every chunk's value; the others fold the
    // prefix. A chunk that does not fold (its value does not combine) is
    // kept on its own all the same.
    if (record.reduction == Reduction::kCollect ||
        !record.job.spec->tasks.empty() || done.begin != job.prefix_end ||
        !Fold(job, done).ok()) {
      record.above.emplace(done.begin, done);
      changes.inserted.push_back(done);
      return;
    }
    // Chunks that were waiting beyond the prefix may join it now.
    for (auto it = record.above.begin();
         it != record.above.end() && it->first == job.prefix_end &&
         Fold(job, it->second).ok();
         it = record.above.erase(it)) {
      changes.deleted.emplace_back(job.job, it->first);
    }
    changes.prefixes.insert_or_assign(
        job.job, Prefix{job.prefix_end, *job.prefix_value, job.prefix_chunks});
  }

  static absl::Status Fold(RecoveredJob& job, const ChunkDone& chunk) {
    const Value* value =
        chunk.output == nullptr ? nullptr : std::get_if<Value>(&*chunk.output);
    if (value == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("job ", job.job, ": chunk [", chunk.begin, ", ",
                       chunk.end, ") has task results, not a value"));
    }
    if (job.prefix_value) {
      absl::StatusOr<Value> combined =
          Combine(job.spec->reduction, *job.prefix_value, *value);
      if (!combined.ok()) return combined.status();
      job.prefix_value = *std::move(combined);
    } else {
      job.prefix_value = *value;
    }
    job.prefix_end = chunk.end;
    job.prefix_chunks += 1;
    return absl::OkStatus();
  }

  int keep_jobs_;
  bool keep_ended_;
  std::map<JobId, JobRecord> jobs_;
  std::deque<JobId> ended_order_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_JOURNAL_STATE_H_
