#pragma once
// The built-in classifier kinds on BoW histograms (histogram_classifier.hpp),
// their configuration sections (docs/config.md) and files of the model
// directory (bow_model.hpp). Declared here for code that needs a kind's own
// parts (its SVMs, its network); everything else goes through the interface.
#include <memory>
#include <optional>
#include <string>

#include "pixelwise/classifiers/homkermap_svm.hpp"
#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/classifiers/one_vs_one.hpp"
#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/pipelines/model/histogram_classifier.hpp"
#include "pixelwise/pipelines/model/network_training.hpp"

namespace pixelwise {

/// svm.multiclass: one machine per class against the rest, or libsvm's own
/// pairwise machines (one_vs_one.hpp).
enum class Multiclass { one_vs_rest, one_vs_one };
const EnumNames<Multiclass>& enum_names(Multiclass);

/// The registrations of the built-in kinds (histogram_classifier.cpp lists them).
ClassifierKind one_vs_rest_svm_kind();
ClassifierKind one_vs_one_svm_kind();
ClassifierKind kernel_map_svm_kind();
ClassifierKind network_kind();

/// Section "svm" of kernel SVMs: one_vs_rest_svm, or one_vs_one_svm
/// ("multiclass": "one_vs_one", libsvm's own; additive kernels only).
class SvmSection : public ClassifierSection {
 public:
  SvmSection(Multiclass multiclass, SvmOptions options) : multiclass_(multiclass), options(std::move(options)) {}
  /// The registered kind: one_vs_rest_svm or one_vs_one_svm.
  std::string kind() const override;
  nlohmann::json to_json() const override;
  void check_combine(Combine combine) const override;
  std::optional<KernelType> summed_kernel() const override { return options.kernel; }
  /// The JSON svm.multiclass of this kind.
  Multiclass multiclass() const { return multiclass_; }

 private:
  Multiclass multiclass_;

 public:
  SvmOptions options;
};

/// Section "svm" with a "feature_map": linear SVMs on VLFeat's homogeneous
/// kernel map of svm.kernel (hik or chi2) for training sets too large for a
/// kernel matrix (homkermap_svm.hpp). map.kernel is svm.kernel; solver.C is svm.C.
class KernelMapSection : public ClassifierSection {
 public:
  std::string kind() const override { return "kernel_map_svm"; }
  nlohmann::json to_json() const override;
  void check_combine(Combine combine) const override;
  std::optional<KernelType> summed_kernel() const override { return options.kernel; }
  SvmOptions options;  ///< the svm section's options as given
  FeatureMapOptions map;
  LinearSvmOptions solver;
};

/// Section "network": an MLP trained on the histograms (hidden sizes,
/// activation and the training options of `pixelwise train-network`;
/// input_range is not used) instead of SVMs (docs/design.md 1.7).
class NetworkSection : public ClassifierSection {
 public:
  std::string kind() const override { return "network"; }
  nlohmann::json to_json() const override;
  void check_combine(Combine combine) const override;
  std::optional<KernelType> summed_kernel() const override { return std::nullopt; }
  NetworkTrainingConfig network;
};

/// Kernel SVMs whose decisions are the class scores: the one-vs-rest
/// machines, or the summed pairwise machines of a one-vs-one model
/// (OneVsOneSvm::summed_machines). docs/design.md 1.4: lrp is exact for additive
/// kernels; taylor works for any kernel.
class KernelSvmClassifier : public HistogramClassifier {
 public:
  std::shared_ptr<const ClassifierSection> section() const override { return section_; }
  int classes() const override { return machines_.classes(); }
  ClassifierAbilities abilities() const override;
  ClassifierPass forward(const Eigen::VectorXd& x) const override;
  void check(const RelevanceRequest& request) const override;
  ClassifierRelevance relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                const RelevanceRequest& request) const override;
  Eigen::VectorXd gradient(const Eigen::VectorXd& x, int c) const override;
  std::string describe() const override { return "kernel " + kernel(); }
  std::string kernel() const override { return machines_.kernel_function().describe(); }
  /// The machines whose decisions are the class scores.
  const OneVsRestSvm& machines() const { return machines_; }

 protected:
  KernelSvmClassifier(std::shared_ptr<const SvmSection> section, OneVsRestSvm machines);
  /// The decomposition of machine m (of `machines()` or a pairwise one) for
  /// the explained score r.score (set by the caller).
  void decompose(const OneVsRestSvm& svm, int m, const Eigen::VectorXd& x, const ClassifierPass* pass, int c,
                 const RelevanceRequest& request, ClassifierRelevance& r) const;

 private:
  std::shared_ptr<const SvmSection> section_;
  OneVsRestSvm machines_;
};

class OneVsRestSvmClassifier : public KernelSvmClassifier {
 public:
  OneVsRestSvmClassifier(std::shared_ptr<const SvmSection> section, OneVsRestSvm svm)
      : KernelSvmClassifier(std::move(section), std::move(svm)) {}
  std::map<std::string, std::string> save(const std::filesystem::path& scratch) const override;
  /// One stage: every machine's dual coefficients permuted among its support vectors.
  std::vector<std::string> randomisation_stages() const override;
  std::shared_ptr<const HistogramClassifier> randomised(int stages, std::uint64_t seed) const override;
};

class OneVsOneSvmClassifier : public KernelSvmClassifier {
 public:
  OneVsOneSvmClassifier(std::shared_ptr<const SvmSection> section, OneVsOneSvm pairwise);
  void check(const RelevanceRequest& request) const override;
  ClassifierRelevance relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                const RelevanceRequest& request) const override;
  std::map<std::string, std::string> save(const std::filesystem::path& scratch) const override;
  /// One stage: every pairwise machine's dual coefficients permuted among its support vectors.
  std::vector<std::string> randomisation_stages() const override;
  std::shared_ptr<const HistogramClassifier> randomised(int stages, std::uint64_t seed) const override;
  const OneVsOneSvm& pairwise() const { return pairwise_; }

 private:
  OneVsOneSvm pairwise_;
};

/// Linear SVMs on a homogeneous kernel map: f_c is a sum of per-bin terms plus
/// b_c, exactly, so lrp is the rule of an additive kernel (docs/design.md 1.4).
class KernelMapSvmClassifier : public HistogramClassifier {
 public:
  KernelMapSvmClassifier(std::shared_ptr<const KernelMapSection> section, MappedLinearSvm svm)
      : section_(std::move(section)), svm_(std::move(svm)) {}
  std::shared_ptr<const ClassifierSection> section() const override { return section_; }
  int classes() const override { return svm_.classes(); }
  ClassifierAbilities abilities() const override;
  ClassifierPass forward(const Eigen::VectorXd& x) const override;
  void check(const RelevanceRequest& request) const override;
  ClassifierRelevance relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                const RelevanceRequest& request) const override;
  Eigen::VectorXd gradient(const Eigen::VectorXd& x, int c) const override;
  std::map<std::string, std::string> save(const std::filesystem::path& scratch) const override;
  std::string describe() const override { return "kernel " + kernel(); }
  std::string kernel() const override;
  /// One stage: every class's weights permuted across the bins (permute_mapped_weights).
  std::vector<std::string> randomisation_stages() const override;
  std::shared_ptr<const HistogramClassifier> randomised(int stages, std::uint64_t seed) const override;
  const MappedLinearSvm& svm() const { return svm_; }

 private:
  bool linear() const;  ///< the linear kernel: the map is the identity
  std::shared_ptr<const KernelMapSection> section_;
  MappedLinearSvm svm_;
};

/// An MLP on the histogram (1 x 1 x dimension) -> class scores (pre-softmax),
/// with a trailing SoftMax; explained by its LRP rules (docs/design.md 1.7).
class NetworkClassifier : public HistogramClassifier {
 public:
  NetworkClassifier(std::shared_ptr<const NetworkSection> section, Network network, long dimension)
      : section_(std::move(section)), network_(std::move(network)), dimension_(dimension) {}
  std::shared_ptr<const ClassifierSection> section() const override { return section_; }
  int classes() const override;
  ClassifierAbilities abilities() const override;
  ClassifierPass forward(const Eigen::VectorXd& x) const override;
  void check(const RelevanceRequest& request) const override;
  ClassifierRelevance relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                const RelevanceRequest& request) const override;
  Eigen::VectorXd gradient(const Eigen::VectorXd& x, int c) const override;
  std::map<std::string, std::string> save(const std::filesystem::path& scratch) const override;
  std::string describe() const override { return "network classifier"; }
  /// One stage per affine layer, the output layer first (randomise_network_layers).
  std::vector<std::string> randomisation_stages() const override;
  std::shared_ptr<const HistogramClassifier> randomised(int stages, std::uint64_t seed) const override;
  const Network& network() const { return network_; }
  /// The network's input shape 1 x 1 x dimension.
  TensorShape shape() const { return {1, 1, static_cast<int>(dimension_)}; }

 private:
  std::shared_ptr<const NetworkSection> section_;
  Network network_;
  long dimension_;
};

}  // namespace pixelwise
