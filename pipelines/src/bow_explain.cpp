#include "pixelwise/pipelines/bow_explain.hpp"

#include <stdexcept>

#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "pixelwise/decomposition/relevance_step.hpp"

namespace pixelwise {

BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, BiasPolicy policy,
                       const std::string& what, int versus) {
  ExplainOptions options;
  options.policy = policy;
  return explain(model, image, class_index, options, what, versus);
}

namespace {

// The record of the SVM step (DESIGN.md 1.4): the decomposition of the
// explained machine's decision -- machine c of model.svm (one-vs-rest f_c, or
// the summed pairwise s_c), the pairwise machine f_{c,versus}, or the linear
// SVM on a kernel map -- exact (lrp) or by Taylor at a root point. Sets the
// explained score, the bias and the Taylor details of `e`.
Relevance svm_decomposition(const BowModel& model, const BowModel::Forward& forward, const ExplainOptions& options,
                            int versus, const std::string& what, BowExplanation& e) {
  const Eigen::VectorXd& x = forward.encoding.histogram;
  const int c = e.class_index;
  auto decompose = [&](const OneVsRestSvm& svm, int machine) -> Relevance {
    if (options.method == "lrp") {
      // model.svm's bin terms come from the pass that gave the scores (BowModel::Forward::svm_pass).
      if (&svm == &model.svm && forward.svm_pass.scores.size() != 0)
        return decompose_svm(forward.svm_pass.class_terms(machine, x.size()), forward.svm_pass.scores[machine],
                             svm.machine(machine).bias(), x, options.policy);
      return decompose_svm(svm, machine, x, options.policy);
    }
    try {
      e.taylor = taylor_decompose_svm(svm, machine, x,
                                      taylor_references(model, options.reference, c, versus, e.score), options.taylor);
    } catch (const std::exception& error) {
      throw std::runtime_error(what + ": class " + model.classes[c] + ": " + error.what());
    }
    Relevance r;
    r.relevance = e.taylor->relevance;
    r.account = e.taylor->layer;
    return r;
  };
  if (model.mapped_svm) {
    // Linear SVMs on a kernel map (homkermap_svm.hpp): f_c is a sum of
    // per-bin terms plus b_c, exactly, so LRP is the same rule as for an
    // additive kernel (DESIGN.md 1.4) on the terms of the forward pass.
    if (options.method != "lrp")
      throw std::invalid_argument("method \"" + options.method +
                                  "\" needs kernel SVMs; this model's linear SVMs on a kernel map are decomposed "
                                  "exactly by lrp");
    if (versus >= 0) throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one SVM model");
    e.score = e.scores[c];
    e.bias = model.mapped_svm->bias()[c];
    return decompose_svm(forward.svm_pass.class_terms(c, x.size()), e.score, e.bias, x, options.policy);
  }
  if (versus >= 0) {
    if (model.config.multiclass != "one_vs_one")
      throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one model; this one is " +
                                  model.config.multiclass);
    if (versus == c) throw std::invalid_argument("a class cannot be explained versus itself");
    const OneVsRestSvm pair = model.pairwise.pairwise_machine(c, versus);
    e.score = pair.decision(0, x);
    e.bias = pair.machine(0).bias();
    return decompose(pair, 0);
  }
  e.score = e.scores[c];
  e.bias = model.svm.machine(c).bias();
  return decompose(model.svm, c);
}

}  // namespace

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
  const Eigen::VectorXd& x = forward.encoding.histogram;

  // The layers of the explanation, top first (DESIGN.md section 2): the
  // classifier's step(s), then pooling and pixels of every channel.
  Steps steps;
  Eigen::VectorXd top;
  Network::Record record;  // network classifiers: the record their steps read
  std::optional<Composite> composite;
  if (model.config.network) {
    // A network on the histogram (DESIGN.md 1.7): its LRP rules down to the bins.
    if (options.method != "lrp")
      throw std::invalid_argument("method \"" + options.method +
                                  "\" explains an SVM layer; this model's classifier is a network (use lrp)");
    if (versus >= 0) throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one SVM model");
    composite = Composite::parse(options.rule, model.config.histogram_bounds());
    record = model.network.forward_record(x.transpose(), model.histogram_shape());
    e.score = e.scores[e.class_index];
    top = Eigen::VectorXd::Zero(e.scores.size());
    top[e.class_index] = e.score;
    steps = network_steps(model.network, record, LrpOptions{options.ignore_bias});
    e.rule = composite->spec();
    e.layer_rules.assign(steps.size(), "");
    e.ignore_bias = options.ignore_bias;
  } else {
    steps.push_back(std::make_unique<SvmStep>(svm_decomposition(model, forward, options, versus, what, e), e.score));
    top = Eigen::VectorXd::Constant(1, e.score);
  }
  const size_t classifier_steps = steps.size();

  // Each channel's block of bins down its own pooling and pixel layers.
  const int height = image.rows, width = image.cols;
  std::vector<BowChannelRecord> channels;
  for (const ChannelEncoding& channel : forward.encoding.channels)
    channels.push_back({channel.name, &channel.bow, channel.offset, &channel.features.frames, channel.weighting});
  steps.push_back(std::make_unique<PoolingStep>(channels));
  steps.push_back(std::make_unique<PixelStep>(channels, width, height));

  Propagation p = propagate(steps, top, [&](const RelevanceStep&, int k) -> const LrpRule* {
    if (!composite || k >= static_cast<int>(classifier_steps)) return nullptr;
    const int layer = static_cast<int>(classifier_steps) - 1 - k;
    const LrpRule* rule = composite->rule_for(model.network, layer);
    if (rule) e.layer_rules[layer] = rule->name();
    return rule;
  });
  if (composite)
    for (size_t k = 0; k < classifier_steps; ++k) p.layers[k].name = "network " + p.layers[k].name;

  e.features.image_width = width;
  e.features.image_height = height;
  const std::vector<Relevance::Part>& pooling = p.parts[classifier_steps];
  const std::vector<Relevance::Part>& pixels = p.parts[classifier_steps + 1];
  int first_feature = 0;
  for (size_t i = 0; i < channels.size(); ++i) {
    const ChannelEncoding& channel = forward.encoding.channels[i];
    ChannelRelevance c;
    c.name = channel.name;
    c.offset = channel.offset;
    c.bins = channel.bow.pooled.size();
    c.first_feature = first_feature;
    c.features = channel.features.size();
    c.bin_relevance = p.relevance[classifier_steps].segment(c.offset, c.bins).sum();
    c.pooling = pooling[i].account;
    c.pixels = pixels[i].account;
    c.pixel_map = pixel_map(pixels[i].relevance, width, height);
    first_feature += c.features;
    e.features.frames.insert(e.features.frames.end(), channel.features.frames.begin(), channel.features.frames.end());
    e.channels.push_back(std::move(c));
  }
  e.layers = std::move(p.layers);
  e.bin_relevance = std::move(p.relevance[classifier_steps]);
  e.feature_relevance = std::move(p.relevance[classifier_steps + 1]);
  e.pixels = pixel_map(p.lowest(), width, height);
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
  const bool ovo = model.config.multiclass == "one_vs_one", network = model.config.network.has_value();
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
    j["multiclass"] = model.config.multiclass;
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
