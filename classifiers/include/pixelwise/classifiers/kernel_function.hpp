#pragma once
// A kernel with its parameters, k(a, b) = outer(inner(a, b)) with
// inner(a, b) = sum_d t(a_d, b_d) (docs/design.md 1.4):
//
//   kernel       t(u, v)              outer(s)
//   additive     k_d(u, v)            s                       (kernel_term of kernels.hpp)
//   rbf          (u - v)^2            exp(-gamma s)           Gaussian RBF
//   expchi2      (u - v)^2 / (u + v)  exp(-gamma s)           exponential chi-square; t = 0 when u + v = 0
//   polynomial   u v                  (gamma s + coef0)^degree (libsvm's convention)
//
// The same split gives the gradient (kernel_gradients.hpp) and the "mean" rule
// for gamma: gamma = 1 / mean of inner(x_i, x_j) over the pairs i != j of
// training vectors, so that gamma * inner is 1 on average (for rbf and expchi2
// the usual choice of the mean distance; for polynomial the mean dot product).
#include "pixelwise/common/matrix.hpp"
#include <Eigen/Core>
#include <string>

#include "pixelwise/classifiers/kernels.hpp"

namespace pixelwise {


struct Kernel {
  KernelType type = KernelType::intersection;
  double gamma = 0;   ///< rbf, expchi2, polynomial: > 0 (0 for the additive kernels)
  int degree = 2;     ///< polynomial only
  double coef0 = 1;   ///< polynomial only

  Kernel() = default;
  /// A kernel without parameters (additive), or a type whose parameters are set afterwards.
  Kernel(KernelType t) : type(t) {}  // NOLINT: implicit, so that additive kernels read as before
  static Kernel rbf(double gamma);
  static Kernel exp_chi2(double gamma);
  static Kernel polynomial(int degree, double gamma, double coef0);

  bool additive() const { return is_additive(type); }
  /// Whether the kernel has a gamma (rbf, expchi2, polynomial).
  bool uses_gamma() const { return !additive(); }
  /// Throws std::invalid_argument naming the bad parameter.
  void validate() const;
  /// "rbf (gamma 0.5)", "hik", ...
  std::string describe() const;

  /// One dimension's term t(u, v) of the inner sum.
  double term(double u, double v) const;
  /// d t(u, v) / d v. Special points: 1/2 for min(u, v) at u = v (the mean
  /// of the one-sided slopes, which central differences also give); 1 for the
  /// expchi2 term at u = v = 0 (t(0, v) = v, the limit); 0 for the additive
  /// chi-square term at u + v = 0 (t(0, v) = 0); copysign(inf, u) for
  /// Hellinger at v = 0, u != 0 (sqrt is not differentiable at 0).
  double term_derivative(double u, double v) const;
  /// inner(a, b), summed in index order.
  double inner(const double* a, const double* b, long n) const;
  double outer(double s) const;
  /// d outer / d s.
  double outer_derivative(double s) const;
  double operator()(const double* a, const double* b, long n) const { return outer(inner(a, b, n)); }
  double operator()(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const { return (*this)(a.data(), b.data(), a.size()); }
};

bool operator==(const Kernel& a, const Kernel& b);
inline bool operator!=(const Kernel& a, const Kernel& b) { return !(a == b); }

/// The "mean" rule: gamma = 1 / mean_inner, where mean_inner is the mean of
/// inner(x_i, x_j) over the pairs i != j of training vectors. Throws
/// std::runtime_error when that mean is not a positive number (e.g. fewer than
/// two training vectors, or all of them identical).
double gamma_from_mean(const Kernel& kernel, double mean_inner);

}  // namespace pixelwise
