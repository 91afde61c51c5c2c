// Kind "network" (config section "network"): an MLP on the histograms
// (DESIGN.md 1.7: "a network can also sit on top of a BoW histogram instead
// of an SVM"), trained like `pixelwise train-network` and explained by its LRP
// rules down to the bins. File: network.txt, the LRP Toolbox's plain-text
// format (as in network model directories, network_model.hpp).
#include <stdexcept>

#include "../config_keys.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "pixelwise/pipelines/classifier_kinds.hpp"

namespace pixelwise {
namespace {

constexpr const char* kNetworkFile = "network.txt";

LayerKind activation_kind(const std::string& name, const std::string& where) {
  if (name == "relu") return LayerKind::relu;
  if (name == "tanh") return LayerKind::tanh;
  throw std::invalid_argument(where + ": unknown activation \"" + name + "\" (known: relu, tanh)");
}

// The options of `pixelwise train-network` (network_commands.hpp).
std::shared_ptr<const ClassifierSection> parse(const nlohmann::json& j) {
  const std::string where = "config section \"network\"";
  check_keys(j, {"hidden", "activation", "optimizer", "learning_rate", "momentum", "weight_decay", "epochs",
                 "batch_size", "seed"},
             where);
  auto s = std::make_shared<NetworkSection>();
  NetworkTrainingConfig& c = s->network;
  try {
    c.hidden = j.value("hidden", c.hidden);
    c.activation = j.value("activation", c.activation);
    TrainingOptions& t = c.training;
    t.optimizer = j.value("optimizer", t.optimizer);
    t.learning_rate = j.value("learning_rate", t.learning_rate);
    t.momentum = j.value("momentum", t.momentum);
    t.weight_decay = j.value("weight_decay", t.weight_decay);
    t.epochs = j.value("epochs", t.epochs);
    t.batch_size = j.value("batch_size", t.batch_size);
    t.seed = j.value("seed", t.seed);
    t.validate();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(where + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
  for (int size : c.hidden)
    if (size <= 0) throw std::invalid_argument(where + ": hidden layer sizes must be positive, got " + std::to_string(size));
  activation_kind(c.activation, where);
  return s;
}

// Seeded like `pixelwise train-network`.
TrainedClassifier train(const ClassifierSection& section, const TrainingRun& run) {
  const auto& s = dynamic_cast<const NetworkSection&>(section);
  const NetworkTrainingConfig& net = s.network;
  const long dimension = run.X.cols();
  run.say("network: hidden " + nlohmann::json(net.hidden).dump() + ", " + net.activation + ", " + net.training.optimizer +
          ", " + std::to_string(net.training.epochs) + " epochs on " + std::to_string(dimension) + "-D histograms");
  Network network = make_mlp(static_cast<int>(dimension), net.hidden, run.classes,
                             activation_kind(net.activation, "network"), net.training.seed);
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
  if (request.method != HistogramMethod::lrp)
    throw std::invalid_argument("method \"" + method_name(request.method) +
                                "\" explains an SVM layer; this model's classifier is a network (use lrp)");
  if (request.versus >= 0) throw std::invalid_argument("a pairwise explanation (versus a class) needs a one-vs-one SVM model");
  return Composite::parse(request.rule, request.context.histogram_bounds);
}

}  // namespace

nlohmann::json NetworkSection::to_json() const {
  const TrainingOptions& t = network.training;
  return {{"hidden", network.hidden},         {"activation", network.activation}, {"optimizer", t.optimizer},
          {"learning_rate", t.learning_rate}, {"momentum", t.momentum},           {"weight_decay", t.weight_decay},
          {"epochs", t.epochs},               {"batch_size", t.batch_size},       {"seed", t.seed}};
}

void NetworkSection::check_combine(const std::string& combine) const {
  if (combine != "concatenate")
    throw std::invalid_argument("config: combine \"" + combine +
                                "\" weights kernels; a network classifier takes \"concatenate\"");
}

int NetworkClassifier::classes() const { return static_cast<int>(network_.shapes(shape()).back().size()); }

ClassifierAbilities NetworkClassifier::abilities() const {
  // Taylor is offered for SVM layers only.
  return {{HistogramMethod::lrp, HistogramMethod::sensitivity}, false, true};
}

ClassifierPass NetworkClassifier::forward(const Eigen::VectorXd& x) const {
  ClassifierPass pass;
  pass.scores = network_.scores(x.transpose(), shape()).row(0).transpose();  // pre-softmax
  return pass;
}

void NetworkClassifier::check(const RelevanceRequest& request) const { composite_of(request); }

ClassifierRelevance NetworkClassifier::relevance(const Eigen::VectorXd& x, const ClassifierPass&, int c,
                                                 const RelevanceRequest& request) const {
  const Composite composite = composite_of(request);
  NetworkRelevance n = explain_lrp(network_, x, shape(), c, composite, LrpOptions{request.ignore_bias});
  ClassifierRelevance r;
  r.score = n.score;
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

ClassifierKind network_kind() {
  return {"network", "network", [](const nlohmann::json&) { return true; }, parse, train, load};
}

}  // namespace pixelwise
