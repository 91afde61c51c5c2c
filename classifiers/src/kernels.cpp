#include "pixelwise/classifiers/kernels.hpp"

#include <stdexcept>

namespace pixelwise {

KernelType parse_kernel(const std::string& name) {
  if (name == "linear") return KernelType::linear;
  if (name == "hik" || name == "intersection") return KernelType::intersection;
  if (name == "chi2") return KernelType::chi2;
  throw std::invalid_argument("unknown kernel \"" + name + "\" (known: linear, hik, chi2)");
}

std::string kernel_name(KernelType kernel) {
  switch (kernel) {
    case KernelType::linear: return "linear";
    case KernelType::intersection: return "hik";
    case KernelType::chi2: return "chi2";
  }
  return "?";
}

double kernel_value(KernelType kernel, const double* a, const double* b, long n) {
  double sum = 0.0;
  for (long d = 0; d < n; ++d) sum += kernel_term(kernel, a[d], b[d]);
  return sum;
}

}  // namespace pixelwise
