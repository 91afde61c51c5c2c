#include "pixelwise/classifiers/kernel_function.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace pixelwise {

Kernel Kernel::rbf(double gamma) {
  Kernel k(KernelType::rbf);
  k.gamma = gamma;
  k.validate();
  return k;
}

Kernel Kernel::exp_chi2(double gamma) {
  Kernel k(KernelType::expchi2);
  k.gamma = gamma;
  k.validate();
  return k;
}

Kernel Kernel::polynomial(int degree, double gamma, double coef0) {
  Kernel k(KernelType::polynomial);
  k.degree = degree;
  k.gamma = gamma;
  k.coef0 = coef0;
  k.validate();
  return k;
}

void Kernel::validate() const {
  if (!uses_gamma()) return;
  const std::string name = "kernel " + kernel_name(type);
  if (!(gamma > 0) || !std::isfinite(gamma)) throw std::invalid_argument(name + ": gamma must be a positive number");
  if (type == KernelType::polynomial) {
    if (degree < 1) throw std::invalid_argument(name + ": degree must be at least 1");
    if (!(coef0 >= 0) || !std::isfinite(coef0))
      throw std::invalid_argument(name + ": coef0 must be a number >= 0 (so that the kernel is positive semi-definite)");
  }
}

std::string Kernel::describe() const {
  std::ostringstream s;
  s << kernel_name(type);
  s.precision(6);
  if (type == KernelType::polynomial)
    s << " (degree " << degree << ", gamma " << gamma << ", coef0 " << coef0 << ")";
  else if (uses_gamma())
    s << " (gamma " << gamma << ")";
  return s.str();
}

double Kernel::term(double u, double v) const {
  switch (type) {
    case KernelType::rbf: return (u - v) * (u - v);
    case KernelType::expchi2: {
      const double s = u + v;
      return s == 0.0 ? 0.0 : (u - v) * (u - v) / s;  // 0 when u + v = 0 (docs/design.md 1.4)
    }
    case KernelType::polynomial: return u * v;
    default: return kernel_term(type, u, v);
  }
}

double Kernel::term_derivative(double u, double v) const {
  switch (type) {
    case KernelType::linear: return u;
    case KernelType::intersection: return u > v ? 1.0 : (u < v ? 0.0 : 0.5);
    case KernelType::chi2: {
      const double s = u + v;
      return s == 0.0 ? 0.0 : 2.0 * u * u / (s * s);
    }
    case KernelType::hellinger:
      if (u == 0.0) return 0.0;
      if (v == 0.0) return std::copysign(std::numeric_limits<double>::infinity(), u);
      return std::copysign(std::sqrt(std::abs(u)), u) / (2.0 * std::sqrt(std::abs(v)));
    case KernelType::rbf: return 2.0 * (v - u);
    case KernelType::expchi2: {
      // d/dv (v - u)^2 / (u + v) = (v - u)(v + 3u) / (u + v)^2
      const double s = u + v;
      if (s == 0.0) return u == 0.0 ? 1.0 : 0.0;  // t(0, v) = v; signed u = -v: t = 0 by convention
      return (v - u) * (v + 3.0 * u) / (s * s);
    }
    case KernelType::polynomial: return u;
  }
  return 0.0;
}

double Kernel::inner(const double* a, const double* b, long n) const {
  double sum = 0.0;
  for (long d = 0; d < n; ++d) sum += term(a[d], b[d]);
  return sum;
}

double Kernel::outer(double s) const {
  switch (type) {
    case KernelType::rbf:
    case KernelType::expchi2: return std::exp(-gamma * s);
    case KernelType::polynomial: return std::pow(gamma * s + coef0, degree);
    default: return s;
  }
}

double Kernel::outer_derivative(double s) const {
  switch (type) {
    case KernelType::rbf:
    case KernelType::expchi2: return -gamma * std::exp(-gamma * s);
    case KernelType::polynomial: return degree * gamma * std::pow(gamma * s + coef0, degree - 1);
    default: return 1.0;
  }
}

bool operator==(const Kernel& a, const Kernel& b) {
  if (a.type != b.type) return false;
  if (!a.uses_gamma()) return true;
  if (a.gamma != b.gamma) return false;
  return a.type != KernelType::polynomial || (a.degree == b.degree && a.coef0 == b.coef0);
}

double gamma_from_mean(const Kernel& kernel, double mean_inner) {
  if (!(mean_inner > 0) || !std::isfinite(mean_inner)) {
    std::ostringstream s;
    s << "svm: cannot set gamma of kernel " << kernel_name(kernel.type)
      << " by the \"mean\" rule: the mean over pairs of training vectors is " << mean_inner
      << " (it must be positive; are the training vectors all equal?)";
    throw std::runtime_error(s.str());
  }
  return 1.0 / mean_inner;
}

}  // namespace pixelwise
