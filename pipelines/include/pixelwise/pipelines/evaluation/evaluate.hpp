#pragma once
// Evaluating explanations (docs/design.md 5): every explanation method on
// every image of a data set, the faithfulness and localisation metrics of
// decomposition/metrics.hpp, timings, and the JSON with every number and the
// settings that produced it (the HTML report is report.hpp).
//
// Models are seen through ExplainableModel and every method runs through
// explain_with (explain/explanation.hpp, the one explanation path), so the
// evaluation measures exactly what `pixelwise explain` writes.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pixelwise/decomposition/baselines.hpp"
#include "pixelwise/decomposition/faithfulness.hpp"
#include "pixelwise/decomposition/metrics.hpp"
#include "pixelwise/decomposition/similarity.hpp"
#include "pixelwise/common/batch.hpp"
#include "pixelwise/pipelines/evaluation/benchmark_scenes.hpp"
#include "pixelwise/pipelines/explain/explanation.hpp"

namespace pixelwise {

/// The metrics, one name each across --metrics, the JSON (settings and the
/// per-image keys) and Python's metrics=: "aopc" (MoRF region perturbation),
/// "lerf", "pixel-flipping", "mass", "rank", "pointing", "conservation", the
/// faithfulness metrics (faithfulness.hpp) "faithfulness-correlation",
/// "sensitivity-n", "infidelity", "max-sensitivity", "sparseness",
/// "complexity", and the sanity checks (docs/evaluation.md "Sanity checks";
/// Adebayo et al. 2018): "mprt" (model parameter randomisation, cascading)
/// and "data-randomisation" (against a model trained on permuted labels,
/// EvaluationOptions::randomised_labels).
enum class Metric {
  aopc, lerf, pixel_flipping, mass, rank, pointing, conservation,
  faithfulness_correlation, sensitivity_n, infidelity, max_sensitivity, sparseness, complexity,
  mprt, data_randomisation
};
const EnumNames<Metric>& enum_names(Metric);
/// Metric names parsed once (`where` names the argument in errors).
std::vector<Metric> parse_metrics(const std::vector<std::string>& names, const std::string& where);
std::vector<std::string> metric_names(const std::vector<Metric>& metrics);
bool wants(const std::vector<Metric>& metrics, Metric metric);
/// The metrics evaluate measures when none are given: all but the sanity
/// checks and the costly faithfulness-correlation (S + 1 model evaluations
/// per image and method), sensitivity-n (sizes x subsets + 1), infidelity
/// (samples + 1) and max-sensitivity (K re-explanations).
const std::vector<Metric>& default_metrics();

struct EvaluationOptions {
  std::vector<ExplainMethod> methods{ExplainMethod::lrp, ExplainMethod::occlusion, ExplainMethod::sensitivity,
                                     ExplainMethod::random};
  std::vector<Metric> metrics = default_metrics();
  /// Explained class: "predicted", "label" (the image's own) or a class
  /// name/index (ClassChoice::parse; written to the JSON as given).
  std::string class_choice = "predicted";
  std::string only_label;              ///< non-empty: only images with this label (name or index)
  PerturbationOptions perturbation;    ///< aopc and lerf (direction set per metric)
  int pixel_flipping_steps = 100;      ///< pixel flipping: 1 x 1 regions, L steps covering the image
  /// faithfulness.hpp; the replacement, seed and batching of each are taken
  /// from `perturbation` and `batching` (one --replacement for every
  /// perturbation metric; the seed combined with each image's index).
  FaithfulnessCorrelationOptions faithfulness_correlation;
  SensitivityNOptions sensitivity_n;
  InfidelityOptions infidelity;
  MaxSensitivityOptions max_sensitivity;  ///< re-explains with the method's settings and the image's seed
  /// The methods' settings (own methods at their defaults: bias policy
  /// nonzero, the nearest-support-vector Taylor reference, each kind's
  /// default rules; occlusion; the random seed, combined with each image's index).
  ExplainSettings method_settings;
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
  /// Sanity checks (docs/evaluation.md "Sanity checks"): the seed of the model
  /// randomisation ("mprt"; ExplainableModel::randomised) ...
  std::uint64_t mprt_seed = 1;
  /// ... and the top-k intersection's k as a fraction of the pixels (similarity.hpp).
  double top_k = kDefaultTopK;
  /// "data-randomisation": the model trained on permuted labels (`train
  /// --permute-labels`), with the same classes; not owned, must outlive the run.
  /// evaluate() refuses the metric without it, and it without the metric.
  const ExplainableModel* randomised_labels = nullptr;
  void validate() const;
};

/// Heatmaps kept for the report.
struct ReportImage {
  std::string name;
  cv::Mat gray;
  std::optional<MaskArray> mask;
  std::vector<Explanation> results;  ///< in the order of EvaluationOptions::methods
  /// Metric "mprt": per method (in order), its maps on the randomised models, stage 1 first.
  std::vector<std::vector<RowMatrixXd>> mprt;
  /// Metric "data-randomisation": per method (in order), its map on the randomised-label model.
  std::vector<RowMatrixXd> data_randomisation;
};

/// The "summary" of an evaluation (per method, the statistics of every
/// metric, the mean drop curves, the mean sensitivity-n curve and the
/// conservation statistics) and its
/// "chance" entry, computed from its per-image records ("images").
nlohmann::json summarise_evaluation_images(const nlohmann::json& images, const std::vector<std::string>& methods,
                                           const std::vector<Metric>& metrics);
nlohmann::json chance_of_evaluation_images(const nlohmann::json& images);
/// The "regions" entry: per image size the region side of the region
/// perturbation curves, the images of that size, and a note when the image is
/// too small for 100 regions of 9 x 9 (Samek et al. 2017) and smaller regions
/// are used.
nlohmann::json regions_of_evaluation_images(const nlohmann::json& images);

/// Merges the results of `evaluate --shard K/N` runs: the images of
/// all parts by index (each at most once), the summary recomputed from them,
/// seconds added up. The parts must have the same settings apart from the
/// shard and the command; throws std::runtime_error naming the part otherwise.
nlohmann::json merge_evaluations(const std::vector<nlohmann::json>& parts, const std::vector<std::string>& names);
/// `pixelwise merge-evaluations --out DIR EVALUATION...`: writes
/// DIR/evaluation.json and DIR/report (without heatmaps). An EVALUATION is an
/// evaluation.json or the `evaluate --out` folder holding it.
int run_merge_evaluations(const std::vector<std::string>& inputs, const std::string& out, std::ostream& log);

/// The explained class of EvaluationOptions::class_choice, parsed once before
/// any image is explained (docs/errors.md, "What is checked up front"): a
/// class the model lacks is refused before the run starts, and no image
/// compares strings.
struct ClassChoice {
  enum class Kind { predicted, label, named };
  Kind kind = Kind::predicted;
  int class_index = -1;  ///< Kind::named: the class, resolved by the model
  /// "predicted", "label" (each image's own) or a class name/index of `model`
  /// (InputError otherwise).
  static ClassChoice parse(const std::string& text, const ExplainableModel& model);
  /// The class explained in `sample`, whose highest-scoring class is
  /// `predicted`; std::runtime_error for Kind::label and an image without a label.
  int of(const ImageSample& sample, int predicted) const;
};

/// One image's explanations as explain_images hands them over.
struct ExplainedImage {
  long index = 0;                     ///< in the data set
  const ImageSample* sample = nullptr;
  const cv::Mat* input = nullptr;     ///< model.input(*sample): what every method saw
  Eigen::VectorXd scores;             ///< every class's score
  int predicted = 0, class_index = 0; ///< the highest-scoring class and the explained one
  std::uint64_t seed = 0;             ///< image_seed(settings.seed, index)
  std::vector<Explanation> results;   ///< one per method, in their order
};

/// The one loop that explains the images of a data set, shared by evaluate and
/// analyse (analysis.hpp): the images `selected` (data set indices) on `jobs`
/// threads sharing the model; per image the scores, the explained class
/// (`class_choice`) and every method's map through explain_with, seeded with
/// the image's index so that no result depends on the threads.
/// `each(position in selected, image)` runs on the worker thread. A failure
/// names its image.
void explain_images(const ExplainableModel& model, const Dataset& data, const std::vector<long>& selected,
                    const std::vector<ExplainMethod>& methods, const ClassChoice& class_choice,
                    const ExplainSettings& settings, long jobs,
                    const std::function<void(long position, ExplainedImage& image)>& each);

/// Runs the evaluation; returns the JSON (format "pixelwise-evaluation") and
/// fills `shown` with the first report_images images. Progress to `log`.
nlohmann::json evaluate(const ExplainableModel& model, const MaskedDataset& data, const EvaluationOptions& options,
                        std::vector<ReportImage>* shown, std::ostream* log);

}  // namespace pixelwise
