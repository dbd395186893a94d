#include "pfor/job.h"

namespace pfor {

const char* ExecutorName(ExecutorKind executor) {
  switch (executor) {
    case ExecutorKind::kThreads:
      return "threads";
    case ExecutorKind::kProcesses:
      return "processes";
    case ExecutorKind::kCommand:
      return "command";
  }
  return "unknown";
}

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace pfor
