// The pixelwise command: train, predict, test and explain BoW + kernel-SVM models.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "pixelwise/pipelines/bow_explain.hpp"
#include "pixelwise/pipelines/bow_model.hpp"
#include "pixelwise/pipelines/dataset.hpp"
#include "pixelwise/pipelines/files.hpp"
#include "pixelwise/pipelines/heatmap.hpp"
#include "pixelwise/pipelines/npy.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

std::vector<ImageSample> load_all(const std::vector<std::string>& references) {
  // Every input is read before anything is written, so a bad one stops the
  // run with no output at all.
  std::vector<ImageSample> images;
  std::set<std::string> names;
  for (const auto& ref : references) {
    images.push_back(load_image_reference(ref));
    if (!names.insert(images.back().name).second)
      throw std::runtime_error(ref + ": another input has the same output name \"" + images.back().name + "\"");
  }
  return images;
}

int run_train(const std::string& config_path, const std::string& data, const std::string& out, bool quiet) {
  const PipelineConfig config = PipelineConfig::load(config_path);
  const Dataset dataset = load_dataset(data);
  const BowModel model = BowModel::train(config, dataset, quiet ? nullptr : &std::cerr);
  model.save(out);
  if (!quiet) std::cerr << "model written to " << out << "\n";
  return 0;
}

int run_predict(const std::string& model_dir, const std::vector<std::string>& refs, bool json) {
  const BowModel model = BowModel::load(model_dir);
  const auto images = load_all(refs);
  nlohmann::json all = nlohmann::json::array();
  for (const auto& image : images) {
    const Eigen::VectorXd scores = model.forward(image.gray, image.source).scores;
    int best;
    scores.maxCoeff(&best);
    if (json) {
      nlohmann::json s = nlohmann::json::object();
      for (size_t c = 0; c < model.classes.size(); ++c) s[model.classes[c]] = scores[c];
      all.push_back({{"image", image.name}, {"class", model.classes[best]}, {"scores", s}});
    } else {
      std::cout << image.name << ": " << model.classes[best] << "\n";
      for (size_t c = 0; c < model.classes.size(); ++c)
        std::cout << "  " << std::setw(12) << model.classes[c] << "  " << std::showpos << std::fixed
                  << std::setprecision(6) << scores[c] << std::noshowpos << "\n";
    }
  }
  if (json) std::cout << all.dump(2) << "\n";
  return 0;
}

int run_test(const std::string& model_dir, const std::string& data, bool json) {
  const BowModel model = BowModel::load(model_dir);
  const Dataset dataset = load_dataset(data);
  if (dataset.classes != model.classes)
    throw std::runtime_error(data + ": its classes differ from the model's");
  const int k = static_cast<int>(model.classes.size());
  std::vector<std::vector<int>> confusion(k, std::vector<int>(k, 0));
  int correct = 0;
  for (const auto& image : dataset.images) {
    int best;
    model.forward(image.gray, image.source).scores.maxCoeff(&best);
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

int run_explain(const std::string& model_dir, const std::string& class_name, const std::string& policy_name,
                const std::string& out, const std::vector<std::string>& refs, bool layers) {
  const BiasPolicy policy = parse_bias_policy(policy_name);
  const BowModel model = BowModel::load(model_dir);
  const int class_index = class_name.empty() ? -1 : model.class_index(class_name);
  const auto images = load_all(refs);
  std::vector<BowExplanation> explanations;
  for (const auto& image : images) explanations.push_back(explain(model, image.gray, class_index, policy, image.source));
  fs::create_directories(out);
  for (size_t i = 0; i < images.size(); ++i) {
    const BowExplanation& e = explanations[i];
    const std::string stem = (fs::path(out) / images[i].name).string();
    nlohmann::json j = explanation_json(model, e);
    j["image"] = refs[i];
    if (layers) {
      nlohmann::json descriptors = nlohmann::json::array();
      for (int l = 0; l < e.features.size(); ++l) {
        const Frame& f = e.features.frames[l];
        descriptors.push_back({{"x", f.x}, {"y", f.y}, {"bin_size", f.bin_size},
                               {"support", {f.support.x0, f.support.y0, f.support.x1, f.support.y1}},
                               {"relevance", e.feature_relevance[l]}});
      }
      j["descriptor_relevance"] = descriptors;
      j["bin_relevance"] = std::vector<double>(e.bin_relevance.data(), e.bin_relevance.data() + e.bin_relevance.size());
    }
    std::vector<uchar> png;
    if (!cv::imencode(".png", render_heatmap(e.pixels, images[i].gray), png))
      throw std::runtime_error(stem + ".png: PNG encoding failed");
    write_file_atomically(stem + ".npy", npy_bytes(e.pixels));
    write_file_atomically(stem + ".png", std::string(png.begin(), png.end()));
    write_file_atomically(stem + ".json", j.dump(2) + "\n");
    std::cout << images[i].name << ": class " << model.classes[e.class_index] << " score " << std::setprecision(10)
              << e.score << " pixel sum " << e.pixel_sum << " residual " << std::setprecision(3) << e.residual()
              << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pixelwise: pixel-wise explanations (LRP) of Bag-of-Words + kernel-SVM image classifiers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pixelwise 0.1.0");

  std::string config, data, out, model, class_name, policy = "nonzero";
  std::vector<std::string> images;
  bool quiet = false, json = false, layers = false;

  auto* train = app.add_subcommand("train", "train a BoW + kernel-SVM model");
  train->add_option("--config", config, "pipeline configuration (JSON)")->required();
  train->add_option("--data", data, "data set: fashion-mnist:SPLIT[:LIMIT] or a folder of class sub-folders")->required();
  train->add_option("--out", out, "model directory to write")->required();
  train->add_flag("--quiet", quiet, "no progress lines");

  auto* predict = app.add_subcommand("predict", "classify images");
  predict->add_option("--model", model, "model directory")->required();
  predict->add_flag("--json", json, "machine-readable output");
  predict->add_option("images", images, "image files or fashion-mnist:SPLIT@INDEX")->required();

  auto* test = app.add_subcommand("test", "accuracy and confusion matrix on a labelled data set");
  test->add_option("--model", model, "model directory")->required();
  test->add_option("--data", data, "data set spec")->required();
  test->add_flag("--json", json, "machine-readable output");

  auto* explain_cmd = app.add_subcommand("explain", "explain decisions pixel by pixel (LRP)");
  explain_cmd->add_option("--model", model, "model directory")->required();
  explain_cmd->add_option("--class", class_name, "class to explain, name or index (default: the predicted one)");
  explain_cmd->add_option("--bias-policy", policy, "where the SVM bias goes: none, uniform, nonzero")
      ->check(CLI::IsMember({"none", "uniform", "nonzero"}));
  explain_cmd->add_option("--out", out, "output folder")->required();
  explain_cmd->add_flag("--layers", layers, "also write descriptor and bin relevance to the JSON");
  explain_cmd->add_option("images", images, "image files or fashion-mnist:SPLIT@INDEX")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*train) return run_train(config, data, out, quiet);
    if (*predict) return run_predict(model, images, json);
    if (*test) return run_test(model, data, json);
    if (*explain_cmd) return run_explain(model, class_name, policy, out, images, layers);
  } catch (const std::exception& e) {
    std::cerr << "pixelwise: error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
