#pragma once
// Baseline explanations that LRP is compared with (docs/design.md 1.7, 5)
// and the model-agnostic view of a classifier that they and the evaluation
// metrics (metrics.hpp) work on.
//
// A model is a function from an image as the model reads it -- grey (CV_32FC1)
// or colour (CV_32FC3, BGR), values in [0, 1], H x W -- to the score f_c of a
// class c, evaluated on batches of images. Every method sees the same input,
// so that all explain the same decision (a colour model's decision on the
// colour image, not on a grey copy). The BoW + SVM
// and network adapters live in pipelines/evaluate.hpp; tests use plain
// functions (FunctionModel).
//
// Baselines here need only that view:
//   random     i.i.d. uniform relevance in [-1, 1), seeded;
//   occlusion  Zeiler & Fergus 2014: a patch (side `patch`, moved by `stride`,
//              filled with `fill`) hides part of the image; each position
//              gives the score drop f(x) - f(x with the patch), and a pixel's
//              relevance is the mean drop over the positions whose patch
//              covers it.
// Sensitivity needs the model's gradient and lives with each model kind
// (networks: decomposition/network_lrp.hpp; BoW: bow_sensitivity below and
// pipelines/evaluate.hpp).
#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "pixelwise/common/parallel.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/fisher.hpp"
#include "pixelwise/features/local_features.hpp"

namespace pixelwise {

/// A classifier seen from outside: f_c of the images it reads, one batch at a time.
class ScoreModel {
 public:
  virtual ~ScoreModel() = default;
  ScoreModel() = default;
  ScoreModel(const ScoreModel&) = delete;
  ScoreModel& operator=(const ScoreModel&) = delete;

  /// f_c of every image of the batch (all of one size and type); counts them.
  Eigen::VectorXd scores(const std::vector<cv::Mat>& batch, int c) const;
  double score(const cv::Mat& image, int c) const;
  /// Images evaluated through scores() since construction (all threads).
  long evaluations() const { return evaluations_.load(); }
  /// Whether scores() may run on several threads at once.
  virtual bool concurrent() const { return true; }

 protected:
  virtual Eigen::VectorXd evaluate(const std::vector<cv::Mat>& batch, int c) const = 0;

 private:
  mutable std::atomic<long> evaluations_{0};
};

/// A ScoreModel from a function of one image and a class (tests, toy models).
class FunctionModel : public ScoreModel {
 public:
  using Function = std::function<double(const cv::Mat& image, int c)>;
  explicit FunctionModel(Function f, bool concurrent = true) : f_(std::move(f)), concurrent_(concurrent) {}
  bool concurrent() const override { return concurrent_; }

 protected:
  Eigen::VectorXd evaluate(const std::vector<cv::Mat>& batch, int c) const override;

 private:
  Function f_;
  bool concurrent_;
};

/// How many images go to the model at once, and on how many threads.
struct BatchOptions {
  int batch = 32;    ///< images per call of ScoreModel::scores
  int threads = 0;   ///< 0: all cores; a model that is not concurrent always gets 1
  /// Called before each batch is built (on the thread that evaluates it); may
  /// throw to stop the computation (parallel.hpp).
  InterruptCheck interrupt;
  void validate() const;
};

/// f_c of the images make(0) .. make(count - 1), built batch by batch (so that
/// they need not all be in memory at once) and evaluated on the threads of
/// `options`. make() must be safe to call from several threads.
Eigen::VectorXd evaluate_images(const ScoreModel& model, long count, const std::function<cv::Mat(long)>& make, int c,
                                const BatchOptions& options = {});

/// Checks that an image is a non-empty grey (CV_32FC1) or colour (CV_32FC3)
/// float image; `what` names it.
void check_model_image(const cv::Mat& image, const std::string& what);

/// I.i.d. uniform relevance in [-1, 1) from a 64-bit Mersenne Twister seeded with `seed`.
RowMatrixXd random_relevance(int rows, int cols, std::uint64_t seed);

struct OcclusionOptions {
  int patch = 8;      ///< side of the square patch in pixels (clipped to the image)
  int stride = 4;     ///< step between patch positions
  double fill = 0.0;  ///< grey level the patch is filled with
  BatchOptions batching;
  void validate() const;
};

struct OcclusionResult {
  RowMatrixXd relevance;  ///< H x W mean score drop of the patches covering each pixel
  double score = 0;       ///< f_c(x)
  long evaluations = 0;   ///< model evaluations: patch positions + 1
  int positions = 0;      ///< patch positions
};

/// Patch origins along one axis of `length` pixels: 0, stride, 2 stride, ...
/// while the patch fits, plus length - patch if the last one leaves pixels
/// uncovered, so that every pixel is covered. A patch longer than the axis is
/// clipped to it (one origin, 0).
std::vector<int> patch_origins(int length, int patch, int stride);

OcclusionResult occlusion(const ScoreModel& model, const cv::Mat& image, int c, const OcclusionOptions& options);

/// Descriptor-level sensitivity of a BoW pipeline (our documented choice;
/// dense SIFT with hard or soft codes is piecewise constant or nearly so in
/// the pixels, so the pixel gradient says little). Scale feature l's code by a
/// weight t_l; its sensitivity is the derivative of the score with respect to
/// that weight at t = 1,
///
///   s_l = d f / d t_l = sum_{c in cells(l)} sum_d u_{c,d} d x_{c,d} / d t_l,
///
/// where u = d f / d pooled (the SVM's input gradient pulled back through the
/// normalisation, normalisation_backward) and x the pooled vector:
///   sum:    d x_{c,d} / d t_l = m_d(l)
///   pmeans: d x_{c,d} / d t_l = x_{c,d}^(1-p) m_d(l)^p / M_c
///   max:    d x_{c,d} / d t_l = m_d(l) for the maximal feature(s) of the bin
///           (ties split equally), 0 for the others (a subgradient).
/// The pixel map is then sum_l s_l^2 w_l(q) (squared, as the networks'
/// sensitivity (d f / d x_i)^2), spread over the supports like LRP's
/// descriptor relevance (bow_relevance.hpp, spread_to_pixels).
Eigen::VectorXd descriptor_sensitivity(const BowEncoding& encoding, const Eigen::VectorXd& pooled_gradient);

/// The same descriptor-level sensitivity for a Fisher-vector or VLAD
/// channel (docs/design.md 1.8 and 5): t_l scales every term z_ld of
/// feature l, so
///
///   s_l = d f / d t_l = sum_d v_d z_ld,   v = d f / d s,
///
/// where v is `encoded_gradient` (d f / d encoded) pulled back through the
/// square root and normalisations of normalise_blocks
/// (normalise_blocks_backward). The pixel map is built as for BoW.
Eigen::VectorXd descriptor_sensitivity(const TermEncoding& encoding, const Eigen::VectorXd& encoded_gradient);

/// v = J^T g for y = normalise_blocks(s) (features/fisher.hpp), block by
/// block in reverse order: y = v / max(|v|_2, 1e-12) pulls g back to
/// (g - y (y . g)) / |v|_2 (to g / 1e-12 at the floor), the signed square
/// root by 1 / (2 sqrt|s|) (0 where s = 0, as for BoW's power step).
Eigen::VectorXd normalise_blocks_backward(const TermEncoding& encoding, const Eigen::VectorXd& g);

/// u = J^T g for y = normalise(x, options) (features/bow.hpp): the gradient
/// with respect to x of a function whose gradient with respect to y is g.
/// l1: y = x / |x|_1, l2: y = x / |x|_2 (identity when the norm is 0), power:
/// y = sign(x) sqrt|x| with derivative 1 / (2 sqrt|x|) (0 where x = 0: a
/// bin that is 0 has no feature whose weight could move it).
Eigen::VectorXd normalisation_backward(const Eigen::VectorXd& x, const NormalisationOptions& options,
                                       const Eigen::VectorXd& g);

}  // namespace pixelwise
