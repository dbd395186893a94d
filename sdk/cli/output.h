// What the command line prints: job states as text or JSON, and progress.
#ifndef PFOR_CLI_OUTPUT_H_
#define PFOR_CLI_OUTPUT_H_

#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "pfor/client.h"
#include "pfor/common/json_views.h"

namespace pfor::cli {

// --json prints the views of pfor/common/json_views.h (ToJson), which the
// coordinator's JSON API serves too.
using ::pfor::ToJson;

// The result alone: an integer, a float with every digit that counts, or
// one "BEGIN END VALUE" line per chunk for collect.
std::string FormatResult(const JobStatus& job);
// A few lines for `pfor status`.
std::string FormatStatus(const JobStatus& job);
// For a batch whose status holds a page of its task results: which tasks
// they are, and how to see the others; empty when it holds every one.
std::string FormatTaskPage(const JobStatus& job);
// One line for `pfor jobs`.
std::string FormatJobLine(const JobStatus& job);
std::string FormatWorkerLine(const WorkerStatus& worker);
std::string FormatKernel(const KernelInfo& kernel);

// Shows a job's progress on `out`: a redrawn bar on a terminal, otherwise a
// plain line at most every `plain_every`.
class ProgressView {
 public:
  ProgressView(std::FILE* out, bool terminal,
               absl::Duration plain_every = absl::Seconds(5));
  void Update(const JobStatus& job);
  // Clears the bar (a terminal) before the result is printed.
  void Done();

 private:
  std::string Line(const JobStatus& job) const;

  std::FILE* out_;
  bool terminal_;
  absl::Duration plain_every_;
  absl::Time last_plain_ = absl::Now();
  bool drawn_ = false;
};

}  // namespace pfor::cli

#endif  // PFOR_CLI_OUTPUT_H_
