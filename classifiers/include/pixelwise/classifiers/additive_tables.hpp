#pragma once
// Fast evaluation of additive-kernel SVM decisions dimension by dimension
// (Maji, Berg, Malik, "Classification using intersection kernel support vector
// machines is efficient", CVPR 2008; docs/design.md 1.4).
//
// For an additive kernel f_c(x) = sum_d h_{c,d}(x_d) - rho_c with
//   h_{c,d}(s) = sum_i coef_{c,i} k_d(sv_{i,d}, s),
// which is also bin d's relevance before its bias share. k_d(u, 0) = 0 for
// every additive kernel when u >= 0 (min(u, 0) = u < 0 otherwise), so only the
// bins with x_d != 0, and for hik those where a support vector is negative, are visited:
//   linear     h(s) = w_d s,     w_d = sum_i coef_i sv_{i,d}
//   hellinger  h(s) = w_d r(s),  w_d = sum_i coef_i r(sv_{i,d}), r(u) = sign(u) sqrt|u|
//   hik        h(s) = sum_{i: v_i <= s} coef_i v_i + s sum_{i: v_i > s} coef_i  (v_i = sv_{i,d})
//              is piecewise linear in s: the machine's nonzero v_i of each
//              dimension are kept sorted with prefix sums of coef_i v_i and
//              suffix sums of coef_i, so h(s) is one binary search and two
//              look-ups (the v_i = 0 add s * their coefficients when s < 0);
//   chi2       h(s) = sum_i coef_i 2 v_i s / (v_i + s) is rational in s and has
//              no exact finite table (Maji et al. interpolate it, which is an
//              approximation): it is summed directly over the nonzero v_i of
//              each visited dimension (the terms of the kernel sum, sparse).
// Every h is exact: the same quantities as the direct kernel sum
// (OneVsRestSvm::decisions, whose order libsvm's svm_predict_values fixes),
// added in another order. The two agree to rounding; tests/test_additive_tables.cpp
// checks |fast - direct| <= 1e-12 * scale, scale = |rho| + sum_i |coef_i k(sv_i, x)|
// (the size of the summands, which bounds the rounding of either order).
#include "pixelwise/common/matrix.hpp"
#include <Eigen/Core>
#include <cstddef>
#include <vector>

#include "pixelwise/classifiers/kernels.hpp"

namespace pixelwise {

struct BinaryMachine;  // svm.hpp

/// One pass over x: the decisions of all classes and their per-bin terms.
struct AdditiveEvaluation {
  Eigen::VectorXd scores;   ///< f_c(x) = sum_j terms(j, c) - rho_c, j in bin order
  std::vector<long> bins;   ///< the visited bins, ascending: x_d != 0 (hik: or a support vector < 0 in d)
  RowMatrixXd terms;        ///< bins.size() x classes: h_{c,d}(x_d)
  /// h_{c,d}(x_d) for every bin d < dimension (0 on the bins not visited).
  Eigen::VectorXd class_terms(int c, long dimension) const;
};

class AdditiveTables {
 public:
  /// Builds the tables of every machine; `kernel` must be additive.
  AdditiveTables(KernelType kernel, const RowMatrixXd& support_vectors, const std::vector<BinaryMachine>& machines);

  /// Thread-safe (reads only). x must have the support vectors' dimension.
  AdditiveEvaluation evaluate(const Eigen::VectorXd& x) const;
  /// Memory held by the tables.
  std::size_t bytes() const;

 private:
  KernelType kernel_;
  long dimension_ = 0;
  int classes_ = 0;
  std::vector<double> rho_;
  // linear, hellinger: weights W (dimension x classes, row-major).
  std::vector<double> weight_;
  // hik, dimension d, machine c, g = d * classes + c: the machine's sorted
  // nonzero values are value_[start_[g] .. start_[g + 1]); below_ and above_
  // hold their n + 1 prefix and suffix sums from start_[g] + g; zero_coef_[g]
  // sums the coefficients of the support vectors with v = 0.
  std::vector<long> start_;
  std::vector<double> value_, below_, above_, zero_coef_;
  std::vector<char> negative_;  ///< per dimension: some support vector is < 0 there (h(0) != 0)
  // chi2: the support-vector table by columns (nonzero entries) and the
  // coefficient of every table row in every machine (rows x classes).
  std::vector<long> column_start_;
  std::vector<int> column_row_;
  std::vector<double> column_value_, row_coef_;
};

}  // namespace pixelwise
