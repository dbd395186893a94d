#include "pfor/common/metrics_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace pfor {
namespace {

// Backslash and newline in help texts; double quotes too in label values.
std::string Escape(absl::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counts as integers; other values in the shortest text that reads back
  // as the same double (0.0001, not 1e-04).
  if (std::trunc(value) == value && std::abs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer),
                                          value, std::chars_format::general);
  return std::string(buffer, end);
}

}  // namespace

void MetricsText::Header(absl::string_view name, absl::string_view type,
                         absl::string_view help) {
  absl::StrAppend(&text_, "# HELP ", name, " ", Escape(help, false), "\n",
                  "# TYPE ", name, " ", type, "\n");
}

void MetricsText::Line(absl::string_view name, const Labels& labels,
                       double value) {
  absl::StrAppend(&text_, name);
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      absl::StrAppend(&text_, i == 0 ? "" : ",", labels[i].first, "=\"",
                      Escape(labels[i].second, true), "\"");
    }
    text_ += '}';
  }
  absl::StrAppend(&text_, " ", Number(value), "\n");
}

void MetricsText::Counter(absl::string_view name, absl::string_view help,
                          double value) {
  Header(name, "counter", help);
  Line(name, {}, value);
}

void MetricsText::Gauge(absl::string_view name, absl::string_view help,
                        double value) {
  Header(name, "gauge", help);
  Line(name, {}, value);
}

void MetricsText::Gauges(absl::string_view name, absl::string_view help,
                         const std::vector<Sample>& samples) {
  if (samples.empty()) return;
  Header(name, "gauge", help);
  for (const Sample& sample : samples) Line(name, sample.labels, sample.value);
}

void MetricsText::Histogram(absl::string_view name, absl::string_view help,
                            const DurationHistogram& histogram) {
  Header(name, "histogram", help);
  const std::string bucket = absl::StrCat(name, "_bucket");
  for (size_t i = 0; i < DurationHistogram::kBounds.size(); ++i) {
    Line(bucket, {{"le", Number(DurationHistogram::kBounds[i])}},
         static_cast<double>(histogram.CumulativeCount(i)));
  }
  Line(bucket, {{"le", "+Inf"}}, static_cast<double>(histogram.count()));
  Line(absl::StrCat(name, "_sum"), {}, histogram.sum_seconds());
  Line(absl::StrCat(name, "_count"), {},
       static_cast<double>(histogram.count()));
}

std::string MetricsText::Take() { return std::exchange(text_, {}); }

}  // namespace pfor
