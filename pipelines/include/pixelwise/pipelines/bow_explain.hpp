#pragma once
// Explaining one decision of a BoW model pixel by pixel (DESIGN.md 1.2-1.5):
// SVM score -> histogram bins -> local features -> pixels, with the
// conservation account of every step. A multi-channel model sends each
// channel's block of bin relevance down that channel's pooling and pixel
// layers; the per-channel accounts are reported and the pixel maps summed.
#include <nlohmann/json.hpp>
#include <optional>

#include "pixelwise/decomposition/accounting.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "pixelwise/decomposition/taylor.hpp"
#include "pixelwise/pipelines/bow_model.hpp"
#include "pixelwise/pipelines/taylor_reference.hpp"

namespace pixelwise {

/// One channel's share of an explanation.
struct ChannelRelevance {
  std::string name;
  long offset = 0, bins = 0;   ///< its block of the histogram
  int first_feature = 0;       ///< its features are [first_feature, first_feature + features) of BowExplanation::features
  int features = 0;
  double bin_relevance = 0;    ///< sum of R over its bins
  LayerRelevance pooling, pixels;
  RowMatrixXd pixel_map;       ///< H x W, this channel's part of BowExplanation::pixels
};

/// How the SVM layer is decomposed (DESIGN.md 1.4); the layers below always
/// use their LRP rules.
///   "lrp":    the exact decomposition of an additive kernel, bias by `policy`;
///   "taylor": first-order Taylor at a root point (any kernel; taylor.hpp),
///             reference `reference`, root search `taylor`.
struct ExplainOptions {
  std::string method = "lrp";
  BiasPolicy policy = BiasPolicy::nonzero;
  TaylorReference reference;
  TaylorOptions taylor;
};

struct BowExplanation {
  std::string method = "lrp";  ///< ExplainOptions::method
  int class_index = 0;
  int predicted = 0;
  int versus = -1;           ///< one-vs-one pairwise explanation: the other class (else -1)
  double score = 0;          ///< the explained score: f_c(x), s_c(x) (one-vs-one) or f_{c,versus}(x)
  double bias = 0;           ///< b of the explained machine
  BiasPolicy policy = BiasPolicy::nonzero;
  Eigen::VectorXd scores;    ///< all classes
  Eigen::VectorXd bin_relevance;
  LocalFeatures features;    ///< frames of all channels in channel order (Frame::channel); no descriptors
  Eigen::VectorXd feature_relevance;
  RowMatrixXd pixels;        ///< H x W relevance, summed over the channels
  std::vector<LayerRelevance> layers;  ///< svm, pooling, pixels (the latter two summed over channels)
  std::vector<ChannelRelevance> channels;
  /// method "taylor": root, reference, gradient, root score, first-order sum.
  std::optional<SvmTaylorRelevance> taylor;
  double pixel_sum = 0;
  /// score - pixel_sum: what the heatmap does not show (the absorbed bias under
  /// policy "none" or the Taylor residual, unassigned relevance, rounding).
  double residual() const { return score - pixel_sum; }
};

/// Explains class `class_index` (-1: the predicted class) for one image (grey
/// or colour, as BowModel::forward). For a one-vs-one model, `versus` >= 0
/// explains the pairwise decision f_{class, versus}; versus = -1 explains the
/// summed pairwise score s_class. One-vs-rest models take no `versus`.
BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, const ExplainOptions& options,
                       const std::string& what, int versus = -1);
/// The same with method "lrp" and the given bias policy.
BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, BiasPolicy policy,
                       const std::string& what, int versus = -1);

nlohmann::json explanation_json(const BowModel& model, const BowExplanation& e);

}  // namespace pixelwise
