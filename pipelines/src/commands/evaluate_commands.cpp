// `pixelwise evaluate` and `merge-evaluations` (evaluation/evaluate.hpp).
#include <algorithm>
#include <filesystem>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/folder_lock.hpp"
#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/pipelines/evaluation/report.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

struct EvaluateRequest {
  std::string model, data, out;
  std::string methods = "lrp,occlusion,sensitivity,random";
  std::string metrics = "aopc,lerf,pixel-flipping,mass,rank,pointing,conservation,sparseness,complexity";
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
  std::string pixel_rule;  ///< BoW models: the pixel layer's weighting (empty: each channel's own)
  // faithfulness.hpp (defaults there)
  FaithfulnessCorrelationOptions correlation;
  SensitivityNOptions sensitivity_n;
  InfidelityOptions infidelity;
  MaxSensitivityOptions max_sensitivity;
  // Sanity checks (docs/evaluation.md "Sanity checks").
  std::uint64_t mprt_seed = 1;
  double top_k = kDefaultTopK;   ///< fraction of the pixels
  std::string randomised_model;  ///< data-randomisation: the model trained on permuted labels
  bool mprt_seed_given = false, top_k_given = false;
  bool quiet = false;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

PerturbationOptions perturbation_from(const EvaluateRequest& r) {
  PerturbationOptions p;
  p.region = r.region;
  p.steps = r.steps;
  p.seed = r.seed;
  const size_t colon = r.replacement.find(':');
  p.replacement = parse_replacement(r.replacement.substr(0, colon));
  if (colon != std::string::npos) {
    const std::string value = r.replacement.substr(colon + 1);
    double v;
    try {
      size_t used;
      v = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      throw std::invalid_argument("--replacement " + r.replacement + ": \"" + value + "\" is not a number");
    }
    if (p.replacement == Replacement::constant) p.constant = v;
    else if (p.replacement == Replacement::blur) p.blur_sigma = v;
    else throw std::invalid_argument("--replacement uniform takes no value");
  }
  return p;
}

std::string format_summary(const nlohmann::json& s) {
  if (!s.is_object() || s.at("mean").is_null()) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(4) << s.at("mean").get<double>();
  return o.str();
}

// The option values, parsed and range-checked; a bad one is a UsageError
// (exit status 2, docs/errors.md, "Exit status").
EvaluationOptions evaluation_options(const EvaluateRequest& request) try {
  EvaluationOptions options;
  options.methods.clear();
  for (const auto& m : split_list(request.methods))
    options.methods.push_back(parse_enum<ExplainMethod>(m, "method", "--methods"));
  options.metrics = parse_metrics(split_list(request.metrics), "--metrics");
  options.class_choice = request.class_choice;
  options.only_label = request.only_label;
  options.perturbation = perturbation_from(request);
  options.batching.threads = request.threads;
  options.batching.batch = request.batch;
  options.jobs = request.jobs;
  options.pixel_flipping_steps = request.pixel_flipping_steps;
  options.faithfulness_correlation = request.correlation;
  options.sensitivity_n = request.sensitivity_n;
  options.infidelity = request.infidelity;
  options.max_sensitivity = request.max_sensitivity;
  for (const long n : options.sensitivity_n.sizes)
    if (n < 1) throw std::invalid_argument("--sensitivity-n-sizes: " + std::to_string(n) + " is not a pixel count >= 1");
  auto refuse = [](const std::string& flag, double value, const std::string& rule) {
    std::ostringstream text;
    text << flag << " " << value << ": " << rule;
    throw std::invalid_argument(text.str());
  };
  if (request.correlation.subsets < 2) refuse("--correlation-subsets", request.correlation.subsets, "must be at least 2");
  if (!(request.correlation.fraction > 0 && request.correlation.fraction <= 1))
    refuse("--correlation-fraction", request.correlation.fraction, "must be in (0, 1]");
  if (request.sensitivity_n.subsets < 2) refuse("--sensitivity-n-subsets", request.sensitivity_n.subsets, "must be at least 2");
  if (request.sensitivity_n.points < 1) refuse("--sensitivity-n-points", request.sensitivity_n.points, "must be at least 1");
  if (!(request.sensitivity_n.max_fraction > 0 && request.sensitivity_n.max_fraction <= 1))
    refuse("--sensitivity-n-max-fraction", request.sensitivity_n.max_fraction, "must be in (0, 1]");
  if (request.infidelity.samples < 1) refuse("--infidelity-samples", request.infidelity.samples, "must be at least 1");
  if (!(request.infidelity.sigma > 0) || !std::isfinite(request.infidelity.sigma))
    refuse("--infidelity-sigma", request.infidelity.sigma, "must be a positive grey level");
  if (request.max_sensitivity.samples < 1)
    refuse("--max-sensitivity-samples", request.max_sensitivity.samples, "must be at least 1");
  if (!(request.max_sensitivity.radius > 0) || !std::isfinite(request.max_sensitivity.radius))
    refuse("--max-sensitivity-radius", request.max_sensitivity.radius, "must be a positive grey level");
  options.method_settings.occlusion.patch = request.patch;
  options.method_settings.occlusion.stride = request.stride;
  options.method_settings.occlusion.fill = request.fill;
  options.method_settings.seed = request.seed;
  if (!request.pixel_rule.empty())
    options.method_settings.pixel_rule = parse_enum<WeightingType>(request.pixel_rule, "pixel rule", "--pixel-rule");
  check_occlusion_sizes(options.method_settings.occlusion, "--");
  // An empty --class is a mistake, not "predicted" (docs/errors.md, "Exit status").
  if (request.class_choice.empty())
    throw std::invalid_argument("--class \"\": empty; give predicted, label, a class name or an index");
  options.report_images = request.report_images;
  options.mprt_seed = request.mprt_seed;
  options.top_k = request.top_k;
  const bool data_randomisation = wants(options.metrics, Metric::data_randomisation);
  if (data_randomisation && request.randomised_model.empty())
    throw std::invalid_argument("--metrics data-randomisation needs --randomised-model DIR (a model trained with "
                                "train --permute-labels)");
  if (!data_randomisation && !request.randomised_model.empty())
    throw std::invalid_argument("--randomised-model is used by --metrics data-randomisation only");
  const bool mprt = wants(options.metrics, Metric::mprt);
  if (request.mprt_seed_given && !mprt) throw std::invalid_argument("--mprt-seed is used by --metrics mprt only");
  if (request.top_k_given && !mprt && !data_randomisation)
    throw std::invalid_argument("--top-k is used by --metrics mprt and data-randomisation only");
  if (!request.shard.empty()) options.shard = Shard::parse(request.shard);
  if (request.jobs < 0) throw std::invalid_argument("--jobs " + std::to_string(request.jobs) + ": must be 0 (all cores) or more");
  options.validate();
  return options;
} catch (const std::exception& e) {
  throw UsageError(e.what());
}

// The command line as given, recorded in the settings.
nlohmann::json command_json(const EvaluateRequest& request) {
  auto or_null = [](const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json(text); };
  return {{"model", request.model}, {"data", request.data}, {"methods", request.methods},
          {"metrics", request.metrics}, {"foreground", request.foreground},
          {"pixel_rule", or_null(request.pixel_rule)}, {"randomised_model", or_null(request.randomised_model)}};
}

// TARGET/evaluation.json and TARGET/report/..., each written atomically.
void write_evaluation(const fs::path& target, const nlohmann::json& result, const ReportFiles& files, FolderLock& lock) {
  fs::create_directories(target / "report");
  lock.acquire();
  write_file_atomically((target / "evaluation.json").string(), result.dump(1) + "\n");
  for (const auto& [name, bytes] : files) {
    fs::create_directories((target / "report" / name).parent_path());
    write_file_atomically((target / "report" / name).string(), bytes);
  }
}

// One table of summary means: a row per method, a column per key (13 and 11
// characters wide, "-" for a metric not measured).
void print_table(std::ostream& out, const nlohmann::json& result, const std::vector<ExplainMethod>& methods,
                 const std::vector<std::pair<const char*, const char*>>& columns) {
  out << std::setw(13) << "method";
  for (const auto& [key, head] : columns) out << std::setw(11) << head;
  out << "\n";
  for (const ExplainMethod method : methods) {
    const nlohmann::json& s = result.at("summary").at(name_of(method));
    out << std::setw(13) << name_of(method);
    for (const auto& [key, head] : columns) out << std::setw(11) << (s.contains(key) ? format_summary(s.at(key)) : "-");
    out << "\n";
  }
}

// The summary on `out`: the perturbation, localisation and time table with the
// chance row, the faithfulness, robustness and complexity table when any of
// them was measured, and the sanity checks' Spearman correlations.
void print_summary(std::ostream& out, const nlohmann::json& result, const std::vector<ExplainMethod>& methods) {
  out << std::left;
  print_table(out, result, methods,
              {{"aopc", "AOPC-MoRF"}, {"lerf", "AOPC-LeRF"}, {"pixel-flipping", "pix-flip"}, {"mass", "mass-acc"},
               {"rank", "rank-acc"}, {"pointing", "pointing"}, {"seconds", "s/image"}});
  const std::string chance = format_summary(result.at("chance").at("mask_fraction"));
  out << std::setw(13) << "chance" << std::setw(33) << "" << std::setw(11) << chance << std::setw(11) << chance
      << std::setw(11) << chance << "\n";
  const std::vector<std::pair<const char*, const char*>> more{
      {"faithfulness-correlation", "faith-corr"}, {"infidelity", "infidelity"}, {"relative_infidelity", "rel-infid"},
      {"max-sensitivity", "max-sens"},           {"sparseness", "sparseness"}, {"complexity", "complexity"}};
  bool any = false;
  for (const auto& [key, head] : more)
    for (const ExplainMethod method : methods) any = any || result.at("summary").at(name_of(method)).contains(key);
  if (any) print_table(out, result, methods, more);
  for (const ExplainMethod method : methods) {
    const nlohmann::json& s = result.at("summary").at(name_of(method));
    if (s.contains("mprt")) {
      out << "mprt " << name_of(method) << ": Spearman by stage";
      for (const auto& stage : s.at("mprt")) out << " " << format_summary(stage.at("spearman"));
      out << "\n";
    }
    if (s.contains("data_randomisation"))
      out << "data randomisation " << name_of(method) << ": Spearman " << format_summary(s.at("data_randomisation").at("spearman"))
          << ", SSIM " << format_summary(s.at("data_randomisation").at("ssim")) << "\n";
  }
}

int run_evaluate(const EvaluateRequest& request, std::ostream& out, std::ostream* log) {
  EvaluationOptions options = evaluation_options(request);
  const fs::path target(request.out);
  if (fs::exists(target) && !(fs::is_directory(target) && (fs::is_empty(target) || fs::exists(target / "evaluation.json"))))
    throw std::runtime_error(request.out + ": exists and is not an evaluation folder; refusing to write into it");

  FolderLock lock(request.out);  // one writer per folder (docs/errors.md, "Concurrent writers")
  const auto model = load_explainable_model(request.model);
  std::unique_ptr<ExplainableModel> randomised_labels;
  if (!request.randomised_model.empty()) {
    randomised_labels = load_explainable_model(request.randomised_model);
    options.randomised_labels = randomised_labels.get();
  }
  if (options.method_settings.pixel_rule && model->kind() != "bow")
    throw std::runtime_error("--pixel-rule applies to BoW models only; " + request.model + " is a " + model->kind() +
                             " model");
  const MaskedDataset data = load_masked_dataset(request.data, request.foreground, *model);
  std::vector<ReportImage> shown;
  nlohmann::json result = evaluate(*model, data, options, &shown, request.quiet ? nullptr : log);
  result["settings"]["command"] = command_json(request);
  // Everything is computed before the first file is written.
  const ReportFiles files = render_report(result, shown);
  write_evaluation(target, result, files, lock);

  out << "evaluated " << result["settings"]["data"]["evaluated"].get<long>() << " images of " << request.data << " in "
      << std::fixed << std::setprecision(1) << result["seconds"].get<double>() << " s\n";
  print_summary(out, result, options.methods);
  out << "results: " << (target / "evaluation.json").string() << ", report: " << (target / "report" / "index.html").string()
      << "\n";
  return 0;
}

}  // namespace

Command add_evaluate_command(CLI::App& app) {
  auto r = std::make_shared<EvaluateRequest>();
  auto* cmd = app.add_subcommand("evaluate", "measure explanation methods: faithfulness, localisation, time");
  cmd->add_option("--model", r->model, "model directory (BoW or network) or toolbox text file")->required();
  cmd->add_option("--data", r->data,
                  "data set: scenes:FOLDER:SPLIT[:LIMIT] (with masks), fashion-mnist:SPLIT[:LIMIT], digits:..., a folder")
      ->required();
  cmd->add_option("--out", r->out, "folder for evaluation.json and report/index.html")->required();
  cmd->add_option("--methods", r->methods, "comma-separated: lrp, taylor, sensitivity, occlusion, random");
  cmd->add_option("--metrics", r->metrics,
                  "comma-separated: aopc (MoRF), lerf, pixel-flipping, mass, rank, pointing, conservation, sparseness, "
                  "complexity (the default), faithfulness-correlation, sensitivity-n, infidelity, max-sensitivity, "
                  "and the sanity checks mprt, data-randomisation");
  cmd->add_option("--class", r->class_choice,
                  "explained class: predicted (default), label (each image's own) or a class name/index");
  cmd->add_option("--label", r->only_label, "evaluate only the images of this label");
  cmd->add_option("--foreground", r->foreground,
                  "data without masks: mask = pixels brighter than this grey level (e.g. 0 for Fashion-MNIST)");
  cmd->add_option("--region", r->region, "region side for AOPC (default 0: 9, scaled down for small images)");
  cmd->add_option("--steps", r->steps, "perturbation steps L (default 100)");
  cmd->add_option("--flip-steps", r->pixel_flipping_steps, "pixel flipping steps (default 100)");
  cmd->add_option("--replacement", r->replacement, "uniform (default), constant[:LEVEL] or blur[:SIGMA]");
  cmd->add_option("--seed", r->seed, "seed of the noise, tie order and random heatmaps (default 1)");
  cmd->add_option("--patch", r->patch, "occlusion patch side (default 0: a quarter of the image side)");
  cmd->add_option("--stride", r->stride, "occlusion stride (default 0: half the patch)");
  cmd->add_option("--fill", r->fill, "occlusion fill grey level (default 0)");
  cmd->add_option("--jobs", r->jobs, "images evaluated at once, on threads sharing the model (default 0: every core this process may run on)");
  cmd->add_option("--threads", r->threads,
                  "threads for the batched model evaluations of one image (default 0: the cores --jobs leaves)");
  cmd->add_option("--batch", r->batch, "images per batched model evaluation (default 32)");
  cmd->add_option("--report-images", r->report_images, "images shown in the report (default 12)");
  cmd->add_option("--pixel-rule", r->pixel_rule,
                  "BoW models: how lrp, taylor and sensitivity spread a descriptor's relevance over pixels: uniform, "
                  "gaussian or gradient (default: each channel's configured weighting)")
      ->check(CLI::IsMember(enum_names(WeightingType{}).names()));
  cmd->add_option("--correlation-subsets", r->correlation.subsets,
                  "faithfulness-correlation: random pixel subsets per image (default 100)");
  cmd->add_option("--correlation-fraction", r->correlation.fraction,
                  "faithfulness-correlation: share of the pixels in each subset (default 0.1)");
  cmd->add_option("--sensitivity-n-subsets", r->sensitivity_n.subsets, "sensitivity-n: subsets per size n (default 50)");
  cmd->add_option("--sensitivity-n-points", r->sensitivity_n.points,
                  "sensitivity-n: sizes n log-spaced from 1 pixel to --sensitivity-n-max-fraction of the pixels (default 10)");
  cmd->add_option("--sensitivity-n-max-fraction", r->sensitivity_n.max_fraction,
                  "sensitivity-n: the largest n as a share of the pixels (default 0.8)");
  cmd->add_option("--sensitivity-n-sizes", r->sensitivity_n.sizes,
                  "sensitivity-n: explicit sizes n in pixels, comma-separated (instead of the log-spaced ones)")
      ->delimiter(',');
  cmd->add_option("--infidelity-samples", r->infidelity.samples, "infidelity: Gaussian perturbations per image (default 100)");
  cmd->add_option("--infidelity-sigma", r->infidelity.sigma, "infidelity: their standard deviation in grey levels (default 0.1)");
  cmd->add_option("--max-sensitivity-samples", r->max_sensitivity.samples,
                  "max-sensitivity: noisy inputs re-explained per image (default 10)");
  cmd->add_option("--max-sensitivity-radius", r->max_sensitivity.radius,
                  "max-sensitivity: the noise is uniform in [-r, r] per value (default 0.02)");
  auto* mprt_seed = cmd->add_option("--mprt-seed", r->mprt_seed,
                  "metric mprt: seed of the model randomisation (trained parameters permuted, cascading from the top; "
                  "default 1)");
  auto* top_k = cmd->add_option("--top-k", r->top_k,
                  "metrics mprt and data-randomisation: k of the top-k intersection as a fraction of the pixels, in "
                  "(0, 1] (default 0.1)");
  cmd->add_option("--randomised-model", r->randomised_model,
                  "metric data-randomisation: the model trained on permuted labels (train --permute-labels), same classes");
  cmd->add_flag("--quiet", r->quiet, "no progress lines");
  cmd->add_option("--shard", r->shard, "evaluate only shard K of N of the images (K/N); combine with merge-evaluations");
  return {cmd, [r, mprt_seed, top_k] {
            r->mprt_seed_given = mprt_seed->count() > 0;
            r->top_k_given = top_k->count() > 0;
            try {
              return run_evaluate(*r, std::cout, &std::cerr);
            } catch (const UsageError&) {
              throw;
            } catch (const std::invalid_argument& e) {
              throw std::runtime_error(e.what());
            }
          }};
}

Command add_merge_evaluations_command(CLI::App& app) {
  auto inputs = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("merge-evaluations", "combine the evaluation.json files of evaluate --shard runs");
  cmd->add_option("--out", *out, "folder for the merged evaluation.json and report/index.html")->required();
  cmd->add_option("evaluations", *inputs, "the evaluation.json (or the evaluate --out folder) of every shard")->required();
  return {cmd, [inputs, out] { return run_merge_evaluations(*inputs, *out, std::cout); }};
}

}  // namespace pixelwise
