#pragma once
// Explaining one decision of a BoW model pixel by pixel (DESIGN.md 1.2-1.5):
// SVM score -> histogram bins -> local features -> pixels, with the
// conservation account of every step.
#include <nlohmann/json.hpp>

#include "pixelwise/decomposition/accounting.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "pixelwise/pipelines/bow_model.hpp"

namespace pixelwise {

struct BowExplanation {
  int class_index = 0;
  int predicted = 0;
  double score = 0;          ///< f_c(x) of the explained class
  double bias = 0;           ///< b of that class's machine
  BiasPolicy policy = BiasPolicy::nonzero;
  Eigen::VectorXd scores;    ///< all classes
  Eigen::VectorXd bin_relevance;
  LocalFeatures features;
  Eigen::VectorXd feature_relevance;
  RowMatrixXd pixels;        ///< H x W relevance
  std::vector<LayerRelevance> layers;
  double pixel_sum = 0;
  /// score - pixel_sum: what the heatmap does not show (the absorbed bias under
  /// policy "none", unassigned relevance, rounding).
  double residual() const { return score - pixel_sum; }
};

/// Explains class `class_index` (-1: the predicted class) for one grey image.
BowExplanation explain(const BowModel& model, const cv::Mat& gray, int class_index, BiasPolicy policy,
                       const std::string& what);

nlohmann::json explanation_json(const BowModel& model, const BowExplanation& e);

}  // namespace pixelwise
