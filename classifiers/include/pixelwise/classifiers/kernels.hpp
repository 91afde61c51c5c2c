#pragma once
// Sum-decomposable kernels k(x, y) = sum_d k_d(x_d, y_d) (docs/design.md 1.4).
#include <cmath>
#include <string>

#include "pixelwise/common/option_schema.hpp"

namespace pixelwise {

/// The first four are sum-decomposable; rbf, expchi2 and polynomial are not
/// and take parameters (gamma, degree, coef0): see kernel_function.hpp.
enum class KernelType { linear, intersection, chi2, hellinger, rbf, expchi2, polynomial };

/// "linear", "hik" (histogram intersection; also read as "intersection"),
/// "chi2" (additive chi-square), "hellinger" (sqrt(u v)), "rbf", "expchi2",
/// "poly" (also read as "polynomial").
const EnumNames<KernelType>& enum_names(KernelType);
KernelType parse_kernel(const std::string& name);
std::string kernel_name(KernelType kernel);

/// One dimension's term k_d(u, v); every one of them is 0 when v = 0.
inline double kernel_term(KernelType kernel, double u, double v) {
  switch (kernel) {
    case KernelType::linear: return u * v;
    case KernelType::intersection: return u < v ? u : v;
    case KernelType::chi2: {
      const double s = u + v;
      return s == 0.0 ? 0.0 : 2.0 * u * v / s;  // 0 when u + v = 0 (docs/design.md 1.4)
    }
    case KernelType::hellinger: {
      // sqrt(u v) for histograms; for signed values the linear kernel of the
      // signed square roots, sign(u) sqrt|u| sign(v) sqrt|v|, which stays positive definite.
      const double p = u * v;
      return p == 0.0 ? 0.0 : std::copysign(std::sqrt(std::abs(u)) * std::sqrt(std::abs(v)), p);
    }
    case KernelType::rbf:
    case KernelType::expchi2:
    case KernelType::polynomial: break;  // no per-dimension terms; callers check is_additive
  }
  return 0.0;
}

/// Whether k(x, y) = sum_d k_d(x_d, y_d) (the kernels with a kernel_term).
inline bool is_additive(KernelType kernel) {
  return kernel == KernelType::linear || kernel == KernelType::intersection || kernel == KernelType::chi2 ||
         kernel == KernelType::hellinger;
}

/// k(a, b), summed in index order d = 0 .. n-1 (additive kernels only; the
/// others throw: use Kernel of kernel_function.hpp).
double kernel_value(KernelType kernel, const double* a, const double* b, long n);

/// The factor s with k(s u, s v) = w k(u, v) for every u, v: sqrt(w) for the
/// linear kernel (degree 2), w for the others (degree 1). Scaling a channel's
/// histogram block by s weights that channel's kernel by w (sum of weighted
/// per-channel kernels). w must be positive.
double kernel_weight_scale(KernelType kernel, double weight);

}  // namespace pixelwise
