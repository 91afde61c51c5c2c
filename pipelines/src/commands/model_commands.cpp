// `pixelwise train`, `predict` and `test`: BoW model directories.
#include <iomanip>
#include <iostream>
#include <memory>
#include <set>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/manifest_file.hpp"
#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/model_randomisation.hpp"

namespace pixelwise {
namespace {

std::vector<ImageSample> load_all(const std::vector<std::string>& references, OversizeImages oversize) {
  // Every input is read before anything is written, so a bad one stops the
  // run with no output at all.
  std::vector<ImageSample> images;
  std::set<std::string> names;
  for (const auto& ref : references) {
    images.push_back(load_image_reference(ref, oversize));
    if (!names.insert(images.back().name).second)
      throw std::runtime_error(ref + ": another input has the same output name \"" + images.back().name + "\"");
  }
  return images;
}

void print_scores(const BowModel& model, const ImageSample& image, const Eigen::VectorXd& scores, int best) {
  std::cout << image.name << ": " << model.classes[best] << "\n";
  for (size_t c = 0; c < model.classes.size(); ++c)
    std::cout << "  " << std::setw(12) << model.classes[c] << "  " << std::showpos << std::fixed << std::setprecision(6)
              << scores[c] << std::noshowpos << "\n";
}

int run_predict(const std::string& model_dir, const std::vector<std::string>& refs, bool json) {
  const BowModel model = BowModel::load(model_dir);
  const auto images = load_all(refs, model.config.input.oversize);
  nlohmann::json all = nlohmann::json::array();
  for (const auto& image : images) {
    const Eigen::VectorXd scores = model.forward(model.input(image), image.source).scores;
    int best;
    scores.maxCoeff(&best);
    if (json) {
      nlohmann::json s = nlohmann::json::object();
      for (size_t c = 0; c < model.classes.size(); ++c) s[model.classes[c]] = scores[c];
      all.push_back({{"image", image.name}, {"class", model.classes[best]}, {"scores", s}});
    } else {
      print_scores(model, image, scores, best);
    }
  }
  if (json) std::cout << all.dump(2) << "\n";
  return 0;
}

int run_test(const std::string& model_dir, const std::string& data, bool json) {
  const BowModel model = BowModel::load(model_dir);
  const Dataset dataset = load_dataset(data, model.config.input.oversize);
  if (dataset.classes != model.classes) throw std::runtime_error(data + ": its classes differ from the model's");
  const int k = static_cast<int>(model.classes.size());
  std::vector<std::vector<int>> confusion(k, std::vector<int>(k, 0));
  int correct = 0;
  for (const auto& image : dataset.images) {
    int best;
    model.forward(model.input(image), image.source).scores.maxCoeff(&best);
    ++confusion[image.label][best];
    correct += best == image.label;
  }
  const double accuracy = static_cast<double>(correct) / dataset.images.size();
  if (json) {
    std::cout << nlohmann::json{{"data", data}, {"images", dataset.images.size()}, {"accuracy", accuracy},
                                {"classes", model.classes}, {"confusion", confusion}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "accuracy " << std::fixed << std::setprecision(4) << accuracy << " on " << dataset.images.size()
              << " images of " << data << "\n";
  }
  return 0;
}

struct ModelArguments {
  std::string config, data, out, model;
  std::vector<std::string> images;
  bool quiet = false, json = false;
  bool permute_labels = false;     ///< train: the data randomisation test (Adebayo et al. 2018, 3.2)
  std::uint64_t label_seed = 1;
};

}  // namespace

Command add_train_command(CLI::App& app) {
  auto a = std::make_shared<ModelArguments>();
  auto* cmd = app.add_subcommand(
      "train", "train a BoW model: kernel SVMs, or a network (config section \"network\") on the histograms");
  cmd->add_option("--config", a->config, "pipeline configuration (JSON)")->required();
  cmd->add_option("--data", a->data, "data set: fashion-mnist:SPLIT[:LIMIT] or a folder of class sub-folders")->required();
  cmd->add_option("--out", a->out, "model directory to write")->required();
  cmd->add_flag("--quiet", a->quiet, "no progress lines");
  cmd->add_flag("--permute-labels", a->permute_labels,
                "train on the labels permuted among the images (seeded by --label-seed): the model of the data "
                "randomisation sanity check (evaluate --metrics data-randomisation --randomised-model)");
  auto* label_seed = cmd->add_option("--label-seed", a->label_seed, "seed of --permute-labels (default 1)");
  return {cmd, [a, label_seed] {
            if (label_seed->count() > 0 && !a->permute_labels)
              throw UsageError("--label-seed applies to --permute-labels only");
            const PipelineConfig config = PipelineConfig::load(a->config);
            // Refused before training, not after (docs/errors.md, "What is checked up front").
            check_folder_replaceable(a->out, kManifestFile, "pixelwise model directory");
            Dataset dataset = load_dataset(a->data, config.input.oversize);
            long changed = 0;
            if (a->permute_labels) dataset = with_permuted_labels(dataset, a->label_seed, &changed);
            BowModel model = BowModel::train(config, dataset, a->quiet ? nullptr : &std::cerr);
            if (a->permute_labels)
              model.training_info["permuted_labels"] = {
                  {"seed", a->label_seed}, {"changed", changed}, {"images", dataset.images.size()},
                  {"note", "labels permuted among the training images (data randomisation test, Adebayo et al. 2018)"}};
            model.save(a->out);
            if (!a->quiet) std::cerr << "model written to " << a->out << "\n";
            return 0;
          }};
}

Command add_predict_command(CLI::App& app) {
  auto a = std::make_shared<ModelArguments>();
  auto* cmd = app.add_subcommand("predict", "classify images");
  cmd->add_option("--model", a->model, "model directory")->required();
  cmd->add_flag("--json", a->json, "machine-readable output");
  cmd->add_option("images", a->images, "image files or fashion-mnist:SPLIT@INDEX")->required();
  return {cmd, [a] { return run_predict(a->model, a->images, a->json); }};
}

Command add_test_command(CLI::App& app) {
  auto a = std::make_shared<ModelArguments>();
  auto* cmd = app.add_subcommand("test", "accuracy and confusion matrix on a labelled data set");
  cmd->add_option("--model", a->model, "model directory")->required();
  cmd->add_option("--data", a->data, "data set spec")->required();
  cmd->add_flag("--json", a->json, "machine-readable output");
  return {cmd, [a] { return run_test(a->model, a->data, a->json); }};
}

}  // namespace pixelwise
