#pragma once
// Sum-decomposable kernels k(x, y) = sum_d k_d(x_d, y_d) (DESIGN.md 1.4).
#include <string>

namespace pixelwise {

enum class KernelType { linear, intersection, chi2 };

/// "linear", "hik" (histogram intersection), "chi2" (additive chi-square).
KernelType parse_kernel(const std::string& name);
std::string kernel_name(KernelType kernel);

/// One dimension's term k_d(u, v); every one of them is 0 when v = 0.
inline double kernel_term(KernelType kernel, double u, double v) {
  switch (kernel) {
    case KernelType::linear: return u * v;
    case KernelType::intersection: return u < v ? u : v;
    case KernelType::chi2: {
      const double s = u + v;
      return s == 0.0 ? 0.0 : 2.0 * u * v / s;  // 0 when u + v = 0 (DESIGN.md 1.4)
    }
  }
  return 0.0;
}

/// k(a, b), summed in index order d = 0 .. n-1.
double kernel_value(KernelType kernel, const double* a, const double* b, long n);

}  // namespace pixelwise
