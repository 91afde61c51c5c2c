#pragma once
// A trained BoW + kernel-SVM classifier: the pipeline configuration, the
// codebook and the one-vs-rest SVMs, with its model directory (DESIGN.md 3).
//
// Model directory:
//   manifest.json        format, version, pipeline config, classes, and the
//                        size and CRC-32 of every other file
//   codebook.npy         float32 V x D k-means centres
//   support_vectors.npy  float64 U x (cells * V) histograms of the support vectors
//   svm-<c>.model        libsvm model of class c (precomputed kernel; support
//                        vectors are 1-based rows of support_vectors.npy)
#include <Eigen/Core>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/codebook.hpp"
#include "pixelwise/features/dense_sift.hpp"
#include "pixelwise/pipelines/dataset.hpp"

namespace pixelwise {

struct PipelineConfig {
  DenseSiftOptions descriptor;
  CodebookOptions codebook;
  CodingOptions coding;
  PoolingOptions pooling;
  NormalisationOptions normalisation;
  SvmOptions svm;

  /// Unknown sections or keys are rejected, so that a typo cannot silently
  /// fall back to a default.
  static PipelineConfig parse(const nlohmann::json& j);
  static PipelineConfig load(const std::string& path);
  nlohmann::json to_json() const;
};

class BowModel {
 public:
  PipelineConfig config;
  std::vector<std::string> classes;
  Codebook codebook;
  OneVsRestSvm svm;
  nlohmann::json training_info;

  struct Forward {
    LocalFeatures features;
    BowEncoding encoding;
    Eigen::VectorXd scores;  ///< f_c(x) for every class
  };
  /// Descriptors, encoding and all class scores of one grey image; `what` names it in errors.
  Forward forward(const cv::Mat& gray, const std::string& what) const;
  Eigen::VectorXd histogram(const cv::Mat& gray, const std::string& what) const;

  /// Trains codebook and SVMs on a data set; progress lines go to `log` if given.
  static BowModel train(const PipelineConfig& config, const Dataset& data, std::ostream* log);

  /// Writes the model directory atomically (a complete new directory replaces
  /// an older model directory of the same name; anything else is refused).
  void save(const std::string& dir) const;
  /// Reads and verifies a model directory; a missing, damaged or inconsistent
  /// file is an error naming it.
  static BowModel load(const std::string& dir);

  /// A class given by name or by index.
  int class_index(const std::string& name_or_index) const;
};

}  // namespace pixelwise
