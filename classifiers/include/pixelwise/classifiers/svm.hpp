#pragma once
// One-vs-rest kernel SVMs trained with libsvm's C-SVC in precomputed-kernel
// mode. Every kernel goes through the precomputed mode, also rbf and
// polynomial which libsvm has built in, so that one code path (Kernel of
// kernel_function.hpp) serves all of them, decisions and gradients use the same
// kernel function, and the model files round-trip exactly (libsvm writes
// precomputed support vectors as indices, coefficients with %.17g).
// The support vectors' feature vectors live in one table shared by all classes.
#include "pixelwise/common/matrix.hpp"
#include <Eigen/Core>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pixelwise/classifiers/additive_tables.hpp"
#include "pixelwise/classifiers/kernel_function.hpp"

struct svm_model;

namespace pixelwise {


struct SvmOptions {
  KernelType kernel = KernelType::intersection;  ///< parsed once from the config (kernels.hpp names)
  double C = 1.0;
  double tolerance = 1e-3;   ///< libsvm's stopping tolerance (eps)
  double cache_mb = 256;
  /// rbf, expchi2, polynomial: gamma > 0, or unset ("mean" in JSON): set at
  /// training to 1 / mean of the kernel's inner quantity over pairs of training
  /// vectors (kernel_function.hpp). A trained model stores the value.
  std::optional<double> gamma;
  int degree = 2;       ///< polynomial only
  double coef0 = 1.0;   ///< polynomial only
  void validate() const;
  /// The kernel these options name; gamma must be set when the kernel uses it.
  Kernel kernel_function() const;
};
void to_json(nlohmann::json& j, const SvmOptions& o);
void from_json(const nlohmann::json& j, SvmOptions& o);

/// RAII owner of a libsvm model.
class LibsvmModel {
 public:
  LibsvmModel() = default;
  explicit LibsvmModel(svm_model* model) : model_(model) {}
  /// Reads a model file with parse() (not libsvm's svm_load_model, which trusts its input).
  static LibsvmModel load(const std::string& path);
  /// Strict reader of libsvm's text format for C-SVC models with a precomputed
  /// kernel (libsvm_format.cpp); any defect throws std::runtime_error naming `what`.
  static LibsvmModel parse(const std::string& text, const std::string& what);
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
  OneVsRestSvm(Kernel kernel, RowMatrixXd support_vectors, std::vector<BinaryMachine> machines);

  /// Trains one machine per class (labels in 0 .. classes-1) on the rows of X.
  /// An unset gamma is set by the "mean" rule on X (see kernel_function()).
  static OneVsRestSvm train(const RowMatrixXd& X, const std::vector<int>& labels, int classes,
                            const SvmOptions& options);
  /// Reads libsvm model files (precomputed kernel, support vectors given as
  /// 1-based rows of `support_vectors`). Throws naming the file on any defect.
  static OneVsRestSvm load(Kernel kernel, RowMatrixXd support_vectors, const std::vector<std::string>& model_files);
  /// Writes machine c as a libsvm model file.
  void save_machine(int c, const std::string& path) const;

  KernelType kernel() const { return kernel_.type; }
  /// The kernel with its parameters.
  const Kernel& kernel_function() const { return kernel_; }
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
  /// so that f_c(x) = sum_d term_d - rho (up to rounding). Additive kernels
  /// only; the others throw std::invalid_argument (use a Taylor decomposition).
  Eigen::VectorXd kernel_terms(int c, const Eigen::VectorXd& x) const;
  /// Additive kernels: all class decisions and every class's per-bin terms in
  /// one pass through per-dimension tables (additive_tables.hpp), built on the
  /// first call (thread-safe). Equal to decisions() and kernel_terms() up to
  /// rounding (they keep libsvm's summation order; this one sums per bin).
  AdditiveEvaluation evaluate_additive(const Eigen::VectorXd& x) const;

 private:
  void check_input(const Eigen::VectorXd& x) const;
  LibsvmModel to_libsvm(int c) const;
  Kernel kernel_;
  RowMatrixXd support_vectors_;
  std::vector<BinaryMachine> machines_;
  // The tables of evaluate_additive, built once on first use and shared by
  // copies (the machines never change after construction).
  struct LazyTables {
    std::once_flag once;
    std::unique_ptr<const AdditiveTables> tables;
  };
  std::shared_ptr<LazyTables> tables_ = std::make_shared<LazyTables>();
};

}  // namespace pixelwise
