#pragma once
// A trained BoW classifier: the pipeline configuration, the codebooks and the
// classifier on the histograms -- kernel SVMs, linear SVMs on a kernel map, or
// a layered network (docs/design.md 1.7: "a network can also sit on top of a BoW
// histogram instead of an SVM"), any HistogramClassifier kind
// (histogram_classifier.hpp) -- with its model directory (docs/design.md 3).
//
// Model directory:
//   manifest.json        format, version, pipeline config, classes, and the
//                        size and CRC-32 of every other file
//   manifest.crc32       CRC-32 of manifest.json (common/manifest_file.hpp;
//                        always written, checked when present: docs/errors.md)
//   codebook.npy         float32 V x D k-means centres (codebook-<i>.npy: those
//                        of channel i >= 1 of a multi-channel pipeline)
//   gmm_priors.npy, gmm_means.npy, gmm_variances.npy
//                        float64 K, K x D, K x D: the GMM of a Fisher channel
//                        (gmm_*-<i>.npy for channel i >= 1); a Fisher channel
//                        has no codebook file
//   pca_mean.npy, pca_projection.npy
//                        float64 1 x D and P x D: the descriptor PCA of a
//                        Fisher or VLAD channel with one (pca_*-<i>.npy likewise)
//   class_means.npy      float64 classes x (cells * V): mean training histogram per
//                        class (the manifest's class_counts: images per class)
//   the classifier's files, by kind (classifier_kinds.hpp):
//   support_vectors.npy  kernel SVMs: float64 U x (cells * V) histograms of the support vectors
//   svm-<c>.model        one_vs_rest_svm: libsvm model of class c (precomputed kernel; support
//                        vectors are 1-based rows of support_vectors.npy)
//   svm-ovo.model        one_vs_one_svm: libsvm's multi-class model ("multiclass": "one_vs_one")
//   mapped_svm.npy       kernel_map_svm (svm section with a "feature_map"):
//                        float64 classes x (D (2n + 1) + 1), the linear SVMs on
//                        the homogeneous kernel map of order n (weights, then
//                        the bias, per class)
//   network.txt          network (configuration section "network"): the MLP on
//                        the histograms in the LRP Toolbox's plain-text format
//                        (as in network model directories, network_model.hpp)
// The configuration format is documented in docs/config.md.
#include <Eigen/Core>
#include <iosfwd>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/codebook.hpp"
#include "pixelwise/features/descriptors.hpp"
#include "pixelwise/pipelines/model/bow_channels.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"
#include "pixelwise/pipelines/model/histogram_classifier.hpp"

namespace pixelwise {

/// JSON svm.multiclass: one-vs-rest SVMs, or libsvm's own one-vs-one.

struct PipelineConfig {
  // The top-level sections: the single channel of a one-channel pipeline, and
  // the defaults every entry of `channels` starts from.
  DescriptorOptions descriptor;
  CodebookOptions codebook;
  CodingOptions coding;
  PoolingOptions pooling;
  NormalisationOptions normalisation;
  MappingOptions mapping;  ///< histogram (default), fisher or vlad (docs/design.md 1.8)
  GmmOptions gmm;          ///< the GMM vocabulary of a Fisher mapping
  PcaOptions pca;          ///< descriptor PCA of a Fisher or VLAD mapping
  InputOptions input;      ///< images above the pixel limit: refused or downscaled (docs/errors.md, "Limits")
  Combine combine = Combine::concatenate;  ///< see bow_channels.hpp
  std::vector<ChannelConfig> channels;     ///< as configured; empty: one channel of the top-level sections
  /// The classifier's kind and its parsed configuration section (section
  /// "svm" or "network" in JSON; histogram_classifier.hpp). Default: one-vs-rest
  /// kernel SVMs with default options.
  std::shared_ptr<const ClassifierSection> classifier = default_classifier_section();
  /// The section as kind S (e.g. SvmSection), or null when it is of another kind.
  template <typename S>
  const S* section() const {
    return dynamic_cast<const S*>(classifier.get());
  }

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
  std::vector<Codebook> codebooks;       ///< one per channel (empty for a Fisher channel)
  std::vector<Gmm> gmms;                 ///< one per channel (empty unless a Fisher channel)
  std::vector<Pca> pcas;                 ///< one per channel (empty: no PCA)
  /// The classifier on the histograms; its kind is config.classifier's.
  std::shared_ptr<const HistogramClassifier> classifier;
  /// Mean training histogram of every class (classes x dimension) and the
  /// number of training images of each: reference points of the Taylor
  /// decomposition (docs/design.md 1.4). Empty for models saved before they were kept.
  RowMatrixXd class_means;
  std::vector<long> class_counts;
  nlohmann::json training_info;

  /// Length of the histograms (the classifier's input).
  long dimension() const;
  /// The classifier's input shape 1 x 1 x dimension().
  TensorShape histogram_shape() const { return {1, 1, static_cast<int>(dimension())}; }
  /// Throws std::out_of_range unless 0 <= c < classes.size().
  void check_class(int c) const;
  /// The classifier as kind K (e.g. OneVsRestSvmClassifier), or null when it is of another kind.
  template <typename K>
  const K* classifier_as() const {
    return dynamic_cast<const K*>(classifier.get());
  }
  /// What the classifier may need of the model for an explanation.
  ClassifierContext context() const;

  struct Forward {
    ImageEncoding encoding;  ///< per channel: features, codes, cells; histogram: the classifier's input
    /// f_c(x) for every class (one-vs-one: sum of pairwise scores; network:
    /// the pre-softmax outputs).
    Eigen::VectorXd scores;
    /// The classifier's pass that gave the scores, with what its relevance
    /// needs (e.g. the per-bin terms of additive SVMs).
    ClassifierPass pass;
  };
  /// Descriptors, encoding and all class scores of one image, grey (CV_32FC1)
  /// or colour (CV_32FC3, BGR) in [0, 1]; `what` names it in errors.
  Forward forward(const cv::Mat& image, const std::string& what) const;
  Eigen::VectorXd histogram(const cv::Mat& image, const std::string& what) const;
  /// The image of a sample this model reads: the colour one if a channel uses
  /// colour and the sample has it, otherwise the grey one.
  const cv::Mat& input(const ImageSample& sample) const;
  /// Throws std::runtime_error naming `what` when the image is smaller than
  /// one descriptor support of a dense channel, so that a batch is refused
  /// before its first output rather than mid-run (docs/errors.md, "What is
  /// checked up front").
  void check_image(const cv::Mat& image, const std::string& what) const;

  /// Trains codebooks and classifier (of config.classifier's kind) on a data set; progress
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
