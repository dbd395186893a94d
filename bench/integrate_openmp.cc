// The fastest plain C++ baseline for `pfor run integrate`: the midpoint rule
// as an OpenMP `parallel for reduction` loop. integrate_compare.py builds it
// with -O3 -march=native -ffast-math -fopenmp, so GCC vectorises the loop
// and calls glibc's vector math (libmvec) for cos, sin and exp.
//
//   integrate_openmp INTEGRAND A B POINTS
//
// INTEGRAND is one of pfor's named integrands (cos, sin, exp, x^2,
// 4/(1+x^2)); A and B are numbers; POINTS may be written 1e9. The number of
// threads is OpenMP's (OMP_NUM_THREADS, default one per core). Prints the
// integral and the seconds the loop took, on one line.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

// x_i = a + (i + 0.5) * h, as pfor computes it.
template <typename F>
double Midpoint(double a, double b, int64_t n, F f) {
  const double h = (b - a) / static_cast<double>(n);
  double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    sum += f(a + (static_cast<double>(i) + 0.5) * h);
  }
  return sum * h;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: integrate_openmp INTEGRAND A B POINTS "
                 "(INTEGRAND: cos, sin, exp, x^2, 4/(1+x^2))\n");
    return 2;
  }
  const std::string_view integrand = argv[1];
  const double a = std::strtod(argv[2], nullptr);
  const double b = std::strtod(argv[3], nullptr);
  const auto n = static_cast<int64_t>(std::strtod(argv[4], nullptr));
  if (n <= 0) {
    std::fprintf(stderr, "integrate_openmp: POINTS must be at least 1\n");
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  double result;
  if (integrand == "cos") {
    result = Midpoint(a, b, n, [](double x) { return std::cos(x); });
  } else if (integrand == "sin") {
    result = Midpoint(a, b, n, [](double x) { return std::sin(x); });
  } else if (integrand == "exp") {
    result = Midpoint(a, b, n, [](double x) { return std::exp(x); });
  } else if (integrand == "x^2") {
    result = Midpoint(a, b, n, [](double x) { return x * x; });
  } else if (integrand == "4/(1+x^2)") {
    result = Midpoint(a, b, n, [](double x) { return 4 / (1 + x * x); });
  } else {
    std::fprintf(stderr,
                 "integrate_openmp: unknown integrand '%s'; use cos, sin, "
                 "exp, x^2 or 4/(1+x^2)\n",
                 argv[1]);
    return 2;
  }
  const std::chrono::duration<double> took =
      std::chrono::steady_clock::now() - start;
  std::printf("%.17g %.6f\n", result, took.count());
  return 0;
}
