#pragma once
// Evaluating explanations (issue 6; DESIGN.md 5): every explanation method on
// every image of a data set, the faithfulness and localisation metrics of
// decomposition/metrics.hpp, timings, and the JSON with every number and the
// settings that produced it (the HTML report is report.hpp).
//
// Models are seen through ExplainableModel: a ScoreModel (a function from the
// image as the model reads it -- input(sample): grey CV_32FC1, or colour
// CV_32FC3 for a BoW model with colour channels, in [0, 1] -- to the score of a
// class, with batch evaluation) that can also explain itself with its own
// methods. Every method and metric sees that same input, so all explain the
// same decision. Adapters:
//   BoW + SVM  (BowModel): lrp (explain(), bias policy "nonzero"), taylor
//              (explain() with method "taylor", nearest-support-vector
//              reference), sensitivity (descriptor level, baselines.hpp:
//              descriptor_sensitivity, pulled through each channel's
//              normalisation and the channel combination); every model
//              evaluation is one BowModel::forward.
//   network    (NetworkModel): lrp, taylor, sensitivity through
//              explain_network (network_explain.hpp); a batch is one matrix
//              through Network::scores.
// occlusion and random work for every model (baselines.hpp).
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pixelwise/decomposition/baselines.hpp"
#include "pixelwise/decomposition/metrics.hpp"
#include "pixelwise/common/batch.hpp"
#include "pixelwise/pipelines/evaluation/benchmark_scenes.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"

namespace pixelwise {

/// One method's explanation of one image.
struct MethodResult {
  std::string method;
  RowMatrixXd pixels;     ///< H x W relevance
  int class_index = 0;    ///< the explained class
  double score = 0;       ///< f_c(x)
  long evaluations = 0;   ///< forward passes of the model the method needed
  double seconds = 0;     ///< wall time of the explanation
  /// Methods that decompose the score (lrp, taylor): the conservation account.
  std::optional<ConservationRecord> account;
  nlohmann::json details = nlohmann::json::object();  ///< method-specific numbers and settings
};

/// A classifier that the evaluation can score, perturb and explain.
class ExplainableModel : public ScoreModel {
 public:
  virtual std::string kind() const = 0;  ///< "bow" or "network"
  virtual std::string source() const = 0;
  virtual std::vector<std::string> class_names() const = 0;
  int classes() const { return static_cast<int>(class_names().size()); }
  /// A class by name or index; throws naming the known classes.
  virtual int class_index(const std::string& name_or_index) const = 0;
  /// The image of a sample as this model reads it (grey, or colour for a BoW
  /// model with colour channels): what every method scores and explains.
  virtual const cv::Mat& input(const ImageSample& sample) const { return sample.gray; }
  /// All class scores of one image (one forward pass; not counted).
  virtual Eigen::VectorXd all_scores(const cv::Mat& image, const std::string& what) const = 0;
  /// The methods the model explains itself, e.g. {"lrp", "taylor", "sensitivity"}.
  virtual std::vector<std::string> own_methods() const = 0;
  /// One of own_methods() for class c (fills everything but `seconds`).
  virtual MethodResult explain_own(const cv::Mat& image, int c, const std::string& method,
                                   const std::string& what) const = 0;
  /// What the model is, for the settings of a report.
  virtual nlohmann::json describe() const = 0;
};

/// Adapters that share a loaded model read-only (it must not change while they live).
std::unique_ptr<ExplainableModel> make_bow_adapter(std::shared_ptr<const BowModel> model, std::string source);
std::unique_ptr<ExplainableModel> make_network_adapter(std::shared_ptr<const NetworkModel> model);
/// A BoW model directory, a network model directory or an LRP Toolbox text file.
std::unique_ptr<ExplainableModel> load_explainable_model(const std::string& path);

/// The BoW descriptor-level sensitivity (baselines.hpp) of class c: the pixel
/// map sum_l s_l^2 w_l(q) and, if given, the s_l of all channels' features in
/// channel order (`descriptors`) and f_c(x) (`score`). The SVM gradient
/// (kernel_gradients.hpp) is taken on the SVM input x; bins with x_d = 0 are
/// left out (no feature weight can move them); it is pulled back through the
/// joint normalisation (combine "concatenate") or each channel's scale and
/// normalisation ("sum_of_kernels").
RowMatrixXd bow_sensitivity(const BowModel& model, const cv::Mat& image, int c, const std::string& what,
                            Eigen::VectorXd* descriptors = nullptr, double* score = nullptr);

/// Methods every model has.
const std::vector<std::string>& generic_methods();  // occlusion, random

struct MethodSettings {
  OcclusionOptions occlusion;
  std::uint64_t seed = 1;  ///< random; combined with the image index
};

/// Explains class c of one image with `method` (own or generic), timed.
/// `image_seed` seeds the random method.
MethodResult explain_with(const ExplainableModel& model, const cv::Mat& image, int c, const std::string& method,
                          const MethodSettings& settings, std::uint64_t image_seed, const std::string& what);

/// The seed of image `index` for a run seeded with `seed` (a 64-bit mix).
std::uint64_t image_seed(std::uint64_t seed, long index);

/// Metric names: "aopc" (MoRF region perturbation), "lerf", "pixel-flipping",
/// "mass", "rank", "pointing", "conservation".
const std::vector<std::string>& known_metrics();

struct EvaluationOptions {
  std::vector<std::string> methods{"lrp", "occlusion", "sensitivity", "random"};
  std::vector<std::string> metrics = known_metrics();
  /// Explained class: "predicted", "label" (the image's own) or a class name/index.
  std::string class_choice = "predicted";
  std::string only_label;              ///< non-empty: only images with this label (name or index)
  PerturbationOptions perturbation;    ///< aopc and lerf (direction set per metric)
  int pixel_flipping_steps = 100;      ///< pixel flipping: 1 x 1 regions, L steps covering the image
  MethodSettings method_settings;
  int report_images = 12;              ///< images whose heatmaps the report shows
  /// Images evaluated at once, on threads sharing the model (0: all cores; a
  /// model that is not concurrent gets 1). Results do not depend on it.
  int jobs = 0;
  /// The batched model evaluations of occlusion and the perturbation metrics
  /// (it replaces perturbation.batching and method_settings.occlusion.batching);
  /// threads 0: the cores the jobs leave over, at least 1.
  BatchOptions batching;
  /// Only the images of this shard (batch.hpp) by their data set index; the
  /// index keeps seeding each image, so merged shards equal one whole run.
  Shard shard;
  void validate() const;
};

/// Heatmaps kept for the report.
struct ReportImage {
  std::string name;
  cv::Mat gray;
  std::optional<MaskArray> mask;
  std::vector<MethodResult> results;  ///< in the order of EvaluationOptions::methods
};

/// The "summary" of an evaluation (per method, the statistics of every
/// metric, the mean drop curves and the conservation statistics) and its
/// "chance" entry, computed from its per-image records ("images").
nlohmann::json summarise_evaluation_images(const nlohmann::json& images, const std::vector<std::string>& methods,
                                           const std::vector<std::string>& metrics);
nlohmann::json chance_of_evaluation_images(const nlohmann::json& images);

/// Merges the results of `evaluate --shard K/N` runs (issue 8): the images of
/// all parts by index (each at most once), the summary recomputed from them,
/// seconds added up. The parts must have the same settings apart from the
/// shard and the command; throws std::runtime_error naming the part otherwise.
nlohmann::json merge_evaluations(const std::vector<nlohmann::json>& parts, const std::vector<std::string>& names);
/// `pixelwise merge-evaluations --out DIR EVALUATION...`: writes
/// DIR/evaluation.json and DIR/report (without heatmaps). An EVALUATION is an
/// evaluation.json or the `evaluate --out` folder holding it.
int run_merge_evaluations(const std::vector<std::string>& inputs, const std::string& out, std::ostream& log);

/// Runs the evaluation; returns the JSON (format "pixelwise-evaluation") and
/// fills `shown` with the first report_images images. Progress to `log`.
nlohmann::json evaluate(const ExplainableModel& model, const MaskedDataset& data, const EvaluationOptions& options,
                        std::vector<ReportImage>* shown, std::ostream* log);

/// The `pixelwise evaluate` command.
struct EvaluateRequest {
  std::string model, data, out;
  std::string methods = "lrp,occlusion,sensitivity,random";
  std::string metrics = "aopc,lerf,pixel-flipping,mass,rank,pointing,conservation";
  std::string class_choice = "predicted";
  std::string only_label;
  double foreground = -1;  ///< >= 0: masks of pixels brighter than this for data without masks
  int region = 0, steps = 100, pixel_flipping_steps = 100;
  std::string replacement = "uniform";  ///< uniform, constant[:LEVEL], blur[:SIGMA]
  std::uint64_t seed = 1;
  int patch = 0, stride = 0;  ///< occlusion; 0: a quarter and an eighth of the image side (at least 1)
  double fill = 0;
  int threads = 0, batch = 32;
  int jobs = 0;  ///< images at once (0: all cores)
  int report_images = 12;
  std::string shard;  ///< K/N: only shard K of N of the images (merge with run_merge_evaluations)
  bool quiet = false;
};
int run_evaluate(const EvaluateRequest& request, std::ostream& out, std::ostream* log);

/// `pixelwise explain --method occlusion|random|sensitivity|lrp|taylor` through the
/// adapters: writes <name>.npy, <name>.png and <name>.json like the LRP path.
struct BaselineExplainRequest {
  std::string model, class_name, out, method;
  std::vector<std::string> images;
  int patch = 0, stride = 0;
  double fill = 0;
  std::uint64_t seed = 1;
  int threads = 0, batch = 32;  ///< occlusion's batched model evaluations; threads 0: the cores the jobs leave
  int jobs = 0;                 ///< images explained at once (0: all cores)
};
int run_baseline_explain(const BaselineExplainRequest& request, std::ostream& out);

/// The `pixelwise make-scenes` command.
int run_make_scenes(const SceneOptions& options, const std::string& out, bool quiet, std::ostream& log);

}  // namespace pixelwise
