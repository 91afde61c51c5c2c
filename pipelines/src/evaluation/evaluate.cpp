#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/common/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <opencv2/imgcodecs.hpp>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/heatmap.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "pixelwise/pipelines/evaluation/report.hpp"
#include "pixelwise/decomposition/similarity.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

nlohmann::json perturbation_json(const PerturbationOptions& o) {
  nlohmann::json j = {{"region", o.region == 0 ? nlohmann::json("auto (9; smaller for images holding fewer than 100 regions of 9 x 9)") : nlohmann::json(o.region)},
                      {"steps", o.steps},
                      {"regions_per_step", o.regions_per_step == 0 ? nlohmann::json("auto (L steps cover the image)") : nlohmann::json(o.regions_per_step)},
                      {"replacement", replacement_name(o.replacement)},
                      {"seed", o.seed}};
  if (o.replacement == Replacement::constant) j["constant"] = o.constant;
  if (o.replacement == Replacement::blur) j["blur_sigma"] = o.blur_sigma;
  return j;
}

}  // namespace

const EnumNames<Metric>& enum_names(Metric) {
  static const EnumNames<Metric> names{{Metric::aopc, "aopc"},
                                       {Metric::lerf, "lerf"},
                                       {Metric::pixel_flipping, "pixel-flipping"},
                                       {Metric::mass, "mass"},
                                       {Metric::rank, "rank"},
                                       {Metric::pointing, "pointing"},
                                       {Metric::conservation, "conservation"},
                                       {Metric::faithfulness_correlation, "faithfulness-correlation"},
                                       {Metric::sensitivity_n, "sensitivity-n"},
                                       {Metric::infidelity, "infidelity"},
                                       {Metric::max_sensitivity, "max-sensitivity"},
                                       {Metric::sparseness, "sparseness"},
                                       {Metric::complexity, "complexity"},
                                       {Metric::mprt, "mprt"},
                                       {Metric::data_randomisation, "data-randomisation"}};
  return names;
}

std::vector<Metric> parse_metrics(const std::vector<std::string>& names, const std::string& where) {
  std::vector<Metric> out;
  for (const std::string& name : names) out.push_back(parse_enum<Metric>(name, "metric", where));
  return out;
}

std::vector<std::string> metric_names(const std::vector<Metric>& metrics) {
  std::vector<std::string> out;
  for (Metric m : metrics) out.push_back(name_of(m));
  return out;
}

bool wants(const std::vector<Metric>& metrics, Metric metric) {
  return std::find(metrics.begin(), metrics.end(), metric) != metrics.end();
}

const std::vector<Metric>& default_metrics() {
  static const std::vector<Metric> metrics{Metric::aopc,     Metric::lerf,         Metric::pixel_flipping,
                                           Metric::mass,     Metric::rank,         Metric::pointing,
                                           Metric::conservation, Metric::sparseness, Metric::complexity};
  return metrics;
}

void EvaluationOptions::validate() const {
  if (methods.empty()) throw std::invalid_argument("evaluate: no methods given");
  if (metrics.empty()) throw std::invalid_argument("evaluate: no metrics given");
  std::set<ExplainMethod> seen;
  for (const ExplainMethod m : methods)
    if (!seen.insert(m).second) throw std::invalid_argument("evaluate: method \"" + name_of(m) + "\" given twice");
  perturbation.validate();
  if (pixel_flipping_steps < 1) throw std::invalid_argument("evaluate: pixel flipping needs at least one step");
  faithfulness_correlation.validate();
  sensitivity_n.validate();
  infidelity.validate();
  max_sensitivity.validate();
  if (report_images < 0) throw std::invalid_argument("evaluate: report_images must not be negative");
  if (jobs < 0) throw std::invalid_argument("evaluate: jobs must be 0 (all cores) or more");
  batching.validate();
  if (!(top_k > 0 && top_k <= 1))
    throw std::invalid_argument("evaluate: top-k " + std::to_string(top_k) +
                                ": must be a fraction of the pixels in (0, 1] (e.g. 0.1 for the top 10 %)");
}

namespace {

bool wants(const EvaluationOptions& options, Metric metric) { return wants(options.metrics, metric); }

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

ReplacementOptions replacement_of(const PerturbationOptions& p) {
  ReplacementOptions r;
  r.replacement = p.replacement;
  r.constant = p.constant;
  r.blur_sigma = p.blur_sigma;
  return r;
}

// Faithfulness correlation, sensitivity-n, infidelity, max-sensitivity,
// sparseness and complexity (decomposition/faithfulness.hpp) of one map: the
// replacement, batching and per-image seed of the perturbation metrics;
// max-sensitivity re-explains the noisy inputs with the same method, class,
// settings and seed. "metric_evaluations" counts the model evaluations each
// metric needed (max-sensitivity: those of its re-explanations).
void measure_faithfulness(nlohmann::json& m, const ExplainableModel& model, const cv::Mat& input, const Explanation& r,
                          const EvaluationOptions& options, const PerturbationOptions& perturbation,
                          std::uint64_t noise_seed, const ExplainSettings& method_settings, std::uint64_t method_seed,
                          const std::string& source) {
  nlohmann::json costs = nlohmann::json::object();
  if (wants(options, Metric::faithfulness_correlation)) {
    FaithfulnessCorrelationOptions o = options.faithfulness_correlation;
    o.replacement = replacement_of(perturbation);
    o.seed = noise_seed;
    o.batching = perturbation.batching;
    const SubsetCorrelation f = faithfulness_correlation(model, input, r.pixels, r.class_index, o);
    m["faithfulness-correlation"] = number_or_null(f.correlation);
    costs["faithfulness-correlation"] = f.evaluations;
  }
  if (wants(options, Metric::sensitivity_n)) {
    SensitivityNOptions o = options.sensitivity_n;
    o.replacement = replacement_of(perturbation);
    o.seed = noise_seed;
    o.batching = perturbation.batching;
    const SensitivityNCurve k = sensitivity_n(model, input, r.pixels, r.class_index, o);
    nlohmann::json correlations = nlohmann::json::array();
    for (const double v : k.correlations) correlations.push_back(number_or_null(v));
    m["sensitivity-n"] = {{"sizes", k.sizes}, {"pixels", r.pixels.size()}, {"correlations", correlations}};
    costs["sensitivity-n"] = k.evaluations;
  }
  if (wants(options, Metric::infidelity)) {
    InfidelityOptions o = options.infidelity;
    o.seed = noise_seed;
    o.batching = perturbation.batching;
    const Infidelity f = infidelity(model, input, r.pixels, r.class_index, o);
    m["infidelity"] = number_or_null(f.infidelity);
    m["relative_infidelity"] = number_or_null(f.relative_infidelity);
    m["infidelity_beta"] = number_or_null(f.beta);
    costs["infidelity"] = f.evaluations;
  }
  if (wants(options, Metric::max_sensitivity)) {
    MaxSensitivityOptions o = options.max_sensitivity;
    o.seed = noise_seed;
    long evaluations = 0;
    const ExplainFunction explain = [&](const cv::Mat& x) {
      Explanation e = explain_with(model, x, r.class_index, r.method, method_settings, method_seed, source);
      evaluations += e.evaluations;
      return std::move(e.pixels);
    };
    const MaxSensitivity s = max_sensitivity(explain, input, r.pixels, o);
    m["max-sensitivity"] = number_or_null(s.max_sensitivity);
    costs["max-sensitivity"] = evaluations;
  }
  if (wants(options, Metric::sparseness)) m["sparseness"] = number_or_null(sparseness(r.pixels));
  if (wants(options, Metric::complexity)) m["complexity"] = number_or_null(complexity(r.pixels));
  if (!costs.empty()) m["metric_evaluations"] = costs;
}

// The metrics of one method's map of one image (docs/design.md 5): the
// perturbation curves with their AOPC, localisation against the mask, and the
// conservation account of the methods that decompose the score.
nlohmann::json measure(const ExplainableModel& model, const cv::Mat& input, const Explanation& r,
                       const std::optional<MaskArray>& mask, const EvaluationOptions& options,
                       const PerturbationOptions& perturbation, std::uint64_t noise_seed,
                       const ExplainSettings& method_settings, std::uint64_t method_seed, const std::string& source) {
  nlohmann::json details = r.details;
  details.erase("channels");  // per-channel maps' accounts: in `explain`'s JSON, too much for every image here
  nlohmann::json m = {{"seconds", r.seconds}, {"evaluations", r.evaluations}, {"score", r.score},
                      {"pixel_sum", r.pixels.sum()}, {"details", details}};
  auto curve = [&](Metric metric, PerturbationOptions p) {
    if (!wants(options, metric)) return;
    p.seed = noise_seed;
    const PerturbationCurve k = region_perturbation(model, input, r.pixels, r.class_index, p);
    m[name_of(metric)] = k.aopc();
    m["curves"][name_of(metric)] = {{"scores", k.scores}, {"region", k.region}, {"regions_per_step", k.regions_per_step}};
  };
  PerturbationOptions morf = perturbation, lerf = perturbation, flipping = perturbation;
  morf.most_relevant_first = true;
  lerf.most_relevant_first = false;
  flipping.most_relevant_first = true;
  flipping.region = 1;
  flipping.regions_per_step = 0;
  flipping.steps = options.pixel_flipping_steps;
  curve(Metric::aopc, morf);
  curve(Metric::lerf, lerf);
  curve(Metric::pixel_flipping, flipping);
  if (mask && (wants(options, Metric::mass) || wants(options, Metric::rank) || wants(options, Metric::pointing))) {
    const Localisation l = localise(r.pixels, *mask);
    auto put = [&](Metric metric, double v) {
      if (wants(options, metric)) m[name_of(metric)] = std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
    };
    put(Metric::mass, l.mass_accuracy);
    put(Metric::rank, l.rank_accuracy);
    put(Metric::pointing, l.pointing);
  }
  if (r.account && wants(options, Metric::conservation)) {
    m["residual"] = r.account->score - r.account->pixel_sum;
    m["account"] = {{"score", r.account->score}, {"pixel_sum", r.account->pixel_sum}, {"layers", r.account->layers}};
  }
  measure_faithfulness(m, model, input, r, options, perturbation, noise_seed, method_settings, method_seed, source);
  return m;
}

// The images of the run, in data set order; each keeps its data set index,
// which seeds it, so that no result depends on the threads or the shard.
std::vector<long> select_images(const ExplainableModel& model, const MaskedDataset& data,
                                const EvaluationOptions& options) {
  const int only = options.only_label.empty() ? -1 : model.class_index(options.only_label);
  std::vector<long> selected;
  for (long i = 0; i < static_cast<long>(data.data.images.size()); ++i)
    if ((only < 0 || data.data.images[i].label == only) && options.shard.owns(i)) selected.push_back(i);
  if (selected.empty()) throw std::runtime_error(data.data.spec + ": no image to evaluate (check --label)");
  return selected;
}

void check_run(const ExplainableModel& model, const MaskedDataset& data, const EvaluationOptions& options) {
  options.validate();
  const std::vector<ExplainMethod> offered = model.methods();
  for (const ExplainMethod m : options.methods) {
    if (std::find(offered.begin(), offered.end(), m) == offered.end())
      throw std::invalid_argument("evaluate: method \"" + name_of(m) + "\" does not apply to a " + model.kind() +
                                  " model like " + model.source() + " (it has: " + names_of(offered) + ")");
    model.check(m, options.method_settings);
  }
  const std::vector<std::string> names = model.class_names();
  if (data.data.classes != names)
    throw std::runtime_error(data.data.spec + ": its classes (" + join(data.data.classes) + ") differ from the model's (" +
                             join(names) + ")");
  // Sanity checks (docs/evaluation.md "Sanity checks"): a model without
  // randomisation, or a randomised-label model of other classes, is refused
  // before any image is explained.
  if (wants(options, Metric::mprt)) model.randomisation_stages();
  if (wants(options, Metric::data_randomisation) && !options.randomised_labels)
    throw std::invalid_argument("evaluate: metric data-randomisation needs the model trained on permuted labels "
                                "(--randomised-model DIR, Python randomised_model=; made by train --permute-labels)");
  if (!wants(options, Metric::data_randomisation) && options.randomised_labels)
    throw std::invalid_argument("evaluate: a randomised-label model (--randomised-model) is used by the metric "
                                "data-randomisation only; add it to the metrics");
  if (const ExplainableModel* other = options.randomised_labels) {
    if (other->class_names() != names)
      throw std::runtime_error(other->source() + ": the randomised-label model's classes (" + join(other->class_names()) +
                               ") differ from the model's (" + join(names) + "); data randomisation compares the "
                               "explanations of the same class");
    if (other->kind() != model.kind())
      throw std::runtime_error(other->source() + ": the randomised-label model is a " + other->kind() +
                               " model, the model a " + model.kind() + " model");
    const std::vector<ExplainMethod> offered = other->methods();
    for (const ExplainMethod m : options.methods) {
      if (std::find(offered.begin(), offered.end(), m) == offered.end())
        throw std::invalid_argument("evaluate: method \"" + name_of(m) + "\" does not apply to the randomised-label model " +
                                    other->source() + " (it has: " + names_of(offered) + ")");
      other->check(m, options.method_settings);
    }
  }
}

}  // namespace

ClassChoice ClassChoice::parse(const std::string& text, const ExplainableModel& model) {
  if (text == "predicted") return {Kind::predicted, -1};
  if (text == "label") return {Kind::label, -1};
  return {Kind::named, model.class_index(text)};
}

int ClassChoice::of(const ImageSample& sample, int predicted) const {
  switch (kind) {
    case Kind::predicted: return predicted;
    case Kind::label:
      if (sample.label < 0) throw std::runtime_error(sample.source + ": no label to explain (--class label)");
      return sample.label;
    case Kind::named: break;
  }
  return class_index;
}

void explain_images(const ExplainableModel& model, const Dataset& data, const std::vector<long>& selected,
                    const std::vector<ExplainMethod>& methods, const ClassChoice& class_choice,
                    const ExplainSettings& settings, long jobs,
                    const std::function<void(long position, ExplainedImage& image)>& each) {
  const long count = static_cast<long>(selected.size());
  auto explain_one = [&](long position) {
    ExplainedImage e;
    e.index = selected[position];
    e.sample = &data.images[e.index];
    e.input = &model.input(*e.sample);  // the image every method and metric sees
    e.scores = model.all_scores(*e.input, e.sample->source);
    e.scores.maxCoeff(&e.predicted);
    e.class_index = class_choice.of(*e.sample, e.predicted);
    e.seed = image_seed(settings.seed, e.index);
    for (const ExplainMethod method : methods)
      e.results.push_back(explain_with(model, *e.input, e.class_index, method, settings, e.seed, e.sample->source));
    each(position, e);
  };
  // A failure names its image (memory running out too; rethrow_naming).
  for_each_parallel(count, static_cast<int>(jobs), [&](long position) {
    naming_input(data.images[selected[position]].source, [&] { explain_one(position); });
  });
}

namespace {

nlohmann::json image_record(const ExplainableModel& model, const ImageSample& sample, long index, int predicted, int c,
                            double score, const std::optional<MaskArray>& mask, std::uint64_t noise_seed) {
  const std::vector<std::string> names = model.class_names();
  nlohmann::json record = {{"index", index},
                           {"name", sample.name},
                           {"source", sample.source},
                           {"label", sample.label >= 0 ? nlohmann::json(names[sample.label]) : nlohmann::json(nullptr)},
                           {"predicted", names[predicted]},
                           {"class", names[c]},
                           {"class_index", c},
                           {"score", score},
                           {"size", {sample.gray.rows, sample.gray.cols}},
                           {"perturbation_seed", noise_seed}};
  if (mask) {
    record["mask_pixels"] = mask->count();
    record["mask_fraction"] = static_cast<double>(mask->count()) / static_cast<double>(mask->size());
  }
  return record;
}

nlohmann::json method_names(const std::vector<ExplainMethod>& methods) {
  nlohmann::json names = nlohmann::json::array();
  for (const ExplainMethod m : methods) names.push_back(name_of(m));
  return names;
}

nlohmann::json run_settings(const ExplainableModel& model, const MaskedDataset& data, const EvaluationOptions& options,
                            long evaluated, const nlohmann::json& execution, const std::vector<std::string>& stages) {
  const OcclusionOptions& occlusion = options.method_settings.occlusion;
  nlohmann::json settings = {
      {"model", model.describe()},
      {"data", {{"spec", data.data.spec}, {"images", data.data.images.size()}, {"evaluated", evaluated},
                {"masks", data.mask_source.empty() ? nlohmann::json("none") : nlohmann::json(data.mask_source)}}},
      {"methods", method_names(options.methods)},
      {"metrics", metric_names(options.metrics)},
      {"class", options.class_choice},
      {"only_label", options.only_label},
      {"perturbation", perturbation_json(options.perturbation)},
      {"pixel_flipping", {{"region", 1}, {"steps", options.pixel_flipping_steps}, {"regions_per_step", "auto (L steps cover the image)"},
                          {"replacement", replacement_name(options.perturbation.replacement)}}},
      {"occlusion", {{"patch", occlusion.patch}, {"stride", occlusion.stride}, {"fill", occlusion.fill}}},
      {"random", {{"seed", options.method_settings.seed}, {"per_image", "image_seed(seed, index)"}}},
      {"pixel_rule", options.method_settings.pixel_rule ? nlohmann::json(name_of(*options.method_settings.pixel_rule))
                                                        : nlohmann::json("configured")},
      // How the run used the machine; no result depends on it (merges ignore it).
      {"execution", execution},
      {"shard", options.shard.str()}};
  if (wants(options, Metric::faithfulness_correlation))
    settings["faithfulness_correlation"] = {{"subsets", options.faithfulness_correlation.subsets},
                                            {"fraction", options.faithfulness_correlation.fraction},
                                            {"replacement", "as perturbation"},
                                            {"seed", "image_seed(perturbation seed, index)"}};
  if (wants(options, Metric::sensitivity_n)) {
    const SensitivityNOptions& n = options.sensitivity_n;
    settings["sensitivity_n"] = {{"subsets", n.subsets}, {"replacement", "as perturbation"},
                                 {"seed", "image_seed(perturbation seed, index)"}};
    if (n.sizes.empty())
      settings["sensitivity_n"]["sizes"] = "auto (" + std::to_string(n.points) + " sizes log-spaced from 1 pixel to " +
                                           std::to_string(n.max_fraction) + " of the pixels)";
    else
      settings["sensitivity_n"]["sizes"] = n.sizes;
    settings["sensitivity_n"]["points"] = n.points;
    settings["sensitivity_n"]["max_fraction"] = n.max_fraction;
  }
  if (wants(options, Metric::infidelity))
    settings["infidelity"] = {{"samples", options.infidelity.samples}, {"sigma", options.infidelity.sigma},
                              {"noise", "Gaussian per pixel, every channel, not clipped"},
                              {"scale", "optimal beta (Yeh et al. 2019)"},
                              {"seed", "image_seed(perturbation seed, index)"}};
  if (wants(options, Metric::max_sensitivity))
    settings["max_sensitivity"] = {{"samples", options.max_sensitivity.samples}, {"radius", options.max_sensitivity.radius},
                                   {"noise", "uniform in [-radius, radius] per value, x + noise clipped to [0, 1]"},
                                   {"seed", "image_seed(perturbation seed, index)"}};
  if (wants(options, Metric::mprt) || wants(options, Metric::data_randomisation)) {
    nlohmann::json sanity = {{"top_k", options.top_k},
                             {"similarity", "spearman, spearman_abs, ssim (maps / max |R|, Gaussian window sigma 1.5, "
                                            "data range 2), top_k_intersection (k = round(top_k * pixels))"},
                             {"class", "every method explains the original model's class on every model"}};
    if (wants(options, Metric::mprt))
      sanity["mprt"] = {{"seed", options.mprt_seed}, {"stages", stages},
                        {"randomisation", "cascading from the top, trained parameters permuted (docs/evaluation.md)"}};
    if (options.randomised_labels)
      sanity["data_randomisation"] = {{"model", options.randomised_labels->describe()}};
    settings["sanity_checks"] = sanity;
  }
  if (occlusion.patch <= 0) settings["occlusion"]["patch"] = "auto (a quarter of the shorter side)";
  if (occlusion.stride <= 0) settings["occlusion"]["stride"] = "auto (half the patch)";
  return settings;
}

// One evaluation run: the settings every image is measured with, shared
// read-only by the threads. Threads over images share the model; the batched
// model evaluations within an image get the cores the images leave over.
struct Run {
  const ExplainableModel& model;
  const MaskedDataset& data;
  const EvaluationOptions& options;
  CoreShare share;
  BatchOptions batching;
  PerturbationOptions perturbation;
  ExplainSettings method_settings;
  /// The randomised models of the model randomisation test, stage 1 .. S
  /// (cumulative), made once.
  std::vector<std::string> stages;
  std::vector<std::unique_ptr<ExplainableModel>> randomised;
};

// The run's settings for `count` images; the randomised models made if "mprt"
// is measured.
Run plan_run(const ExplainableModel& model, const MaskedDataset& data, const EvaluationOptions& options, long count) {
  Run run{model, data, options, share_cores(count, options.jobs, options.batching.threads, model.concurrent()),
          options.batching, options.perturbation, options.method_settings, {}, {}};
  run.batching.threads = run.share.threads;
  run.perturbation.batching = run.batching;
  run.method_settings.occlusion.batching = run.batching;
  if (wants(options, Metric::mprt)) {
    run.stages = model.randomisation_stages();
    for (int s = 1; s <= static_cast<int>(run.stages.size()); ++s)
      run.randomised.push_back(model.randomised(s, options.mprt_seed));
  }
  return run;
}

// The sanity checks of one method's map (docs/evaluation.md "Sanity checks"):
// the same method, class and seed on the randomised models, each map compared
// with the model's; the maps go to `view` (if given) for the report.
void sanity_checks(nlohmann::json& m, const Run& run, const ExplainedImage& e, const Explanation& r,
                   ExplainMethod method, ReportImage* view) {
  auto explain_on = [&](const ExplainableModel& other) {
    return explain_with(other, *e.input, e.class_index, method, run.method_settings, e.seed, e.sample->source);
  };
  auto compared = [&](const Explanation& x) {
    nlohmann::json similarity = heatmap_similarity(r.pixels, x.pixels, run.options.top_k);
    similarity["score"] = x.score;
    return similarity;
  };
  if (!run.randomised.empty()) {
    nlohmann::json curve = nlohmann::json::array();
    std::vector<RowMatrixXd> maps;
    for (size_t s = 0; s < run.randomised.size(); ++s) {
      const Explanation x = explain_on(*run.randomised[s]);
      nlohmann::json similarity = compared(x);
      similarity["stage"] = run.stages[s];
      curve.push_back(std::move(similarity));
      if (view) maps.push_back(x.pixels);
    }
    m["mprt"] = std::move(curve);
    if (view) view->mprt.push_back(std::move(maps));
  }
  if (const ExplainableModel* labels = run.options.randomised_labels) {
    const Explanation x = explain_on(*labels);
    m["data_randomisation"] = compared(x);
    if (view) view->data_randomisation.push_back(x.pixels);
  }
}

// One image evaluated: its record with every method's metrics, the report's
// view of it (filled when kept) and the methods' seconds for the progress line.
struct EvaluatedImage {
  nlohmann::json record;
  ReportImage view;
  std::string timings;
};

// The image's maps are moved into the view when `keep`.
EvaluatedImage evaluate_image(const Run& run, ExplainedImage& e, bool keep) {
  const ImageSample& sample = *e.sample;
  const std::optional<MaskArray>& mask = run.data.masks[e.index];
  const int c = e.class_index;
  const std::uint64_t noise_seed = image_seed(run.perturbation.seed, e.index);
  EvaluatedImage out{image_record(run.model, sample, e.index, e.predicted, c, e.scores[c], mask, noise_seed),
                     ReportImage{sample.name, sample.gray, mask, {}, {}, {}}, ""};
  nlohmann::json per_method = nlohmann::json::object();
  std::ostringstream line;
  for (size_t k = 0; k < run.options.methods.size(); ++k) {
    const ExplainMethod method = run.options.methods[k];
    Explanation& r = e.results[k];
    nlohmann::json m = measure(run.model, *e.input, r, mask, run.options, run.perturbation, noise_seed,
                               run.method_settings, e.seed, sample.source);
    sanity_checks(m, run, e, r, method, keep ? &out.view : nullptr);
    per_method[name_of(method)] = std::move(m);
    line << "  " << name_of(method) << " " << std::setprecision(3) << r.seconds << " s";
    if (keep) out.view.results.push_back(std::move(r));
  }
  out.record["methods"] = per_method;
  out.timings = line.str();
  return out;
}

// The run's JSON (format "pixelwise-evaluation") around the images' records.
nlohmann::json evaluation_json(const Run& run, long count, const nlohmann::json& images, Clock::time_point started) {
  const nlohmann::json execution = {{"cores", run.share.cores}, {"jobs", run.share.jobs},
                                    {"threads_per_image", run.batching.threads}, {"batch", run.batching.batch},
                                    {"model_concurrent", run.model.concurrent()}};
  return {{"format", "pixelwise-evaluation"},
          {"version", 1},
          {"settings", run_settings(run.model, run.data, run.options, count, execution, run.stages)},
          {"summary", summarise_evaluation_images(images, method_names(run.options.methods).get<std::vector<std::string>>(),
                                                  run.options.metrics)},
          {"chance", chance_of_evaluation_images(images)},
          {"regions", regions_of_evaluation_images(images)},
          {"seconds", seconds_since(started)},
          {"images", images}};
}

}  // namespace

nlohmann::json evaluate(const ExplainableModel& model, const MaskedDataset& data, const EvaluationOptions& options,
                        std::vector<ReportImage>* shown, std::ostream* log) {
  check_run(model, data, options);
  const ClassChoice class_choice = ClassChoice::parse(options.class_choice, model);  // a class it lacks: refused here
  const std::vector<std::string> names = model.class_names();
  const std::vector<long> selected = select_images(model, data, options);
  const long count = static_cast<long>(selected.size());
  const Run run = plan_run(model, data, options, count);

  const long kept = shown ? std::min<long>(count, std::max(0, options.report_images)) : 0;
  std::vector<nlohmann::json> records(count);
  std::vector<ReportImage> views(kept);
  const auto started = Clock::now();
  Progress progress(log ? count : 0, "evaluate");
  std::atomic<long> finished{0};
  explain_images(model, data.data, selected, options.methods, class_choice, run.method_settings, run.share.jobs,
                 [&](long position, ExplainedImage& e) {
                   const bool keep = position < kept;  // the report shows the first images, whatever the threads
                   EvaluatedImage image = evaluate_image(run, e, keep);
                   records[position] = std::move(image.record);
                   if (keep) views[position] = std::move(image.view);
                   if (log) {
                     std::ostringstream head;
                     head << "[" << std::fixed << std::setprecision(1) << seconds_since(started) << " s] " << ++finished
                          << "/" << count << ": " << e.sample->name << " class " << names[e.class_index];
                     progress.print(*log, head.str() + image.timings);
                   }
                   progress.advance();
                 });
  nlohmann::json images(std::move(records));
  if (shown) std::move(views.begin(), views.end(), std::back_inserter(*shown));
  return evaluation_json(run, count, images, started);
}

}  // namespace pixelwise
