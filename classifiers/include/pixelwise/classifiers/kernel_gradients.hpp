#pragma once
// Analytic gradients of an SVM decision with respect to its input histogram,
// for every kernel (docs/design.md 1.4; needed by the Taylor decomposition):
//
//   f(x) = b + sum_i coef_i outer(inner(sv_i, x)),  inner(a, x) = sum_d t(a_d, x_d)
//   df/dx_d = sum_i coef_i outer'(inner(sv_i, x)) dt(sv_i,d, x_d)/dx_d
//
// (kernel_function.hpp lists t and outer; for the additive kernels outer' = 1
// and the gradient is that of the per-bin terms.)
#include <Eigen/Core>

#include "pixelwise/classifiers/svm.hpp"

namespace pixelwise {

/// d k(a, x) / dx for one kernel and one pair.
Eigen::VectorXd kernel_gradient(const Kernel& kernel, const Eigen::VectorXd& a, const Eigen::VectorXd& x);

/// df_c / dx at x for machine c of `svm`.
Eigen::VectorXd decision_gradient(const OneVsRestSvm& svm, int c, const Eigen::VectorXd& x);

}  // namespace pixelwise
