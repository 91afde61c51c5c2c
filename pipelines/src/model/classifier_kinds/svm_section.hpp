#pragma once
// What the three SVM kinds share of the "svm" configuration section and of the
// model directory (classifier_kinds.hpp).
#include <nlohmann/json.hpp>
#include <string>

#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"

namespace pixelwise {

inline const std::string kSvmWhere = "config section \"svm\"";

/// The svm section's options and its "multiclass" value (default
/// "one_vs_rest"); unknown keys are errors. feature_map is left to its kind.
struct SvmSectionValues {
  SvmOptions options;
  Multiclass multiclass = Multiclass::one_vs_rest;
};
SvmSectionValues parse_svm_values(const nlohmann::json& section);
/// Whether the svm section `section` asks for `multiclass` (a wrong type is
/// left to the parser's error).
bool svm_multiclass_is(const nlohmann::json& section, Multiclass multiclass);

/// support_vectors.npy of a kernel-SVM model, checked against the pipeline's dimension.
RowMatrixXd load_support_vectors(const StoredFiles& files);

}  // namespace pixelwise
