#include "pixelwise/pipelines/explain/bow_explain.hpp"

#include <algorithm>
#include <stdexcept>

#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/relevance_step.hpp"

namespace pixelwise {

BowExplanation explain(const BowModel& model, const cv::Mat& image, int class_index, BiasPolicy policy,
                       const std::string& what, int versus) {
  ExplainOptions options;
  options.policy = policy;
  return explain(model, image, class_index, options, what, versus);
}

RelevanceRequest relevance_request(const BowModel& model, const ExplainOptions& options, const std::string& what,
                                   int versus) {
  if (!decomposes(options.method))
    throw std::invalid_argument("method " + name_of(options.method) + " does not decompose the score (explain takes lrp, taylor)");
  RelevanceRequest r;
  r.method = options.method;
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

Composite bow_layer_rules(const BowModel& model, const ExplainOptions& options) {
  const bool network = model.classifier->abilities().composite;
  if (!network && options.rule == kBowNetworkDefaultRule) return Composite{};
  const Composite c = Composite::parse(options.rule, model.config.histogram_bounds());
  if (!network)
    for (const auto& s : c.selectors())
      if (s != "pooling" && s != "pixels")
        throw std::invalid_argument("rule \"" + options.rule + "\": selector \"" + s +
                                    "\" names network layers, which only a network classifier has (the BoW layers "
                                    "of any model take pooling=RULE and pixels=flat)");
  if (const LrpRule* r = c.rule_for_selector("pixels"); r && r->name() != "flat")
    throw std::invalid_argument("rule \"pixels=" + r->name() +
                                "\": the pixel layer spreads relevance over a descriptor's support by the flat rule only");
  return c;
}

std::vector<SupportWeighting> pixel_weightings(const BowModel& model, std::optional<WeightingType> pixel_rule) {
  std::vector<SupportWeighting> out;
  for (const ChannelConfig& channel : model.channels) {
    SupportWeighting w = channel.descriptor.weighting;
    if (pixel_rule) w.type = *pixel_rule;
    out.push_back(w);
  }
  return out;
}

std::unique_ptr<SiftContributions> pixel_contributions(const BowModel& model, size_t channel,
                                                       const SupportWeighting& weighting, const cv::Mat& image,
                                                       const ChannelEncoding& encoding, const std::string& what) {
  if (!weighting.gradient()) return nullptr;
  return std::make_unique<SiftContributions>(image, model.channels.at(channel).descriptor, encoding.features, what);
}

namespace {
// docs/design.md 1.2, 1.8: a feature sits in one cell of every pyramid level
// and collects relevance from each. The pooling (or term) rule is linear in
// the bins' relevance with every denominator fixed by the forward pass, so
// applying it to one level's bins alone (the others set to 0) gives the
// share the feature receives from that level; the shares add up to what the
// rule gives for all bins at once. Returns features x levels.
RowMatrixXd level_shares(const BowChannelRecord& channel, const PoolingOptions& pooling,
                         const Eigen::VectorXd& bins, const LrpRule* rule) {
  const long cells = pooling.cells();
  const long per_cell = bins.size() / cells;
  RowMatrixXd shares(static_cast<long>(channel.frames->size()), static_cast<long>(pooling.pyramid.size()));
  long first_cell = 0;
  for (size_t level = 0; level < pooling.pyramid.size(); ++level) {
    const long level_cells = static_cast<long>(pooling.pyramid[level][0]) * pooling.pyramid[level][1];
    Eigen::VectorXd only = Eigen::VectorXd::Zero(bins.size());
    only.segment(first_cell * per_cell, level_cells * per_cell) = bins.segment(first_cell * per_cell, level_cells * per_cell);
    shares.col(static_cast<long>(level)) = channel.terms ? term_relevance(*channel.terms, only, rule).relevance
                                                         : pool_relevance(*channel.encoding, only, rule).relevance;
    first_cell += level_cells;
  }
  return shares;
}

// The classifier layers (docs/design.md 1.4, 1.7): the relevance of every
// histogram bin and their accounts (top first). Records the explained score
// and the classifier's report in `e`; returns the propagation's first step.
std::unique_ptr<RelevanceStep> classifier_step(BowExplanation& e, const BowModel& model, const BowModel::Forward& forward,
                                               const RelevanceRequest& request) {
  ClassifierRelevance r = model.classifier->relevance(forward.encoding.histogram, forward.pass, e.class_index, request);
  e.score = r.score;
  e.bias = r.bias;
  e.reports_bias = r.reports_bias;
  e.explained = std::move(r.explained);
  e.classifier_report = std::move(r.report);
  e.taylor = std::move(r.taylor);
  return std::make_unique<ClassifierStep>(std::move(r.decomposition), e.score);
}

// Each channel's block of bins, its features and pixel weighting, for its own
// pooling and pixel layers; the pixel contributions of gradient weighting are
// owned by `contributions`.
std::vector<BowChannelRecord> channel_records(const BowModel& model, const BowModel::Forward& forward, const cv::Mat& image,
                                              const ExplainOptions& options, const std::string& what,
                                              std::vector<std::unique_ptr<SiftContributions>>& contributions) {
  const std::vector<SupportWeighting> weightings = pixel_weightings(model, options.pixel_rule);
  std::vector<BowChannelRecord> channels;
  for (const ChannelEncoding& channel : forward.encoding.channels) {
    const size_t i = channels.size();
    contributions.push_back(pixel_contributions(model, i, weightings[i], image, channel, what));
    BowChannelRecord record;
    record.name = channel.name;
    record.encoding = &channel.bow;
    record.terms = channel.terms.get();
    record.offset = channel.offset;
    record.frames = &channel.features.frames;
    record.weighting = weightings[i];
    record.contributions = contributions.back().get();
    channels.push_back(record);
  }
  return channels;
}

// Per channel its share of the propagated relevance: of its bins, of its
// mapping's components, per pyramid level when options.levels (level_shares),
// and its pixel map (of the image size in e.features); its features' frames
// join e.features.
void record_channels(BowExplanation& e, const BowModel& model, const BowModel::Forward& forward,
                     const std::vector<BowChannelRecord>& channels, const Propagation& p, const ExplainOptions& options,
                     const LrpRule* pooling_rule) {
  const int width = e.features.image_width, height = e.features.image_height;
  const std::vector<Relevance::Part>& pooling = p.parts[1];
  const std::vector<Relevance::Part>& pixels = p.parts[2];
  int first_feature = 0;
  size_t levels = 0;
  for (const ChannelConfig& config : model.channels) levels = std::max(levels, config.pooling.pyramid.size());
  if (options.levels) e.level_relevance = RowMatrixXd::Zero(p.relevance[2].size(), static_cast<long>(levels));
  for (size_t i = 0; i < channels.size(); ++i) {
    const ChannelEncoding& channel = forward.encoding.channels[i];
    ChannelRelevance c;
    c.name = channel.name;
    c.offset = channel.offset;
    c.bins = channel.bow.pooled.size();
    c.first_feature = first_feature;
    c.features = channel.features.size();
    c.bin_relevance = p.relevance[1].segment(c.offset, c.bins).sum();
    c.pooling = pooling[i].account;
    c.pixels = pixels[i].account;
    c.pixel_map = pixel_map(pixels[i].relevance, width, height);
    if (channel.terms) c.component_relevance = component_relevance(*channel.terms, p.relevance[1].segment(c.offset, c.bins));
    if (options.levels) {
      const RowMatrixXd shares =
          level_shares(channels[i], model.channels[i].pooling, p.relevance[1].segment(c.offset, c.bins), pooling_rule);
      e.level_relevance.block(first_feature, 0, shares.rows(), shares.cols()) = shares;
    }
    first_feature += c.features;
    e.features.frames.insert(e.features.frames.end(), channel.features.frames.begin(), channel.features.frames.end());
    e.channels.push_back(std::move(c));
  }
}

}  // namespace

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
  Steps steps;
  steps.push_back(classifier_step(e, model, forward, request));
  const Eigen::VectorXd top = Eigen::VectorXd::Constant(1, e.score);

  // Each channel's block of bins down its own pooling and pixel layers.
  const int height = image.rows, width = image.cols;
  std::vector<std::unique_ptr<SiftContributions>> contributions;
  const std::vector<BowChannelRecord> channels = channel_records(model, forward, image, options, what, contributions);
  steps.push_back(std::make_unique<PoolingStep>(channels));
  steps.push_back(std::make_unique<PixelStep>(channels, width, height));
  const Composite rules = bow_layer_rules(model, options);
  Propagation p = propagate(steps, top, [&](const RelevanceStep& step, int) {
    return step.selector() == "classifier" ? nullptr : rules.rule_for_selector(step.selector());
  });

  e.features.image_width = width;
  e.features.image_height = height;
  record_channels(e, model, forward, channels, p, options, rules.rule_for_selector("pooling"));
  e.layers = std::move(p.layers);
  e.bin_relevance = std::move(p.relevance[1]);
  e.feature_relevance = std::move(p.relevance[2]);
  e.pixels = pixel_map(p.lowest(), width, height);
  e.pixel_sum = e.pixels.sum();
  return e;
}

namespace {
// One channel's part of the explanation JSON.
nlohmann::json channel_json(const ChannelConfig& config, const ChannelRelevance& c) {
  nlohmann::json channel = {{"name", c.name},
                            {"bins", {c.offset, c.offset + c.bins}},
                            {"cells", config.pooling.cells()},
                            {"descriptors", c.features},
                            {"bin_relevance", c.bin_relevance},
                            {"pooling", c.pooling},
                            {"pixels", c.pixels},
                            {"pixel_sum", c.pixel_map.sum()}};
  if (config.mapping.type == MappingType::histogram) {
    channel["words"] = config.codebook.words;
    return channel;
  }
  // docs/design.md 1.8: the mapping, and relevance per GMM component / VLAD centre.
  channel["mapping"] = name_of(config.mapping.type);
  channel["components"] = c.component_relevance.size();
  channel["component_relevance"] =
      std::vector<double>(c.component_relevance.data(), c.component_relevance.data() + c.component_relevance.size());
  return channel;
}
}  // namespace

nlohmann::json explanation_json(const BowModel& model, const BowExplanation& e) {
  nlohmann::json scores = nlohmann::json::object();
  for (int c = 0; c < static_cast<int>(model.classes.size()); ++c) scores[model.classes[c]] = e.scores[c];
  double absorbed = 0, unassigned = 0;
  for (const auto& layer : e.layers) {
    absorbed += layer.absorbed;
    unassigned += layer.unassigned;
  }
  // Bin b of a histogram channel's block [offset, offset + cells * words) is
  // cell (b - offset) / words, word (b - offset) % words; for Fisher and VLAD
  // channels, docs/design.md 1.8 gives the layout of a cell's block.
  nlohmann::json channels = nlohmann::json::array();
  for (size_t i = 0; i < e.channels.size(); ++i) channels.push_back(channel_json(model.channels[i], e.channels[i]));
  nlohmann::json j = {{"class", model.classes[e.class_index]},
                      {"class_index", e.class_index},
                      {"predicted", model.classes[e.predicted]},
                      {"explained", e.explained},
                      {"score", e.score},
                      {"scores", scores},
                      {"bias", e.bias},
                      {"bias_policy", bias_policy_name(e.policy)},
                      {"method", name_of(e.method)},
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
    // Taylor (docs/design.md 1.4): the absorbed relevance of the svm layer is the
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
