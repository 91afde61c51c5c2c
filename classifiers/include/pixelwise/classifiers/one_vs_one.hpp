#pragma once
// libsvm's own multi-class C-SVC: K (K-1) / 2 pairwise machines trained in one
// svm_train call, prediction by votes (libsvm README, "multi-class
// classification"). Precomputed-kernel mode as OneVsRestSvm; the support
// vectors' feature vectors live in one table.
//
// What can be explained (docs/design.md 1.4, both exact for additive kernels):
// - the pairwise decision f_{c,c'}(x) of the machine that separates c from c'
//   (> 0: a vote for c), oriented so that c is the positive side;
// - the summed score s_c(x) = sum_{c' != c} f_{c,c'}(x), the evidence for c
//   against all other classes together. Its sign is not libsvm's vote: the
//   vote counts the signs of the pairwise decisions, which is not a sum of
//   per-bin terms. A sum of binary machines is again a binary machine, so both
//   are explained by the same decomposition.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "pixelwise/classifiers/svm.hpp"

namespace pixelwise {

class OneVsOneSvm {
 public:
  OneVsOneSvm() = default;

  /// One libsvm multi-class training on the rows of X (labels 0 .. classes-1,
  /// every class present).
  static OneVsOneSvm train(const RowMatrixXd& X, const std::vector<int>& labels, int classes, const SvmOptions& options);
  /// Reads a libsvm multi-class model file (precomputed kernel; support
  /// vectors are 1-based rows of `support_vectors`; labels 0 .. classes-1).
  static OneVsOneSvm load(KernelType kernel, RowMatrixXd support_vectors, int classes, const std::string& model_file);
  void save(const std::string& path) const;

  KernelType kernel() const { return kernel_; }
  int classes() const { return classes_; }
  const RowMatrixXd& support_vectors() const { return table_; }

  /// f_{c,other}, > 0 meaning a vote for c.
  BinaryMachine pairwise(int c, int other) const;
  /// s_c = sum over other classes of f_{c,c'}; duplicate support vectors merged.
  BinaryMachine summed(int c) const;
  /// Machines over the same support-vector table, for decompose_svm and the
  /// one-vs-rest interface: machine c of summed_machines() is summed(c).
  OneVsRestSvm summed_machines() const;
  OneVsRestSvm pairwise_machine(int c, int other) const;

  /// libsvm's own prediction (svm_predict_values): the winning class, and
  /// libsvm's K (K-1) / 2 decision values in its pair order.
  int libsvm_predict(const Eigen::VectorXd& x, std::vector<double>* decision_values = nullptr) const;
  /// libsvm's label order: label_order()[i] is our class of libsvm's class i.
  const std::vector<int>& label_order() const { return label_; }

  /// Model randomisation (randomisation.hpp; Adebayo et al. 2018, 3.1): a copy
  /// in which the dual coefficients of every pairwise machine are permuted
  /// among that machine's support vectors (pair p seeded by
  /// randomisation_seed(seed, 0, p)); support vectors and rho are kept.
  OneVsOneSvm with_permuted_coefficients(std::uint64_t seed) const;

 private:
  void check_class(int c) const;
  LibsvmModel to_libsvm() const;
  KernelType kernel_ = KernelType::intersection;
  RowMatrixXd table_;
  int classes_ = 0;
  std::vector<int> label_;     // libsvm order -> our class
  std::vector<int> count_;     // support vectors per libsvm class (nSV)
  std::vector<int> rows_;      // table row of every support vector, libsvm order
  RowMatrixXd coef_;           // (K-1) x l, libsvm's sv_coef
  std::vector<double> rho_;    // K (K-1) / 2, libsvm's pair order
};

}  // namespace pixelwise
