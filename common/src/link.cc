#include "pfor/common/link.h"

#include <iterator>

namespace pfor {
namespace {

template <typename T>
void Append(std::vector<T>& to, std::vector<T>&& from) {
  if (to.empty()) {
    to = std::move(from);
    return;
  }
  to.insert(to.end(), std::make_move_iterator(from.begin()),
            std::make_move_iterator(from.end()));
}

}  // namespace

void WorkerMessage::Merge(WorkerMessage&& other) {
  if (other.hello) hello = std::move(other.hello);
  for (int kind = 0; kind < kExecutorKinds; ++kind) {
    credits[kind] += other.credits[kind];
  }
  Append(results, std::move(other.results));
  Append(started, std::move(other.started));
  Append(released, std::move(other.released));
  draining = draining || other.draining;
}

bool WorkerMessage::empty() const {
  return !hello && credits == decltype(credits){} && results.empty() &&
         started.empty() && released.empty() && !draining;
}

void CoordinatorMessage::Merge(CoordinatorMessage&& other) {
  if (other.welcome) welcome = other.welcome;
  Append(jobs, std::move(other.jobs));
  Append(chunks, std::move(other.chunks));
  Append(ended_jobs, std::move(other.ended_jobs));
  Append(cancelled, std::move(other.cancelled));
}

bool CoordinatorMessage::empty() const {
  return !welcome && jobs.empty() && chunks.empty() && ended_jobs.empty() &&
         cancelled.empty();
}

}  // namespace pfor
