#include "journal.h"

#include "absl/strings/str_cat.h"
#include "journal_state.h"

namespace pfor::coordinator {
namespace {

std::string Row(int64_t begin, int64_t end) {
  return absl::StrCat("[", begin, ", ", end, ")");
}

// What an output of chunk [begin, end) must be for `spec`: a value (an
// integer for count), or a batch chunk's task results, one per task.
absl::Status CheckOutput(const JobSpec& spec, int64_t begin, int64_t end,
                         const ChunkOutput& output) {
  if (!spec.tasks.empty()) {
    const auto* results = std::get_if<std::vector<TaskResult>>(&output);
    if (results == nullptr ||
        static_cast<int64_t>(results->size()) != end - begin) {
      return absl::DataLossError(
          absl::StrCat("holds ", results == nullptr ? 0 : results->size(),
                       " task results for tasks ", Row(begin, end)));
    }
    return absl::OkStatus();
  }
  const auto* value = std::get_if<Value>(&output);
  if (value == nullptr) {
    return absl::DataLossError("holds task results, but the job is no batch");
  }
  if (spec.reduction == Reduction::kCount &&
      !std::holds_alternative<int64_t>(*value)) {
    return absl::DataLossError("holds a count that is not an integer");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRecoveredJob(const RecoveredJob& job) {
  auto bad = [&](auto&&... what) {
    return absl::DataLossError(absl::StrCat("job ", job.job, ": ", what...));
  };
  if (job.spec == nullptr) return bad("its spec is missing");
  const JobSpec& spec = *job.spec;
  if (spec.end <= spec.begin) {
    return bad("its range ", Row(spec.begin, spec.end), " is empty");
  }
  if (!spec.tasks.empty() &&
      (spec.begin != 0 ||
       spec.end != static_cast<int64_t>(spec.tasks.size()))) {
    return bad("its range ", Row(spec.begin, spec.end), " is not one of its ",
               spec.tasks.size(), " tasks");
  }
  if (job.final_state != nullptr) {
    if (job.prefix_value.has_value() || !job.chunks.empty()) {
      return bad("it ended but still has completed chunks");
    }
    return absl::OkStatus();
  }
  int64_t cursor = spec.begin;
  if (job.prefix_end != spec.begin || job.prefix_value.has_value()) {
    const std::string row =
        absl::StrCat("the prefix row ", Row(spec.begin, job.prefix_end));
    if (spec.reduction == Reduction::kCollect || !spec.tasks.empty()) {
      return bad(row, " folds chunks of a job that keeps each chunk");
    }
    if (job.prefix_end <= spec.begin || job.prefix_end > spec.end) {
      return bad(row, " lies outside the job's range ",
                 Row(spec.begin, spec.end));
    }
    if (!job.prefix_value.has_value()) return bad(row, " has no value");
    if (job.prefix_chunks < 1 || job.prefix_chunks > job.prefix_end - cursor) {
      return bad(row, " counts ", job.prefix_chunks, " chunks");
    }
    if (absl::Status status =
            CheckOutput(spec, spec.begin, job.prefix_end, *job.prefix_value);
        !status.ok()) {
      return bad(row, " ", status.message());
    }
    cursor = job.prefix_end;
  }
  for (const ChunkDone& chunk : job.chunks) {
    const std::string row =
        absl::StrCat("the chunk row ", Row(chunk.begin, chunk.end));
    if (chunk.end <= chunk.begin || chunk.begin < spec.begin ||
        chunk.end > spec.end) {
      return bad(row, " lies outside the job's range ",
                 Row(spec.begin, spec.end));
    }
    if (chunk.begin < cursor) {
      return bad(row, " overlaps the rows before it, which reach ", cursor);
    }
    if (chunk.output == nullptr) return bad(row, " has no value");
    if (absl::Status status =
            CheckOutput(spec, chunk.begin, chunk.end, *chunk.output);
        !status.ok()) {
      return bad(row, " ", status.message());
    }
    cursor = chunk.end;
  }
  return absl::OkStatus();
}

namespace {

class MemoryJournal final : public Journal {
 public:
  explicit MemoryJournal(int keep_jobs) : state_(keep_jobs) {}
  absl::Status Write(const std::vector<JournalEntry>& entries) override {
    Changes changes;
    state_.Apply(entries, changes);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<RecoveredJob>> Load() override {
    return state_.Snapshot();
  }

 private:
  JournalState state_;
};

}  // namespace

std::unique_ptr<Journal> NewMemoryJournal(int keep_jobs) {
  return std::make_unique<MemoryJournal>(keep_jobs);
}

}  // namespace pfor::coordinator
