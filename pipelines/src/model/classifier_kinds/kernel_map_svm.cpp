// Kind "kernel_map_svm" (svm.feature_map): linear SVMs on VLFeat's homogeneous
// kernel map of an additive kernel, for training sets too large for a kernel
// matrix (homkermap_svm.hpp). f_c = sum_d h_{c,d}(x_d) + b_c exactly, so LRP is
// the rule of an additive kernel (docs/design.md 1.4) on the terms of the forward
// pass. File: mapped_svm.npy, float64 classes x (D (2n + 1) + 1), the weights
// then the bias of every class.
#include <stdexcept>

#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/classifiers/randomisation.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "svm_section.hpp"

namespace pixelwise {
namespace {

constexpr const char* kMappedSvmFile = "mapped_svm.npy";

// svm.feature_map (docs/config.md): the map's order and period and the SDCA
// solver's settings; kernel and C come from the svm section.
std::shared_ptr<const ClassifierSection> parse(const nlohmann::json& section) {
  const SvmSectionValues v = parse_svm_values(section);
  const nlohmann::json& j = section.at("feature_map");
  const std::string where = kSvmWhere + ": feature_map";
  check_keys(j, {"order", "period", "epsilon", "max_passes", "seed"}, where);
  auto f = std::make_shared<KernelMapSection>();
  f->options = v.options;
  try {
    f->map.kernel = v.options.kernel;
    // The linear kernel's map is the identity: order 0 unless (wrongly) given.
    f->map.order = j.value("order", v.options.kernel == KernelType::linear ? 0 : f->map.order);
    f->map.period = j.value("period", f->map.period);
    f->solver.C = v.options.C;
    f->solver.epsilon = j.value("epsilon", f->solver.epsilon);
    f->solver.max_passes = j.value("max_passes", f->solver.max_passes);
    f->solver.seed = j.value("seed", f->solver.seed);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
  if (v.options.kernel != KernelType::intersection && v.options.kernel != KernelType::chi2 &&
      v.options.kernel != KernelType::linear)
    throw std::invalid_argument(where + ": homogeneous kernel maps exist for the hik and chi2 kernels (and the "
                                "identity for linear), not " + name_of(v.options.kernel));
  if (v.multiclass != Multiclass::one_vs_rest)
    throw std::invalid_argument(where + ": kernel-map SVMs are one_vs_rest, not " + name_of(v.multiclass));
  try {
    f->map.validate();
    f->solver.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
  return f;
}

TrainedClassifier train(const ClassifierSection& section, const TrainingRun& run) {
  const auto& s = dynamic_cast<const KernelMapSection&>(section);
  const std::string on = s.map.kernel == KernelType::linear
                             ? std::string("linear SVMs (SDCA)")
                             : "linear SVMs on the order-" + std::to_string(s.map.order) + " " + name_of(s.map.kernel) +
                                   " kernel map";
  run.say(on + ": " + std::to_string(run.classes) + " classes, " + std::to_string(run.X.rows()) + " histograms of " +
          std::to_string(run.X.cols()) + " bins");
  MappedLinearSvm svm = MappedLinearSvm::train(run.X, run.labels, run.classes, s.map, s.solver);
  std::vector<int> predicted(run.X.rows());
  for (long i = 0; i < run.X.rows(); ++i) svm.decisions(run.X.row(i).transpose()).maxCoeff(&predicted[i]);
  return {std::make_shared<KernelMapSvmClassifier>(std::make_shared<KernelMapSection>(s), std::move(svm)), {},
          std::move(predicted)};
}

std::shared_ptr<const HistogramClassifier> load(const ClassifierSection& section, const StoredFiles& files) {
  const auto& s = dynamic_cast<const KernelMapSection&>(section);
  const std::string path = files.path(kMappedSvmFile);
  const RowMatrixXd table = parse_npy_f8(files.need(kMappedSvmFile), path);
  const long columns = files.dimension * (2 * s.map.order + 1) + 1;
  if (table.rows() != files.classes || table.cols() != columns)
    throw std::runtime_error(path + ": " + std::to_string(table.rows()) + " x " + std::to_string(table.cols()) +
                             ", the pipeline needs " + std::to_string(files.classes) + " x " + std::to_string(columns) +
                             " (a row of weights and the bias per class)");
  try {
    return std::make_shared<KernelMapSvmClassifier>(
        std::make_shared<KernelMapSection>(s),
        MappedLinearSvm(s.map, table.leftCols(columns - 1), table.col(columns - 1)));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace

nlohmann::json KernelMapSection::to_json() const {
  nlohmann::json j = options;
  j["multiclass"] = "one_vs_rest";
  j["feature_map"] = {{"order", map.order},        {"period", map.period},         {"epsilon", solver.epsilon},
                      {"max_passes", solver.max_passes}, {"seed", solver.seed}};
  return j;
}

void KernelMapSection::check_combine(Combine combine) const {
  if (combine != Combine::concatenate)
    throw std::invalid_argument("config: combine \"" + name_of(combine) +
                                "\" weights kernels; a kernel-map SVM (svm.feature_map) takes \"concatenate\"");
}

bool KernelMapSvmClassifier::linear() const { return section_->options.kernel == KernelType::linear; }

ClassifierAbilities KernelMapSvmClassifier::abilities() const {
  // No support vectors (Taylor); the tabulated map of hik and chi2 has no
  // derivative (sensitivity), the identity map of a linear kernel has.
  if (linear()) return {{ExplainMethod::lrp, ExplainMethod::sensitivity}, true, false};
  return {{ExplainMethod::lrp}, true, false};
}

ClassifierPass KernelMapSvmClassifier::forward(const Eigen::VectorXd& x) const {
  ClassifierPass pass;
  pass.terms = svm_.evaluate(x);  // w_c . psi(x) + b_c, split over the bins in the same pass
  pass.scores = pass.terms.scores;
  return pass;
}

void KernelMapSvmClassifier::check(const RelevanceRequest& request) const {
  if (request.method != ExplainMethod::lrp)
    throw std::invalid_argument("method \"" + name_of(request.method) +
                                "\" needs kernel SVMs; this model's linear SVMs on a kernel map are decomposed "
                                "exactly by lrp");
  if (request.versus >= 0) throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one SVM model");
}

ClassifierRelevance KernelMapSvmClassifier::relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                                      const RelevanceRequest& request) const {
  check(request);
  ClassifierRelevance r;
  r.score = pass.scores[c];
  r.bias = svm_.bias()[c];
  r.decomposition = decompose_svm(pass.terms.class_terms(c, x.size()), r.score, r.bias, x, request.policy);
  r.explained = linear() ? "one-vs-rest linear SVM decision of " + request.context.class_name(c)
                         : "one-vs-rest linear SVM decision on the " + name_of(section_->options.kernel) +
                               " kernel map of " + request.context.class_name(c);
  r.report = {{"classifier", "kernel-map svm"}, {"multiclass", "one_vs_rest"}};
  return r;
}

Eigen::VectorXd KernelMapSvmClassifier::gradient(const Eigen::VectorXd& x, int c) const {
  if (x.size() != svm_.dimension())
    throw std::invalid_argument("linear svm: input has dimension " + std::to_string(x.size()) + ", the model expects " +
                                std::to_string(svm_.dimension()));
  if (linear()) return svm_.weights().row(c).transpose();  // d (w_c . x + b_c) / d x
  throw std::invalid_argument("the descriptor-level sensitivity needs the classifier's gradient; a linear "
                              "SVM on a kernel map has none here (VLFeat's map is tabulated): use lrp or occlusion");
}

std::map<std::string, std::string> KernelMapSvmClassifier::save(const std::filesystem::path&) const {
  RowMatrixXd table(svm_.classes(), svm_.weights().cols() + 1);
  table << svm_.weights(), svm_.bias();
  return {{kMappedSvmFile, npy_bytes(table)}};
}

std::string KernelMapSvmClassifier::kernel() const {
  if (linear()) return "linear (linear SVMs by VLFeat's SDCA)";
  return name_of(section_->options.kernel) + " (order-" + std::to_string(svm_.feature_map().options().order) +
         " homogeneous kernel map + linear SVMs)";
}

std::vector<std::string> KernelMapSvmClassifier::randomisation_stages() const {
  return {"svm weights"};
}

std::shared_ptr<const HistogramClassifier> KernelMapSvmClassifier::randomised(int stages, std::uint64_t seed) const {
  check_randomisation_stages(stages, 1, "kernel-map SVMs");
  return std::make_shared<KernelMapSvmClassifier>(section_, permute_mapped_weights(svm_, randomisation_seed(seed, 1)));
}

ClassifierKind kernel_map_svm_kind() {
  return {"kernel_map_svm", "svm",
          [](const nlohmann::json& section) { return section.is_object() && section.contains("feature_map"); }, parse,
          train, load};
}

}  // namespace pixelwise
