#include "chunk_ledger.h"

#include <algorithm>

namespace pfor::coordinator {

int64_t ChunkLedger::TakeNext(int slots) {
  if (!retry_.empty()) {
    Pending pending = std::move(retry_.front());
    retry_.pop_front();
    in_flight_.emplace(pending.begin, std::move(pending.chunk));
    return pending.begin;
  }
  const int64_t begin = cursor_;
  cursor_ = sizer_.NextEnd(begin, std::max(slots, 1));
  ChunkInFlight& chunk = in_flight_[begin];
  chunk.end = cursor_;
  chunk.index = chunks_cut_++;
  return begin;
}

bool ChunkLedger::BackupFits(int64_t begin, uint64_t worker) const {
  auto it = in_flight_.find(begin);
  return it != in_flight_.end() && it->second.live.size() == 1 &&
         it->second.live[0].overdue && it->second.live[0].worker != worker;
}

std::optional<int64_t> ChunkLedger::PeekBackup(uint64_t worker) const {
  for (int64_t begin : backups_) {
    if (BackupFits(begin, worker)) return begin;
  }
  return std::nullopt;
}

std::optional<int64_t> ChunkLedger::TakeBackup(uint64_t worker) {
  for (auto it = backups_.begin(); it != backups_.end();) {
    auto chunk = in_flight_.find(*it);
    // Done, retried or backed up since it was queued: it needs none.
    if (chunk == in_flight_.end() || chunk->second.live.size() != 1 ||
        !chunk->second.live[0].overdue) {
      it = backups_.erase(it);
      continue;
    }
    if (chunk->second.live[0].worker != worker) {
      const int64_t begin = *it;
      backups_.erase(it);
      return begin;
    }
    ++it;
  }
  return std::nullopt;
}

std::vector<LiveAttempt> ChunkLedger::MarkOverdue(
    absl::Time now, absl::Duration shortest,
    const std::function<absl::Duration(int64_t)>& limit) {
  std::vector<LiveAttempt> overdue;
  for (auto& [begin, chunk] : in_flight_) {
    // Most attempts are young: the limit (a fit of the job's costs) is
    // worked out only for the others.
    std::optional<absl::Duration> allowed;
    for (LiveAttempt& live : chunk.live) {
      if (live.overdue || now - live.started < shortest) continue;
      if (!allowed) allowed = limit(chunk.end - begin);
      if (now - live.started < *allowed) continue;
      live.overdue = true;
      overdue.push_back(live);
      if (chunk.live.size() == 1) backups_.push_back(begin);
    }
  }
  return overdue;
}

const ChunkInFlight& ChunkLedger::StartAttempt(int64_t begin, uint64_t worker,
                                               absl::Time now) {
  ChunkInFlight& chunk = in_flight_.at(begin);
  chunk.attempts_started += 1;
  chunk.live.push_back({worker, chunk.attempts_started, now});
  AddLive(1);
  return chunk;
}

ChunkInFlight* ChunkLedger::Revoke(int64_t begin, int32_t attempt,
                                   uint64_t worker) {
  auto it = in_flight_.find(begin);
  if (it == in_flight_.end()) return nullptr;
  ChunkInFlight& chunk = it->second;
  auto live = std::find_if(chunk.live.begin(), chunk.live.end(),
                           [&](const LiveAttempt& l) {
                             return l.worker == worker && l.attempt == attempt;
                           });
  if (live == chunk.live.end()) return nullptr;
  chunk.revoked_started = live->started;
  chunk.live.erase(live);
  AddLive(-1);
  return &chunk;
}

absl::InlinedVector<LiveAttempt, 2> ChunkLedger::Complete(
    int64_t begin, absl::Duration kernel_time) {
  auto it = in_flight_.find(begin);
  absl::InlinedVector<LiveAttempt, 2> others = std::move(it->second.live);
  const int64_t indices = it->second.end - begin;
  AddLive(-static_cast<int64_t>(others.size()));
  in_flight_.erase(it);
  sizer_.Observe(begin, indices, kernel_time);
  indices_done_ += indices;
  chunks_done_ += 1;
  return others;
}

void ChunkLedger::Requeue(int64_t begin, bool first_in_line) {
  auto it = in_flight_.find(begin);
  Pending pending{begin, std::move(it->second)};
  in_flight_.erase(it);
  if (first_in_line) {
    retry_.push_front(std::move(pending));
  } else {
    retry_.push_back(std::move(pending));
  }
}

void ChunkLedger::Clear() {
  in_flight_.clear();
  retry_.clear();
  backups_.clear();
  AddLive(-live_attempts_);
}

void ChunkLedger::RestoreDone(int64_t begin, int64_t end, int64_t chunks) {
  indices_done_ += end - begin;
  chunks_done_ += chunks;
}

void ChunkLedger::RestoreHole(int64_t begin, int64_t end) {
  Pending& hole = retry_.emplace_back();
  hole.begin = begin;
  hole.chunk.end = end;
}

void ChunkLedger::ResumeAt(int64_t cursor) {
  cursor_ = cursor;
  sizer_.ResumeAt(cursor);
}

}  // namespace pfor::coordinator
