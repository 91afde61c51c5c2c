#include "pixelwise/classifiers/kernels.hpp"

#include <stdexcept>

namespace pixelwise {

KernelType parse_kernel(const std::string& name) {
  if (name == "linear") return KernelType::linear;
  if (name == "hik" || name == "intersection") return KernelType::intersection;
  if (name == "chi2") return KernelType::chi2;
  if (name == "hellinger") return KernelType::hellinger;
  if (name == "rbf") return KernelType::rbf;
  if (name == "expchi2") return KernelType::expchi2;
  if (name == "poly" || name == "polynomial") return KernelType::polynomial;
  throw std::invalid_argument("unknown kernel \"" + name + "\" (known: linear, hik, chi2, hellinger, rbf, expchi2, poly)");
}

std::string kernel_name(KernelType kernel) {
  switch (kernel) {
    case KernelType::linear: return "linear";
    case KernelType::intersection: return "hik";
    case KernelType::chi2: return "chi2";
    case KernelType::hellinger: return "hellinger";
    case KernelType::rbf: return "rbf";
    case KernelType::expchi2: return "expchi2";
    case KernelType::polynomial: return "poly";
  }
  return "?";
}

double kernel_value(KernelType kernel, const double* a, const double* b, long n) {
  if (!is_additive(kernel))
    throw std::invalid_argument("kernel " + kernel_name(kernel) + " is not a sum over dimensions (it needs its parameters)");
  double sum = 0.0;
  for (long d = 0; d < n; ++d) sum += kernel_term(kernel, a[d], b[d]);
  return sum;
}

double kernel_weight_scale(KernelType kernel, double weight) {
  if (!(weight > 0) || !std::isfinite(weight)) throw std::invalid_argument("kernel weight must be a positive number");
  if (!is_additive(kernel))
    throw std::invalid_argument("kernel weights (sum of kernels) need an additive kernel, not " + kernel_name(kernel));
  return kernel == KernelType::linear ? std::sqrt(weight) : weight;
}

}  // namespace pixelwise
