#include "output.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace pfor::cli {
namespace {

// `text` with control characters written as \xNN: names and errors come
// from other clients and workers, and must not drive the terminal.
std::string Printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The job's spec; an empty one when the coordinator left it out.
const JobSpec& Spec(const JobStatus& job) {
  static const JobSpec* const kNone = new JobSpec();
  return job.spec != nullptr ? *job.spec : *kNone;
}

// 12345678 -> "12.3M": compact counts for the progress line.
std::string Compact(double value) {
  const char* units[] = {"", "k", "M", "G", "T", "P", "E"};
  int unit = 0;
  while (std::abs(value) >= 1000 && unit < 6) {
    value /= 1000;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%.0f", value)
                   : absl::StrFormat("%.3g%s", value, units[unit]);
}

std::string Seconds(absl::Duration duration) {
  const double s = absl::ToDoubleSeconds(duration);
  if (s < 60) return absl::StrFormat("%.1fs", s);
  if (s < 3600)
    return absl::StrFormat("%dm%02ds", static_cast<int>(s) / 60,
                           static_cast<int>(s) % 60);
  return absl::StrFormat("%dh%02dm", static_cast<int>(s) / 3600,
                         static_cast<int>(s) % 3600 / 60);
}

// Chunks the job will have in all, when the policy says; 0 for auto.
int64_t PlannedChunks(const JobStatus& job) {
  const ChunkPolicy& policy = Spec(job).chunks;
  if (policy.kind == ChunkPolicy::Kind::kCount) return policy.value;
  if (policy.kind == ChunkPolicy::Kind::kFixed && policy.value > 0) {
    return job.progress.indices_total / policy.value +
           (job.progress.indices_total % policy.value != 0);
  }
  return 0;
}

std::string ElapsedText(const JobStatus& job) {
  if (job.start_time == absl::InfinitePast()) return "";
  const absl::Time end =
      job.end_time == absl::InfinitePast() ? absl::Now() : job.end_time;
  return Seconds(end - job.start_time);
}

}  // namespace

// How many of a batch's tasks failed.
size_t FailedTasks(const JobStatus& job) {
  return std::count_if(job.task_results.begin(), job.task_results.end(),
                       [](const auto& result) { return !result.ok(); });
}

std::string FormatResult(const JobStatus& job) {
  if (job.value) return FormatValue(*job.value);
  std::vector<std::string> lines;
  // A batch: the first tasks, then a count (--json has them all).
  constexpr size_t kShownTasks = 20;
  for (size_t i = 0; i < job.task_results.size() && i < kShownTasks; ++i) {
    const absl::StatusOr<Value>& result = job.task_results[i];
    lines.push_back(absl::StrCat(
        "task ", job.first_task + static_cast<int64_t>(i), ": ",
        result.ok() ? FormatValue(*result)
                    : absl::StrCat("error: ", result.status().message())));
  }
  if (job.task_results.size() > kShownTasks) {
    lines.push_back(absl::StrCat("... ", job.task_results.size() - kShownTasks,
                                 " more tasks (--json shows every one)"));
  }
  for (const ChunkValue& chunk : job.chunk_values) {
    lines.push_back(absl::StrCat(chunk.begin, " ", chunk.end, " ",
                                 FormatValue(chunk.value)));
  }
  return absl::StrJoin(lines, "\n");
}

std::string FormatStatus(const JobStatus& job) {
  std::string text =
      absl::StrCat("job ", job.id, ": ", JobStateName(job.state), "\n");
  if (Spec(job).executor == ExecutorKind::kCommand) {
    absl::StrAppend(&text, "  command  ",
                    absl::StrJoin(Spec(job).command.argv, " "), " over [",
                    Spec(job).begin, ", ", Spec(job).end, ")");
  } else if (job.task_count > 0) {
    absl::StrAppend(&text, "  kernel   ", Spec(job).kernel, ", a batch of ",
                    job.task_count, " tasks");
  } else {
    absl::StrAppend(&text, "  kernel   ", Spec(job).kernel, " over [",
                    Spec(job).begin, ", ", Spec(job).end, ")");
  }
  for (const auto& [name, value] : Spec(job).params) {
    absl::StrAppend(&text, " ", name, "=", FormatParamValue(value));
  }
  absl::StrAppend(&text, "\n  chunks   ", ChunkPolicyText(Spec(job).chunks),
                  ", reduce ", ReductionName(Spec(job).reduction),
                  ", executor ", ExecutorName(Spec(job).executor), "\n");
  if (!Spec(job).submitted_by.empty()) {
    absl::StrAppend(&text, "  token    ", Spec(job).submitted_by, "\n");
  }
  absl::StrAppend(&text, "  progress ", job.progress.indices_done, "/",
                  job.progress.indices_total, " indices, ",
                  job.progress.chunks_done, " chunks done, ",
                  job.progress.chunks_in_flight, " in flight, ",
                  job.progress.attempts_failed, " failed attempts, ",
                  job.progress.chunks_requeued, " requeued\n");
  if (const std::string elapsed = ElapsedText(job); !elapsed.empty()) {
    absl::StrAppend(&text, "  elapsed  ", elapsed, "\n");
  }
  if (!job.waiting_reason.empty())
    absl::StrAppend(&text, "  waiting  ", Printable(job.waiting_reason), "\n");
  if (!job.error.empty())
    absl::StrAppend(&text, "  error    ", Printable(job.error), "\n");
  if (!job.recent_chunks.empty()) {
    absl::StrAppend(&text, "  recent chunks (newest last):\n");
    constexpr size_t kShown = 8;
    const size_t first = job.recent_chunks.size() > kShown
                             ? job.recent_chunks.size() - kShown
                             : 0;
    for (size_t i = first; i < job.recent_chunks.size(); ++i) {
      const ChunkAttempt& chunk = job.recent_chunks[i];
      absl::StrAppend(&text, "    [", chunk.begin, ", ", chunk.end,
                      ") attempt ", chunk.attempt, " on ", chunk.worker, ", ",
                      absl::FormatDuration(chunk.kernel_time),
                      chunk.error.empty() ? "" : ": " + Printable(chunk.error),
                      "\n");
    }
  }
  if (job.state == JobState::kSucceeded) {
    const std::string result = FormatResult(job);
    absl::StrAppend(&text, "  result   ", job.value ? result : "\n" + result,
                    "\n");
  }
  return text;
}

std::string FormatTaskPage(const JobStatus& job) {
  const int64_t total = job.task_count;
  const auto shown = static_cast<int64_t>(job.task_results.size());
  if (job.state != JobState::kSucceeded || total == 0 ||
      (job.first_task == 0 && shown == total)) {
    return "";
  }
  if (shown == 0) {
    return absl::StrCat("  tasks    none of ", total,
                        " fetched; --from K --tasks N fetches some\n");
  }
  return absl::StrCat("  tasks    ", job.first_task, " to ",
                      job.first_task + shown - 1, " of ", total,
                      "; --from K --tasks N fetches others\n");
}

std::string FormatJobLine(const JobStatus& job) {
  std::string result;
  if (job.state == JobState::kSucceeded && job.value)
    result = FormatValue(*job.value);
  if (job.state == JobState::kSucceeded && job.task_count > 0) {
    result = absl::StrCat(job.task_count, " task results");
    if (!job.task_results.empty()) {
      absl::StrAppend(&result, ", ", FailedTasks(job), " failed");
    }
  } else if (job.state == JobState::kSucceeded && !job.value) {
    result = absl::StrCat(job.chunk_values.size(), " chunk values");
  }
  if (job.state == JobState::kRunning && job.progress.indices_total > 0) {
    result = absl::StrFormat("%.0f%%", 100.0 * job.progress.indices_done /
                                           job.progress.indices_total);
  }
  if (job.state == JobState::kFailed || job.state == JobState::kCancelled)
    result = job.error;
  if (job.state == JobState::kQueued) result = job.waiting_reason;
  return absl::StrFormat(
      "%-6d %-10s %-20s [%d, %d)  %s", job.id, JobStateName(job.state),
      Printable(!Spec(job).name.empty() ? Spec(job).name
                : Spec(job).executor == ExecutorKind::kCommand
                    ? std::string("command")
                    : Spec(job).kernel),
      Spec(job).begin, Spec(job).end, Printable(result));
}

std::string FormatWorkerLine(const WorkerStatus& worker) {
  return absl::StrFormat(
      "%-6d %-24s %-22s threads %-3d processes %-3d commands %-3d in flight "
      "%-4d done %-8d %s",
      worker.id, Printable(worker.name), Printable(worker.peer),
      worker.slots[0], worker.slots[1], worker.slots[2],
      worker.chunks_in_flight, worker.chunks_done,
      worker.draining      ? "draining"
      : worker.quarantined ? "quarantined"
                           : "");
}

std::string FormatKernel(const KernelInfo& kernel) {
  std::string text = absl::StrCat(kernel.name, "\n    ", kernel.help, "\n");
  for (const ParamSpec& spec : kernel.params) {
    absl::StrAppend(&text, "    --param ", spec.name, "=");
    absl::StrAppend(&text, spec.type == ParamType::kInt     ? "INT"
                           : spec.type == ParamType::kFloat ? "NUMBER"
                                                            : "TEXT");
    if (spec.default_value) {
      absl::StrAppend(&text, " (default ",
                      FormatParamValue(*spec.default_value), ")");
    }
    absl::StrAppend(&text, "  ", spec.help, "\n");
  }
  return text;
}

ProgressView::ProgressView(std::FILE* out, bool terminal,
                           absl::Duration plain_every)
    : out_(out), terminal_(terminal), plain_every_(plain_every) {}

std::string ProgressView::Line(const JobStatus& job) const {
  if (job.state == JobState::kQueued) {
    return absl::StrCat("job ", job.id, " queued: ", job.waiting_reason);
  }
  const double fraction = job.progress.indices_total > 0
                              ? static_cast<double>(job.progress.indices_done) /
                                    job.progress.indices_total
                              : 0;
  const int64_t planned = PlannedChunks(job);
  std::string chunks =
      absl::StrCat(job.progress.chunks_done,
                   planned > 0 ? absl::StrCat("/", planned) : "", " chunks");
  std::string eta = "ETA --";
  if (job.progress.rate > 0 &&
      job.progress.indices_done < job.progress.indices_total) {
    eta = "ETA " + Seconds(absl::Seconds((job.progress.indices_total -
                                          job.progress.indices_done) /
                                         job.progress.rate));
  }
  std::string line = absl::StrFormat("%5.1f%%", 100 * fraction);
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    line += " [" + std::string(filled, '#') +
            std::string(kWidth - filled, '.') + "]";
  }
  absl::StrAppend(&line, " ", chunks, "  ", Compact(job.progress.rate),
                  " idx/s  ", eta, "  ", ElapsedText(job));
  if (job.progress.attempts_failed > 0)
    absl::StrAppend(&line, "  ", job.progress.attempts_failed,
                    " failed attempts");
  return line;
}

void ProgressView::Update(const JobStatus& job) {
  if (job.finished()) return;
  if (terminal_) {
    std::fprintf(out_, "\r\033[K%s", Line(job).c_str());
    std::fflush(out_);
    drawn_ = true;
    return;
  }
  const absl::Time now = absl::Now();
  if (now - last_plain_ < plain_every_) return;
  last_plain_ = now;
  std::fprintf(out_, "%s\n", Line(job).c_str());
  std::fflush(out_);
}

void ProgressView::Done() {
  if (terminal_ && drawn_) {
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
  }
}

}  // namespace pfor::cli
