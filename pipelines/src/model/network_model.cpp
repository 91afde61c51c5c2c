#include "pixelwise/pipelines/model/network_model.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "pixelwise/features/image.hpp"
#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/json_input.hpp"
#include "pixelwise/common/manifest_file.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

constexpr const char* kFormat = "pixelwise-network-model";
constexpr int kVersion = 1;
constexpr const char* kNetworkFile = "network.txt";
constexpr const char* kDigitsPrefix = "digits:";
constexpr int kDigitSide = 20, kDigitColumns = 100, kDigitRowsPerClass = 5;

bool is_txt(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".txt";
}

nlohmann::json read_manifest(const fs::path& dir) {
  return parse_json_input(read_verified_manifest(dir), (dir / kManifestFile).string());
}

long parse_whole(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), ::isdigit))
    throw std::runtime_error(what + ": \"" + text + "\" is not a non-negative whole number");
  return std::stol(text);
}

// The split's cells of digits.png: index k -> (digit k mod 10, cell row, cell column).
struct DigitCell {
  int label, row, column;
};

long split_size(const std::string& split, const std::string& what) {
  if (split == "train") return 10L * (kDigitRowsPerClass - 1) * kDigitColumns;
  if (split == "test") return 10L * kDigitColumns;
  throw std::runtime_error(what + ": unknown digits split \"" + split + "\" (train or test)");
}

DigitCell digit_cell(const std::string& split, long k) {
  const int label = static_cast<int>(k % 10);
  const long i = k / 10;  // the i-th digit of this label in the split
  const int row_in_block = split == "train" ? static_cast<int>(i / kDigitColumns) : kDigitRowsPerClass - 1;
  return {label, label * kDigitRowsPerClass + row_in_block, static_cast<int>(i % kDigitColumns)};
}

cv::Mat read_digits_sheet() {
  const std::string path = digits_png_path();
  if (!fs::exists(path))
    throw std::runtime_error(path + ": missing (install Debian's opencv-doc or set PIXELWISE_DIGITS_PNG)");
  cv::Mat sheet = load_gray_image(path);
  if (sheet.rows != 10 * kDigitRowsPerClass * kDigitSide || sheet.cols != kDigitColumns * kDigitSide)
    throw std::runtime_error(path + ": expected a 2000 x 1000 sheet of 20 x 20 digits, found " +
                             std::to_string(sheet.cols) + " x " + std::to_string(sheet.rows));
  return sheet;
}

std::vector<ImageSample> read_digits(const std::string& split, long first, long count, const std::string& what) {
  const long available = split_size(split, what);
  if (first >= available)
    throw std::runtime_error(what + ": index " + std::to_string(first) + " out of range (the split has " +
                             std::to_string(available) + " digits)");
  count = std::min(count, available - first);
  const cv::Mat sheet = read_digits_sheet();
  std::vector<ImageSample> out;
  for (long k = first; k < first + count; ++k) {
    const DigitCell cell = digit_cell(split, k);
    ImageSample s;
    s.name = "digits-" + split + "-" + std::to_string(k);
    s.source = what;
    s.gray = sheet(cv::Rect(cell.column * kDigitSide, cell.row * kDigitSide, kDigitSide, kDigitSide)).clone();
    s.label = cell.label;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::pair<double, double> parse_range(const std::string& text, const std::string& what) {
  const size_t comma = text.find(',');
  try {
    if (comma == std::string::npos) throw std::invalid_argument("no comma");
    size_t used_low = 0, used_high = 0;
    const std::string low_text = text.substr(0, comma), high_text = text.substr(comma + 1);
    const double low = std::stod(low_text, &used_low), high = std::stod(high_text, &used_high);
    if (used_low != low_text.size() || used_high != high_text.size() || !std::isfinite(low) || !std::isfinite(high))
      throw std::invalid_argument("trailing characters");
    if (!(low < high)) throw std::runtime_error(what + ": \"" + text + "\" needs LOW < HIGH");
    return {low, high};
  } catch (const std::logic_error&) {
    throw std::runtime_error(what + ": \"" + text + "\" is not LOW,HIGH (two numbers)");
  }
}

bool NetworkModel::is_network_model(const std::string& path) {
  const fs::path p(path);
  if (is_txt(p)) return !fs::is_directory(p);
  if (!fs::is_regular_file(p / "manifest.json")) return false;
  try {
    return read_json_file((p / "manifest.json").string()).value("format", "") == kFormat;
  } catch (const std::exception&) {
    return false;  // not ours; the BoW reader reports the damage
  }
}

NetworkModel NetworkModel::load(const std::string& path, const std::optional<std::pair<double, double>>& toolbox_range) {
  NetworkModel model;
  model.source = path;
  if (is_txt(path)) {
    model.network = Network::load_toolbox(path);
    const auto [low, high] = toolbox_range.value_or(std::make_pair(-1.0, 1.0));
    model.input.low = low;
    model.input.high = high;
    return model;
  }
  if (toolbox_range)
    throw std::runtime_error(path + ": a model directory records its input range; --input-range is for toolbox text files");
  const fs::path root(path);
  require_model_directory(path);
  const nlohmann::json manifest = read_manifest(root);
  const std::string manifest_path = (root / "manifest.json").string();
  try {
    if (manifest.value("format", "") != kFormat || manifest.value("version", 0) != kVersion)
      throw std::runtime_error("not a pixelwise network model of format version " + std::to_string(kVersion));
    const nlohmann::json& in = manifest.at("input");
    model.input.shape = {in.at("height").get<int>(), in.at("width").get<int>(), in.at("channels").get<int>()};
    model.input.low = in.at("low").get<double>();
    model.input.high = in.at("high").get<double>();
    if (model.input.shape.height <= 0 || model.input.shape.width <= 0 || model.input.shape.channels <= 0)
      throw std::runtime_error("input shape " + model.input.shape.str() + " is not positive");
    if (!(model.input.low < model.input.high)) throw std::runtime_error("input range needs low < high");
    model.classes = manifest.at("classes").get<std::vector<std::string>>();
    model.training_info = manifest.value("training", nlohmann::json::object());
    const std::string file = (root / kNetworkFile).string();
    const nlohmann::json& info = manifest.at("files").at(kNetworkFile);
    const std::string text = read_file(file);
    if (text.size() != info.at("bytes").get<size_t>() || crc32_of(text) != info.at("crc32").get<std::uint32_t>())
      throw std::runtime_error(file + ": damaged (size or checksum differs from the manifest)");
    model.network = Network::parse_toolbox(text, file);
    const long outputs = model.network.shapes(model.input.shape).back().size();
    if (static_cast<long>(model.classes.size()) != outputs)
      throw std::runtime_error("the manifest lists " + std::to_string(model.classes.size()) +
                               " classes, the network has " + std::to_string(outputs) + " outputs");
    return model;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(manifest_path + ": damaged manifest (" + e.what() + ")");
  } catch (const std::exception& e) {
    const std::string what = error_text(e);  // std::bad_alloc: that memory ran out
    throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
}

void NetworkModel::save(const std::string& dir) const {
  if (input.shape.size() == 0) throw std::runtime_error(dir + ": a network model directory needs a fixed input shape");
  const long outputs = network.shapes(input.shape).back().size();
  if (static_cast<long>(classes.size()) != outputs)
    throw std::runtime_error(dir + ": " + std::to_string(classes.size()) + " class names for " +
                             std::to_string(outputs) + " network outputs");
  write_folder_atomically(dir, "manifest.json", "pixelwise model directory", [&](const fs::path& partial) {
    const std::string text = network.toolbox_text();
    const nlohmann::json manifest = {
        {"format", kFormat},
        {"version", kVersion},
        {"classes", classes},
        {"input",
         {{"height", input.shape.height},
          {"width", input.shape.width},
          {"channels", input.shape.channels},
          {"low", input.low},
          {"high", input.high}}},
        {"training", training_info},
        {"files", {{kNetworkFile, {{"bytes", text.size()}, {"crc32", crc32_of(text)}}}}}};
    write_file_atomically((partial / kNetworkFile).string(), text);
    write_manifest(partial, manifest.dump(2) + "\n");
  });
}

TensorShape NetworkModel::input_shape(const cv::Mat& gray, const std::string& what) const {
  const TensorShape image{gray.rows, gray.cols, 1};
  if (input.shape.size() > 0) {
    if (image != input.shape)
      throw InputError(what + ": image is " + image.str() + ", the model expects " + input.shape.str());
    return image;
  }
  try {
    network.shapes(image);
  } catch (const std::invalid_argument& e) {
    throw InputError(what + ": the network cannot take a " + image.str() + " image: " + e.what());
  }
  return image;
}

Eigen::VectorXd NetworkModel::input_vector(const cv::Mat& gray, const std::string& what) const {
  input_shape(gray, what);
  // float64 images (from Python) are taken as they are: the network computes
  // in float64, and rounding them to float32 would lose the parity with
  // float64 reference implementations.
  if (gray.type() != CV_32FC1 && gray.type() != CV_64FC1) throw std::runtime_error(what + ": expected a grey float image");
  Eigen::VectorXd x(static_cast<long>(gray.rows) * gray.cols);
  for (int r = 0; r < gray.rows; ++r)
    for (int c = 0; c < gray.cols; ++c) {
      const double g = gray.type() == CV_64FC1 ? gray.at<double>(r, c) : gray.at<float>(r, c);
      x[static_cast<long>(r) * gray.cols + c] = input.low + (input.high - input.low) * g;
    }
  return x;
}

cv::Mat NetworkModel::gray_of(const Eigen::VectorXd& x, const TensorShape& shape) const {
  cv::Mat gray(shape.height, shape.width, CV_32FC1);
  for (int r = 0; r < shape.height; ++r)
    for (int c = 0; c < shape.width; ++c) {
      double sum = 0;
      for (int ch = 0; ch < shape.channels; ++ch) sum += x[(static_cast<long>(r) * shape.width + c) * shape.channels + ch];
      const double g = (sum / shape.channels - input.low) / (input.high - input.low);
      gray.at<float>(r, c) = static_cast<float>(std::clamp(g, 0.0, 1.0));
    }
  return gray;
}

std::string NetworkModel::class_name(int c) const {
  return c >= 0 && c < static_cast<int>(classes.size()) ? classes[c] : std::to_string(c);
}

int NetworkModel::class_index(const std::string& name_or_index, long outputs) const {
  for (size_t c = 0; c < classes.size(); ++c)
    if (classes[c] == name_or_index) return static_cast<int>(c);
  if (!name_or_index.empty() && name_or_index.size() < 7 &&
      std::all_of(name_or_index.begin(), name_or_index.end(), ::isdigit)) {
    const long c = std::stol(name_or_index);
    if (c < outputs) return static_cast<int>(c);
  }
  std::string known;
  for (const auto& name : classes) known += (known.empty() ? "" : ", ") + name;
  throw InputError("class \"" + name_or_index + "\" does not exist (" +
                           (known.empty() ? std::string() : "classes: " + known + ", or ") + "an index 0-" +
                           std::to_string(outputs - 1) + ")");
}

std::string digits_png_path() {
  const char* path = std::getenv("PIXELWISE_DIGITS_PNG");
  return path && *path ? path : "/usr/share/doc/opencv-doc/examples/data/digits.png";
}

Dataset load_network_dataset(const std::string& spec) {
  if (spec.rfind(kDigitsPrefix, 0) != 0) return load_dataset(spec);
  const std::string rest = spec.substr(std::string(kDigitsPrefix).size());
  const size_t colon = rest.find(':');
  const std::string split = rest.substr(0, colon);
  const long available = split_size(split, spec);
  const long limit = colon == std::string::npos ? available : parse_whole(rest.substr(colon + 1), spec);
  if (limit == 0) throw std::runtime_error(spec + ": empty data set (limit 0)");
  Dataset d;
  d.spec = spec;
  for (int c = 0; c < 10; ++c) d.classes.push_back(std::to_string(c));
  d.images = read_digits(split, 0, limit, spec);
  return d;
}

ImageSample load_network_image(const std::string& reference) {
  if (reference.rfind(kDigitsPrefix, 0) != 0) return load_image_reference(reference);
  const std::string rest = reference.substr(std::string(kDigitsPrefix).size());
  const size_t at = rest.find('@');
  if (at == std::string::npos)
    throw std::runtime_error(reference + ": an image reference into the digits is digits:SPLIT@INDEX");
  const std::string split = rest.substr(0, at);
  split_size(split, reference);
  return std::move(read_digits(split, parse_whole(rest.substr(at + 1), reference), 1, reference).front());
}

RowMatrixXd network_inputs(const NetworkModel& model, const Dataset& data, TensorShape* shape) {
  if (data.images.empty()) throw std::runtime_error(data.spec + ": empty data set");
  const TensorShape s = model.input_shape(data.images.front().gray, data.images.front().name);
  RowMatrixXd x(static_cast<long>(data.images.size()), s.size());
  for (size_t i = 0; i < data.images.size(); ++i) {
    const ImageSample& image = data.images[i];
    if (image.gray.rows != s.height || image.gray.cols != s.width)
      throw std::runtime_error(data.spec + ": image " + image.name + " is " + std::to_string(image.gray.rows) + "x" +
                               std::to_string(image.gray.cols) + ", the first one " + s.str() +
                               " (a network needs images of one size)");
    x.row(static_cast<long>(i)) = model.input_vector(image.gray, image.name).transpose();
  }
  if (shape) *shape = s;
  return x;
}

}  // namespace pixelwise
