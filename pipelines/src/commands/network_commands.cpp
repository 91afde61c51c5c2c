// `pixelwise train-network`: an MLP on an image data set (model/network_training.hpp).
#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/manifest_file.hpp"
#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/model/model_randomisation.hpp"
#include "pixelwise/pipelines/model/network_training.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"

#include <cstdint>
#include <iomanip>
#include <iostream>
#include <memory>
#include <limits>
#include <ostream>
#include <stdexcept>

namespace pixelwise {
namespace {

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty() || item.size() > 6 || item.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(item) == 0)
      throw std::runtime_error("--hidden \"" + text + "\": \"" + item + "\" is not a positive layer size");
    sizes.push_back(std::stoi(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return sizes;
}


struct NetworkTrainRequest {
  std::string data, test_data, out;
  std::string hidden = "100";        ///< comma-separated sizes
  std::string activation = "relu";
  std::string input_range = "0,1";
  std::string optimizer = "adam";
  int epochs = 20, batch_size = 32;
  double learning_rate = 1e-3, momentum = 0.9, weight_decay = 0;
  std::uint64_t seed = 1;
  bool permute_labels = false;   ///< the data randomisation test (Adebayo et al. 2018, 3.2)
  std::uint64_t label_seed = 1;
  bool label_seed_given = false;
  bool quiet = false;
};

// Trains, reports training (and test) accuracy on `out`, writes the model directory.
int run_network_train(const NetworkTrainRequest& request, std::ostream& out, std::ostream* log) {
  NetworkTrainingConfig config;
  try {  // option values wrong whatever the data: exit status 2 (docs/errors.md, "Exit status")
    config.hidden = parse_sizes(request.hidden);
    config.input_range = parse_range(request.input_range, "--input-range");
    config.activation = parse_enum<Activation>(request.activation, "activation");
    config.training.optimizer = parse_enum<Optimizer>(request.optimizer, "optimizer");
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  config.training.epochs = request.epochs;
  config.training.batch_size = request.batch_size;
  config.training.learning_rate = request.learning_rate;
  config.training.momentum = request.momentum;
  config.training.weight_decay = request.weight_decay;
  config.training.seed = request.seed;
  if (request.label_seed_given && !request.permute_labels)
    throw UsageError("--label-seed applies to --permute-labels only");
  try {
    config.training.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  // Every input is read, and the model directory checked, before training
  // starts, so that a bad test set or --out fails early.
  check_folder_replaceable(request.out, kManifestFile, "pixelwise model directory");
  Dataset train = load_network_dataset(request.data);
  long changed = 0;
  if (request.permute_labels) train = with_permuted_labels(train, request.label_seed, &changed);
  Dataset test;
  if (!request.test_data.empty()) {
    test = load_network_dataset(request.test_data);
    if (test.classes != train.classes)
      throw std::runtime_error(request.test_data + ": its classes differ from those of " + request.data);
  }
  NetworkModel model = train_network_model(train, config, request.quiet ? nullptr : log);
  if (request.permute_labels)
    model.training_info["permuted_labels"] = {
        {"seed", request.label_seed}, {"changed", changed}, {"images", train.images.size()},
        {"note", "labels permuted among the training images (data randomisation test, Adebayo et al. 2018)"}};
  out << "training accuracy " << std::fixed << std::setprecision(4)
      << model.training_info["training_accuracy"].get<double>() << " on " << train.images.size() << " images of "
      << request.data << "\n";
  if (!request.test_data.empty()) {
    const double accuracy = network_accuracy(model, test);
    model.training_info["test_data"] = request.test_data;
    model.training_info["test_images"] = test.images.size();
    model.training_info["test_accuracy"] = accuracy;
    out << "test accuracy " << std::fixed << std::setprecision(4) << accuracy << " on " << test.images.size()
        << " images of " << request.test_data << "\n";
  }
  model.save(request.out);
  if (log && !request.quiet) *log << "model written to " << request.out << "\n";
  return 0;
}

}  // namespace

Command add_train_network_command(CLI::App& app) {
  auto r = std::make_shared<NetworkTrainRequest>();
  auto* cmd = app.add_subcommand("train-network", "train an MLP network classifier on images");
  cmd->add_option("--data", r->data, "data set: digits:SPLIT[:LIMIT], fashion-mnist:SPLIT[:LIMIT] or a folder")->required();
  cmd->add_option("--test-data", r->test_data, "data set to report the test accuracy on");
  cmd->add_option("--out", r->out, "model directory to write")->required();
  cmd->add_option("--hidden", r->hidden, "hidden layer sizes, comma-separated (default 100)");
  cmd->add_option("--activation", r->activation, "relu (default) or tanh");
  cmd->add_option("--input-range", r->input_range, "LOW,HIGH that grey 0..1 maps to (default 0,1)");
  cmd->add_option("--epochs", r->epochs, "passes over the data (default 20)");
  cmd->add_option("--batch-size", r->batch_size, "mini-batch size (default 32)");
  cmd->add_option("--optimizer", r->optimizer, "adam (default) or sgd (with momentum)");
  cmd->add_option("--learning-rate", r->learning_rate, "step size (default 0.001)");
  cmd->add_option("--momentum", r->momentum, "sgd momentum (default 0.9)");
  cmd->add_option("--weight-decay", r->weight_decay, "L2 penalty on the weights (default 0)");
  cmd->add_option("--seed", r->seed, "seed of the initial weights and the batch order (default 1)");
  cmd->add_flag("--permute-labels", r->permute_labels,
                "train on the labels permuted among the images (seeded by --label-seed): the model of the data "
                "randomisation sanity check (evaluate --metrics data-randomisation --randomised-model)");
  auto* label_seed = cmd->add_option("--label-seed", r->label_seed, "seed of --permute-labels (default 1)");
  cmd->add_flag("--quiet", r->quiet, "no progress lines");
  return {cmd, [r, label_seed] {
            r->label_seed_given = label_seed->count() > 0;
            return run_network_train(*r, std::cout, &std::cerr);
          }};
}

}  // namespace pixelwise
