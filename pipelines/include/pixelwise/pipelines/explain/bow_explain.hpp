#pragma once
// Explaining one decision of a BoW model pixel by pixel (docs/design.md 1.2-1.5,
// 1.7): the classifier's score -> histogram bins (by the classifier's kind:
// histogram_classifier.hpp) -> local features -> pixels, with the conservation account of every step. A multi-channel model sends each
// channel's block of bin relevance down that channel's pooling and pixel
// layers; the per-channel accounts are reported and the pixel maps summed.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "pixelwise/decomposition/accounting.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "pixelwise/decomposition/taylor.hpp"
#include "pixelwise/features/sift_contributions.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/taylor_reference.hpp"

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
  /// Fisher vector / VLAD: relevance per GMM component / VLAD centre, summed
  /// over its dimensions and cells (docs/design.md 1.8); empty for a histogram.
  Eigen::VectorXd component_relevance;
};

/// The LRP composite of a network classifier on BoW histograms when none is
/// given: epsilon (0.01) on every Linear layer. Relevance then reaches only
/// bins that are present in the image, which the pooling layer passes on to
/// features; z^B ("zb-epsilon-plus", the default for networks on pixels) would
/// also give relevance to empty bins, which no feature can take (unassigned).
inline constexpr const char* kBowNetworkDefaultRule = "epsilon-plus";

/// How the classifier layer is decomposed (docs/design.md 1.4, 1.7); the layers
/// below always use their LRP rules.
///   lrp:    SVM: the exact decomposition of an additive kernel, bias by
///             `policy`; network: LRP with the composite `rule` (bias absorbed
///             and reported unless `ignore_bias`);
///   taylor: SVM only: first-order Taylor at a root point (any kernel;
///             taylor.hpp), reference `reference`, root search `taylor`.
struct ExplainOptions {
  ExplainMethod method = ExplainMethod::lrp;  ///< lrp or taylor
  BiasPolicy policy = BiasPolicy::nonzero;
  TaylorReference reference;
  TaylorOptions taylor;
  /// Network classifiers: composite preset, rule or "SELECTOR=RULE;..."
  /// (Composite::parse; "zb" without bounds takes PipelineConfig::histogram_bounds).
  std::string rule = kBowNetworkDefaultRule;
  bool ignore_bias = false;  ///< network classifiers: biases absorb no relevance
  /// Also split each feature's relevance over the pyramid levels
  /// (BowExplanation::level_relevance): one more pass of the pooling rule per
  /// level. The command line and the model adapter, which do not report the
  /// split, turn it off.
  bool levels = true;
  /// The pixel layer's weighting for every channel (--pixel-rule): none keeps
  /// each channel's configured "weighting" (docs/design.md 1.5, 1.9).
  std::optional<WeightingType> pixel_rule;
};

struct BowExplanation {
  ExplainMethod method = ExplainMethod::lrp;  ///< ExplainOptions::method
  int class_index = 0;
  int predicted = 0;
  int versus = -1;           ///< one-vs-one pairwise explanation: the other class (else -1)
  double score = 0;          ///< the explained score: f_c(x), s_c(x) (one-vs-one) or f_{c,versus}(x)
  double bias = 0;           ///< b of the explained machine (network: 0)
  BiasPolicy policy = BiasPolicy::nonzero;
  bool reports_bias = true;  ///< false: biases are accounted per layer (network), no bias policy
  std::string explained;     ///< the explained decision in words (ClassifierRelevance::explained)
  /// Fields of the explanation JSON particular to the classifier's kind, e.g.
  /// "multiclass", or a network's "rule", "layer_rules", "ignore_bias".
  nlohmann::json classifier_report = nlohmann::json::object();
  Eigen::VectorXd scores;    ///< all classes
  Eigen::VectorXd bin_relevance;
  LocalFeatures features;    ///< frames of all channels in channel order (Frame::channel); no descriptors
  Eigen::VectorXd feature_relevance;
  /// Features x pyramid levels (the most levels of any channel; a channel with
  /// fewer has 0 in the rest): the relevance each feature receives from its
  /// cell of each level (docs/design.md 1.2, 1.8). Row l adds up to
  /// feature_relevance[l] to rounding.
  RowMatrixXd level_relevance;  ///< empty unless ExplainOptions::levels
  RowMatrixXd pixels;        ///< H x W relevance, summed over the channels
  /// the classifier's layers (svm; network: one per network layer, top first), pooling, pixels
  /// (the latter two summed over channels).
  std::vector<LayerRelevance> layers;
  std::vector<ChannelRelevance> channels;
  /// method "taylor": root, reference, gradient, root score, first-order sum.
  std::optional<SvmTaylorRelevance> taylor;
  double pixel_sum = 0;
  /// score - pixel_sum: what the heatmap does not show (the absorbed bias under
  /// policy "none" or the Taylor residual, unassigned relevance, rounding).
  double residual() const { return score - pixel_sum; }
};

/// The rules of the BoW layers below the classifier (docs/design.md section 2) in
/// options.rule: "pooling=RULE" (any rule of the vocabulary, e.g. epsilon;
/// default LRP-0) and "pixels=flat" (the only pixel rule; its weights are the
/// channel's weighting or options.pixel_rule). For a network
/// classifier the same composite also gives the network layers their rules;
/// any other classifier takes only these two selectors (options.rule left at
/// its default: none). Throws std::invalid_argument naming what is wrong, so
/// that a bad rule is refused before any output.
Composite bow_layer_rules(const BowModel& model, const ExplainOptions& options);

/// The pixel-layer weighting of every channel: its descriptor's, or
/// `pixel_rule` (type only; a Gaussian keeps the channel's sigma) for all.
/// Gradient weighting decomposes dense and keypoint SIFT alike (docs/design.md 1.9).
std::vector<SupportWeighting> pixel_weightings(const BowModel& model, std::optional<WeightingType> pixel_rule);

/// The pixel contributions of channel `channel`'s descriptors in `encoding`
/// (of `image`, as BowModel::forward) when `weighting` is gradient, else null.
std::unique_ptr<SiftContributions> pixel_contributions(const BowModel& model, size_t channel,
                                                       const SupportWeighting& weighting, const cv::Mat& image,
                                                       const ChannelEncoding& encoding, const std::string& what);

/// Explains class `class_index` (-1: the predicted class) for one image (grey
/// or colour, as BowModel::forward). For a one-vs-one model, `versus` >= 0
/// explains the pairwise decision f_{class, versus}; versus = -1 explains the
/// summed pairwise score s_class. One-vs-rest models take no `versus`. A
/// network classifier is explained by LRP with options.rule down to the bins
/// (as explain_lrp on the histogram), then by the same BoW layers.
BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, const ExplainOptions& options,
                       const std::string& what, int versus = -1);
/// What explain() asks of the model's classifier (HistogramClassifier::check
/// tells before any input is read whether it can serve it).
RelevanceRequest relevance_request(const BowModel& model, const ExplainOptions& options, const std::string& what,
                                   int versus = -1);
/// The same with method "lrp" and the given bias policy.
BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, BiasPolicy policy,
                       const std::string& what, int versus = -1);

nlohmann::json explanation_json(const BowModel& model, const BowExplanation& e);

}  // namespace pixelwise
