#include "integrate.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "integrate_named.h"
#include "kernel_util.h"
#include "pfor/common/expression.h"

namespace pfor {
namespace {

constexpr char kIntegrate[] = "integrate";
// A few milliseconds of parser evaluations.
constexpr int64_t kPollEvery = int64_t{1} << 14;

// The point at `offset` of the job: where the integrand stopped being
// finite, for the error that says so.
absl::Status NotFiniteAt(const ChunkContext& chunk, uint64_t offset, double x,
                         double value) {
  return absl::OutOfRangeError(absl::StrCat(
      "kernel integrate: the integrand is not finite at x = ", FormatValue(x),
      " (index ",
      static_cast<int64_t>(static_cast<uint64_t>(chunk.job_begin) + offset),
      "): f(x) * h = ", FormatValue(value),
      "; integrate over an interval where it is finite"));
}

// Folds f(x_i) * h over the chunk, one point at a time, for expressions.
absl::StatusOr<Value> IntegrateExpression(const ChunkContext& chunk, double a,
                                          double h, Expression& f) {
  IndexFold fold(chunk.reduction);
  CancelPoller poller(chunk, kPollEvery);
  // The offset within the job, not the index, fixes x_i, so every chunking
  // computes the same terms; unsigned because a job may span 2^64 - 1 indices.
  const uint64_t first = static_cast<uint64_t>(chunk.begin) -
                         static_cast<uint64_t>(chunk.job_begin);
  const uint64_t size = ChunkSize(chunk);
  for (uint64_t k = 0; k < size; ++k) {
    if (poller.Tick()) return ChunkCancelled(chunk, kIntegrate);
    const double x = a + (static_cast<double>(first + k) + 0.5) * h;
    const double value = f.Evaluate(x) * h;
    if (!std::isfinite(value)) return NotFiniteAt(chunk, first + k, x, value);
    fold.Add(value);
  }
  return fold.Finish();
}

// The first point of the chunk whose value is not finite, found one point
// at a time (only when the vectorised pass may have met one); OK when
// there is none.
absl::Status FindNotFinite(const ChunkContext& chunk,
                           integrate_simd::Integrand integrand, double a,
                           double h) {
  const integrate_simd::Kernels& kernels =
      integrate_simd::KernelsFor(integrate_simd::BestTarget());
  const uint64_t first = static_cast<uint64_t>(chunk.begin) -
                         static_cast<uint64_t>(chunk.job_begin);
  const uint64_t size = ChunkSize(chunk);
  for (uint64_t k = 0; k < size; ++k) {
    const double x = integrate_internal::PointX(a, h, first + k);
    double f = x;
    kernels.evaluate(integrand, &f, 1);
    if (!std::isfinite(f * h)) return NotFiniteAt(chunk, first + k, x, f * h);
  }
  return absl::OkStatus();
}

// Whether some point of the chunk may be infinite: |f| is bounded by 1 (cos,
// sin) or 4 (4/(1+x^2)), and exp and x^2 are largest at an end of the
// chunk, so fl(f * h) overflows nowhere when the bound times |h| does not.
// Sums need no such test: their exact sums count infinite terms.
bool MayOverflow(const ChunkContext& chunk, integrate_simd::Integrand integrand,
                 double a, double h) {
  double bound = 4;
  if (integrand == integrate_simd::Integrand::kExp ||
      integrand == integrate_simd::Integrand::kSquare) {
    const uint64_t first = static_cast<uint64_t>(chunk.begin) -
                           static_cast<uint64_t>(chunk.job_begin);
    double ends[2] = {
        integrate_internal::PointX(a, h, first),
        integrate_internal::PointX(a, h, first + ChunkSize(chunk) - 1)};
    integrate_simd::KernelsFor(integrate_simd::BestTarget())
        .evaluate(integrand, ends, 2);
    bound = std::max(std::abs(ends[0]), std::abs(ends[1]));
  }
  return !std::isfinite(bound * std::abs(h));
}

absl::StatusOr<Value> RunIntegrate(const ChunkContext& chunk) {
  if (absl::Status s = CheckChunk(chunk, kIntegrate); !s.ok()) return s;
  if (chunk.begin < chunk.job_begin || chunk.end > chunk.job_end) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel integrate: chunk [", chunk.begin, ", ", chunk.end,
                     ") lies outside the job's range [", chunk.job_begin, ", ",
                     chunk.job_end, ")"));
  }
  if (chunk.params == nullptr) {
    return absl::InvalidArgumentError(
        "kernel integrate: needs parameters a, b and integrand");
  }
  const Params& params = *chunk.params;
  const double a = params.Float("a");
  const double b = params.Float("b");
  const std::string& integrand = params.String("integrand");
  const uint64_t n = static_cast<uint64_t>(chunk.job_end) -
                     static_cast<uint64_t>(chunk.job_begin);
  const double h = (b - a) / static_cast<double>(n);
  if (!std::isfinite(h)) {
    return absl::OutOfRangeError(absl::StrCat(
        "kernel integrate: the interval [", FormatValue(a), ", ",
        FormatValue(b), "] is wider than a double can hold (b - a = ",
        FormatValue(b - a), "); split it into narrower intervals"));
  }

  if (std::optional<integrate_simd::Integrand> named =
          NamedIntegrand(integrand)) {
    absl::StatusOr<Value> value = IntegrateNamed(chunk, *named, a, h);
    if (value.ok() &&
        (HoldsNonFinite(*value) || MayOverflow(chunk, *named, a, h))) {
      if (absl::Status found = FindNotFinite(chunk, *named, a, h);
          !found.ok()) {
        return found;
      }
    }
    return value;
  }
  // Compiled per call: Expression is not thread-safe, and compiling costs
  // microseconds against a chunk's milliseconds.
  absl::StatusOr<std::unique_ptr<Expression>> expression =
      Expression::Compile(integrand, "x");
  if (!expression.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel integrate: parameter integrand: ",
                     expression.status().message()));
  }
  return IntegrateExpression(chunk, a, h, **expression);
}

}  // namespace

KernelDef IntegrateKernel() {
  ParamSpec a;
  a.name = "a";
  a.type = ParamType::kFloat;
  a.help = "lower bound of the interval";
  ParamSpec b;
  b.name = "b";
  b.type = ParamType::kFloat;
  b.help = "upper bound of the interval";
  ParamSpec integrand;
  integrand.name = "integrand";
  integrand.type = ParamType::kString;
  integrand.help =
      "cos, sin, exp, x^2 or 4/(1+x^2) (vectorised), or any other "
      "expression in x such as x^3 + sqrt(x) (parsed, tens of times slower)";
  integrand.default_value = std::string("cos");
  integrand.choices = {"cos", "sin", "exp", "x^2", "4/(1+x^2)"};
  // A string, not a literal: GCC 12 gives a false -Wrestrict on assign("x").
  integrand.expression_variable = std::string("x");
  return {.name = kIntegrate,
          .help =
              "Integrates f over [a, b] by the midpoint rule, one point "
              "per index of the job's range.",
          .params = {a, b, integrand},
          .run = RunIntegrate};
}

}  // namespace pfor
