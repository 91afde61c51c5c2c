#include "pixelwise/pipelines/model/network_training.hpp"

#include <ostream>
#include <stdexcept>

namespace pixelwise {

const EnumNames<Activation>& enum_names(Activation) {
  static const EnumNames<Activation> names{{Activation::relu, "relu"}, {Activation::tanh, "tanh"}};
  return names;
}

LayerKind layer_kind(Activation activation) {
  return activation == Activation::tanh ? LayerKind::tanh : LayerKind::relu;
}

const OptionSchema<NetworkTrainingConfig>& NetworkTrainingConfig::schema() {
  static const OptionSchema<NetworkTrainingConfig> s = [] {
    using F = Fields<NetworkTrainingConfig>;
    std::vector<OptionField<NetworkTrainingConfig>> fields{
        F::integers("hidden", [](auto& c) -> auto& { return c.hidden; }, 1, std::numeric_limits<int>::max(), true),
        F::choice("activation", [](auto& c) -> auto& { return c.activation; })};
    // The training options' messages say "training:", as train-network's do.
    for (auto& f : lift<NetworkTrainingConfig>(TrainingOptions::schema().fields(),
                                               [](auto& c) -> auto& { return c.training; }, {}, {}, "training"))
      fields.push_back(std::move(f));
    return OptionSchema<NetworkTrainingConfig>(std::move(fields));
  }();
  return s;
}

NetworkTrainingConfig parse_network_section(const nlohmann::json& j, const std::string& where) {
  return NetworkTrainingConfig::schema().read(j, where);
}

nlohmann::json network_section_json(const NetworkTrainingConfig& c) { return NetworkTrainingConfig::schema().write(c); }

NetworkModel train_network_model(const Dataset& data, const NetworkTrainingConfig& config, std::ostream* log,
                                 TrainingHistory* history) {
  if (data.classes.size() < 2) throw std::runtime_error(data.spec + ": at least two classes are needed");
  NetworkModel model;
  model.classes = data.classes;
  model.input.low = config.input_range.first;
  model.input.high = config.input_range.second;
  TensorShape shape;
  const RowMatrixXd x = network_inputs(model, data, &shape);
  model.input.shape = shape;
  std::vector<int> labels;
  for (const auto& image : data.images) labels.push_back(image.label);
  model.network = make_mlp(static_cast<int>(shape.size()), config.hidden, static_cast<int>(data.classes.size()),
                           layer_kind(config.activation), config.training.seed);
  const auto start = std::chrono::steady_clock::now();
  const TrainingHistory h = train_classifier(model.network, x, shape, labels, config.training, log);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const TrainingOptions& t = config.training;
  model.training_info = {{"data", data.spec},
                         {"images", data.images.size()},
                         {"hidden", config.hidden},
                         {"activation", name_of(config.activation)},
                         {"optimizer", name_of(t.optimizer)},
                         {"learning_rate", t.learning_rate},
                         {"momentum", t.momentum},
                         {"weight_decay", t.weight_decay},
                         {"epochs", t.epochs},
                         {"batch_size", t.batch_size},
                         {"seed", t.seed},
                         {"final_loss", h.loss.back()},
                         {"training_accuracy", network_accuracy(model, data)},
                         {"seconds", seconds}};
  if (history) *history = h;
  return model;
}

double network_accuracy(const NetworkModel& model, const Dataset& data) {
  TensorShape shape;
  const RowMatrixXd x = network_inputs(model, data, &shape);
  const std::vector<int> predicted = predict_classes(model.network, x, shape);
  long correct = 0;
  for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == data.images[i].label;
  return static_cast<double>(correct) / static_cast<double>(predicted.size());
}

}  // namespace pixelwise
