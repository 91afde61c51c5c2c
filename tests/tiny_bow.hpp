#pragma once
// A tiny BoW pipeline that trains in a second on a hundred Fashion-MNIST
// images: 2 SIFT scales, 24 words, 1x1 + 2x2 pyramid, C = 10.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"

namespace pixelwise::test {

inline nlohmann::json tiny_config_json(const std::string& kernel) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "descriptor": {"step": 3, "bin_sizes": [3, 4]},
    "codebook": {"words": 24, "training_descriptors": 3000, "seed": 3},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "svm": {"C": 10}
  })");
  j["svm"]["kernel"] = kernel;
  return j;
}

inline PipelineConfig tiny_config(const std::string& kernel) { return PipelineConfig::parse(tiny_config_json(kernel)); }

/// The kernel SVMs whose decisions are the class scores of a kernel-SVM model.
inline const OneVsRestSvm& svm_of(const BowModel& model) {
  const auto* svm = model.classifier_as<KernelSvmClassifier>();
  if (!svm) throw std::logic_error("the model's classifier is not kernel SVMs but " + model.classifier->kind());
  return svm->machines();
}

}  // namespace pixelwise::test
