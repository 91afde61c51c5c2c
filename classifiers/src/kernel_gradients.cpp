#include "pixelwise/classifiers/kernel_gradients.hpp"

#include <stdexcept>
#include <string>

namespace pixelwise {
namespace {

// grad += weight * d k(a, x) / dx (kernel_gradients.hpp).
void add_kernel_gradient(const Kernel& kernel, const double* a, const Eigen::VectorXd& x, double weight,
                         Eigen::VectorXd& grad) {
  const long n = x.size();
  const double w = weight * kernel.outer_derivative(kernel.inner(a, x.data(), n));
  if (w == 0.0) return;
  for (long d = 0; d < n; ++d) grad[d] += w * kernel.term_derivative(a[d], x[d]);
}

}  // namespace

Eigen::VectorXd kernel_gradient(const Kernel& kernel, const Eigen::VectorXd& a, const Eigen::VectorXd& x) {
  if (a.size() != x.size())
    throw std::invalid_argument("kernel gradient: vectors of dimension " + std::to_string(a.size()) + " and " +
                                std::to_string(x.size()));
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(x.size());
  add_kernel_gradient(kernel, a.data(), x, 1.0, grad);
  return grad;
}

Eigen::VectorXd decision_gradient(const OneVsRestSvm& svm, int c, const Eigen::VectorXd& x) {
  if (x.size() != svm.dimension())
    throw std::invalid_argument("svm gradient: input has dimension " + std::to_string(x.size()) +
                                ", the model expects " + std::to_string(svm.dimension()));
  const BinaryMachine& m = svm.machine(c);
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(x.size());
  for (size_t i = 0; i < m.support.size(); ++i)
    add_kernel_gradient(svm.kernel_function(), svm.support_vectors().row(m.support[i]).data(), x, m.coef[i], grad);
  return grad;
}

}  // namespace pixelwise
