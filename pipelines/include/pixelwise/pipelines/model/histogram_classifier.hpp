#pragma once
// The classifier on top of a BoW histogram, whatever its kind (docs/design.md 1.4
// SVM decomposition, 1.7 networks): one interface, so that the model
// directory, the explanation, the evaluation, the CLI and the Python module
// never ask which kind it is. Every kind registers once (registry below) with
// the name it is saved under, how its configuration section is recognised,
// parsed, trained and loaded; a new kind is a new file plus one line in
// builtin_kinds() (histogram_classifier.cpp).
//
// Built-in kinds (classifier_kinds.hpp):
//   one_vs_rest_svm  kernel SVMs, one per class                ("svm" section)
//   one_vs_one_svm   libsvm's one-vs-one, summed per class     ("svm", multiclass one_vs_one)
//   kernel_map_svm   linear SVMs on a homogeneous kernel map   ("svm" with feature_map)
//   network          an MLP on the histograms                   ("network" section)
#include <Eigen/Core>
#include <any>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pixelwise/classifiers/additive_tables.hpp"
#include "pixelwise/classifiers/kernels.hpp"
#include "pixelwise/decomposition/accounting.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "pixelwise/decomposition/taylor.hpp"
#include "pixelwise/pipelines/model/bow_channels.hpp"
#include "pixelwise/pipelines/model/explain_method.hpp"
#include "pixelwise/pipelines/model/taylor_reference.hpp"

namespace pixelwise {


/// The parsed configuration section of one classifier kind (docs/config.md).
class ClassifierSection {
 public:
  virtual ~ClassifierSection() = default;
  /// The registered kind name.
  virtual std::string kind() const = 0;
  /// The section as written in the configuration (under ClassifierKind::section).
  virtual nlohmann::json to_json() const = 0;
  /// Throws std::invalid_argument when this kind cannot take the channel
  /// combination (bow_channels.hpp), e.g. a network and "sum_of_kernels".
  virtual void check_combine(Combine combine) const = 0;
  /// The kernel whose channel weights "sum_of_kernels" applies; none when the
  /// kind takes only "concatenate" (the encoding then ignores it).
  virtual std::optional<KernelType> summed_kernel() const = 0;
};

/// What one evaluation of the classifier leaves for the relevance of any class.
struct ClassifierPass {
  Eigen::VectorXd scores;  ///< f_c(x) of every class
  /// Additive decisions (additive kernels, kernel maps; docs/design.md 1.4): every
  /// class's per-bin terms from the same pass that gave the scores.
  AdditiveEvaluation terms;
  std::any state;  ///< anything else a kind keeps from its pass
};

/// What a kind may need from the model around it.
struct ClassifierContext {
  const std::vector<std::string>* classes = nullptr;  ///< names, for the description of the explained decision
  /// Mean training histogram per class and image counts (Taylor references; may be empty).
  const RowMatrixXd* class_means = nullptr;
  const std::vector<long>* class_counts = nullptr;
  std::optional<std::pair<double, double>> histogram_bounds;  ///< bounds of the "zb" rule (1.7)
  std::string class_name(int c) const { return classes ? (*classes)[static_cast<size_t>(c)] : std::to_string(c); }
};

/// What the explanation asks of the classifier layer.
struct RelevanceRequest {
  /// How the decision is decomposed onto the bins: lrp (exact for additive
  /// kernels and kernel maps, 1.4; layer rules for networks, 1.7), taylor (1.4)
  /// or sensitivity (the squared gradient, needs gradient()).
  ExplainMethod method = ExplainMethod::lrp;
  BiasPolicy policy = BiasPolicy::nonzero;  ///< lrp of a machine with a bias (1.4)
  std::string rule;                         ///< networks: composite (Composite::parse)
  bool ignore_bias = false;                 ///< networks: biases absorb no relevance
  int versus = -1;                          ///< pairwise decision against this class (one-vs-one), or -1
  TaylorReference reference;                ///< taylor
  TaylorOptions taylor;                     ///< taylor
  ClassifierContext context;
  std::string what;  ///< names the input in errors
};

/// The classifier layer's share of an explanation.
struct ClassifierRelevance {
  /// Relevance of every histogram bin, with the classifier layer's account
  /// (SVMs) or its layers' accounts, top first (a network): the record of the
  /// classifier's relevance step (ClassifierStep, relevance_step.hpp).
  Relevance decomposition;
  double score = 0;                     ///< the explained score
  double bias = 0;                      ///< b of the explained machine (0 where there is none)
  bool reports_bias = true;             ///< false: the bias is accounted per layer (networks), no bias policy
  std::string explained;                ///< which decision was explained, in words
  /// Kind-specific fields of the explanation JSON (at least "classifier").
  nlohmann::json report = nlohmann::json::object();
  std::optional<SvmTaylorRelevance> taylor;  ///< method taylor
};

/// Which requests a kind serves (the CLI and the Python module check theirs against it).
struct ClassifierAbilities {
  std::vector<ExplainMethod> methods;    ///< the methods it explains itself, lrp first
  bool bias_policy = true;               ///< lrp splits a bias by BiasPolicy
  bool composite = false;                ///< lrp takes a network composite rule and ignore_bias
  bool offers(ExplainMethod m) const;
};

/// The files of a model directory that a kind reads.
struct StoredFiles {
  std::filesystem::path root;                  ///< the model directory (libsvm reads its files by path)
  const std::map<std::string, std::string>* contents = nullptr;  ///< name -> verified bytes
  long dimension = 0;                          ///< histogram length of the pipeline
  int classes = 0;
  /// The bytes of `name`; an error naming it when the manifest lists no such file.
  const std::string& need(const std::string& name) const;
  std::string path(const std::string& name) const { return (root / name).string(); }
};

class HistogramClassifier {
 public:
  virtual ~HistogramClassifier() = default;
  std::string kind() const { return section()->kind(); }
  /// The configuration section it was trained with (with values fixed at
  /// training, e.g. an SVM's gamma of the "mean" rule).
  virtual std::shared_ptr<const ClassifierSection> section() const = 0;
  virtual int classes() const = 0;
  virtual ClassifierAbilities abilities() const = 0;

  virtual ClassifierPass forward(const Eigen::VectorXd& x) const = 0;
  /// Throws std::invalid_argument for a request this kind cannot serve, with
  /// the reason (before any input is read).
  virtual void check(const RelevanceRequest& request) const = 0;
  /// Relevance of every bin for the decision of class c (check()ed first).
  virtual ClassifierRelevance relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                        const RelevanceRequest& request) const = 0;
  /// d f_c / d x; std::invalid_argument where the kind has none.
  virtual Eigen::VectorXd gradient(const Eigen::VectorXd& x, int c) const = 0;

  /// The kind's files of the model directory (name -> bytes); `scratch` is an
  /// empty folder for writers that only write files (libsvm).
  virtual std::map<std::string, std::string> save(const std::filesystem::path& scratch) const = 0;
  /// E.g. "kernel hik" or "network classifier".
  virtual std::string describe() const = 0;
  /// The kernel in words (e.g. "hik"); empty when the classifier has none.
  virtual std::string kernel() const { return {}; }

  /// The model randomisation test (Adebayo et al. 2018, 3.1; docs/evaluation.md
  /// "Sanity checks"): the classifier's stages, top first -- one for SVMs, one
  /// per affine layer of a network, the output layer first. Empty: the kind has
  /// no randomisation, and randomised() says so.
  virtual std::vector<std::string> randomisation_stages() const { return {}; }
  /// A copy whose first `stages` stages (1 .. randomisation_stages().size(),
  /// cumulative) are randomised by permuting their trained parameters
  /// (classifiers/randomisation.hpp), stage s seeded by randomisation_seed(seed, s).
  /// The default throws std::invalid_argument naming the kind: it has no
  /// randomisation (never the same classifier returned as if randomised).
  virtual std::shared_ptr<const HistogramClassifier> randomised(int stages, std::uint64_t seed) const;
};

/// Throws std::invalid_argument unless 1 <= stages <= available (`what` names the model).
void check_randomisation_stages(int stages, long available, const std::string& what);

/// What a kind trains from: the training histograms (rows of X) and labels.
struct TrainingRun {
  const RowMatrixXd& X;
  const std::vector<int>& labels;
  int classes;
  std::function<void(const std::string&)> say;  ///< progress line
  std::ostream* log;                            ///< detailed progress, or null
};

struct TrainedClassifier {
  std::shared_ptr<const HistogramClassifier> classifier;
  nlohmann::json info = nlohmann::json::object();  ///< merged into the model's training info
  /// Predicted class of every training histogram, when the training has no
  /// report of its own: BowModel::train records the training accuracy.
  std::optional<std::vector<int>> predicted;
};

/// One classifier kind of the registry.
struct ClassifierKind {
  std::string name;     ///< kind(), e.g. "one_vs_rest_svm"
  std::string section;  ///< top-level configuration key it reads, e.g. "svm"
  /// Whether a configuration whose `section` is this JSON is of this kind (the
  /// first registered kind that recognises a section takes it).
  std::function<bool(const nlohmann::json& section)> recognises;
  std::function<std::shared_ptr<const ClassifierSection>(const nlohmann::json& section)> parse;
  std::function<TrainedClassifier(const ClassifierSection&, const TrainingRun&)> train;
  std::function<std::shared_ptr<const HistogramClassifier>(const ClassifierSection&, const StoredFiles&)> load;
};

/// Adds a kind (after the built-in ones); a name already registered is an error.
void register_classifier_kind(ClassifierKind kind);
/// All kinds in registration order: the built-in ones first.
std::vector<ClassifierKind> classifier_kinds();
/// The kind of that name; std::invalid_argument naming the known ones otherwise.
ClassifierKind classifier_kind(const std::string& name);
/// The section of a configuration without classifier section (the first
/// built-in kind, one-vs-rest SVMs, with default options).
std::shared_ptr<const ClassifierSection> default_classifier_section();
/// The classifier section of a whole configuration `j`: the kind that
/// recognises the one classifier section present (two are an error).
std::shared_ptr<const ClassifierSection> parse_classifier_section(const nlohmann::json& j);

}  // namespace pixelwise
