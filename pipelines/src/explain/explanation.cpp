// The one explanation path (explanation.hpp).
#include "pixelwise/pipelines/explain/explanation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>


namespace pixelwise {

Dataset ExplainableModel::read_dataset(const std::string& spec) const { return load_dataset(spec, oversize()); }

std::vector<ExplainMethod> ExplainableModel::methods() const {
  std::vector<ExplainMethod> all = own_methods();
  for (ExplainMethod m : enum_names(ExplainMethod{}).values())
    if (model_agnostic(m) && std::find(all.begin(), all.end(), m) == all.end()) all.push_back(m);
  return all;
}

std::vector<std::string> ExplainableModel::randomisation_stages() const {
  throw std::invalid_argument(source() + ": a " + kind() +
                              " model has no model randomisation (sanity checks, docs/evaluation.md)");
}

std::unique_ptr<ExplainableModel> ExplainableModel::randomised(int, std::uint64_t) const {
  randomisation_stages();  // throws for a model without randomisation
  throw std::logic_error(source() + ": randomisation_stages() is given but randomised() is not");
}

std::unique_ptr<ExplainableModel> load_explainable_model(const std::string& path,
                                                         const std::optional<std::pair<double, double>>& input_range) {
  // Any failure names the model, memory running out too (rethrow_naming).
  return naming_input(path, [&]() -> std::unique_ptr<ExplainableModel> {
    if (NetworkModel::is_network_model(path))
      return make_network_adapter(std::make_shared<const NetworkModel>(NetworkModel::load(path, input_range)));
    if (input_range) throw std::runtime_error("--input-range applies to network models only; " + path + " is a BoW model");
    return make_bow_adapter(std::make_shared<const BowModel>(BowModel::load(path)), path);
  });
}

std::uint64_t image_seed(std::uint64_t seed, long index) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(index) + 0x632be59bd9b4e019ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void check_occlusion_sizes(const OcclusionOptions& o, const std::string& prefix) {
  for (const auto& [name, value] : {std::make_pair("patch", o.patch), std::make_pair("stride", o.stride)})
    if (value < 0)
      throw std::invalid_argument(prefix + name + " " + std::to_string(value) +
                                  ": must be 0 (chosen from the image size) or a positive number of pixels");
}

OcclusionOptions occlusion_for(const OcclusionOptions& o, int rows, int cols) {
  check_occlusion_sizes(o);
  OcclusionOptions r = o;
  const int side = std::min(rows, cols);
  if (r.patch == 0) r.patch = std::max(1, static_cast<int>(std::lround(side / 4.0)));
  if (r.stride == 0) r.stride = std::max(1, r.patch / 2);
  return r;
}

Explanation explain_with(const ExplainableModel& model, const cv::Mat& image, int c, ExplainMethod method,
                         const ExplainSettings& settings, std::uint64_t seed, const std::string& what) {
  using Clock = std::chrono::steady_clock;
  // A float64 grey image reaches a model's own methods as it is (networks
  // compute in float64); the model-agnostic methods perturb float32 images
  // (baselines.hpp) and get it rounded to float32.
  const bool exact = image.type() == CV_64FC1 && !image.empty();
  if (!exact) check_model_image(image, what);
  if (c >= model.classes()) throw std::out_of_range(what + ": class index " + std::to_string(c) + " out of range");
  const auto start = Clock::now();
  Explanation r;
  cv::Mat rounded;
  if (exact && model_agnostic(method)) image.convertTo(rounded, CV_32F);
  const cv::Mat& perturbed = rounded.empty() ? image : rounded;
  if (model_agnostic(method)) {
    // The scores of every class from one pass that the method does not count,
    // as the own methods report them.
    r.scores = model.all_scores(perturbed, what);
    r.scores.maxCoeff(&r.predicted);
    r.class_index = c < 0 ? r.predicted : c;
    if (method == ExplainMethod::occlusion) {
      OcclusionOptions o = occlusion_for(settings.occlusion, image.rows, image.cols);
      o.batching.interrupt = settings.interrupt;
      const OcclusionResult occ = occlusion(model, perturbed, r.class_index, o);
      r.pixels = occ.relevance;
      r.score = occ.score;
      r.evaluations = occ.evaluations;
      r.details = {{"patch", o.patch}, {"stride", o.stride}, {"fill", o.fill}, {"positions", occ.positions}};
    } else {
      r.pixels = random_relevance(image.rows, image.cols, seed);
      r.score = r.scores[r.class_index];
      r.evaluations = 1;  // the score only; the map does not look at the model
      r.details = {{"seed", seed}, {"distribution", "uniform [-1, 1)"}};
    }
  } else {
    const auto own = model.own_methods();
    if (std::find(own.begin(), own.end(), method) == own.end())
      throw std::invalid_argument("explanation method \"" + name_of(method) + "\" does not apply to a " + model.kind() +
                                  " model like " + model.source() + " (it has: " + names_of(model.methods()) + ")");
    r = model.explain_own(image, c, method, settings, what);
  }
  r.method = method;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

}  // namespace pixelwise
