#include "pixelwise/pipelines/bow_explain.hpp"

#include "pixelwise/decomposition/bow_relevance.hpp"

namespace pixelwise {

BowExplanation explain(const BowModel& model, const cv::Mat& gray, int class_index, BiasPolicy policy,
                       const std::string& what) {
  BowModel::Forward forward = model.forward(gray, what);
  BowExplanation e;
  e.scores = forward.scores;
  e.scores.maxCoeff(&e.predicted);
  e.class_index = class_index < 0 ? e.predicted : class_index;
  model.svm.machine(e.class_index);  // range check
  e.score = e.scores[e.class_index];
  e.bias = model.svm.machine(e.class_index).bias();
  e.policy = policy;

  BinRelevance bins = decompose_svm(model.svm, e.class_index, forward.encoding.histogram, policy);
  FeatureRelevance features = pool_relevance(forward.encoding, bins.relevance);
  PixelRelevance pixels = spread_to_pixels(forward.features.frames, features.relevance, gray.cols, gray.rows);
  e.layers = {bins.layer, features.layer, pixels.layer};
  e.bin_relevance = std::move(bins.relevance);
  e.feature_relevance = std::move(features.relevance);
  e.pixels = std::move(pixels.relevance);
  e.pixel_sum = e.pixels.sum();
  e.features = std::move(forward.features);
  return e;
}

nlohmann::json explanation_json(const BowModel& model, const BowExplanation& e) {
  nlohmann::json scores = nlohmann::json::object();
  for (int c = 0; c < static_cast<int>(model.classes.size()); ++c) scores[model.classes[c]] = e.scores[c];
  double absorbed = 0, unassigned = 0;
  for (const auto& layer : e.layers) {
    absorbed += layer.absorbed;
    unassigned += layer.unassigned;
  }
  return {{"class", model.classes[e.class_index]},
          {"class_index", e.class_index},
          {"predicted", model.classes[e.predicted]},
          {"score", e.score},
          {"scores", scores},
          {"bias", e.bias},
          {"bias_policy", bias_policy_name(e.policy)},
          {"method", "lrp"},
          {"image_size", {e.pixels.rows(), e.pixels.cols()}},
          {"descriptors", e.features.size()},
          {"layers", e.layers},
          {"pixel_sum", e.pixel_sum},
          {"absorbed", absorbed},
          {"unassigned", unassigned},
          {"residual", e.residual()},
          {"unaccounted", e.residual() - absorbed - unassigned}};
}

}  // namespace pixelwise
