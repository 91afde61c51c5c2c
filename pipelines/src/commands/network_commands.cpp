#include "pixelwise/common/parallel.hpp"
#include "pixelwise/pipelines/commands/network_commands.hpp"

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <ostream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/heatmap.hpp"
#include "pixelwise/pipelines/explain/network_explain.hpp"
#include "pixelwise/pipelines/io/npy.hpp"

namespace fs = std::filesystem;

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

std::string png_bytes(const cv::Mat& image, const std::string& what) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) throw std::runtime_error(what + ": PNG encoding failed");
  return std::string(png.begin(), png.end());
}

}  // namespace

int run_network_train(const NetworkTrainRequest& request, std::ostream& out, std::ostream* log) {
  NetworkTrainingConfig config;
  config.hidden = parse_sizes(request.hidden);
  config.input_range = parse_range(request.input_range, "--input-range");
  config.training.epochs = request.epochs;
  config.training.batch_size = request.batch_size;
  config.training.learning_rate = request.learning_rate;
  config.training.momentum = request.momentum;
  config.training.weight_decay = request.weight_decay;
  config.training.seed = request.seed;
  try {
    config.activation = parse_enum<Activation>(request.activation, "activation");
    config.training.optimizer = parse_enum<Optimizer>(request.optimizer, "optimizer");
    config.training.validate();
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  // Every input is read before training starts, so a bad test set fails early.
  const Dataset train = load_network_dataset(request.data);
  Dataset test;
  if (!request.test_data.empty()) {
    test = load_network_dataset(request.test_data);
    if (test.classes != train.classes)
      throw std::runtime_error(request.test_data + ": its classes differ from those of " + request.data);
  }
  NetworkModel model = train_network_model(train, config, request.quiet ? nullptr : log);
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

int run_network_explain(const NetworkExplainRequest& request, std::ostream& out) {
  if (request.jobs < 0) throw std::runtime_error("--jobs must be 0 (all cores) or more");
  std::optional<std::pair<double, double>> range;
  if (!request.input_range.empty()) range = parse_range(request.input_range, "--input-range");
  const NetworkModel model = NetworkModel::load(request.model, range);
  NetworkExplainOptions options;
  options.method = parse_network_method(request.method);
  options.rule = request.rule;
  options.ignore_bias = request.ignore_bias;
  if (options.method != NetworkMethod::lrp && (request.ignore_bias || request.rule != NetworkExplainOptions{}.rule))
    throw std::runtime_error("--rule and --ignore-bias apply to --method lrp only");
  if (options.method == NetworkMethod::lrp) {
    try {
      Composite::parse(options.rule, std::make_pair(model.input.low, model.input.high));  // fail before any input
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("--rule: ") + e.what());
    }
  }

  // Read and explain everything first: a bad input stops the run with no output.
  std::vector<ImageSample> images;
  std::set<std::string> names;
  for (const auto& ref : request.images) {
    images.push_back(load_network_image(ref));
    if (!names.insert(images.back().name).second)
      throw std::runtime_error(ref + ": another input has the same output name \"" + images.back().name + "\"");
  }
  struct Output {
    std::string stem;
    std::map<std::string, std::string> files;  // suffix -> bytes
    std::string line;
  };
  // Threads over images share the model read-only (issue 8); each output has its slot.
  std::vector<Output> outputs(images.size());
  for_each_parallel(static_cast<long>(images.size()), request.jobs, [&](long i) {
    const ImageSample& image = images[i];
    const TensorShape shape = model.input_shape(image.gray, request.images[i]);
    NetworkExplainOptions image_options = options;
    if (!request.class_name.empty())
      image_options.class_index = model.class_index(request.class_name, model.network.shapes(shape).back().size());
    const NetworkExplanation e = explain_network(model, image.gray, image_options, request.images[i]);
    Output o;
    o.stem = (fs::path(request.out) / image.name).string();
    nlohmann::json j = network_explanation_json(model, e);
    j["image"] = request.images[i];
    o.files[".npy"] = npy_bytes(e.pixels);
    o.files[".png"] = png_bytes(render_heatmap(e.pixels, image.gray), o.stem + ".png");
    o.files[".json"] = j.dump(2) + "\n";
    if (e.method == NetworkMethod::taylor) {
      o.files["-root.npy"] = npy_bytes(e.root);
      o.files["-root-gradient.npy"] = npy_bytes(e.root_gradient);
    }
    if (request.figure) o.files["-figure.png"] = png_bytes(network_figure(model, image.gray, e), o.stem + "-figure.png");
    std::ostringstream line;
    line << image.name << ": class " << model.class_name(e.class_index) << " score " << std::setprecision(10)
         << e.score << " pixel sum " << e.pixel_sum;
    if (e.method != NetworkMethod::sensitivity) line << " residual " << std::setprecision(3) << e.residual();
    o.line = line.str();
    outputs[i] = std::move(o);
  });
  fs::create_directories(request.out);
  for (const auto& o : outputs) {
    for (const auto& [suffix, bytes] : o.files) write_file_atomically(o.stem + suffix, bytes);
    out << o.line << "\n";
  }
  return 0;
}

}  // namespace pixelwise
