// Kind "network" (config section "network"): an MLP on the histograms
// (docs/design.md 1.7: "a network can also sit on top of a BoW histogram instead
// of an SVM"), trained like `pixelwise train-network` and explained by its LRP
// rules down to the bins. File: network.txt, the LRP Toolbox's plain-text
// format (as in network model directories, network_model.hpp).
#include <any>
#include <memory>
#include <stdexcept>

#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "pixelwise/classifiers/randomisation.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"

namespace pixelwise {
namespace {

constexpr const char* kNetworkFile = "network.txt";

// The options of `pixelwise train-network` (model/network_training.hpp).
std::shared_ptr<const ClassifierSection> parse(const nlohmann::json& j) {
  auto s = std::make_shared<NetworkSection>();
  s->network = parse_network_section(j, "config section \"network\"");
  return s;
}

// Seeded like `pixelwise train-network`.
TrainedClassifier train(const ClassifierSection& section, const TrainingRun& run) {
  const auto& s = dynamic_cast<const NetworkSection&>(section);
  const NetworkTrainingConfig& net = s.network;
  const long dimension = run.X.cols();
  run.say("network: hidden " + nlohmann::json(net.hidden).dump() + ", " + name_of(net.activation) + ", " +
          name_of(net.training.optimizer) + ", " + std::to_string(net.training.epochs) + " epochs on " +
          std::to_string(dimension) + "-D histograms");
  Network network = make_mlp(static_cast<int>(dimension), net.hidden, run.classes,
                             layer_kind(net.activation), net.training.seed);
  const TensorShape shape{1, 1, static_cast<int>(dimension)};
  const TrainingHistory history = train_classifier(network, run.X, shape, run.labels, net.training, run.log);
  std::vector<int> predicted = predict_classes(network, run.X, shape);
  return {std::make_shared<NetworkClassifier>(std::make_shared<NetworkSection>(s), std::move(network), dimension),
          {{"final_loss", history.loss.back()}},
          std::move(predicted)};
}

std::shared_ptr<const HistogramClassifier> load(const ClassifierSection& section, const StoredFiles& files) {
  const auto& s = dynamic_cast<const NetworkSection&>(section);
  const std::string path = files.path(kNetworkFile);
  Network network = Network::parse_toolbox(files.need(kNetworkFile), path);
  long outputs = 0;
  try {
    outputs = network.shapes({1, 1, static_cast<int>(files.dimension)}).back().size();
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": the network cannot take the pipeline's " + std::to_string(files.dimension) +
                             "-D histograms: " + e.what());
  }
  if (outputs != files.classes)
    throw std::runtime_error(path + ": the network has " + std::to_string(outputs) + " outputs for " +
                             std::to_string(files.classes) + " classes");
  return std::make_shared<NetworkClassifier>(std::make_shared<NetworkSection>(s), std::move(network), files.dimension);
}

// The composite of a request, after the checks of what a network does not take.
Composite composite_of(const RelevanceRequest& request) {
  if (request.method != ExplainMethod::lrp)
    throw std::invalid_argument("method \"" + name_of(request.method) +
                                "\" explains an SVM layer; this model's classifier is a network (use lrp)");
  if (request.versus >= 0) throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one SVM model");
  return Composite::parse(request.rule, request.context.histogram_bounds);
}

}  // namespace

nlohmann::json NetworkSection::to_json() const { return network_section_json(network); }

void NetworkSection::check_combine(Combine combine) const {
  if (combine != Combine::concatenate)
    throw std::invalid_argument("config: combine \"" + name_of(combine) +
                                "\" weights kernels; a network classifier takes \"concatenate\"");
}

int NetworkClassifier::classes() const { return static_cast<int>(network_.shapes(shape()).back().size()); }

ClassifierAbilities NetworkClassifier::abilities() const {
  // Taylor is offered for SVM layers only.
  return {{ExplainMethod::lrp, ExplainMethod::sensitivity}, false, true};
}

// The pass keeps the activation of every layer boundary, the record the LRP
// rules read, so that relevance() does not run the network a second time.
ClassifierPass NetworkClassifier::forward(const Eigen::VectorXd& x) const {
  ClassifierPass pass;
  auto record = std::make_shared<const Network::Record>(network_.forward_record(x.transpose(), shape()));
  pass.scores = record->activations.back().row(0).transpose();  // pre-softmax
  pass.state = std::move(record);
  return pass;
}

void NetworkClassifier::check(const RelevanceRequest& request) const { composite_of(request); }

ClassifierRelevance NetworkClassifier::relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                                 const RelevanceRequest& request) const {
  const Composite composite = composite_of(request);
  // The record of the pass that gave the scores (a pass made elsewhere is redone).
  const auto* kept = std::any_cast<std::shared_ptr<const Network::Record>>(&pass.state);
  const std::shared_ptr<const Network::Record> record =
      kept ? *kept : std::make_shared<const Network::Record>(network_.forward_record(x.transpose(), shape()));
  const Eigen::VectorXd scores = record->activations.back().row(0).transpose();
  if (c < 0 || c >= scores.size())
    throw std::out_of_range("output " + std::to_string(c) + " does not exist (the network has " +
                            std::to_string(scores.size()) + " outputs)");
  Eigen::VectorXd top = Eigen::VectorXd::Zero(scores.size());
  top[c] = scores[c];
  NetworkRelevance n = propagate_relevance(network_, *record, top, composite, LrpOptions{request.ignore_bias});
  ClassifierRelevance r;
  r.score = scores[c];
  r.decomposition.relevance = std::move(n.input);
  r.decomposition.layers = std::move(n.layers);
  for (auto& layer : r.decomposition.layers) layer.name = "network " + layer.name;
  // The network's biases absorb relevance (reported per layer) unless ignored.
  r.reports_bias = false;
  r.explained = "network output of " + request.context.class_name(c) + " (pre-softmax)";
  r.report = {{"classifier", "network"},
              {"rule", composite.spec()},
              {"layer_rules", std::move(n.rules)},
              {"ignore_bias", request.ignore_bias}};
  return r;
}

Eigen::VectorXd NetworkClassifier::gradient(const Eigen::VectorXd& x, int c) const {
  return network_.gradient(x.transpose(), shape(), c).row(0).transpose();
}

std::map<std::string, std::string> NetworkClassifier::save(const std::filesystem::path&) const {
  return {{kNetworkFile, network_.toolbox_text()}};
}

std::vector<std::string> NetworkClassifier::randomisation_stages() const {
  std::vector<std::string> names;
  for (int k : affine_layers_from_output(network_))
    names.push_back("network layer " + std::to_string(k) + " (" + network_.layer(k).describe() + ")");
  return names;
}

std::shared_ptr<const HistogramClassifier> NetworkClassifier::randomised(int stages, std::uint64_t seed) const {
  check_randomisation_stages(stages, static_cast<long>(affine_layers_from_output(network_).size()), "network classifier");
  return std::make_shared<NetworkClassifier>(section_, randomise_network_layers(network_, stages, seed), dimension_);
}

ClassifierKind network_kind() {
  return {"network", "network", [](const nlohmann::json&) { return true; }, parse, train, load};
}

}  // namespace pixelwise
