// The BoW + SVM adapter of the evaluation (evaluate.hpp) and the BoW
// descriptor-level sensitivity; the network adapter is evaluate_network.cpp.
#include <memory>
#include <stdexcept>

#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"

namespace pixelwise {
namespace {

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
  const cv::Mat& input(const ImageSample& sample) const override { return model_.input(sample); }
  Eigen::VectorXd all_scores(const cv::Mat& image, const std::string& what) const override {
    return model_.forward(image, what).scores;
  }
  std::vector<std::string> own_methods() const override {
    std::vector<std::string> names;
    for (HistogramMethod m : model_.classifier->abilities().methods) names.push_back(method_name(m));
    return names;
  }

  MethodResult explain_own(const cv::Mat& image, int c, const std::string& method, const std::string& what) const override {
    MethodResult r;
    r.method = method;
    r.class_index = c;
    r.evaluations = 1;
    if (method == "sensitivity") {
      Eigen::VectorXd descriptors;
      r.pixels = bow_sensitivity(model_, image, c, what, &descriptors, &r.score);
      r.details = {{"definition", "sum over descriptors l of (d f / d t_l)^2 spread over supp(l); t_l scales l's code"},
                   {"descriptors", descriptors.size()}};
      return r;
    }
    if (method != "lrp" && method != "taylor") throw std::invalid_argument("BoW models have no method \"" + method + "\"");
    ExplainOptions options;
    options.method = method;
    const BowExplanation e = explain(model_, image, c, options, what);
    r.pixels = e.pixels;
    r.score = e.score;
    r.account = ConservationRecord{e.score, e.pixel_sum, e.layers};
    r.details = explanation_json(model_, e);
    r.details.erase("channels");
    if (e.taylor) r.details["svm_evaluations"] = e.taylor->evaluations;  // root search on histograms, not images
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
  std::shared_ptr<const BowModel> owner_;  // shared read-only, e.g. with the Python BowModel
  const BowModel& model_;
  std::string source_;
};

}  // namespace

std::unique_ptr<ExplainableModel> make_bow_adapter(std::shared_ptr<const BowModel> model, std::string source) {
  return std::make_unique<BowAdapter>(std::move(model), std::move(source));
}

RowMatrixXd bow_sensitivity(const BowModel& model, const cv::Mat& image, int c, const std::string& what,
                            Eigen::VectorXd* descriptors, double* score) {
  const BowModel::Forward f = model.forward(image, what);
  const ImageEncoding& enc = f.encoding;
  if (score) *score = f.scores[c];
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
    per_channel.push_back(descriptor_sensitivity(ch.bow, u[i]));
    total += per_channel.back().size();
    pixels += pixel_map(
        spread_to_pixels(ch.features.frames, per_channel.back().cwiseAbs2(), image.cols, image.rows, ch.weighting)
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
