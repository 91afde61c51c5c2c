// The BoW adapter of the explanation path (explanation.hpp): a BoW model
// with any classifier kind explains lrp and taylor by explain() (tiled by
// explain_tiled) and sensitivity at descriptor level; the kind's abilities
// (histogram_classifier.hpp) say which it offers.
#include <algorithm>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/explain/explanation.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"
#include "pixelwise/pipelines/model/model_randomisation.hpp"

namespace pixelwise {
namespace {

// Descriptor and bin relevance (--layers): where the relevance of the pixel
// map came from, one entry per local feature and per histogram bin.
void add_layers(const BowExplanation& e, nlohmann::json& j) {
  nlohmann::json descriptors = nlohmann::json::array();
  for (int l = 0; l < e.features.size(); ++l) {
    const Frame& f = e.features.frames[l];
    descriptors.push_back({{"x", f.x}, {"y", f.y}, {"bin_size", f.bin_size}, {"scale", f.scale},
                           {"angle", f.angle}, {"channel", e.channels[f.channel].name},
                           {"support", {f.support.x0, f.support.y0, f.support.x1, f.support.y1}},
                           {"relevance", e.feature_relevance[l]}});
  }
  j["descriptor_relevance"] = descriptors;
  j["bin_relevance"] = std::vector<double>(e.bin_relevance.data(), e.bin_relevance.data() + e.bin_relevance.size());
}

std::string taylor_remark(const SvmTaylorRelevance& t) {
  std::ostringstream s;
  s << "taylor: root score " << t.root_score << ", first-order sum " << std::setprecision(10) << t.first_order_sum
    << ", f(x) - sum R " << std::setprecision(3) << t.residual() << ", reference " << t.reference_name;
  return s.str();
}

// Concurrent (the ScoreModel default): a BowModel is read-only once loaded and
// every kd-forest query has its own VLFeat searcher (features/codebook.cpp;
// tests/test_concurrency.cpp).
class BowAdapter : public ExplainableModel {
 public:
  BowAdapter(std::shared_ptr<const BowModel> model, std::string source)
      : owner_(std::move(model)), model_(*owner_), source_(std::move(source)) {}
  std::string kind() const override { return "bow"; }
  std::string source() const override { return source_; }
  std::vector<std::string> class_names() const override { return model_.classes; }
  int class_index(const std::string& name_or_index) const override { return model_.class_index(name_or_index); }
  // Every input is read and checked before the first write (docs/errors.md,
  // "What is checked up front"): also its size, which would otherwise fail
  // mid-run in the descriptors.
  ImageSample read_input(const std::string& reference) const override {
    ImageSample sample = load_image_reference(reference, oversize());
    model_.check_image(model_.input(sample), reference);
    return sample;
  }
  OversizeImages oversize() const override { return model_.config.input.oversize; }
  const cv::Mat& input(const ImageSample& sample) const override { return model_.input(sample); }
  Eigen::VectorXd all_scores(const cv::Mat& image, const std::string& what) const override {
    return model_.forward(image, what).scores;
  }
  std::vector<ExplainMethod> own_methods() const override { return model_.classifier->abilities().methods; }

  std::vector<std::string> randomisation_stages() const override {
    try {
      return bow_randomisation_stages(model_);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(source_ + ": " + e.what());
    }
  }
  std::unique_ptr<ExplainableModel> randomised(int stages, std::uint64_t seed) const override {
    std::shared_ptr<const BowModel> copy;
    try {
      copy = std::make_shared<const BowModel>(randomise_bow_model(model_, stages, seed));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(source_ + ": " + e.what());
    }
    return std::make_unique<BowAdapter>(std::move(copy), source_ + " (randomised: " + std::to_string(stages) +
                                                             " stages, seed " + std::to_string(seed) + ")");
  }

  void check(ExplainMethod method, const ExplainSettings& settings) const override {
    const HistogramClassifier& classifier = *model_.classifier;
    const ClassifierAbilities abilities = classifier.abilities();
    const std::string is = source_ + " (" + classifier.describe() + ")";
    const std::vector<ExplainMethod> own = own_methods();
    if (std::find(own.begin(), own.end(), method) == own.end() && !model_agnostic(method))
      throw std::invalid_argument(is + ": --method " + name_of(method) + " does not apply (it offers " +
                                  names_of(methods()) + ")");
    if (settings.pixel_rule) {
      try {
        pixel_weightings(model_, settings.pixel_rule);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("--pixel-rule: " + is + ": " + e.what());
      }
    }
    if (!decomposes(method)) return;
    if (settings.ignore_bias && !abilities.composite)
      throw std::invalid_argument("--rule and --ignore-bias apply to network classifiers; " + is + " is not one");
    const ExplainOptions options = explain_options(method, settings);
    try {
      bow_layer_rules(model_, options);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument((abilities.composite ? "--rule: "
                                                       : "--rule and --ignore-bias apply to network classifiers (the "
                                                         "BoW layers of every model: --rule pooling=RULE;pixels=flat): ") +
                                  is + ": " + e.what());
    }
    if (settings.bias_policy && !abilities.bias_policy)
      throw std::invalid_argument(is + ": --bias-policy does not apply (its biases absorb relevance, reported per layer)");
    if (settings.tiles && (settings.layers || !settings.versus.empty()))
      throw std::invalid_argument("--layers and --versus do not apply to tiled explanations");
    try {
      classifier.check(relevance_request(model_, options, source_, versus(settings)));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(is + ": " + e.what());
    }
  }

  Explanation explain_own(const cv::Mat& image, int c, ExplainMethod method, const ExplainSettings& settings,
                          const std::string& what) const override {
    Explanation r;
    r.method = method;
    r.evaluations = 1;
    if (method == ExplainMethod::sensitivity) {
      Eigen::VectorXd descriptors;
      r.pixels = bow_sensitivity(model_, image, c, what, &descriptors, &r.scores, settings.pixel_rule);
      r.scores.maxCoeff(&r.predicted);
      r.class_index = c < 0 ? r.predicted : c;
      r.score = r.scores[r.class_index];
      r.details = {{"definition", "sum over descriptors l of (d f / d t_l)^2 spread over supp(l) with the pixel rule; "
                                  "t_l scales l's code"},
                   {"descriptors", descriptors.size()}};
      return r;
    }
    if (!decomposes(method))
      throw std::invalid_argument("BoW models have no own method \"" + name_of(method) + "\"");
    const ExplainOptions options = explain_options(method, settings);
    if (settings.tiles) {
      const TiledExplanation t = explain_tiled(model_, image, c, options, *settings.tiles, what, versus(settings),
                                                  settings.interrupt);
      r.pixels = t.pixels;
      r.class_index = t.class_index;
      r.predicted = t.predicted;
      r.score = t.score;
      r.scores = t.scores;
      r.evaluations = static_cast<long>(t.tiles.size()) + 1;
      r.details = tiled_explanation_json(model_, t);
      double worst = 0;  // largest |tile score - tile pixel sum - absorbed - unassigned| (rounding only)
      for (const auto& tile : r.details["tiles"]) worst = std::max(worst, std::abs(tile["unaccounted"].get<double>()));
      std::ostringstream remark;
      remark << t.tiles.size() << " tiles of " << t.tiles.front().width << " x " << t.tiles.front().height
             << ", largest unaccounted per tile " << std::setprecision(3) << worst;
      r.remark = remark.str();
      return r;
    }
    const BowExplanation e = explain(model_, image, c, options, what, versus(settings));
    r.pixels = e.pixels;
    r.class_index = e.class_index;
    r.predicted = e.predicted;
    r.score = e.score;
    r.scores = e.scores;
    r.account = ConservationRecord{e.score, e.pixel_sum, e.layers};
    r.details = explanation_json(model_, e);
    if (settings.layers) add_layers(e, r.details);
    if (e.taylor) {
      r.details["svm_evaluations"] = e.taylor->evaluations;  // root search on histograms, not images
      r.remark = taylor_remark(*e.taylor);
    }
    return r;
  }

  nlohmann::json describe() const override {
    return {{"kind", "bow"}, {"source", source_}, {"classes", model_.classes}, {"pipeline", model_.config.to_json()}};
  }

 protected:
  Eigen::VectorXd evaluate(const std::vector<cv::Mat>& batch, int c) const override {
    Eigen::VectorXd s(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) s[static_cast<long>(i)] = model_.forward(batch[i], "perturbed image").scores[c];
    return s;
  }

 private:
  ExplainOptions explain_options(ExplainMethod method, const ExplainSettings& settings) const {
    ExplainOptions options;
    options.method = method;
    options.policy = settings.bias_policy.value_or(BiasPolicy::nonzero);
    options.reference = settings.reference;
    options.taylor = settings.taylor;
    if (settings.rule) options.rule = *settings.rule;
    options.ignore_bias = settings.ignore_bias;
    options.levels = false;  // Explanation reports no per-level split
    options.pixel_rule = settings.pixel_rule;
    return options;
  }
  int versus(const ExplainSettings& settings) const {
    return settings.versus.empty() ? -1 : model_.class_index(settings.versus);
  }

  std::shared_ptr<const BowModel> owner_;  // shared read-only, e.g. with the Python BowModel
  const BowModel& model_;
  std::string source_;
};

}  // namespace

std::unique_ptr<ExplainableModel> make_bow_adapter(std::shared_ptr<const BowModel> model, std::string source) {
  return std::make_unique<BowAdapter>(std::move(model), std::move(source));
}

RowMatrixXd bow_sensitivity(const BowModel& model, const cv::Mat& image, int c, const std::string& what,
                            Eigen::VectorXd* descriptors, Eigen::VectorXd* scores,
                            std::optional<WeightingType> pixel_rule) {
  const std::vector<SupportWeighting> weightings = pixel_weightings(model, pixel_rule);
  const BowModel::Forward f = model.forward(image, what);
  const ImageEncoding& enc = f.encoding;
  if (scores) *scores = f.scores;
  if (c < 0) f.scores.maxCoeff(&c);
  // d f_c / d x of the classifier on the histogram (e.g. the kernel SVM's
  // analytic gradient, or the network's by backpropagation).
  Eigen::VectorXd g;
  try {
    g = model.classifier->gradient(enc.histogram, c);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(what + ": " + e.what());
  }
  // Bins that are 0 in the image have no feature whose weight could move them
  // (and their Hellinger derivative is infinite): they take no part.
  for (long d = 0; d < g.size(); ++d)
    if (enc.histogram[d] == 0.0) g[d] = 0.0;
  // u = d f / d pooled, channel by channel, through the combination (bow_channels.hpp).
  std::vector<Eigen::VectorXd> u(enc.channels.size());
  if (model.config.combine == Combine::concatenate) {
    Eigen::VectorXd pooled(enc.histogram.size());
    for (const auto& ch : enc.channels) pooled.segment(ch.offset, ch.bow.pooled.size()) = ch.bow.pooled;
    const Eigen::VectorXd all = normalisation_backward(pooled, model.config.normalisation, g);
    for (size_t i = 0; i < u.size(); ++i) u[i] = all.segment(enc.channels[i].offset, enc.channels[i].bow.pooled.size());
  } else {  // sum of kernels: x_ch = s_ch normalise_ch(pooled_ch)
    for (size_t i = 0; i < u.size(); ++i) {
      const ChannelEncoding& ch = enc.channels[i];
      const double s = kernel_weight_scale(*model.config.classifier->summed_kernel(), model.channels[i].weight);
      u[i] = normalisation_backward(ch.bow.pooled, model.channels[i].normalisation,
                                    s * g.segment(ch.offset, ch.bow.pooled.size()));
    }
  }
  RowMatrixXd pixels = RowMatrixXd::Zero(image.rows, image.cols);
  std::vector<Eigen::VectorXd> per_channel;
  long total = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    const ChannelEncoding& ch = enc.channels[i];
    per_channel.push_back(ch.terms ? descriptor_sensitivity(*ch.terms, u[i]) : descriptor_sensitivity(ch.bow, u[i]));
    total += per_channel.back().size();
    const std::unique_ptr<SiftContributions> contributions =
        pixel_contributions(model, i, weightings[i], image, ch, what);
    pixels += pixel_map(spread_to_pixels(ch.features.frames, per_channel.back().cwiseAbs2(), image.cols, image.rows,
                                         weightings[i], contributions.get())
                            .relevance,
                        image.cols, image.rows);
  }
  if (descriptors) {
    descriptors->resize(total);
    long at = 0;
    for (const auto& s : per_channel) {
      descriptors->segment(at, s.size()) = s;
      at += s.size();
    }
  }
  return pixels;
}

}  // namespace pixelwise
