#include "scheduled_job.h"

#include <utility>

namespace pfor::coordinator {

std::shared_ptr<const JobDefinition> ScheduledJob::MakeDefinition(
    Params params) const {
  auto made = std::make_shared<JobDefinition>();
  made->job = id;
  made->kernel = spec->kernel;
  made->params = std::move(params);
  made->reduction = spec->reduction;
  made->executor = spec->executor;
  made->range = {spec->begin, spec->end};
  made->command = spec->command;
  made->chunk_timeout = spec->chunk_timeout;
  made->batch = !spec->tasks.empty();
  return made;
}

void ScheduledJob::RestoreEnded(std::shared_ptr<const JobStatus> final_state) {
  if (final_state->spec == nullptr) {
    auto with_spec = std::make_shared<JobStatus>(*final_state);
    with_spec->spec = spec;
    final_state = std::move(with_spec);
  }
  state = final_state->state;
  error = final_state->error;
  end_time = final_state->end_time;
  final_status = final_state;
  final_view = WithoutTaskResults(std::move(final_state));
}

void ScheduledJob::RestoreProgress(const RecoveredJob& recovered) {
  start_time = recovered.start_time;
  int64_t cursor = spec->begin;
  if (recovered.prefix_value) {
    result.Add(spec->begin, recovered.prefix_end, *recovered.prefix_value)
        .IgnoreError();
    ledger.RestoreDone(spec->begin, recovered.prefix_end,
                       recovered.prefix_chunks);
    cursor = recovered.prefix_end;
  }
  for (const ChunkDone& chunk : recovered.chunks) {
    // In flight when the coordinator stopped: to run again.
    if (chunk.begin > cursor) ledger.RestoreHole(cursor, chunk.begin);
    if (chunk.output != nullptr) {
      result.AddShared(chunk.begin, chunk.end, chunk.output)
          .status()
          .IgnoreError();
    }
    ledger.RestoreDone(chunk.begin, chunk.end, 1);
    cursor = chunk.end;
  }
  ledger.ResumeAt(cursor);
}

}  // namespace pfor::coordinator
