#include "pixelwise/pipelines/bow_explain.hpp"

#include <stdexcept>

#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"

namespace pixelwise {

BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, BiasPolicy policy,
                       const std::string& what, int versus) {
  ExplainOptions options;
  options.policy = policy;
  return explain(model, image, class_index, options, what, versus);
}

BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, const ExplainOptions& options,
                       const std::string& what, int versus) {
  if (options.method != "lrp" && options.method != "taylor")
    throw std::invalid_argument("unknown explanation method \"" + options.method + "\" (known: lrp, taylor)");
  BowModel::Forward forward = model.forward(image, what);
  BowExplanation e;
  e.scores = forward.scores;
  e.scores.maxCoeff(&e.predicted);
  e.class_index = class_index < 0 ? e.predicted : class_index;
  model.check_class(e.class_index);
  e.policy = options.policy;
  e.method = options.method;
  e.versus = versus;
  // The classifier layers: relevance of every histogram bin, and their accounts (top first).
  Eigen::VectorXd bin_relevance;
  std::vector<LayerRelevance> classifier_layers;
  // The SVM layer (DESIGN.md 1.4): exact (lrp) or Taylor at a root point.
  auto decompose = [&](const OneVsRestSvm& svm, int c) -> BinRelevance {
    const Eigen::VectorXd& x = forward.encoding.histogram;
    if (options.method == "lrp") {
      // model.svm's bin terms come from the pass that gave the scores (BowModel::Forward::svm_pass).
      if (&svm == &model.svm && forward.svm_pass.scores.size() != 0)
        return decompose_svm(forward.svm_pass.class_terms(c, x.size()), forward.svm_pass.scores[c],
                             svm.machine(c).bias(), x, options.policy);
      return decompose_svm(svm, c, x, options.policy);
    }
    try {
      e.taylor = taylor_decompose_svm(
          svm, c, x, taylor_references(model, options.reference, e.class_index, versus, e.score), options.taylor);
    } catch (const std::exception& error) {
      throw std::runtime_error(what + ": class " + model.classes[e.class_index] + ": " + error.what());
    }
    return {e.taylor->relevance, e.taylor->layer};
  };

  if (model.config.network) {
    // A network on the histogram (DESIGN.md 1.7): its LRP rules down to the bins.
    if (options.method != "lrp")
      throw std::invalid_argument("method \"" + options.method +
                                  "\" explains an SVM layer; this model's classifier is a network (use lrp)");
    if (versus >= 0) throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one SVM model");
    const Composite composite = Composite::parse(options.rule, model.config.histogram_bounds());
    NetworkRelevance r = explain_lrp(model.network, forward.encoding.histogram, model.histogram_shape(), e.class_index,
                                     composite, LrpOptions{options.ignore_bias});
    e.score = r.score;
    e.rule = composite.spec();
    e.layer_rules = std::move(r.rules);
    e.ignore_bias = options.ignore_bias;
    bin_relevance = std::move(r.input);
    classifier_layers = std::move(r.layers);
    for (auto& layer : classifier_layers) layer.name = "network " + layer.name;
  } else {
    // The explained machine: machine c of model.svm (one-vs-rest f_c, or the
    // summed pairwise s_c), or the pairwise machine f_{c,versus}.
    BinRelevance bins;
    if (model.mapped_svm) {
      // Linear SVMs on a kernel map (homkermap_svm.hpp): f_c is a sum of
      // per-bin terms plus b_c, exactly, so LRP is the same rule as for an
      // additive kernel (DESIGN.md 1.4) on the terms of the forward pass.
      if (options.method != "lrp")
        throw std::invalid_argument("method \"" + options.method +
                                    "\" needs kernel SVMs; this model's linear SVMs on a kernel map are decomposed "
                                    "exactly by lrp");
      if (versus >= 0) throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one SVM model");
      const Eigen::VectorXd& x = forward.encoding.histogram;
      e.score = e.scores[e.class_index];
      e.bias = model.mapped_svm->bias()[e.class_index];
      bins = decompose_svm(forward.svm_pass.class_terms(e.class_index, x.size()), e.score, e.bias, x, options.policy);
    } else if (versus >= 0) {
      if (model.config.multiclass != Multiclass::one_vs_one)
        throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one model; this one is " +
                                    name_of(model.config.multiclass));
      if (versus == e.class_index) throw std::invalid_argument("a class cannot be explained versus itself");
      const OneVsRestSvm pair = model.pairwise.pairwise_machine(e.class_index, versus);
      e.score = pair.decision(0, forward.encoding.histogram);
      e.bias = pair.machine(0).bias();
      bins = decompose(pair, 0);
    } else {
      e.score = e.scores[e.class_index];
      e.bias = model.svm.machine(e.class_index).bias();
      bins = decompose(model.svm, e.class_index);
    }
    bin_relevance = std::move(bins.relevance);
    classifier_layers = {bins.layer};
  }

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
  const bool ovo = model.config.multiclass == Multiclass::one_vs_one, network = model.config.network.has_value();
  const std::string explained = network       ? "network output of " + model.classes[e.class_index] + " (pre-softmax)"
                                : e.versus >= 0 ? "pairwise decision f(" + model.classes[e.class_index] + " vs " +
                                                      model.classes[e.versus] + ")"
                                : ovo           ? "sum of the pairwise decisions of " + model.classes[e.class_index]
                                : model.mapped_svm ? "one-vs-rest linear SVM decision on the " + model.config.svm.kernel +
                                                         " kernel map of " + model.classes[e.class_index]
                                                   : "one-vs-rest decision of " + model.classes[e.class_index];
  nlohmann::json j = {{"class", model.classes[e.class_index]},
                      {"class_index", e.class_index},
                      {"predicted", model.classes[e.predicted]},
                      {"classifier", network ? "network" : model.mapped_svm ? "kernel-map svm" : "svm"},
                      {"explained", explained},
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
  if (network) {
    // The network's biases absorb relevance (reported per layer) unless ignored.
    j.erase("bias");
    j.erase("bias_policy");
    j["rule"] = e.rule;
    j["layer_rules"] = e.layer_rules;
    j["ignore_bias"] = e.ignore_bias;
  } else {
    j["multiclass"] = name_of(model.config.multiclass);
  }
  if (e.taylor) {
    // Taylor (DESIGN.md 1.4): the absorbed relevance of the svm layer is the
    // residual f(x) - sum R = f(x0) + higher-order terms; per layer, the residual
    // of what reached it.
    const SvmTaylorRelevance& t = *e.taylor;
    j.erase("bias_policy");
    nlohmann::json residuals = nlohmann::json::array();
    for (const auto& layer : e.layers)
      residuals.push_back({{"layer", layer.name}, {"relevance_out", layer.relevance_out},
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
