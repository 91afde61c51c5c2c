#pragma once
// The network side of the pixelwise command: training an MLP on an image data
// set (`pixelwise train-network`) and explaining network decisions
// (`pixelwise explain` with a toolbox text file or a network model directory).
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/pipelines/network_model.hpp"

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

struct NetworkTrainRequest {
  std::string data, test_data, out;
  std::string hidden = "100";        ///< comma-separated sizes
  std::string activation = "relu";
  std::string input_range = "0,1";
  std::string optimizer = "adam";
  int epochs = 20, batch_size = 32;
  double learning_rate = 1e-3, momentum = 0.9, weight_decay = 0;
  std::uint64_t seed = 1;
  bool quiet = false;
};
/// Trains, reports training (and test) accuracy on `out`, writes the model directory.
int run_network_train(const NetworkTrainRequest& request, std::ostream& out, std::ostream* log);

struct NetworkExplainRequest {
  std::string model, class_name, out;
  std::vector<std::string> images;
  std::string method = "lrp";
  std::string rule = "zb-epsilon-plus";
  std::string input_range;  ///< toolbox text files only; empty: [-1, 1]
  bool ignore_bias = false;
  bool figure = false;      ///< also write <name>-figure.png
  int jobs = 0;             ///< images explained at once, on threads sharing the model (0: all cores)
};
/// Explains every image (all are computed before anything is written) and
/// writes <name>.npy, <name>.png, <name>.json (and the figure) into `out`.
int run_network_explain(const NetworkExplainRequest& request, std::ostream& out);

}  // namespace pixelwise
