#pragma once
// Training MLP classifiers (docs/design.md 1.7): the options of `pixelwise
// train-network` and of the "network" section of a BoW configuration (a
// network on the histograms), and training on a data set of grey images.
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"

namespace pixelwise {

/// The activation after every hidden layer of an MLP.
enum class Activation { relu, tanh };
const EnumNames<Activation>& enum_names(Activation);
LayerKind layer_kind(Activation activation);

struct NetworkTrainingConfig {
  std::vector<int> hidden{100};  ///< sizes of the hidden layers
  Activation activation = Activation::relu;
  std::pair<double, double> input_range{0.0, 1.0};
  TrainingOptions training;  ///< its seed also draws the initial weights
  /// The "network" section of a BoW configuration (docs/config.md): hidden,
  /// activation and the training options (input_range is not part of it).
  static const OptionSchema<NetworkTrainingConfig>& schema();
};

/// The "network" section read through the schema; errors name `where`.
NetworkTrainingConfig parse_network_section(const nlohmann::json& j, const std::string& where);
nlohmann::json network_section_json(const NetworkTrainingConfig& c);

/// Trains an MLP classifier on a data set of equally sized grey images.
NetworkModel train_network_model(const Dataset& data, const NetworkTrainingConfig& config, std::ostream* log,
                                 TrainingHistory* history = nullptr);
/// Fraction of images of `data` whose arg-max class is their label.
double network_accuracy(const NetworkModel& model, const Dataset& data);

}  // namespace pixelwise
