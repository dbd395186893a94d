// Builds a page of metrics in the Prometheus text exposition format
// (version 0.0.4): per family a HELP and a TYPE line, then its samples.
// Names are the caller's to choose by the conventions (pfor_ prefix, base
// units, counters ending in _total); label values and help texts are
// escaped here. Not thread-safe.
#ifndef PFOR_COMMON_METRICS_TEXT_H_
#define PFOR_COMMON_METRICS_TEXT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "pfor/common/histogram.h"

namespace pfor {

class MetricsText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  struct Sample {
    Labels labels;
    double value = 0;
  };

  // The content type a page is served with.
  static constexpr char kContentType[] = "text/plain; version=0.0.4";

  void Counter(absl::string_view name, absl::string_view help, double value);
  void Gauge(absl::string_view name, absl::string_view help, double value);
  // A gauge family with one sample per label set; nothing when `samples`
  // is empty.
  void Gauges(absl::string_view name, absl::string_view help,
              const std::vector<Sample>& samples);
  void Histogram(absl::string_view name, absl::string_view help,
                 const DurationHistogram& histogram);

  // The page so far; starts a new one.
  std::string Take();

 private:
  void Header(absl::string_view name, absl::string_view type,
              absl::string_view help);
  void Line(absl::string_view name, const Labels& labels, double value);

  std::string text_;
};

}  // namespace pfor

#endif  // PFOR_COMMON_METRICS_TEXT_H_
