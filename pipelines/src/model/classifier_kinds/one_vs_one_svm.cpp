// Kind "one_vs_one_svm" (svm.multiclass "one_vs_one"): libsvm's own
// multi-class model of K (K-1) / 2 pairwise machines. The class scores are the
// summed pairwise machines s_c = sum_{c' != c} f_{c,c'} (one_vs_one.hpp), so
// the SVM layer is decomposed as one-vs-rest machines (docs/design.md 1.4); a
// pairwise decision f_{c,versus} can be explained too. Files:
// support_vectors.npy and svm-ovo.model, libsvm's multi-class model.
#include <stdexcept>

#include "pixelwise/classifiers/randomisation.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "svm_section.hpp"

namespace pixelwise {
namespace {

constexpr const char* kOneVsOneFile = "svm-ovo.model";

std::shared_ptr<const ClassifierSection> parse(const nlohmann::json& section) {
  const SvmSectionValues v = parse_svm_values(section);
  if (!is_additive(v.options.kernel))
    throw std::invalid_argument(kSvmWhere + ": one_vs_one models take an additive kernel (linear, hik, chi2, "
                                "hellinger), not " + name_of(v.options.kernel));
  return std::make_shared<SvmSection>(Multiclass::one_vs_one, v.options);
}

TrainedClassifier train(const ClassifierSection& section, const TrainingRun& run) {
  const auto& s = dynamic_cast<const SvmSection&>(section);
  run.say("SVMs: one_vs_one, " + std::to_string(run.classes) + " classes, kernel " + name_of(s.options.kernel));
  auto classifier = std::make_shared<OneVsOneSvmClassifier>(std::make_shared<SvmSection>(s),
                                                            OneVsOneSvm::train(run.X, run.labels, run.classes, s.options));
  run.say("done: " + std::to_string(classifier->machines().support_vectors().rows()) + " support vectors");
  TrainedClassifier trained;
  trained.classifier = classifier;  // additive kernels only: no gamma to store
  return trained;
}

std::shared_ptr<const HistogramClassifier> load(const ClassifierSection& section, const StoredFiles& files) {
  const auto& s = dynamic_cast<const SvmSection&>(section);
  RowMatrixXd sv = load_support_vectors(files);
  files.need(kOneVsOneFile);
  return std::make_shared<OneVsOneSvmClassifier>(
      std::make_shared<SvmSection>(s),
      OneVsOneSvm::load(s.options.kernel_function().type, std::move(sv), files.classes, files.path(kOneVsOneFile)));
}

}  // namespace

OneVsOneSvmClassifier::OneVsOneSvmClassifier(std::shared_ptr<const SvmSection> section, OneVsOneSvm pairwise)
    : KernelSvmClassifier(std::move(section), pairwise.summed_machines()), pairwise_(std::move(pairwise)) {}

void OneVsOneSvmClassifier::check(const RelevanceRequest&) const {}

ClassifierRelevance OneVsOneSvmClassifier::relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                                     const RelevanceRequest& request) const {
  if (request.versus < 0) {
    ClassifierRelevance r = KernelSvmClassifier::relevance(x, pass, c, request);
    r.explained = "sum of the pairwise decisions of " + request.context.class_name(c);
    return r;
  }
  if (request.versus == c) throw std::invalid_argument("a class cannot be explained versus itself");
  const OneVsRestSvm pair = pairwise_.pairwise_machine(c, request.versus);
  ClassifierRelevance r;
  r.score = pair.decision(0, x);
  r.explained = "pairwise decision f(" + request.context.class_name(c) + " vs " +
                request.context.class_name(request.versus) + ")";
  decompose(pair, 0, x, nullptr, c, request, r);
  return r;
}

std::map<std::string, std::string> OneVsOneSvmClassifier::save(const std::filesystem::path& scratch) const {
  const std::filesystem::path p = scratch / kOneVsOneFile;
  pairwise_.save(p.string());
  return {{"support_vectors.npy", npy_bytes(machines().support_vectors())}, {kOneVsOneFile, read_file(p.string())}};
}

std::vector<std::string> OneVsOneSvmClassifier::randomisation_stages() const {
  return {"svm coefficients"};
}

std::shared_ptr<const HistogramClassifier> OneVsOneSvmClassifier::randomised(int stages, std::uint64_t seed) const {
  check_randomisation_stages(stages, 1, "one-vs-one SVMs");
  return std::make_shared<OneVsOneSvmClassifier>(std::dynamic_pointer_cast<const SvmSection>(section()),
                                                 pairwise_.with_permuted_coefficients(randomisation_seed(seed, 1)));
}

ClassifierKind one_vs_one_svm_kind() {
  return {"one_vs_one_svm", "svm",
          [](const nlohmann::json& section) { return svm_multiclass_is(section, Multiclass::one_vs_one); }, parse, train, load};
}

}  // namespace pixelwise
