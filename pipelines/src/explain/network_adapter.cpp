// The network adapter of the explanation path (explanation.hpp): lrp,
// taylor and sensitivity by explain_network (network_explain.hpp).
#include <iomanip>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <stdexcept>

#include "pixelwise/pipelines/explain/explanation.hpp"
#include "pixelwise/pipelines/explain/network_explain.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "pixelwise/classifiers/randomisation.hpp"

namespace pixelwise {
namespace {

class NetworkAdapter : public ExplainableModel {
 public:
  explicit NetworkAdapter(std::shared_ptr<const NetworkModel> model) : owner_(std::move(model)), model_(*owner_) {
    // The number of outputs: the last affine layer's (pooling and element-wise
    // layers keep sizes that depend on the input).
    for (int k = model_.network.size() - 1; k >= 0 && outputs_ == 0; --k)
      if (const auto* linear = dynamic_cast<const LinearLayer*>(&model_.network.layer(k))) outputs_ = linear->outputs();
    if (outputs_ == 0) throw std::runtime_error(model_.source + ": the network has no Linear output layer");
  }
  std::string kind() const override { return "network"; }
  std::string source() const override { return model_.source; }
  std::vector<std::string> class_names() const override {
    std::vector<std::string> names;
    for (int c = 0; c < outputs_; ++c) names.push_back(model_.class_name(c));
    return names;
  }
  int class_index(const std::string& name_or_index) const override { return model_.class_index(name_or_index, outputs_); }
  Eigen::VectorXd all_scores(const cv::Mat& gray, const std::string& what) const override {
    const TensorShape shape = model_.input_shape(gray, what);
    return model_.network.scores(model_.input_vector(gray, what).transpose(), shape).row(0).transpose();
  }
  ImageSample read_input(const std::string& reference) const override {
    ImageSample sample = load_network_image(reference);
    model_.input_shape(sample.gray, reference);  // the network takes images of its input size only
    return sample;
  }
  Dataset read_dataset(const std::string& spec) const override { return load_network_dataset(spec); }
  std::vector<ExplainMethod> own_methods() const override {
    return {ExplainMethod::lrp, ExplainMethod::taylor, ExplainMethod::sensitivity};
  }

  // The model randomisation test: the affine layers from the output
  // (Adebayo et al. 2018, 3.1), weights permuted (classifiers/randomisation.hpp).
  std::vector<std::string> randomisation_stages() const override {
    std::vector<std::string> names;
    for (int k : affine_layers_from_output(model_.network))
      names.push_back("layer " + std::to_string(k) + " (" + model_.network.layer(k).describe() + ")");
    return names;
  }
  std::unique_ptr<ExplainableModel> randomised(int stages, std::uint64_t seed) const override {
    check_randomisation_stages(stages, static_cast<long>(randomisation_stages().size()), model_.source);
    auto copy = std::make_shared<NetworkModel>(model_);
    copy->network = randomise_network_layers(model_.network, stages, seed);
    copy->source = model_.source + " (randomised: " + std::to_string(stages) + " layers, seed " + std::to_string(seed) + ")";
    copy->training_info["randomised"] = {{"stages", stages}, {"seed", seed}};
    return std::make_unique<NetworkAdapter>(std::move(copy));
  }

  void check(ExplainMethod method, const ExplainSettings& settings) const override {
    if (settings.rule && method == ExplainMethod::lrp) {
      try {
        Composite::parse(*settings.rule, std::make_pair(model_.input.low, model_.input.high));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("--rule: ") + e.what());
      }
    }
  }

  Explanation explain_own(const cv::Mat& gray, int c, ExplainMethod method, const ExplainSettings& settings,
                          const std::string& what) const override {
    NetworkExplainOptions options;
    options.method = method;
    options.class_index = c;
    if (settings.rule) options.rule = *settings.rule;
    options.ignore_bias = settings.ignore_bias;
    const NetworkExplanation e = explain_network(model_, gray, options, what);
    Explanation r;
    r.method = method;
    r.class_index = e.class_index;
    r.predicted = e.predicted;
    r.score = e.score;
    r.scores = e.scores;
    r.pixels = e.pixels;
    r.evaluations = 1;
    if (method == ExplainMethod::lrp) r.account = ConservationRecord{e.score, e.pixel_sum, e.layers};
    if (method == ExplainMethod::taylor) {
      r.account = ConservationRecord{e.score, e.pixel_sum, {}};
      r.details["evaluations_note"] = "the root search's forward passes are not counted";
      r.files["-root.npy"] = npy_bytes(e.root);
      r.files["-root-gradient.npy"] = npy_bytes(e.root_gradient);
      std::ostringstream remark;
      remark << "taylor: root score " << std::setprecision(3) << e.root_score << ", reference " << e.root_reference;
      r.remark = remark.str();
    }
    if (settings.figure) {
      std::vector<uchar> png;
      if (!cv::imencode(".png", network_figure(model_, gray, e), png))
        throw std::runtime_error(what + ": PNG encoding of the figure failed");
      r.files["-figure.png"] = std::string(png.begin(), png.end());
    }
    r.details.update(network_explanation_json(model_, e));
    return r;
  }

  nlohmann::json describe() const override {
    nlohmann::json layers = nlohmann::json::array();
    for (int k = 0; k < model_.network.size(); ++k) layers.push_back(model_.network.layer(k).describe());
    return {{"kind", "network"}, {"source", model_.source}, {"classes", class_names()}, {"layers", layers},
            {"input_range", {model_.input.low, model_.input.high}}};
  }

 protected:
  Eigen::VectorXd evaluate(const std::vector<cv::Mat>& batch, int c) const override {
    const TensorShape shape = model_.input_shape(batch.front(), "perturbed image");
    RowMatrixXd x(static_cast<long>(batch.size()), shape.size());
    for (size_t i = 0; i < batch.size(); ++i) x.row(static_cast<long>(i)) = model_.input_vector(batch[i], "perturbed image").transpose();
    return model_.network.scores(x, shape).col(c);
  }

 private:
  std::shared_ptr<const NetworkModel> owner_;  // shared read-only, e.g. with the Python NetworkModel
  const NetworkModel& model_;
  int outputs_ = 0;
};

}  // namespace

std::unique_ptr<ExplainableModel> make_network_adapter(std::shared_ptr<const NetworkModel> model) {
  return std::make_unique<NetworkAdapter>(std::move(model));
}

}  // namespace pixelwise
