// The pixelwise command: train, predict, test and explain BoW + kernel-SVM models.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "pixelwise/common/batch.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/heatmap.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "pixelwise/pipelines/io/montage.hpp"
#include "pixelwise/pipelines/explain/tiles.hpp"
#include "pixelwise/pipelines/commands/network_commands.hpp"

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
    const Eigen::VectorXd scores = model.forward(model.input(image), image.source).scores;
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

// Tiled explanations (DESIGN.md 1.6): the averaged map, and every tile's
// account in the JSON. Returns the line printed for the image.
std::string write_tiled(const BowModel& model, const ImageSample& image, const std::string& ref,
                        const TiledExplanation& t, const std::string& out) {
  const std::string stem = (fs::path(out) / image.name).string();
  nlohmann::json j = tiled_explanation_json(model, t);
  j["image"] = ref;
  std::vector<uchar> png;
  if (!cv::imencode(".png", render_heatmap(t.pixels, image.gray), png))
    throw std::runtime_error(stem + ".png: PNG encoding failed");
  write_file_atomically(stem + ".npy", npy_bytes(t.pixels));
  write_file_atomically(stem + ".png", std::string(png.begin(), png.end()));
  write_file_atomically(stem + ".json", j.dump(2) + "\n");
  double worst = 0;  // largest |tile score - tile pixel sum - absorbed - unassigned| (rounding only)
  for (const auto& tile : j["tiles"]) worst = std::max(worst, std::abs(tile["unaccounted"].get<double>()));
  std::ostringstream line;
  line << image.name << ": class " << model.classes[t.class_index] << ", " << t.tiles.size() << " tiles of "
       << t.tiles.front().width << " x " << t.tiles.front().height << ", whole-image score " << std::setprecision(10)
       << t.score << ", largest unaccounted per tile " << std::setprecision(3) << worst;
  return line.str();
}

// One explanation's three files (the JSON last: batch.hpp, explanation_complete).
std::string write_explanation(const BowModel& model, const ImageSample& image, const std::string& ref,
                              const BowExplanation& e, const std::string& out, bool layers) {
  const std::string stem = (fs::path(out) / image.name).string();
  nlohmann::json j = explanation_json(model, e);
  j["image"] = ref;
  if (layers) {
    nlohmann::json descriptors = nlohmann::json::array();
    for (int l = 0; l < e.features.size(); ++l) {
      const Frame& f = e.features.frames[l];
      descriptors.push_back({{"x", f.x}, {"y", f.y}, {"bin_size", f.bin_size}, {"scale", f.scale},
                             {"angle", f.angle}, {"channel", e.channels[f.channel].name},
                             {"support", {f.support.x0, f.support.y0, f.support.x1, f.support.y1}},
                             {"relevance", e.feature_relevance[l]}});
    }
    j["descriptor_relevance"] = descriptors;
    j["bin_relevance"] = std::vector<double>(e.bin_relevance.data(), e.bin_relevance.data() + e.bin_relevance.size());
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", render_heatmap(e.pixels, image.gray), png))
    throw std::runtime_error(stem + ".png: PNG encoding failed");
  write_file_atomically(stem + ".npy", npy_bytes(e.pixels));
  write_file_atomically(stem + ".png", std::string(png.begin(), png.end()));
  write_file_atomically(stem + ".json", j.dump(2) + "\n");
  std::ostringstream line;
  line << image.name << ": class " << model.classes[e.class_index] << " score " << std::setprecision(10) << e.score
       << " pixel sum " << e.pixel_sum << " residual " << std::setprecision(3) << e.residual();
  if (e.taylor)
    line << " (taylor: root score " << e.taylor->root_score << ", first-order sum " << std::setprecision(10)
         << e.taylor->first_order_sum << ", f(x) - sum R " << std::setprecision(3) << e.taylor->residual()
         << ", reference " << e.taylor->reference_name << ")";
  return line.str();
}

// Batch settings of `explain` (pipelines/batch.hpp, docs/cluster.md).
struct BatchRequest {
  std::string list;    ///< --list FILE: more image references, one a line
  std::string shard;   ///< --shard K/N
  int jobs = 0;        ///< --jobs: images explained at once (0: all cores)
  bool resume = false; ///< --resume: skip images whose outputs are complete
};

// What the model's classifier kind takes of the options (histogram_classifier.hpp),
// checked before any input is read.
void check_classifier_options(const BowModel& model, const std::string& model_dir, const ExplainOptions& options,
                              int versus, bool bias_policy_given) {
  const HistogramClassifier& classifier = *model.classifier;
  const ClassifierAbilities abilities = classifier.abilities();
  const std::string is = model_dir + " (" + classifier.describe() + ")";
  if (options.ignore_bias && !abilities.composite)
    throw std::runtime_error("--rule and --ignore-bias apply to network classifiers; " + is + " is not one");
  try {
    bow_layer_rules(model, options);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error((abilities.composite ? "--rule: "
                                                  : "--rule and --ignore-bias apply to network classifiers (the BoW "
                                                    "layers of every model: --rule pooling=RULE;pixels=flat): ") +
                             is + ": " + e.what());
  }
  if (bias_policy_given && !abilities.bias_policy)
    throw std::runtime_error(is + ": --bias-policy does not apply (its biases absorb relevance, reported per layer)");
  try {
    classifier.check(relevance_request(model, options, model_dir, versus));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(is + ": " + e.what());
  }
}

int run_explain(const std::string& model_dir, const std::string& class_name, const ExplainOptions& options,
                const std::optional<TileOptions>& tiles, const std::string& out, const std::vector<std::string>& arguments,
                bool layers, const std::string& versus_name, const BatchRequest& batch,
                bool bias_policy_given) {
  std::vector<std::string> refs = arguments;
  if (!batch.list.empty()) {
    const std::vector<std::string> listed = read_reference_list(batch.list);
    refs.insert(refs.end(), listed.begin(), listed.end());
  }
  if (refs.empty()) throw std::runtime_error("no image to explain (give IMAGE arguments or --list FILE)");
  if (!batch.shard.empty()) refs = Shard::parse(batch.shard).select(refs);
  if (batch.jobs < 0) throw std::runtime_error("--jobs must be 0 (all cores) or more");
  const BowModel model = BowModel::load(model_dir);
  const int class_index = class_name.empty() ? -1 : model.class_index(class_name);
  const int versus = versus_name.empty() ? -1 : model.class_index(versus_name);
  check_classifier_options(model, model_dir, options, versus, bias_policy_given);
  if (tiles && (layers || versus >= 0)) throw std::runtime_error("--layers and --versus do not apply to tiled explanations");
  // Every input is read and checked before anything is written; one image at
  // a time, so that memory stays flat over long lists.
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& ref : refs) {
    names.push_back(load_image_reference(ref).name);
    if (!seen.insert(names.back()).second)
      throw std::runtime_error(ref + ": another input has the same output name \"" + names.back() + "\"");
  }
  std::vector<long> todo;
  for (size_t i = 0; i < refs.size(); ++i)
    if (!batch.resume || !explanation_complete(out, names[i])) todo.push_back(static_cast<long>(i));
  if (todo.size() < refs.size())
    std::cerr << "explain: " << refs.size() - todo.size() << " of " << refs.size()
              << " images already have complete outputs in " << out << " (--resume): skipped\n";
  fs::create_directories(out);
  // Threads over images share the model read-only (issue 8; tests/test_concurrency.cpp).
  Progress progress(static_cast<long>(todo.size()), "explain");
  for_each_parallel(static_cast<long>(todo.size()), batch.jobs, [&](long t) {
    const std::string& ref = refs[todo[t]];
    const ImageSample image = load_image_reference(ref);
    const std::string line =
        tiles ? write_tiled(model, image, ref,
                            explain_tiled(model, model.input(image), class_index, options, *tiles, image.source), out)
              : write_explanation(model, image, ref,
                                  explain(model, model.input(image), class_index, options, image.source, versus), out,
                                  layers);
    progress.print(std::cout, line);
    progress.advance();
  });
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

  auto* train = app.add_subcommand("train", "train a BoW model: kernel SVMs, or a network (config section \"network\") on the histograms");
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

  auto* explain_cmd = app.add_subcommand("explain", "explain decisions pixel by pixel (LRP, Taylor)");
  explain_cmd->add_option("--model", model, "model directory")->required();
  explain_cmd->add_option("--class", class_name, "class to explain, name or index (default: the predicted one)");
  explain_cmd->add_option("--bias-policy", policy, "where the SVM bias goes: none, uniform, nonzero")
      ->check(CLI::IsMember(enum_names(BiasPolicy{}).names()));
  explain_cmd->add_option("--out", out, "output folder")->required();
  explain_cmd->add_flag("--layers", layers, "also write descriptor and bin relevance to the JSON");
  explain_cmd->add_option("images", images, "image files or fashion-mnist:SPLIT@INDEX");
  BatchRequest batch;
  const std::vector<CLI::Option*> batch_options{
      explain_cmd->add_option("--list", batch.list, "BoW: a file of image references, one a line (# comments)"),
      explain_cmd->add_option("--shard", batch.shard, "BoW: explain only shard K of N of the images (K/N, 1 <= K <= N)"),
      explain_cmd->add_option("--jobs", batch.jobs, "images explained at once, on threads sharing the model (default 0: all cores)"),
      explain_cmd->add_flag("--resume", batch.resume, "BoW: skip images whose .npy, .png and .json are complete")};
  // BoW: the SVM layer by LRP (exact, additive kernels) or Taylor (any kernel), and tiles (DESIGN.md 1.4, 1.6).
  std::string tiles_spec, reference = "nearest", versus_name;
  double root_tolerance = TaylorOptions{}.tolerance;
  int roots = TaylorOptions{}.roots;
  const std::vector<CLI::Option*> bow_options{
      explain_cmd->add_option("--tiles", tiles_spec,
                              "BoW: explain tiles of SIZE x SIZE pixels every OFFSET pixels and average (e.g. 102,34)"),
      explain_cmd->add_option("--reference", reference,
                              "BoW, --method taylor: root search towards the nearest support vector of the other "
                              "sign (nearest, default), the other side's mean training histogram (mean), or a "
                              "histogram in FILE.npy"),
      explain_cmd->add_option("--root-tolerance", root_tolerance,
                              "BoW, --method taylor: the root x0 has |f(x0)| <= this (default 1e-9)"),
      explain_cmd->add_option("--roots", roots,
                              "BoW, --method taylor: search roots towards the K nearest references of the other "
                              "sign and keep the root nearest to the input (default 1)"),
      explain_cmd->add_option("--versus", versus_name,
                              "BoW one-vs-one models: explain the pairwise decision of --class against this class "
                              "(default: the sum of --class's pairwise decisions)")};
  // Networks: --model names an LRP Toolbox text file or a network model directory (DESIGN.md 1.7).
  NetworkExplainRequest net_explain;
  explain_cmd->add_option("--method", net_explain.method,
                          "lrp (default), taylor (BoW: the SVM layer by a first-order Taylor expansion at a root "
                          "point, any kernel), or the baselines sensitivity, occlusion, random")
      ->check(CLI::IsMember({"lrp", "taylor", "sensitivity", "occlusion", "random"}));
  // Baselines (issue 6; pipelines/evaluate.hpp): occlusion and random for every model, sensitivity for BoW.
  BaselineExplainRequest baseline;
  const std::vector<CLI::Option*> baseline_options{
      explain_cmd->add_option("--patch", baseline.patch,
                              "occlusion: patch side in pixels (default: a quarter of the shorter image side)"),
      explain_cmd->add_option("--stride", baseline.stride, "occlusion: step between patches (default: half the patch)"),
      explain_cmd->add_option("--fill", baseline.fill, "occlusion: grey level of the patch (default 0)"),
      explain_cmd->add_option("--seed", baseline.seed, "random: seed (default 1; image i uses a mix of seed and i)"),
      explain_cmd->add_option("--threads", baseline.threads,
                              "occlusion: threads for the model evaluations of one image (default 0: the cores --jobs leaves)")};
  const std::vector<CLI::Option*> network_options{
      explain_cmd->add_option("--rule", net_explain.rule,
                              "networks: LRP composite preset, rule, or SELECTOR=RULE;... (default zb-epsilon-plus; "
                              "BoW models with a network classifier: " + std::string(kBowNetworkDefaultRule) +
                                  "); every BoW model: pooling=RULE and pixels=flat for the layers below the "
                                  "classifier"),
      explain_cmd->add_option("--input-range", net_explain.input_range,
                              "networks, toolbox text files: LOW,HIGH that grey 0..1 maps to (default -1,1)"),
      explain_cmd->add_flag("--ignore-bias", net_explain.ignore_bias, "networks: biases absorb no relevance"),
      explain_cmd->add_flag("--figure", net_explain.figure, "networks: also write NAME-figure.png (input | heatmap)")};

  NetworkTrainRequest net_train;
  auto* train_net = app.add_subcommand("train-network", "train an MLP network classifier on images");
  train_net->add_option("--data", net_train.data, "data set: digits:SPLIT[:LIMIT], fashion-mnist:SPLIT[:LIMIT] or a folder")
      ->required();
  train_net->add_option("--test-data", net_train.test_data, "data set to report the test accuracy on");
  train_net->add_option("--out", net_train.out, "model directory to write")->required();
  train_net->add_option("--hidden", net_train.hidden, "hidden layer sizes, comma-separated (default 100)");
  train_net->add_option("--activation", net_train.activation, "relu (default) or tanh");
  train_net->add_option("--input-range", net_train.input_range, "LOW,HIGH that grey 0..1 maps to (default 0,1)");
  train_net->add_option("--epochs", net_train.epochs, "passes over the data (default 20)");
  train_net->add_option("--batch-size", net_train.batch_size, "mini-batch size (default 32)");
  train_net->add_option("--optimizer", net_train.optimizer, "adam (default) or sgd (with momentum)");
  train_net->add_option("--learning-rate", net_train.learning_rate, "step size (default 0.001)");
  train_net->add_option("--momentum", net_train.momentum, "sgd momentum (default 0.9)");
  train_net->add_option("--weight-decay", net_train.weight_decay, "L2 penalty on the weights (default 0)");
  train_net->add_option("--seed", net_train.seed, "seed of the initial weights and the batch order (default 1)");
  train_net->add_flag("--quiet", net_train.quiet, "no progress lines");

  EvaluateRequest evaluation;
  auto* evaluate_cmd = app.add_subcommand("evaluate", "measure explanation methods: faithfulness, localisation, time");
  evaluate_cmd->add_option("--model", evaluation.model, "model directory (BoW or network) or toolbox text file")->required();
  evaluate_cmd->add_option("--data", evaluation.data,
                           "data set: scenes:FOLDER:SPLIT[:LIMIT] (with masks), fashion-mnist:SPLIT[:LIMIT], digits:..., a folder")
      ->required();
  evaluate_cmd->add_option("--out", evaluation.out, "folder for evaluation.json and report/index.html")->required();
  evaluate_cmd->add_option("--methods", evaluation.methods, "comma-separated: lrp, taylor, sensitivity, occlusion, random");
  evaluate_cmd->add_option("--metrics", evaluation.metrics,
                           "comma-separated: aopc (MoRF), lerf, pixel-flipping, mass, rank, pointing, conservation");
  evaluate_cmd->add_option("--class", evaluation.class_choice,
                           "explained class: predicted (default), label (each image's own) or a class name/index");
  evaluate_cmd->add_option("--label", evaluation.only_label, "evaluate only the images of this label");
  evaluate_cmd->add_option("--foreground", evaluation.foreground,
                           "data without masks: mask = pixels brighter than this grey level (e.g. 0 for Fashion-MNIST)");
  evaluate_cmd->add_option("--region", evaluation.region, "region side for AOPC (default 0: 9, scaled down for small images)");
  evaluate_cmd->add_option("--steps", evaluation.steps, "perturbation steps L (default 100)");
  evaluate_cmd->add_option("--flip-steps", evaluation.pixel_flipping_steps, "pixel flipping steps (default 100)");
  evaluate_cmd->add_option("--replacement", evaluation.replacement, "uniform (default), constant[:LEVEL] or blur[:SIGMA]");
  evaluate_cmd->add_option("--seed", evaluation.seed, "seed of the noise, tie order and random heatmaps (default 1)");
  evaluate_cmd->add_option("--patch", evaluation.patch, "occlusion patch side (default: a quarter of the image side)");
  evaluate_cmd->add_option("--stride", evaluation.stride, "occlusion stride (default: half the patch)");
  evaluate_cmd->add_option("--fill", evaluation.fill, "occlusion fill grey level (default 0)");
  evaluate_cmd->add_option("--jobs", evaluation.jobs, "images evaluated at once, on threads sharing the model (default 0: all cores)");
  evaluate_cmd->add_option("--threads", evaluation.threads,
                           "threads for the batched model evaluations of one image (default 0: the cores --jobs leaves)");
  evaluate_cmd->add_option("--batch", evaluation.batch, "images per batched model evaluation (default 32)");
  evaluate_cmd->add_option("--report-images", evaluation.report_images, "images shown in the report (default 12)");
  evaluate_cmd->add_flag("--quiet", evaluation.quiet, "no progress lines");
  evaluate_cmd->add_option("--shard", evaluation.shard,
                           "evaluate only shard K of N of the images (K/N); combine with merge-evaluations");

  std::vector<std::string> merge_inputs;
  std::string merge_out;
  auto* merge_cmd = app.add_subcommand("merge-evaluations", "combine the evaluation.json files of evaluate --shard runs");
  merge_cmd->add_option("--out", merge_out, "folder for the merged evaluation.json and report/index.html")->required();
  merge_cmd->add_option("evaluations", merge_inputs, "the evaluation.json (or the evaluate --out folder) of every shard")->required();

  SceneOptions scenes;
  std::string scenes_out;
  auto* scenes_cmd = app.add_subcommand("make-scenes", "generate a localisation benchmark with ground-truth masks");
  scenes_cmd->add_option("--kind", scenes.kind, "fashion (Fashion-MNIST items on photographs) or shapes (circle among "
                                                "squares and triangles)")
      ->check(CLI::IsMember({"fashion", "shapes"}));
  scenes_cmd->add_option("--out", scenes_out, "folder to write")->required();
  scenes_cmd->add_option("--size", scenes.size, "scene side in pixels (default 80)");
  scenes_cmd->add_option("--train", scenes.train, "training scenes (default 400)");
  scenes_cmd->add_option("--test", scenes.test, "test scenes (default 100)");
  scenes_cmd->add_option("--seed", scenes.seed, "seed (default 1)");
  scenes_cmd->add_option("--max-objects", scenes.max_objects, "objects per scene at most (default 3)");
  scenes_cmd->add_option("--target", scenes.target, "fashion: the Fashion-MNIST class to detect (default trouser)");
  scenes_cmd->add_option("--min-scale", scenes.min_scale, "fashion: smallest item scale (default 0.9 of 28 px)");
  scenes_cmd->add_option("--max-scale", scenes.max_scale, "fashion: largest item scale (default 1.4)");
  scenes_cmd->add_flag("--quiet", quiet, "no progress lines");

  std::vector<std::string> montage_inputs, montage_labels;
  std::string montage_out;
  auto* montage_cmd = app.add_subcommand("montage", "put images (e.g. heatmaps of several methods) side by side");
  montage_cmd->add_option("--out", montage_out, "PNG file to write")->required();
  montage_cmd->add_option("--label", montage_labels, "a label above each image, in order (give one per image, or none)")
      ->allow_extra_args(false);  // one value per --label, so the images stay positional
  montage_cmd->add_option("images", montage_inputs, "image files")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*train) return run_train(config, data, out, quiet);
    if (*predict) return run_predict(model, images, json);
    if (*test) return run_test(model, data, json);
    if (*train_net) return run_network_train(net_train, std::cout, &std::cerr);
    if (*evaluate_cmd) return run_evaluate(evaluation, std::cout, &std::cerr);
    if (*merge_cmd) return run_merge_evaluations(merge_inputs, merge_out, std::cout);
    if (*scenes_cmd) return run_make_scenes(scenes, scenes_out, quiet, std::cerr);
    if (*montage_cmd) {
      write_montage(montage_inputs, montage_labels, montage_out);
      return 0;
    }
    if (*explain_cmd && (net_explain.method == "occlusion" || net_explain.method == "random" ||
                         (net_explain.method == "sensitivity" && !NetworkModel::is_network_model(model)))) {
      if (explain_cmd->count("--bias-policy") || layers)
        throw std::runtime_error("--bias-policy and --layers apply to --method lrp and taylor");
      for (const auto* list : {&bow_options, &network_options})
        for (const CLI::Option* option : *list)
          if (option->count()) throw std::runtime_error(option->get_name() + " does not apply to --method " + net_explain.method);
      for (const CLI::Option* option : batch_options)
        if (option->count() && option->get_name() != "--jobs")
          throw std::runtime_error(option->get_name() + " applies to BoW LRP and Taylor explanations");
      if (images.empty()) throw std::runtime_error("no image to explain");
      baseline.model = model;
      baseline.class_name = class_name;
      baseline.out = out;
      baseline.method = net_explain.method;
      baseline.images = images;
      baseline.jobs = batch.jobs;
      return run_baseline_explain(baseline, std::cout);
    }
    for (const CLI::Option* option : baseline_options)
      if (*explain_cmd && option->count())
        throw std::runtime_error(option->get_name() + " applies to --method occlusion and random only");
    if (*explain_cmd && NetworkModel::is_network_model(model)) {
      if (explain_cmd->count("--bias-policy") || layers)
        throw std::runtime_error("--bias-policy and --layers apply to BoW models, not to networks");
      for (const CLI::Option* option : bow_options)
        if (option->count()) throw std::runtime_error(option->get_name() + " applies to BoW models, not to networks");
      for (const CLI::Option* option : batch_options)
        if (option->count() && option->get_name() != "--jobs")
          throw std::runtime_error(option->get_name() + " applies to BoW LRP and Taylor explanations");
      if (images.empty()) throw std::runtime_error("no image to explain");
      net_explain.model = model;
      net_explain.class_name = class_name;
      net_explain.out = out;
      net_explain.images = images;
      net_explain.jobs = batch.jobs;
      return run_network_explain(net_explain, std::cout);
    }
    // --rule and --ignore-bias also apply to BoW models whose classifier is a network (run_explain checks).
    for (const CLI::Option* option : network_options)
      if (*explain_cmd && option->count() && option->get_name() != "--rule" && option->get_name() != "--ignore-bias")
        throw std::runtime_error(option->get_name() + " applies to network models only");
    if (*explain_cmd) {
      ExplainOptions options;
      if (explain_cmd->count("--rule")) options.rule = net_explain.rule;
      options.ignore_bias = net_explain.ignore_bias;
      options.method = net_explain.method;
      if (options.method == "taylor" && explain_cmd->count("--bias-policy"))
        throw std::runtime_error("--bias-policy applies to --method lrp (a Taylor decomposition has no bias share)");
      if (options.method != "taylor" &&
          (explain_cmd->count("--reference") || explain_cmd->count("--root-tolerance") || explain_cmd->count("--roots")))
        throw std::runtime_error("--reference, --root-tolerance and --roots apply to --method taylor");
      options.policy = parse_bias_policy(policy);
      options.reference = TaylorReference::parse(reference);
      options.taylor.tolerance = root_tolerance;
      options.taylor.roots = roots;
      options.taylor.validate();
      std::optional<TileOptions> tiles;
      if (explain_cmd->count("--tiles")) tiles = TileOptions::parse(tiles_spec);
      return run_explain(model, class_name, options, tiles, out, images, layers, versus_name, batch,
                         explain_cmd->count("--bias-policy"));
    }
  } catch (const std::exception& e) {
    std::cerr << "pixelwise: error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
