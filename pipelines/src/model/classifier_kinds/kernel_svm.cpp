// Kernel SVMs on the histograms (one-vs-rest and one-vs-one kinds share this):
// the svm section, the forward pass and the SVM layer's decomposition
// (docs/design.md 1.4: exact for additive kernels by lrp, Taylor at a root point
// for any kernel).
#include <stdexcept>

#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/classifiers/kernel_gradients.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "svm_section.hpp"

namespace pixelwise {

SvmSectionValues parse_svm_values(const nlohmann::json& section) {
  check_keys(section, {"kernel", "C", "tolerance", "cache_mb", "multiclass", "gamma", "degree", "coef0", "feature_map"},
             kSvmWhere);
  SvmSectionValues v;
  try {
    nlohmann::json options = section;
    options.erase("feature_map");
    v.options = options.get<SvmOptions>();
    if (section.contains("multiclass"))
      v.multiclass = enum_names(v.multiclass).read(section.at("multiclass"), "multiclass", kSvmWhere);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(kSvmWhere + ": " + e.what());
  }
  return v;
}

bool svm_multiclass_is(const nlohmann::json& section, Multiclass multiclass) {
  if (!section.is_object() || !section.contains("multiclass")) return multiclass == Multiclass::one_vs_rest;
  const nlohmann::json& m = section.at("multiclass");
  return m.is_string() && m.get<std::string>() == name_of(multiclass);
}

RowMatrixXd load_support_vectors(const StoredFiles& files) {
  RowMatrixXd sv = parse_npy_f8(files.need("support_vectors.npy"), files.path("support_vectors.npy"));
  if (sv.cols() != files.dimension)
    throw std::runtime_error("support_vectors.npy has the wrong dimension for this pipeline");
  return sv;
}

const EnumNames<Multiclass>& enum_names(Multiclass) {
  static const EnumNames<Multiclass> names{{Multiclass::one_vs_rest, "one_vs_rest"}, {Multiclass::one_vs_one, "one_vs_one"}};
  return names;
}

std::string SvmSection::kind() const { return name_of(multiclass_) + "_svm"; }

nlohmann::json SvmSection::to_json() const {
  nlohmann::json j = options;
  j["multiclass"] = name_of(multiclass());
  return j;
}

void SvmSection::check_combine(Combine combine) const {
  if (combine == Combine::sum_of_kernels && !is_additive(options.kernel))
    throw std::invalid_argument("config: combine \"sum_of_kernels\" weights additive kernels (linear, hik, chi2, "
                                "hellinger), not " + name_of(options.kernel));
}

KernelSvmClassifier::KernelSvmClassifier(std::shared_ptr<const SvmSection> section, OneVsRestSvm machines)
    : section_(std::move(section)), machines_(std::move(machines)) {}

ClassifierAbilities KernelSvmClassifier::abilities() const {
  return {{ExplainMethod::lrp, ExplainMethod::taylor, ExplainMethod::sensitivity}, true, false};
}

ClassifierPass KernelSvmClassifier::forward(const Eigen::VectorXd& x) const {
  ClassifierPass pass;
  // Additive kernels: per-dimension tables, one pass for the scores and the
  // bin terms an explanation needs (additive_tables.hpp; equal to the direct
  // kernel sum up to rounding).
  if (machines_.kernel_function().additive()) {
    pass.terms = machines_.evaluate_additive(x);
    pass.scores = pass.terms.scores;
  } else {
    pass.scores = machines_.decisions(x);
  }
  return pass;
}

void KernelSvmClassifier::check(const RelevanceRequest& request) const {
  if (request.versus >= 0)
    throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one model; this one is " +
                                name_of(section_->multiclass()));
}

ClassifierRelevance KernelSvmClassifier::relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                                   const RelevanceRequest& request) const {
  check(request);
  ClassifierRelevance r;
  r.score = pass.scores[c];
  r.explained = "one-vs-rest decision of " + request.context.class_name(c);
  decompose(machines_, c, x, &pass, c, request, r);
  return r;
}

void KernelSvmClassifier::decompose(const OneVsRestSvm& svm, int m, const Eigen::VectorXd& x,
                                    const ClassifierPass* pass, int c, const RelevanceRequest& request,
                                    ClassifierRelevance& r) const {
  r.bias = svm.machine(m).bias();
  r.report = {{"classifier", "svm"}, {"multiclass", name_of(section_->multiclass())}};
  Relevance& bins = r.decomposition;
  if (request.method == ExplainMethod::lrp) {
    // The bin terms of the pass that gave the scores, where there are some.
    bins = pass && pass->terms.scores.size() != 0
               ? decompose_svm(pass->terms.class_terms(m, x.size()), pass->terms.scores[m], r.bias, x, request.policy)
               : decompose_svm(svm, m, x, request.policy);
  } else {
    static const RowMatrixXd no_means;
    static const std::vector<long> no_counts;
    static const std::vector<std::string> no_names;
    const ClassifierContext& context = request.context;
    // "nearest": the model's support vectors (of the summed machines for a pairwise one).
    const ReferenceSources sources{machines_.support_vectors(), context.class_means ? *context.class_means : no_means,
                                   context.class_counts ? *context.class_counts : no_counts,
                                   context.classes ? *context.classes : no_names};
    try {
      r.taylor = taylor_decompose_svm(svm, m, x, taylor_references(sources, request.reference, c, request.versus, r.score),
                                      request.taylor);
    } catch (const std::exception& error) {
      throw std::runtime_error(request.what + ": class " + context.class_name(c) + ": " + error.what());
    }
    bins.relevance = r.taylor->relevance;
    bins.account = r.taylor->layer;
  }
}

Eigen::VectorXd KernelSvmClassifier::gradient(const Eigen::VectorXd& x, int c) const {
  return decision_gradient(machines_, c, x);
}

}  // namespace pixelwise
