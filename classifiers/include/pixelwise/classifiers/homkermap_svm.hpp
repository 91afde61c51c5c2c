#pragma once
// Linear SVMs on homogeneous (explicit) kernel maps, for training sets too
// large for a kernel matrix (Vedaldi and Zisserman, "Efficient
// additive kernels via explicit feature maps", PAMI 2012; VLFeat vl_homkermap).
//
// Each histogram value s is mapped to psi(s) in R^(2n+1) (order n) with
// psi(u) . psi(v) ~ k_d(u, v), the per-dimension term of the intersection or
// additive chi-square kernel (kernels.hpp), so that a linear SVM on
// psi(x) = (psi(x_1), ..., psi(x_D)) approximates the kernel SVM. Training
// (VLFeat's SDCA solver on the mapped nonzero bins, kept in memory: N * nnz *
// (2n + 1) values) costs O(iterations * nnz * (2n + 1)) instead of a kernel
// matrix of O(N^2 D).
//
// The decision f_c(x) = w_c . psi(x) + b_c splits over the original bins
// exactly (docs/design.md 1.4, here for the linear model on the map):
//   h_{c,d}(x_d) = sum_j w_{c,d,j} psi_j(x_d),   f_c(x) = sum_d h_{c,d}(x_d) + b_c,
// i.e. a bin's relevance is the sum over its expanded dimensions. psi(0) = 0,
// so bins absent from x get none. The result has the form of an additive
// kernel's forward pass (AdditiveEvaluation). The approximation is of the
// kernel, not of the decomposition: this model's scores are decomposed exactly.
//
// The linear kernel's map is the identity (order 0, psi(s) = s): the same
// SDCA solver then trains plain linear SVMs, as the Fisher-vector and VLAD
// pipelines use (docs/design.md 1.8), without a kernel matrix.
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pixelwise/classifiers/additive_tables.hpp"
#include "pixelwise/classifiers/kernels.hpp"

namespace pixelwise {

struct FeatureMapOptions {
  KernelType kernel = KernelType::chi2;  ///< chi2 or intersection (hik): the kernels VLFeat maps; linear: identity
  int order = 2;                ///< n: 2n + 1 values per histogram bin
  double period = 0;            ///< sampling period of the map; 0: VLFeat's default for the order
  void validate() const;
};

/// VLFeat's homogeneous kernel map (uniform window, gamma = 1). Thread-safe.
class HomogeneousKernelMap {
 public:
  explicit HomogeneousKernelMap(const FeatureMapOptions& options);
  ~HomogeneousKernelMap();
  HomogeneousKernelMap(HomogeneousKernelMap&&) noexcept;
  HomogeneousKernelMap& operator=(HomogeneousKernelMap&&) noexcept;
  const FeatureMapOptions& options() const { return options_; }
  /// 2n + 1.
  int expansion() const { return 2 * options_.order + 1; }
  /// psi(s): expansion() values to `out`.
  void map(double s, double* out) const;
  /// psi(x), bin by bin: x.size() * expansion() values.
  Eigen::VectorXd map(const Eigen::VectorXd& x) const;

 private:
  struct Map;
  FeatureMapOptions options_;
  std::unique_ptr<Map> map_;
};

struct LinearSvmOptions {
  double C = 10;              ///< as libsvm's C: lambda = 1 / (C N) for VLFeat
  double epsilon = 1e-4;      ///< SDCA's stopping tolerance (duality gap)
  long max_passes = 200;      ///< at most max_passes * N SDCA iterations
  std::uint32_t seed = 1;     ///< seeds the order of SDCA's updates
  int threads = 0;            ///< classes trained at once (0: all cores); no result depends on it
  void validate() const;
};

/// One-vs-rest linear SVMs on psi(x).
class MappedLinearSvm {
 public:
  MappedLinearSvm(FeatureMapOptions map, RowMatrixXd weights, Eigen::VectorXd bias);

  /// Trains one machine per class (labels 0 .. classes-1) on the rows of X.
  static MappedLinearSvm train(const RowMatrixXd& X, const std::vector<int>& labels, int classes,
                               const FeatureMapOptions& map, const LinearSvmOptions& options);

  int classes() const { return static_cast<int>(weights_.rows()); }
  long dimension() const { return weights_.cols() / map_.expansion(); }
  const HomogeneousKernelMap& feature_map() const { return map_; }
  /// classes x (dimension * (2n + 1)): bin d of class c at columns d (2n+1) .. d (2n+1) + 2n.
  const RowMatrixXd& weights() const { return weights_; }
  const Eigen::VectorXd& bias() const { return bias_; }

  /// All class scores and every class's per-bin terms h_{c,d}(x_d) over the bins x_d != 0.
  AdditiveEvaluation evaluate(const Eigen::VectorXd& x) const;
  /// w_c . psi(x) + b_c, the plain dot product (reference for evaluate()).
  Eigen::VectorXd decisions(const Eigen::VectorXd& x) const;

 private:
  HomogeneousKernelMap map_;
  RowMatrixXd weights_;
  Eigen::VectorXd bias_;
};

}  // namespace pixelwise
