#pragma once
// A trained BoW classifier: the pipeline configuration, the codebooks and the
// classifier on the histograms -- one-vs-rest (or one-vs-one) kernel SVMs, or a
// layered network (DESIGN.md 1.7: "a network can also sit on top of a BoW
// histogram instead of an SVM") -- with its model directory (DESIGN.md 3).
//
// Model directory:
//   manifest.json        format, version, pipeline config, classes, and the
//                        size and CRC-32 of every other file
//   codebook.npy         float32 V x D k-means centres (codebook-<i>.npy: those
//                        of channel i >= 1 of a multi-channel pipeline)
//   support_vectors.npy  float64 U x (cells * V) histograms of the support vectors
//   svm-<c>.model        libsvm model of class c (precomputed kernel; support
//                        vectors are 1-based rows of support_vectors.npy), or
//   svm-ovo.model        libsvm's multi-class model ("multiclass": "one_vs_one")
//   mapped_svm.npy       instead of the SVM files when the svm section has a
//                        "feature_map": float64 classes x (D (2n + 1) + 1), the
//                        linear SVMs on the homogeneous kernel map of order n
//                        (weights, then the bias, per class)
//   network.txt          instead of the SVM files when the configuration has a
//                        "network" section: the MLP on the histograms in the LRP
//                        Toolbox's plain-text format (as in network model
//                        directories, network_model.hpp)
//   class_means.npy      float64 classes x (cells * V): mean training histogram per
//                        class (the manifest's class_counts: images per class)
// The configuration format is documented in docs/config.md.
#include <Eigen/Core>
#include <iosfwd>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pixelwise/classifiers/homkermap_svm.hpp"
#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/classifiers/one_vs_one.hpp"
#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/codebook.hpp"
#include "pixelwise/features/descriptors.hpp"
#include "pixelwise/pipelines/bow_channels.hpp"
#include "pixelwise/pipelines/dataset.hpp"
#include "pixelwise/pipelines/network_commands.hpp"

namespace pixelwise {

/// JSON svm.multiclass: one-vs-rest SVMs, or libsvm's own one-vs-one.
enum class Multiclass { one_vs_rest, one_vs_one };
const EnumNames<Multiclass>& enum_names(Multiclass);

struct PipelineConfig {
  // The top-level sections: the single channel of a one-channel pipeline, and
  // the defaults every entry of `channels` starts from.
  DescriptorOptions descriptor;
  CodebookOptions codebook;
  CodingOptions coding;
  PoolingOptions pooling;
  NormalisationOptions normalisation;
  SvmOptions svm;
  Multiclass multiclass = Multiclass::one_vs_rest;
  Combine combine = Combine::concatenate;  ///< see bow_channels.hpp
  /// JSON svm.feature_map: instead of kernel SVMs, linear SVMs on VLFeat's
  /// homogeneous kernel map of svm.kernel (hik or chi2) for training sets too
  /// large for a kernel matrix (homkermap_svm.hpp). map.kernel is svm.kernel;
  /// solver.C is svm.C.
  struct FeatureMap {
    FeatureMapOptions map;
    LinearSvmOptions solver;
  };
  std::optional<FeatureMap> feature_map;
  std::vector<ChannelConfig> channels;     ///< as configured; empty: one channel of the top-level sections
  /// JSON section "network": the classifier is an MLP trained on the
  /// histograms (hidden sizes, activation and the training options of
  /// `pixelwise train-network`; input_range is not used) instead of the SVMs.
  std::optional<NetworkTrainingConfig> network;

  /// The channels the pipeline computes (planes "separate" expanded).
  std::vector<ChannelConfig> channel_list() const;
  /// Whether some channel needs the colour image.
  bool uses_colour() const;
  /// Value bounds of every histogram entry, [0, 1] when the histogram is
  /// normalised (codes are non-negative; an l1 or l2 step leaves every entry in
  /// [0, 1] and a power step keeps it there); none without normalisation. The
  /// bounds of the "zb" rule of a network classifier.
  std::optional<std::pair<double, double>> histogram_bounds() const;

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
  std::vector<ChannelConfig> channels;   ///< config.channel_list()
  std::vector<Codebook> codebooks;       ///< one per channel
  /// The machines whose decisions are the class scores: the one-vs-rest SVMs,
  /// or for one-vs-one the summed pairwise machines (OneVsOneSvm::summed_machines).
  OneVsRestSvm svm;
  OneVsOneSvm pairwise;                  ///< one-vs-one only (classes() == 0 otherwise)
  /// config.feature_map: the linear SVMs on the kernel map whose decisions
  /// are the class scores (svm is then empty).
  std::optional<MappedLinearSvm> mapped_svm;
  /// Mean training histogram of every class (classes x dimension) and the
  /// number of training images of each: reference points of the Taylor
  /// decomposition (DESIGN.md 1.4). Empty for models saved before they were kept.
  RowMatrixXd class_means;
  std::vector<long> class_counts;
  /// The network classifier (config.network set): histogram (1 x 1 x dimension)
  /// -> class scores (pre-softmax), with a trailing SoftMax; empty otherwise.
  Network network;
  nlohmann::json training_info;

  /// Length of the histograms (the classifier's input).
  long dimension() const;
  /// The classifier's input shape 1 x 1 x dimension().
  TensorShape histogram_shape() const { return {1, 1, static_cast<int>(dimension())}; }
  /// Throws std::out_of_range unless 0 <= c < classes.size().
  void check_class(int c) const;

  struct Forward {
    ImageEncoding encoding;  ///< per channel: features, codes, cells; histogram: the classifier's input
    /// f_c(x) for every class (one-vs-one: sum of pairwise scores; network:
    /// the pre-softmax outputs).
    Eigen::VectorXd scores;
    /// Additive kernels: the pass that gave the scores, with every class's
    /// per-bin kernel terms (OneVsRestSvm::evaluate_additive, or
    /// MappedLinearSvm::evaluate for a kernel map); empty otherwise.
    AdditiveEvaluation svm_pass;
  };
  /// Descriptors, encoding and all class scores of one image, grey (CV_32FC1)
  /// or colour (CV_32FC3, BGR) in [0, 1]; `what` names it in errors.
  Forward forward(const cv::Mat& image, const std::string& what) const;
  Eigen::VectorXd histogram(const cv::Mat& image, const std::string& what) const;
  /// The image of a sample this model reads: the colour one if a channel uses
  /// colour and the sample has it, otherwise the grey one.
  const cv::Mat& input(const ImageSample& sample) const;

  /// Trains codebooks and classifier (SVMs or network) on a data set; progress
  /// lines go to `log` if given.
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
