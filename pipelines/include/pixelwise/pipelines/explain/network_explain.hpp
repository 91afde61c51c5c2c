#pragma once
// Explaining one decision of a network classifier pixel by pixel (docs/design.md
// 1.7): LRP with a composite of rules, whole-network Taylor decomposition at a
// root point, or sensitivity; with the per-layer conservation account, the
// JSON report and paper-style figures.
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>

#include "pixelwise/decomposition/network_lrp.hpp"
#include "pixelwise/features/local_features.hpp"
#include "pixelwise/pipelines/model/explain_method.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"

namespace pixelwise {

struct NetworkExplainOptions {
  ExplainMethod method = ExplainMethod::lrp;  ///< lrp, taylor or sensitivity
  /// Composite preset, rule or "SELECTOR=RULE;..." (Composite::parse); "zb"
  /// without bounds takes the model's input range.
  std::string rule = "zb-epsilon-plus";
  bool ignore_bias = false;
  int class_index = -1;  ///< -1: the predicted class
};

struct NetworkExplanation {
  ExplainMethod method = ExplainMethod::lrp;  ///< lrp, taylor or sensitivity
  std::string rule;  ///< the composite as applied (lrp only)
  bool ignore_bias = false;
  TensorShape shape;
  Eigen::VectorXd scores;  ///< pre-softmax
  int class_index = 0, predicted = 0;
  double score = 0;
  RowMatrixXd pixels;  ///< H x W relevance (channels summed)
  std::vector<LayerRelevance> layers;  ///< lrp: one per layer, top first
  std::vector<std::string> layer_rules;  ///< lrp: rule per layer in network order
  double pixel_sum = 0;
  // Taylor decomposition only (paper Fig 11):
  RowMatrixXd root, root_gradient;  ///< H x W (channels summed)
  double root_score = 0;
  std::string root_reference;
  /// score - pixel_sum: absorbed and unassigned relevance (lrp), f(x0) and
  /// the higher-order terms (taylor); not meaningful for sensitivity.
  double residual() const { return score - pixel_sum; }
};

NetworkExplanation explain_network(const NetworkModel& model, const cv::Mat& gray, const NetworkExplainOptions& options,
                                   const std::string& what);

nlohmann::json network_explanation_json(const NetworkModel& model, const NetworkExplanation& e);

/// Side-by-side panels: input and heatmap (lrp, sensitivity), or input, root
/// point, gradient at the root and decomposition (taylor, paper Fig 11).
/// Heatmaps use the diverging colour map of render_heatmap on white.
cv::Mat network_figure(const NetworkModel& model, const cv::Mat& gray, const NetworkExplanation& e);

}  // namespace pixelwise
