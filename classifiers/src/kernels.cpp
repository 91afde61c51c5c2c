#include "pixelwise/classifiers/kernels.hpp"

#include <stdexcept>

namespace pixelwise {

const EnumNames<KernelType>& enum_names(KernelType) {
  static const EnumNames<KernelType> names{{KernelType::linear, "linear"},         {KernelType::intersection, "hik"},
                                           {KernelType::intersection, "intersection"},
                                           {KernelType::chi2, "chi2"},             {KernelType::hellinger, "hellinger"},
                                           {KernelType::rbf, "rbf"},               {KernelType::expchi2, "expchi2"},
                                           {KernelType::polynomial, "poly"},       {KernelType::polynomial, "polynomial"}};
  return names;
}

KernelType parse_kernel(const std::string& name) { return parse_enum<KernelType>(name, "kernel"); }

std::string kernel_name(KernelType kernel) { return name_of(kernel); }

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
