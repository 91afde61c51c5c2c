#pragma once
// Network classifiers in pipelines (docs/design.md 1.7, 3): a layered network with
// its classes and input convention, read from an LRP Toolbox text file or a
// model directory; and the digits data set for training small networks.
//
// Model directory (format "pixelwise-network-model", version 1):
//   manifest.json   format, version, classes, input {height, width, channels,
//                   low, high}, training information, and the size and CRC-32
//                   of network.txt
//   manifest.crc32  CRC-32 of manifest.json (always written, checked when
//                   present: docs/errors.md, "Model directories")
//   network.txt     the network in the LRP Toolbox's plain-text format
//
// Input convention: a grey image g in [0, 1] (pixelwise::ImageSample) enters
// the network as x = low + (high - low) g, e.g. [-1, 1] for the toolbox's
// MNIST models (p / 127.5 - 1) and [0, 1] for the networks trained here.
//
// Digits: OpenCV's digits.png (package opencv-doc; 5000 handwritten 20 x 20
// digits, a 50 x 100 grid, 500 per digit in blocks of five rows, 0 to 9). The
// first four rows of each block form the training split (4000 digits), the
// fifth the test split (1000 digits). Within a split the digits are
// interleaved, so index k has label k mod 10 and every prefix is balanced.
//   data set spec      digits:SPLIT[:LIMIT]
//   image reference    digits:SPLIT@INDEX
// The file is /usr/share/doc/opencv-doc/examples/data/digits.png unless the
// environment variable PIXELWISE_DIGITS_PNG names another.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"

namespace pixelwise {

struct NetworkInput {
  TensorShape shape{0, 0, 0};  ///< 0 x 0 x 0: taken from each image (toolbox text files)
  double low = 0, high = 1;    ///< grey level g in [0, 1] -> low + (high - low) g
};

class NetworkModel {
 public:
  Network network;
  std::vector<std::string> classes;  ///< empty: classes are named by their index
  NetworkInput input;
  nlohmann::json training_info = nlohmann::json::object();
  std::string source;  ///< the file or directory it was read from

  /// An LRP Toolbox text file (*.txt) or a directory holding a network manifest.
  static bool is_network_model(const std::string& path);
  /// Reads either kind. `toolbox_range` is the input range of a toolbox text
  /// file (default [-1, 1], the toolbox's MNIST convention); a model
  /// directory records its own and refuses another.
  static NetworkModel load(const std::string& path,
                           const std::optional<std::pair<double, double>>& toolbox_range = std::nullopt);
  /// Writes a model directory atomically (replaces only an older model directory).
  void save(const std::string& dir) const;

  /// The network's input shape for a grey image; throws naming `what` if the
  /// image does not fit the model.
  TensorShape input_shape(const cv::Mat& gray, const std::string& what) const;
  /// x = low + (high - low) g in NHWC order (one channel).
  Eigen::VectorXd input_vector(const cv::Mat& gray, const std::string& what) const;
  /// Grey image of an input-space vector (inverse of input_vector, clipped to [0, 1]).
  cv::Mat gray_of(const Eigen::VectorXd& x, const TensorShape& shape) const;
  std::string class_name(int c) const;
  /// A class by name or index; `outputs` is the number of network outputs.
  int class_index(const std::string& name_or_index, long outputs) const;
};

/// "LOW,HIGH" -> (LOW, HIGH) with LOW < HIGH; `what` names the option in errors.
std::pair<double, double> parse_range(const std::string& text, const std::string& what);

std::string digits_png_path();
/// digits:SPLIT[:LIMIT] or anything load_dataset() reads.
Dataset load_network_dataset(const std::string& spec);
/// digits:SPLIT@INDEX or anything load_image_reference() reads.
ImageSample load_network_image(const std::string& reference);

/// One row per image: the network inputs of a data set (all images of one size).
RowMatrixXd network_inputs(const NetworkModel& model, const Dataset& data, TensorShape* shape);

}  // namespace pixelwise
