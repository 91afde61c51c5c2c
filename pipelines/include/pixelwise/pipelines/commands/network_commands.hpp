#pragma once
// The network commands of the pixelwise CLI: `pixelwise train-network` (an MLP
// on an image data set, model/network_training.hpp) and `pixelwise explain`
// with a toolbox text file or a network model directory.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "pixelwise/pipelines/model/network_training.hpp"

namespace pixelwise {

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
