#include "pixelwise/pipelines/evaluation/evaluate.hpp"

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

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

// Occlusion patch and stride left at 0: a quarter and an eighth of the shorter side.
OcclusionOptions occlusion_for(const OcclusionOptions& o, int rows, int cols) {
  OcclusionOptions r = o;
  const int side = std::min(rows, cols);
  if (r.patch <= 0) r.patch = std::max(1, static_cast<int>(std::lround(side / 4.0)));
  if (r.stride <= 0) r.stride = std::max(1, r.patch / 2);
  return r;
}

nlohmann::json occlusion_json(const OcclusionOptions& o) {
  return {{"patch", o.patch}, {"stride", o.stride}, {"fill", o.fill}};
}

nlohmann::json perturbation_json(const PerturbationOptions& o) {
  nlohmann::json j = {{"region", o.region == 0 ? nlohmann::json("auto (9, scaled down to give at least L regions)") : nlohmann::json(o.region)},
                      {"steps", o.steps},
                      {"regions_per_step", o.regions_per_step == 0 ? nlohmann::json("auto (L steps cover the image)") : nlohmann::json(o.regions_per_step)},
                      {"replacement", replacement_name(o.replacement)},
                      {"seed", o.seed}};
  if (o.replacement == Replacement::constant) j["constant"] = o.constant;
  if (o.replacement == Replacement::blur) j["blur_sigma"] = o.blur_sigma;
  return j;
}

}  // namespace

std::unique_ptr<ExplainableModel> load_explainable_model(const std::string& path) {
  if (NetworkModel::is_network_model(path)) return make_network_adapter(std::make_shared<const NetworkModel>(NetworkModel::load(path)));
  return make_bow_adapter(std::make_shared<const BowModel>(BowModel::load(path)), path);
}

const std::vector<std::string>& generic_methods() {
  static const std::vector<std::string> methods{"occlusion", "random"};
  return methods;
}

const std::vector<std::string>& known_metrics() {
  static const std::vector<std::string> metrics{"aopc", "lerf", "pixel-flipping", "mass", "rank", "pointing", "conservation"};
  return metrics;
}

std::uint64_t image_seed(std::uint64_t seed, long index) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(index) + 0x632be59bd9b4e019ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

MethodResult explain_with(const ExplainableModel& model, const cv::Mat& image, int c, const std::string& method,
                          const MethodSettings& settings, std::uint64_t seed, const std::string& what) {
  check_model_image(image, what);
  if (c < 0 || c >= model.classes()) throw std::out_of_range(what + ": class index " + std::to_string(c) + " out of range");
  const auto start = Clock::now();
  MethodResult r;
  if (method == "occlusion") {
    const OcclusionOptions o = occlusion_for(settings.occlusion, image.rows, image.cols);
    const OcclusionResult occ = occlusion(model, image, c, o);
    r.pixels = occ.relevance;
    r.score = occ.score;
    r.evaluations = occ.evaluations;
    r.details = occlusion_json(o);
    r.details["positions"] = occ.positions;
  } else if (method == "random") {
    r.pixels = random_relevance(image.rows, image.cols, seed);
    r.score = model.score(image, c);
    r.evaluations = 1;  // the score only; the map does not look at the model
    r.details = {{"seed", seed}, {"distribution", "uniform [-1, 1)"}};
  } else {
    const auto own = model.own_methods();
    if (std::find(own.begin(), own.end(), method) == own.end())
      throw std::invalid_argument("unknown explanation method \"" + method + "\" for a " + model.kind() +
                                  " model (known: " + join(own) + ", " + join(generic_methods()) + ")");
    r = model.explain_own(image, c, method, what);
  }
  r.method = method;
  r.class_index = c;
  r.seconds = seconds_since(start);
  return r;
}

void EvaluationOptions::validate() const {
  if (methods.empty()) throw std::invalid_argument("evaluate: no methods given");
  if (metrics.empty()) throw std::invalid_argument("evaluate: no metrics given");
  for (const auto& m : metrics)
    if (std::find(known_metrics().begin(), known_metrics().end(), m) == known_metrics().end())
      throw std::invalid_argument("evaluate: unknown metric \"" + m + "\" (known: " + join(known_metrics()) + ")");
  std::set<std::string> seen;
  for (const auto& m : methods)
    if (!seen.insert(m).second) throw std::invalid_argument("evaluate: method \"" + m + "\" given twice");
  perturbation.validate();
  if (pixel_flipping_steps < 1) throw std::invalid_argument("evaluate: pixel flipping needs at least one step");
  if (report_images < 0) throw std::invalid_argument("evaluate: report_images must not be negative");
  if (jobs < 0) throw std::invalid_argument("evaluate: jobs must be 0 (all cores) or more");
  batching.validate();
}

nlohmann::json evaluate(const ExplainableModel& model, const MaskedDataset& data, const EvaluationOptions& options,
                        std::vector<ReportImage>* shown, std::ostream* log) {
  options.validate();
  const auto own = model.own_methods();
  for (const auto& m : options.methods)
    if (std::find(own.begin(), own.end(), m) == own.end() &&
        std::find(generic_methods().begin(), generic_methods().end(), m) == generic_methods().end())
      throw std::invalid_argument("evaluate: unknown method \"" + m + "\" for a " + model.kind() + " model (known: " +
                                  join(own) + ", " + join(generic_methods()) + ")");
  auto wants = [&](const std::string& metric) {
    return std::find(options.metrics.begin(), options.metrics.end(), metric) != options.metrics.end();
  };
  const std::vector<std::string> names = model.class_names();
  if (data.data.classes != names)
    throw std::runtime_error(data.data.spec + ": its classes (" + join(data.data.classes) + ") differ from the model's (" +
                             join(names) + ")");
  const int fixed_class = options.class_choice == "predicted" || options.class_choice == "label"
                              ? -1
                              : model.class_index(options.class_choice);
  const int only = options.only_label.empty() ? -1 : model.class_index(options.only_label);

  // The images of the run, in data set order; each keeps its data set index,
  // which seeds it, so that no result depends on the threads or the shard.
  const long total = static_cast<long>(data.data.images.size());
  std::vector<long> selected;
  for (long i = 0; i < total; ++i)
    if ((only < 0 || data.data.images[i].label == only) && options.shard.owns(i)) selected.push_back(i);
  if (selected.empty()) throw std::runtime_error(data.data.spec + ": no image to evaluate (check --label)");
  const long count = static_cast<long>(selected.size());

  // Threads over images share the model read-only (issue 8); the batched
  // model evaluations within an image get the cores the images leave over.
  const long cores = std::max(1u, std::thread::hardware_concurrency());
  const long jobs = !model.concurrent() ? 1 : std::min(count, options.jobs > 0 ? static_cast<long>(options.jobs) : cores);
  BatchOptions batching = options.batching;
  if (batching.threads <= 0) batching.threads = static_cast<int>(std::max(1L, cores / jobs));
  PerturbationOptions perturbation = options.perturbation;
  perturbation.batching = batching;
  MethodSettings method_settings = options.method_settings;
  method_settings.occlusion.batching = batching;

  const long kept = shown ? std::min<long>(count, std::max(0, options.report_images)) : 0;
  std::vector<nlohmann::json> records(count);
  std::vector<ReportImage> views(kept);
  const auto started = Clock::now();
  Progress progress(log ? count : 0, "evaluate");
  std::atomic<long> finished{0};

  for_each_parallel(count, static_cast<int>(jobs), [&](long position) {
    const long i = selected[position];
    const ImageSample& sample = data.data.images[i];
    const std::optional<MaskArray>& mask = data.masks[i];
    const cv::Mat& input = model.input(sample);  // the image every method and metric sees
    const Eigen::VectorXd scores = model.all_scores(input, sample.source);
    int predicted;
    scores.maxCoeff(&predicted);
    int c = fixed_class;
    if (options.class_choice == "predicted") c = predicted;
    if (options.class_choice == "label") {
      if (sample.label < 0) throw std::runtime_error(sample.source + ": no label to explain (--class label)");
      c = sample.label;
    }
    const std::uint64_t seed = image_seed(method_settings.seed, i);
    const std::uint64_t noise_seed = image_seed(perturbation.seed, i);
    nlohmann::json record = {{"index", i},
                             {"name", sample.name},
                             {"source", sample.source},
                             {"label", sample.label >= 0 ? nlohmann::json(names[sample.label]) : nlohmann::json(nullptr)},
                             {"predicted", names[predicted]},
                             {"class", names[c]},
                             {"class_index", c},
                             {"score", scores[c]},
                             {"size", {sample.gray.rows, sample.gray.cols}},
                             {"perturbation_seed", noise_seed}};
    if (mask) {
      record["mask_pixels"] = mask->count();
      record["mask_fraction"] = static_cast<double>(mask->count()) / static_cast<double>(mask->size());
    }
    const bool keep = position < kept;  // the report shows the first images, whatever the threads
    ReportImage view;
    if (keep) {
      view.name = sample.name;
      view.gray = sample.gray;
      view.mask = mask;
    }
    nlohmann::json per_method = nlohmann::json::object();
    for (const auto& method : options.methods) {
      MethodResult r = explain_with(model, input, c, method, method_settings, seed, sample.source);
      nlohmann::json m = {{"seconds", r.seconds}, {"evaluations", r.evaluations}, {"score", r.score},
                          {"pixel_sum", r.pixels.sum()}, {"details", r.details}};
      auto curve = [&](const std::string& metric, PerturbationOptions p) {
        p.seed = noise_seed;
        const PerturbationCurve k = region_perturbation(model, input, r.pixels, c, p);
        m[metric] = k.aopc();
        m["curves"][metric] = {{"scores", k.scores}, {"region", k.region}, {"regions_per_step", k.regions_per_step}};
      };
      if (wants("aopc")) {
        PerturbationOptions p = perturbation;
        p.most_relevant_first = true;
        curve("aopc", p);
      }
      if (wants("lerf")) {
        PerturbationOptions p = perturbation;
        p.most_relevant_first = false;
        curve("lerf", p);
      }
      if (wants("pixel-flipping")) {
        PerturbationOptions p = perturbation;
        p.most_relevant_first = true;
        p.region = 1;
        p.regions_per_step = 0;
        p.steps = options.pixel_flipping_steps;
        curve("pixel-flipping", p);
      }
      if (mask && (wants("mass") || wants("rank") || wants("pointing"))) {
        const Localisation l = localise(r.pixels, *mask);
        auto put = [&](const std::string& metric, double v) {
          if (!wants(metric)) return;
          m[metric] = std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
        };
        put("mass", l.mass_accuracy);
        put("rank", l.rank_accuracy);
        put("pointing", l.pointing);
      }
      if (r.account && wants("conservation")) {
        m["residual"] = r.account->score - r.account->pixel_sum;
        m["account"] = {{"score", r.account->score}, {"pixel_sum", r.account->pixel_sum}, {"layers", r.account->layers}};
      }
      per_method[method] = m;
      if (keep) view.results.push_back(std::move(r));
    }
    record["methods"] = per_method;
    records[position] = std::move(record);
    if (keep) views[position] = std::move(view);
    if (log) {
      std::ostringstream line;
      line << "[" << std::fixed << std::setprecision(1) << seconds_since(started) << " s] " << ++finished << "/" << count
           << ": " << sample.name << " class " << names[c];
      for (const auto& method : options.methods)
        line << "  " << method << " " << std::setprecision(3) << per_method[method]["seconds"].get<double>() << " s";
      progress.print(*log, line.str());
    }
    progress.advance();
  });
  const long evaluated = count;
  nlohmann::json images(std::move(records));
  if (shown) std::move(views.begin(), views.end(), std::back_inserter(*shown));

  const nlohmann::json summary = summarise_evaluation_images(images, options.methods, options.metrics);

  nlohmann::json settings = {
      {"model", model.describe()},
      {"data", {{"spec", data.data.spec}, {"images", total}, {"evaluated", evaluated},
                {"masks", data.mask_source.empty() ? nlohmann::json("none") : nlohmann::json(data.mask_source)}}},
      {"methods", options.methods},
      {"metrics", options.metrics},
      {"class", options.class_choice},
      {"only_label", options.only_label},
      {"perturbation", perturbation_json(options.perturbation)},
      {"pixel_flipping", {{"region", 1}, {"steps", options.pixel_flipping_steps}, {"regions_per_step", "auto (L steps cover the image)"},
                          {"replacement", replacement_name(options.perturbation.replacement)}}},
      {"occlusion", occlusion_json(options.method_settings.occlusion)},
      {"random", {{"seed", options.method_settings.seed}, {"per_image", "image_seed(seed, index)"}}},
      // How the run used the machine; no result depends on it (merges ignore it).
      {"execution", {{"hardware_threads", cores}, {"jobs", jobs}, {"threads_per_image", batching.threads},
                     {"batch", batching.batch}, {"model_concurrent", model.concurrent()}}},
      {"shard", options.shard.str()}};
  if (options.method_settings.occlusion.patch <= 0) settings["occlusion"]["patch"] = "auto (a quarter of the shorter side)";
  if (options.method_settings.occlusion.stride <= 0) settings["occlusion"]["stride"] = "auto (half the patch)";
  const nlohmann::json chance = chance_of_evaluation_images(images);
  return {{"format", "pixelwise-evaluation"},
          {"version", 1},
          {"settings", settings},
          {"summary", summary},
          {"chance", chance},
          {"seconds", seconds_since(started)},
          {"images", images}};
}

namespace {

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

}  // namespace

int run_evaluate(const EvaluateRequest& request, std::ostream& out, std::ostream* log) {
  EvaluationOptions options;
  options.methods = split_list(request.methods);
  options.metrics = split_list(request.metrics);
  options.class_choice = request.class_choice;
  options.only_label = request.only_label;
  options.perturbation = perturbation_from(request);
  options.batching.threads = request.threads;
  options.batching.batch = request.batch;
  options.jobs = request.jobs;
  options.pixel_flipping_steps = request.pixel_flipping_steps;
  options.method_settings.occlusion.patch = request.patch;
  options.method_settings.occlusion.stride = request.stride;
  options.method_settings.occlusion.fill = request.fill;
  options.method_settings.seed = request.seed;
  options.report_images = request.report_images;
  if (!request.shard.empty()) options.shard = Shard::parse(request.shard);
  options.validate();
  const fs::path target(request.out);
  if (fs::exists(target) && !(fs::is_directory(target) && (fs::is_empty(target) || fs::exists(target / "evaluation.json"))))
    throw std::runtime_error(request.out + ": exists and is not an evaluation folder; refusing to write into it");

  const auto model = load_explainable_model(request.model);
  const MaskedDataset data = load_masked_dataset(request.data, request.foreground,
                                                 model->kind() == "network" ? &load_network_dataset : &load_dataset);
  std::vector<ReportImage> shown;
  nlohmann::json result = evaluate(*model, data, options, &shown, request.quiet ? nullptr : log);
  result["settings"]["command"] = {{"model", request.model}, {"data", request.data}, {"methods", request.methods},
                                   {"metrics", request.metrics}, {"foreground", request.foreground}};
  // Everything is computed before the first file is written.
  const ReportFiles files = render_report(result, shown);
  fs::create_directories(target / "report");
  write_file_atomically((target / "evaluation.json").string(), result.dump(1) + "\n");
  for (const auto& [name, bytes] : files) {
    fs::create_directories((target / "report" / name).parent_path());
    write_file_atomically((target / "report" / name).string(), bytes);
  }

  out << "evaluated " << result["settings"]["data"]["evaluated"].get<long>() << " images of " << request.data << " in "
      << std::fixed << std::setprecision(1) << result["seconds"].get<double>() << " s\n";
  out << std::left << std::setw(13) << "method";
  for (const char* h : {"AOPC-MoRF", "AOPC-LeRF", "pix-flip", "mass-acc", "rank-acc", "pointing", "s/image"})
    out << std::setw(11) << h;
  out << "\n";
  for (const auto& method : options.methods) {
    const nlohmann::json& s = result["summary"][method];
    out << std::setw(13) << method;
    for (const char* k : {"aopc", "lerf", "pixel-flipping", "mass", "rank", "pointing", "seconds"})
      out << std::setw(11) << (s.contains(k) ? format_summary(s[k]) : "-");
    out << "\n";
  }
  out << std::setw(13) << "chance" << std::setw(33) << "" << std::setw(11) << format_summary(result["chance"]["mask_fraction"])
      << std::setw(11) << format_summary(result["chance"]["mask_fraction"]) << std::setw(11)
      << format_summary(result["chance"]["mask_fraction"]) << "\n";
  out << "results: " << (target / "evaluation.json").string() << ", report: " << (target / "report" / "index.html").string()
      << "\n";
  return 0;
}

int run_baseline_explain(const BaselineExplainRequest& request, std::ostream& out) {
  if (request.jobs < 0) throw std::runtime_error("--jobs must be 0 (all cores) or more");
  const auto model = load_explainable_model(request.model);
  MethodSettings settings;
  settings.occlusion.patch = request.patch;
  settings.occlusion.stride = request.stride;
  settings.occlusion.fill = request.fill;
  settings.occlusion.batching.threads = request.threads;
  settings.occlusion.batching.batch = request.batch;
  settings.seed = request.seed;
  const int fixed = request.class_name.empty() ? -1 : model->class_index(request.class_name);
  // Every input is read and explained before anything is written.
  std::vector<ImageSample> images;
  std::set<std::string> stems;
  for (const auto& ref : request.images) {
    images.push_back(model->kind() == "network" ? load_network_image(ref) : load_image_reference(ref));
    if (!stems.insert(images.back().name).second)
      throw std::runtime_error(ref + ": another input has the same output name \"" + images.back().name + "\"");
  }
  const std::vector<std::string> names = model->class_names();
  // Threads over images share the model (issue 8); occlusion's batches get the cores they leave.
  const long count = static_cast<long>(images.size());
  const long cores = std::max(1u, std::thread::hardware_concurrency());
  const long jobs = !model->concurrent() ? 1 : std::min(count, request.jobs > 0 ? static_cast<long>(request.jobs) : cores);
  if (settings.occlusion.batching.threads <= 0)
    settings.occlusion.batching.threads = static_cast<int>(std::max(1L, cores / std::max(1L, jobs)));
  std::vector<std::pair<MethodResult, nlohmann::json>> results(images.size());
  for_each_parallel(count, static_cast<int>(jobs), [&](long i) {
    const ImageSample& image = images[i];
    const Eigen::VectorXd scores = model->all_scores(model->input(image), image.source);
    int predicted;
    scores.maxCoeff(&predicted);
    const int c = fixed >= 0 ? fixed : predicted;
    MethodResult r = explain_with(*model, model->input(image), c, request.method, settings, image_seed(request.seed, static_cast<long>(i)),
                                  image.source);
    nlohmann::json all = nlohmann::json::object();
    for (int k = 0; k < static_cast<int>(names.size()); ++k) all[names[k]] = scores[k];
    nlohmann::json j = {{"image", request.images[i]},
                        {"model", request.model},
                        {"classifier", model->kind()},
                        {"method", request.method},
                        {"class", names[c]},
                        {"class_index", c},
                        {"predicted", names[predicted]},
                        {"score", r.score},
                        {"scores", all},
                        {"image_size", {r.pixels.rows(), r.pixels.cols()}},
                        {"pixel_sum", r.pixels.sum()},
                        {"evaluations", r.evaluations},
                        {"seconds", r.seconds},
                        {"details", r.details}};
    if (r.account) j["residual"] = r.account->score - r.account->pixel_sum;
    results[i] = {std::move(r), std::move(j)};
  });
  fs::create_directories(request.out);
  for (size_t i = 0; i < images.size(); ++i) {
    const auto& [r, j] = results[i];
    const std::string stem = (fs::path(request.out) / images[i].name).string();
    std::vector<uchar> png;
    if (!cv::imencode(".png", render_heatmap(r.pixels, images[i].gray), png))
      throw std::runtime_error(stem + ".png: PNG encoding failed");
    write_file_atomically(stem + ".npy", npy_bytes(r.pixels));
    write_file_atomically(stem + ".png", std::string(png.begin(), png.end()));
    write_file_atomically(stem + ".json", j.dump(2) + "\n");
    out << images[i].name << ": " << request.method << " class " << names[r.class_index] << " score "
        << std::setprecision(10) << r.score << " evaluations " << r.evaluations << " seconds " << std::setprecision(3)
        << r.seconds << "\n";
  }
  return 0;
}

int run_make_scenes(const SceneOptions& options, const std::string& out, bool quiet, std::ostream& log) {
  make_scenes(options, out, quiet ? nullptr : &log);
  return 0;
}

}  // namespace pixelwise
