#include "pixelwise/pipelines/bow_explain.hpp"

#include <stdexcept>

#include "pixelwise/decomposition/bow_relevance.hpp"

namespace pixelwise {

BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, BiasPolicy policy,
                       const std::string& what, int versus) {
  ExplainOptions options;
  options.policy = policy;
  return explain(model, image, class_index, options, what, versus);
}

RelevanceRequest relevance_request(const BowModel& model, const ExplainOptions& options, const std::string& what,
                                   int versus) {
  if (options.method != "lrp" && options.method != "taylor")
    throw std::invalid_argument("unknown explanation method \"" + options.method + "\" (known: lrp, taylor)");
  RelevanceRequest r;
  r.method = parse_histogram_method(options.method);
  r.policy = options.policy;
  r.rule = options.rule;
  r.ignore_bias = options.ignore_bias;
  r.versus = versus;
  r.reference = options.reference;
  r.taylor = options.taylor;
  r.context = model.context();
  r.what = what;
  return r;
}

BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, const ExplainOptions& options,
                       const std::string& what, int versus) {
  const RelevanceRequest request = relevance_request(model, options, what, versus);
  BowModel::Forward forward = model.forward(image, what);
  BowExplanation e;
  e.scores = forward.scores;
  e.scores.maxCoeff(&e.predicted);
  e.class_index = class_index < 0 ? e.predicted : class_index;
  model.check_class(e.class_index);
  e.policy = options.policy;
  e.method = options.method;
  e.versus = versus;
  // The classifier layers (DESIGN.md 1.4, 1.7): relevance of every histogram bin, and their accounts (top first).
  ClassifierRelevance r = model.classifier->relevance(forward.encoding.histogram, forward.pass, e.class_index, request);
  e.score = r.score;
  e.bias = r.bias;
  e.reports_bias = r.reports_bias;
  e.explained = std::move(r.explained);
  e.classifier_report = std::move(r.report);
  e.taylor = std::move(r.taylor);
  Eigen::VectorXd bin_relevance = std::move(r.bins);
  std::vector<LayerRelevance> classifier_layers = std::move(r.layers);

  // Each channel's block of bins down its own pooling and pixel layers.
  const int height = image.rows, width = image.cols;
  e.pixels = RowMatrixXd::Zero(height, width);
  e.features.image_width = width;
  e.features.image_height = height;
  LayerRelevance pooling{"pooling"}, pixels{"pixels"};
  std::vector<double> feature_relevance;
  for (ChannelEncoding& channel : forward.encoding.channels) {
    ChannelRelevance c;
    c.name = channel.name;
    c.offset = channel.offset;
    c.bins = channel.bow.pooled.size();
    c.first_feature = e.features.size();
    c.features = channel.features.size();
    const Eigen::VectorXd block = bin_relevance.segment(c.offset, c.bins);
    c.bin_relevance = block.sum();
    FeatureRelevance f = pool_relevance(channel.bow, block);
    PixelRelevance p = spread_to_pixels(channel.features.frames, f.relevance, width, height, channel.weighting);
    c.pooling = f.layer;
    c.pixels = p.layer;
    c.pixel_map = std::move(p.relevance);
    for (auto [sum, part] : {std::pair{&pooling, &c.pooling}, std::pair{&pixels, &c.pixels}}) {
      sum->relevance_in += part->relevance_in;
      sum->relevance_out += part->relevance_out;
      sum->absorbed += part->absorbed;
      sum->unassigned += part->unassigned;
    }
    e.pixels += c.pixel_map;
    feature_relevance.insert(feature_relevance.end(), f.relevance.data(), f.relevance.data() + f.relevance.size());
    e.features.frames.insert(e.features.frames.end(), channel.features.frames.begin(), channel.features.frames.end());
    e.channels.push_back(std::move(c));
  }
  e.layers = std::move(classifier_layers);
  e.layers.push_back(pooling);
  e.layers.push_back(pixels);
  e.bin_relevance = std::move(bin_relevance);
  e.feature_relevance = Eigen::Map<const Eigen::VectorXd>(feature_relevance.data(), feature_relevance.size());
  e.pixel_sum = e.pixels.sum();
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
  // Bin b of a channel's block [offset, offset + cells * words) is cell
  // (b - offset) / words, word (b - offset) % words.
  nlohmann::json channels = nlohmann::json::array();
  for (size_t i = 0; i < e.channels.size(); ++i) {
    const ChannelRelevance& c = e.channels[i];
    channels.push_back({{"name", c.name},
                        {"bins", {c.offset, c.offset + c.bins}},
                        {"cells", model.channels[i].pooling.cells()},
                        {"words", model.channels[i].codebook.words},
                        {"descriptors", c.features},
                        {"bin_relevance", c.bin_relevance},
                        {"pooling", c.pooling},
                        {"pixels", c.pixels},
                        {"pixel_sum", c.pixel_map.sum()}});
  }
  nlohmann::json j = {{"class", model.classes[e.class_index]},
                      {"class_index", e.class_index},
                      {"predicted", model.classes[e.predicted]},
                      {"explained", e.explained},
                      {"score", e.score},
                      {"scores", scores},
                      {"bias", e.bias},
                      {"bias_policy", bias_policy_name(e.policy)},
                      {"method", e.method},
                      {"image_size", {e.pixels.rows(), e.pixels.cols()}},
                      {"descriptors", e.features.size()},
                      {"layers", e.layers},
                      {"channels", channels},
                      {"pixel_sum", e.pixel_sum},
                      {"absorbed", absorbed},
                      {"unassigned", unassigned},
                      {"residual", e.residual()},
                      {"unaccounted", e.residual() - absorbed - unassigned}};
  if (e.versus >= 0) j["versus"] = model.classes[e.versus];
  // The kind's own fields ("classifier", ...); a network's biases absorb
  // relevance, reported per layer, instead of a bias policy.
  j.update(e.classifier_report);
  if (!e.reports_bias) {
    j.erase("bias");
    j.erase("bias_policy");
  }
  if (e.taylor) {
    // Taylor (DESIGN.md 1.4): the absorbed relevance of the svm layer is the
    // residual f(x) - sum R = f(x0) + higher-order terms; per layer, the residual
    // of what reached it.
    const SvmTaylorRelevance& t = *e.taylor;
    j.erase("bias_policy");
    nlohmann::json residuals = nlohmann::json::array();
    for (const auto& layer : e.layers)
      residuals.push_back({{"layer", layer.name}, {"relevance_sum", layer.relevance_out},
                           {"residual", e.score - layer.relevance_out}});
    j["taylor"] = {{"reference", t.reference_name},
                   {"reference_score", t.reference_score},
                   {"reference_distance", t.reference_distance},
                   {"root_score", t.root_score},
                   {"root_distance", t.root_distance},
                   {"a", t.a},
                   {"evaluations", t.evaluations},
                   {"first_order_sum", t.first_order_sum},
                   {"higher_order", t.higher_order()},
                   {"residual", t.residual()},
                   {"relative_residual", t.score != 0 ? std::abs(t.residual() / t.score) : 0.0},
                   {"residuals", residuals}};
  }
  return j;
}

}  // namespace pixelwise
