#include "pixelwise/classifiers/parallel.hpp"
#include "pixelwise/pipelines/network_commands.hpp"

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

#include "pixelwise/pipelines/files.hpp"
#include "pixelwise/pipelines/heatmap.hpp"
#include "pixelwise/pipelines/network_explain.hpp"
#include "pixelwise/pipelines/npy.hpp"

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
