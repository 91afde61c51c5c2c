// Kind "one_vs_rest_svm": one kernel SVM per class against all others, the
// default classifier (docs/design.md 1.4). Files: support_vectors.npy and
// svm-<c>.model, libsvm's model of class c (precomputed kernel; support
// vectors are 1-based rows of support_vectors.npy).
#include <stdexcept>

#include "pixelwise/classifiers/randomisation.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "svm_section.hpp"

namespace pixelwise {
namespace {

std::string svm_file(int c) { return "svm-" + std::to_string(c) + ".model"; }

std::shared_ptr<const ClassifierSection> parse(const nlohmann::json& section) {
  const SvmSectionValues v = parse_svm_values(section);
  return std::make_shared<SvmSection>(Multiclass::one_vs_rest, v.options);
}

TrainedClassifier train(const ClassifierSection& section, const TrainingRun& run) {
  const auto& s = dynamic_cast<const SvmSection&>(section);
  run.say("SVMs: one_vs_rest, " + std::to_string(run.classes) + " classes, kernel " + name_of(s.options.kernel));
  OneVsRestSvm svm = OneVsRestSvm::train(run.X, run.labels, run.classes, s.options);
  run.say("done: " + std::to_string(svm.support_vectors().rows()) + " support vectors");
  // A gamma set by the "mean" rule is stored, so that the model reloads exactly.
  auto section_trained = std::make_shared<SvmSection>(s);
  if (svm.kernel_function().uses_gamma()) section_trained->options.gamma = svm.kernel_function().gamma;
  TrainedClassifier trained;
  trained.classifier = std::make_shared<OneVsRestSvmClassifier>(section_trained, std::move(svm));
  return trained;
}

std::shared_ptr<const HistogramClassifier> load(const ClassifierSection& section, const StoredFiles& files) {
  const auto& s = dynamic_cast<const SvmSection&>(section);
  RowMatrixXd sv = load_support_vectors(files);
  std::vector<std::string> paths;
  for (int c = 0; c < files.classes; ++c) {
    files.need(svm_file(c));
    paths.push_back(files.path(svm_file(c)));
  }
  return std::make_shared<OneVsRestSvmClassifier>(std::make_shared<SvmSection>(s),
                                                  OneVsRestSvm::load(s.options.kernel_function(), std::move(sv), paths));
}

}  // namespace

std::map<std::string, std::string> OneVsRestSvmClassifier::save(const std::filesystem::path& scratch) const {
  std::map<std::string, std::string> files{{"support_vectors.npy", npy_bytes(machines().support_vectors())}};
  for (int c = 0; c < machines().classes(); ++c) {
    const std::filesystem::path p = scratch / svm_file(c);
    machines().save_machine(c, p.string());
    files[svm_file(c)] = read_file(p.string());
  }
  return files;
}

std::vector<std::string> OneVsRestSvmClassifier::randomisation_stages() const {
  return {"svm coefficients"};
}

std::shared_ptr<const HistogramClassifier> OneVsRestSvmClassifier::randomised(int stages, std::uint64_t seed) const {
  check_randomisation_stages(stages, 1, "one-vs-rest SVMs");
  return std::make_shared<OneVsRestSvmClassifier>(std::dynamic_pointer_cast<const SvmSection>(section()),
                                                  permute_svm_coefficients(machines(), randomisation_seed(seed, 1)));
}

ClassifierKind one_vs_rest_svm_kind() {
  // Any svm section the more specific SVM kinds did not take.
  return {"one_vs_rest_svm", "svm", [](const nlohmann::json&) { return true; }, parse, train, load};
}

}  // namespace pixelwise
