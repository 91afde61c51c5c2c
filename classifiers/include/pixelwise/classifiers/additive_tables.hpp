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
//              is piecewise linear in s. Per dimension, the nonzero values of
//              all support vectors are kept once, sorted, with their row (the
//              machines share them); every `block` entries a checkpoint holds,
//              per machine, the sum of coef_i v_i over the entries before it
//              and the sum of coef_i over the entries from it on. h(s) is one
//              binary search for the number r of values <= s, then a scan of
//              the entries between r and the nearer checkpoint, all machines at
//              once (each entry adds or removes its row of coefficients); the
//              v_i = 0 add s * their coefficients when s < 0;
//   chi2       h(s) = sum_i coef_i 2 v_i s / (v_i + s) is rational in s and has
//              no exact finite table (Maji et al. interpolate it, which is an
//              approximation): it is summed directly over the nonzero v_i of
//              each visited dimension (the same per-dimension lists, unsorted
//              order irrelevant).
// Memory (docs/performance.md): per nonzero support-vector entry its value (8
// bytes) and row (2 bytes up to 65536 support vectors, 4 beyond), plus
// 16 * machines / block bytes of checkpoints; against 8 bytes per entry of the
// dense support-vector matrix. The checkpoints turn the per-machine tables
// of Maji et al. (3 numbers per entry and machine) into a scan of at most
// block / 2 entries per visited bin.
// Every h is exact: the same quantities as the direct kernel sum
// (OneVsRestSvm::decisions, whose order libsvm's svm_predict_values fixes),
// added in another order. The two agree to rounding; tests/test_additive_tables.cpp
// checks |fast - direct| <= 1e-12 * scale, scale = |rho| + sum_i |coef_i k(sv_i, x)|
// (the size of the summands, which bounds the rounding of either order).
#include "pixelwise/common/matrix.hpp"
#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
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
  /// `block`: entries between two checkpoints of a hik table (>= 1).
  AdditiveTables(KernelType kernel, const RowMatrixXd& support_vectors, const std::vector<BinaryMachine>& machines,
                 long block = kDefaultBlock);
  static constexpr long kDefaultBlock = 128;

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
  // hik and chi2: the nonzero entries of the support-vector table by
  // dimension (d's are [column_start_[d], column_start_[d + 1]); sorted by
  // value for hik), their rows (row16_ when there are at most 65536 support
  // vectors, else row32_) and the coefficient of every row in every machine
  // (rows x classes).
  std::vector<long> column_start_;
  std::vector<double> column_value_, row_coef_;
  std::vector<std::uint16_t> row16_;
  std::vector<std::uint32_t> row32_;
  bool narrow_rows_ = true;
  // hik: the block size; the first value of every block of every dimension
  // (d's ceil(n_d / block) blocks from block_start_[d]), searched before the
  // block itself; dimension d's checkpoints k = 0 .. ceil(n_d / block) (before
  // entry min(k block, n_d)) from checkpoint_offset(d), each holding classes
  // sums of coef * value before it, then classes sums of coef from it on.
  long block_ = kDefaultBlock;
  std::vector<long> block_start_;
  std::vector<double> block_first_;
  std::vector<double> checkpoint_;
  long checkpoint_offset(long d) const { return (block_start_[d] + d) * 2 * classes_; }
  std::vector<double> coef_sum_;  ///< per machine, all its coefficients (the v = 0 part of s < 0)
  std::vector<char> negative_;    ///< per dimension: some support vector is < 0 there (h(0) != 0)
  template <typename Row>
  void intersection_terms(const std::vector<Row>& rows, long d, double s, double* t, double* scratch) const;
  template <typename Row>
  void chi2_terms(const std::vector<Row>& rows, long d, double s, double* t) const;
};

}  // namespace pixelwise
