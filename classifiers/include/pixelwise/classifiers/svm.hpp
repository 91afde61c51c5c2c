#pragma once
// One-vs-rest kernel SVMs trained with libsvm's C-SVC in precomputed-kernel
// mode. Every kernel goes through the precomputed mode so that one code path
// serves all of them and the model files round-trip exactly (libsvm writes
// precomputed support vectors as indices, coefficients with %.17g).
// The support vectors' feature vectors live in one table shared by all classes.
#include <Eigen/Core>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pixelwise/classifiers/kernels.hpp"

struct svm_model;

namespace pixelwise {

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct SvmOptions {
  std::string kernel = "hik";
  double C = 1.0;
  double tolerance = 1e-3;   ///< libsvm's stopping tolerance (eps)
  double cache_mb = 256;
  void validate() const;
};
void to_json(nlohmann::json& j, const SvmOptions& o);
void from_json(const nlohmann::json& j, SvmOptions& o);

/// RAII owner of a libsvm model.
class LibsvmModel {
 public:
  LibsvmModel() = default;
  explicit LibsvmModel(svm_model* model) : model_(model) {}
  static LibsvmModel load(const std::string& path);
  void save(const std::string& path) const;
  const svm_model* get() const { return model_.get(); }
  explicit operator bool() const { return static_cast<bool>(model_); }

 private:
  struct Deleter {
    void operator()(svm_model* m) const;
  };
  std::unique_ptr<svm_model, Deleter> model_;
};

/// A binary decision f(x) = sum_i coef_i k(sv_i, x) - rho, oriented so that
/// f > 0 means "this class" (libsvm's sv_coef = alpha_i y_i, rho = -b).
struct BinaryMachine {
  std::vector<int> support;   ///< rows of the shared support-vector table
  std::vector<double> coef;
  double rho = 0;
  double bias() const { return -rho; }
};

class OneVsRestSvm {
 public:
  OneVsRestSvm() = default;
  OneVsRestSvm(KernelType kernel, RowMatrixXd support_vectors, std::vector<BinaryMachine> machines);

  /// Trains one machine per class (labels in 0 .. classes-1) on the rows of X.
  static OneVsRestSvm train(const RowMatrixXd& X, const std::vector<int>& labels, int classes,
                            const SvmOptions& options);
  /// Reads libsvm model files (precomputed kernel, support vectors given as
  /// 1-based rows of `support_vectors`). Throws naming the file on any defect.
  static OneVsRestSvm load(KernelType kernel, RowMatrixXd support_vectors, const std::vector<std::string>& model_files);
  /// Writes machine c as a libsvm model file.
  void save_machine(int c, const std::string& path) const;

  KernelType kernel() const { return kernel_; }
  int classes() const { return static_cast<int>(machines_.size()); }
  long dimension() const { return support_vectors_.cols(); }
  const RowMatrixXd& support_vectors() const { return support_vectors_; }
  const BinaryMachine& machine(int c) const;

  /// k(sv_u, x) for every row u of the support-vector table.
  Eigen::VectorXd kernel_row(const Eigen::VectorXd& x) const;
  /// f_c(x) for every class, from one kernel row.
  Eigen::VectorXd decisions(const Eigen::VectorXd& x) const;
  double decision(int c, const Eigen::VectorXd& x) const;
  /// The same decision computed by libsvm's svm_predict_values.
  double libsvm_decision(int c, const Eigen::VectorXd& x) const;
  /// Forward record for the exact decomposition: term_d = sum_i coef_i k_d(sv_i,d, x_d),
  /// so that f_c(x) = sum_d term_d - rho (up to rounding).
  Eigen::VectorXd kernel_terms(int c, const Eigen::VectorXd& x) const;

 private:
  void check_input(const Eigen::VectorXd& x) const;
  LibsvmModel to_libsvm(int c) const;
  KernelType kernel_ = KernelType::intersection;
  RowMatrixXd support_vectors_;
  std::vector<BinaryMachine> machines_;
};

}  // namespace pixelwise
