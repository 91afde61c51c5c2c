#pragma once
// The one explanation path (docs/architecture.md, "the flow of one
// explanation"): every model the library loads is an ExplainableModel, every
// method runs through explain_with(), and every result is an Explanation,
// whatever the model kind (BoW + classifier, network) and the method (lrp,
// taylor, sensitivity, occlusion, random). The CLI's `explain` and
// `evaluate`, and Python's Model.explain all go through it, so that every
// method explains the same decision of the same input: the image as the model
// reads it (ExplainableModel::input: grey, or colour for a BoW model with
// colour channels).
//
// Adapters (explain/bow_adapter.cpp, explain/network_adapter.cpp):
//   BoW model  lrp and taylor by explain() (bow_explain.hpp, tiled by
//              explain_tiled), sensitivity at descriptor level
//              (bow_sensitivity); the methods its classifier kind offers.
//   network    lrp, taylor, sensitivity by explain_network (network_explain.hpp).
// occlusion and random need only the model's scores (baselines.hpp).
#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/decomposition/baselines.hpp"
#include "pixelwise/decomposition/metrics.hpp"
#include "pixelwise/pipelines/explain/tiles.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/explain_method.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"

namespace pixelwise {

/// One explanation of one decision of one image.
struct Explanation {
  ExplainMethod method = ExplainMethod::lrp;
  RowMatrixXd pixels;       ///< H x W relevance (tiled: the mean over the covering tiles)
  int class_index = 0;      ///< the explained class
  int predicted = 0;        ///< the class with the highest score
  double score = 0;         ///< the explained score: f_c(x) (one-vs-one: the summed or the pairwise score)
  Eigen::VectorXd scores;   ///< every class's score, from one forward pass
  long evaluations = 0;     ///< forward passes of the model the method needed
  double seconds = 0;       ///< wall time of the explanation
  /// Methods that decompose the score (lrp, taylor; not tiled): the
  /// conservation account, layer by layer.
  std::optional<ConservationRecord> account;
  /// The fields of the explanation JSON particular to the model and method
  /// (e.g. a BoW model's per-channel accounts, a network's layer rules,
  /// occlusion's patch and stride); explanation_record() adds the common ones.
  nlohmann::json details = nlohmann::json::object();
  /// More output files by suffix, e.g. "-root.npy" (a network's Taylor root)
  /// or "-figure.png", written next to NAME.npy.
  std::map<std::string, std::string> files;
  /// Method-specific words for the line printed per image, e.g. the Taylor root's score.
  std::string remark;
};

/// The settings of every method, parsed once at the boundary (CLI flags,
/// Python keywords, evaluation options) and checked against a model by
/// ExplainableModel::check before any input is read. Settings a model kind or
/// method does not take must be left at their defaults (the CLI's table of
/// flags, commands/explain_command.cpp, refuses them).
struct ExplainSettings {
  // lrp
  /// The composite (preset, rule or "SELECTOR=RULE;...", Composite::parse);
  /// none: the model kind's default (networks: zb-epsilon-plus; BoW models:
  /// LRP-0 pooling, flat pixels, and kBowNetworkDefaultRule for a network
  /// classifier).
  std::optional<std::string> rule;
  bool ignore_bias = false;                ///< networks (and network classifiers): biases absorb no relevance
  std::optional<BiasPolicy> bias_policy;   ///< BoW SVMs: where the bias goes (none: nonzero)
  /// BoW models (lrp, taylor, sensitivity): the pixel layer's weighting of every
  /// channel instead of the configured one (ExplainOptions::pixel_rule).
  std::optional<WeightingType> pixel_rule;
  // taylor (BoW models)
  TaylorReference reference;
  TaylorOptions taylor;
  // lrp and taylor (BoW models)
  std::string versus;                      ///< one-vs-one: explain the pairwise decision against this class
  std::optional<TileOptions> tiles;        ///< tiled explanations (docs/design.md 1.6)
  bool layers = false;                     ///< descriptor and bin relevance in the details
  // networks
  bool figure = false;                     ///< a NAME-figure.png (input | heatmap; Taylor: root and gradient too)
  // occlusion and random
  /// Patch and stride 0 (the default here): a quarter and an eighth of the
  /// image's shorter side (occlusion_for), so that the default suits any image size.
  OcclusionOptions occlusion{0, 0, 0.0, {}};
  std::uint64_t seed = 1;                  ///< random; combined with the image index (image_seed)
  /// Called between the steps of one long explanation (occlusion batches, the
  /// tiles of a tiled one); throws to stop it (InterruptCheck, parallel.hpp).
  /// explain_with gives it to the occlusion in place of occlusion.batching.interrupt.
  InterruptCheck interrupt;
};

/// A classifier that can be scored, perturbed and explained.
class ExplainableModel : public ScoreModel {
 public:
  virtual std::string kind() const = 0;  ///< "bow", "network", or "python" (scores computed by the Python binding)
  virtual std::string source() const = 0;
  virtual std::vector<std::string> class_names() const = 0;
  int classes() const { return static_cast<int>(class_names().size()); }
  /// A class by name or index; throws naming the known classes.
  virtual int class_index(const std::string& name_or_index) const = 0;
  /// Reads an image reference (a file, fashion-mnist:SPLIT@INDEX, ...) as this
  /// model's inputs are read, and checks that the model can take it; throws
  /// naming the reference otherwise.
  virtual ImageSample read_input(const std::string& reference) const = 0;
  /// Reads a data set spec (io/dataset.hpp; a network's data sets for a
  /// network) as this model's inputs are read.
  virtual Dataset read_dataset(const std::string& spec) const;
  /// What the model does with an image above the pixel limit (docs/errors.md,
  /// "Limits"): a BoW model as its configuration says ("input"), others refuse.
  virtual OversizeImages oversize() const { return OversizeImages::refuse; }
  /// The image of a sample as this model reads it (grey, or colour for a BoW
  /// model with colour channels): what every method scores and explains.
  virtual const cv::Mat& input(const ImageSample& sample) const { return sample.gray; }
  /// All class scores of one image (one forward pass; not counted).
  virtual Eigen::VectorXd all_scores(const cv::Mat& image, const std::string& what) const = 0;
  /// The methods the model explains itself, lrp first.
  virtual std::vector<ExplainMethod> own_methods() const = 0;
  /// Throws std::invalid_argument naming the setting when this model cannot
  /// explain `method` with `settings` (before any input is read).
  virtual void check(ExplainMethod method, const ExplainSettings& settings) const = 0;
  /// One of own_methods() for class c (-1: the predicted class), filling
  /// everything but `seconds`.
  virtual Explanation explain_own(const cv::Mat& image, int c, ExplainMethod method, const ExplainSettings& settings,
                                  const std::string& what) const = 0;
  /// What the model is, for the settings of a report.
  virtual nlohmann::json describe() const = 0;
  /// own_methods() and then the model-agnostic ones.
  std::vector<ExplainMethod> methods() const;

  /// The model randomisation test of the sanity checks (Adebayo et al. 2018,
  /// 3.1; docs/evaluation.md "Sanity checks"): the names of the model's stages,
  /// top first (model/model_randomisation.hpp for BoW models; a network's
  /// affine layers from the output). Throws std::invalid_argument when the
  /// model has no randomisation (the default).
  virtual std::vector<std::string> randomisation_stages() const;
  /// A new model, sharing nothing mutable with this one, whose first `stages`
  /// stages (1 .. randomisation_stages().size()) are randomised, cumulatively,
  /// seeded by `seed`; throws std::invalid_argument when the model has no
  /// randomisation (the default) or `stages` is out of range.
  virtual std::unique_ptr<ExplainableModel> randomised(int stages, std::uint64_t seed) const;
};

/// Adapters that share a loaded model read-only (it must not change while they live).
std::unique_ptr<ExplainableModel> make_bow_adapter(std::shared_ptr<const BowModel> model, std::string source);
std::unique_ptr<ExplainableModel> make_network_adapter(std::shared_ptr<const NetworkModel> model);
/// A BoW model directory, a network model directory or an LRP Toolbox text
/// file (`input_range`: what grey 0..1 maps to, toolbox files only).
std::unique_ptr<ExplainableModel> load_explainable_model(
    const std::string& path, const std::optional<std::pair<double, double>>& input_range = std::nullopt);

/// Explains class c (-1: the predicted class) of one image with `method`,
/// timed; throws std::invalid_argument when the model does not have the
/// method. `image_seed` seeds the random method. The image is as the model
/// reads it (ExplainableModel::input), or a float64 grey (CV_64FC1) image for a
/// model computing in float64 (a network): its own methods get it as it is,
/// occlusion and random its float32 rounding.
Explanation explain_with(const ExplainableModel& model, const cv::Mat& image, int c, ExplainMethod method,
                         const ExplainSettings& settings, std::uint64_t image_seed, const std::string& what);

/// The seed of image `index` for a run seeded with `seed` (a 64-bit mix).
std::uint64_t image_seed(std::uint64_t seed, long index);

/// Throws std::invalid_argument naming a negative occlusion patch or stride:
/// 0 means "auto" (occlusion_for), a negative value is a mistake, never
/// silently replaced (docs/errors.md, "Exit status"). The message names
/// `prefix` + "patch" ("--" on the command line).
void check_occlusion_sizes(const OcclusionOptions& o, const std::string& prefix = "");

/// Occlusion patch and stride left at 0: a quarter and an eighth of the
/// shorter side (half the patch); negative ones are refused (check_occlusion_sizes).
OcclusionOptions occlusion_for(const OcclusionOptions& o, int rows, int cols);

/// The BoW descriptor-level sensitivity (baselines.hpp) of class c: the pixel
/// map sum_l s_l^2 w_l(q) and, if given, the s_l of all channels' features in
/// channel order (`descriptors`) and every class's score (`scores`). The
/// classifier's gradient is taken on its input x; bins with x_d = 0 are left
/// out (no feature weight can move them); it is pulled back through the joint
/// normalisation (combine "concatenate") or each channel's scale and
/// normalisation ("sum_of_kernels"). w_l is each channel's weighting, or
/// `pixel_rule` for all (pixel_weightings, bow_explain.hpp).
RowMatrixXd bow_sensitivity(const BowModel& model, const cv::Mat& image, int c, const std::string& what,
                            Eigen::VectorXd* descriptors = nullptr, Eigen::VectorXd* scores = nullptr,
                            std::optional<WeightingType> pixel_rule = std::nullopt);

}  // namespace pixelwise
