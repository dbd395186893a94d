#include "integrate.h"

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
    fold.Add(f.Evaluate(x) * h);
  }
  return fold.Finish();
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

  if (std::optional<integrate_simd::Integrand> named =
          NamedIntegrand(integrand)) {
    return IntegrateNamed(chunk, *named, a, h);
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
