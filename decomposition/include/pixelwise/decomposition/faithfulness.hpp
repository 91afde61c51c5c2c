#pragma once
// Faithfulness, robustness and complexity of a heatmap (docs/design.md 5,
// docs/evaluation.md "Faithfulness, robustness and complexity"), for any model
// seen through ScoreModel (baselines.hpp) and any H x W relevance map. The
// model evaluations are batched through evaluate_images; every random draw is
// seeded (evaluate combines the seed with the image index, image_seed), and
// sample k draws from its own stream mix(seed, k), so that neither the threads
// nor the batch size change a result.
//
// Faithfulness correlation (Bhatt, Weller and Moura 2020, "Evaluating and
// aggregating feature-based model explanations", IJCAI): S random subsets of
// a fixed share of the N pixels; for each, the summed relevance
// a_S = sum_{q in S} R_q and the score drop d_S = f(x) - f(x_S), where x_S is
// x with the pixels of S (every channel) taken from the replacement image of
// metrics.hpp (uniform noise, a constant or the blurred image: the same
// replacement as region perturbation). The metric is the Pearson correlation
// of (a_S) and (d_S): 1 when the relevance of every subset predicts its drop
// linearly, ~0 for a map unrelated to the model. Undefined (NaN) when either
// list is constant.
//
// Sensitivity-n (Ancona, Ceolini, Öztireli and Gross 2018, "Towards better
// understanding of gradient-based attribution methods for deep neural
// networks", ICLR): the same correlation for subsets of exactly n pixels, as a
// curve over n. Default n: 10 sizes log-spaced from 1 pixel to 80 % of the
// pixels (rounded, repeated sizes dropped), 50 subsets each.
//
// Infidelity (Yeh, Hsieh, Suggala, Inouye and Ravikumar 2019, "On the
// (in)fidelity and sensitivity of explanations", NeurIPS):
//   INFD = E_I[(beta I^T R - (f(x) - f(x - I)))^2],
// I i.i.d. Gaussian noise per pixel (added to every channel of the pixel, and
// taken as applied, x - float(x - I), averaged over the channels; not
// clipped, so x - I may leave [0, 1]: clipping would change the perturbation
// that I^T R is compared with), estimated over `samples` draws. As in Yeh et
// al.'s code the map is rescaled by the optimal
//   beta = E[I^T R  Delta f] / E[(I^T R)^2],
// so that the scale of a heatmap does not decide the result (beta = 0 for a
// map with E[(I^T R)^2] = 0). With that beta,
//   relative infidelity = INFD / E[Delta f^2] = 1 - E[I^T R Delta f]^2 / (E[(I^T R)^2] E[Delta f^2])
// lies in [0, 1] and is comparable across images (0: I^T R predicts every
// drop up to the scale; 1: no better than predicting 0). NaN when every drop is 0.
//
// Max-sensitivity (Yeh et al. 2019): max over K inputs x + delta, delta
// i.i.d. uniform in [-r, r] per value (every channel), x + delta clipped to
// [0, 1], the range of the images models read (a network's z^B rule refuses
// inputs outside its bounds; the ratio needs no exact delta), of
//   ||Phi(x + delta) - Phi(x)||_F / ||Phi(x)||_F
// for an explanation function Phi (re-explaining with the same method, class
// and seed). Undefined (NaN) when Phi(x) = 0. A map that does not depend on
// the input (the `random` baseline, seeded by image) scores 0: robustness
// alone says nothing about faithfulness.
//
// Sparseness (Chalasani, Chen, Chowdhury, Wu and Jha 2020, "Concise
// explanations of neural networks using adversarial training", ICML): the
// Gini index of |R| sorted ascending, a_(1) <= ... <= a_(N):
//   G = sum_k (2k - N - 1) a_(k) / (N sum_k a_(k)),
// 0 for a uniform map, 1 - 1/N for a map with one non-zero pixel (higher:
// sparser). Complexity (Bhatt et al. 2020): the entropy (natural logarithm)
// of p_q = |R_q| / sum |R|, 0 for one non-zero pixel, log N for a uniform map
// (lower: simpler). Both are undefined (NaN) for an all-zero map (there is no
// distribution of relevance to measure), which summarise() counts apart.
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <vector>

#include "pixelwise/decomposition/baselines.hpp"
#include "pixelwise/decomposition/metrics.hpp"

namespace pixelwise {

/// The replacement of the perturbation metrics (metrics.hpp): one setting for
/// region perturbation, faithfulness correlation and sensitivity-n.
struct ReplacementOptions {
  Replacement replacement = Replacement::uniform;
  double constant = 0.0;    ///< constant replacement's grey level
  double blur_sigma = 3.0;  ///< blur replacement's Gaussian sigma in pixels
  void validate() const;
};

struct FaithfulnessCorrelationOptions {
  int subsets = 100;         ///< S random subsets
  double fraction = 0.1;     ///< share of the pixels in each subset (at least 1 pixel), in (0, 1]
  ReplacementOptions replacement;
  std::uint64_t seed = 1;    ///< replacement noise and subsets
  BatchOptions batching;
  void validate() const;
};

struct SubsetCorrelation {
  double correlation = 0;            ///< Pearson correlation of attributions and drops (NaN: undefined)
  long subset_size = 0;              ///< n pixels per subset
  std::vector<double> attributions;  ///< sum_{q in S} R_q, per subset
  std::vector<double> drops;         ///< f(x) - f(x_S), per subset
  double score = 0;                  ///< f(x)
  long evaluations = 0;              ///< subsets + 1
};

/// Faithfulness correlation of `relevance` (H x W, the image's size) for class c.
SubsetCorrelation faithfulness_correlation(const ScoreModel& model, const cv::Mat& image, const RowMatrixXd& relevance,
                                           int c, const FaithfulnessCorrelationOptions& options);

struct SensitivityNOptions {
  std::vector<long> sizes;     ///< n values; empty: `points` sizes log-spaced from 1 to max_fraction N
  int points = 10;
  double max_fraction = 0.8;   ///< the largest automatic n, as a share of the pixels, in (0, 1]
  int subsets = 50;            ///< subsets per n
  ReplacementOptions replacement;
  std::uint64_t seed = 1;
  BatchOptions batching;
  void validate() const;
  /// The n values for an image of `pixels` pixels (ascending, distinct, in [1, pixels]).
  std::vector<long> sizes_for(long pixels) const;
};

struct SensitivityNCurve {
  std::vector<long> sizes;            ///< n
  std::vector<double> correlations;   ///< Pearson correlation per n (NaN: undefined)
  double score = 0;                   ///< f(x)
  long evaluations = 0;               ///< sizes x subsets + 1
};

SensitivityNCurve sensitivity_n(const ScoreModel& model, const cv::Mat& image, const RowMatrixXd& relevance, int c,
                                const SensitivityNOptions& options);

struct InfidelityOptions {
  int samples = 100;        ///< perturbations I drawn
  double sigma = 0.1;       ///< standard deviation of I in grey levels (images are in [0, 1])
  std::uint64_t seed = 1;
  BatchOptions batching;
  void validate() const;
};

struct Infidelity {
  double infidelity = 0;           ///< E[(beta I^T R - Delta f)^2]
  double beta = 0;                 ///< the optimal scale E[I^T R Delta f] / E[(I^T R)^2]
  double relative_infidelity = 0;  ///< infidelity / E[Delta f^2], in [0, 1] (NaN when every drop is 0)
  std::vector<double> attributions;  ///< I^T R per sample
  std::vector<double> drops;         ///< f(x) - f(x - I) per sample
  double score = 0;
  long evaluations = 0;              ///< samples + 1
};

Infidelity infidelity(const ScoreModel& model, const cv::Mat& image, const RowMatrixXd& relevance, int c,
                      const InfidelityOptions& options);

struct MaxSensitivityOptions {
  int samples = 10;        ///< K noisy inputs (K re-explanations)
  double radius = 0.02;    ///< r: delta uniform in [-r, r] per value, in grey levels (x + delta clipped to [0, 1])
  std::uint64_t seed = 1;
  void validate() const;
};

struct MaxSensitivity {
  double max_sensitivity = 0;           ///< max_k ||Phi(x + delta_k) - Phi(x)||_F / ||Phi(x)||_F (NaN when Phi(x) = 0)
  std::vector<double> sensitivities;    ///< the K ratios
  long explanations = 0;                ///< K
};

using ExplainFunction = std::function<RowMatrixXd(const cv::Mat& image)>;

/// Max-sensitivity of the explanation function `explain` at `image`, whose map
/// there is `relevance`. `explain` is called K times, one after the other.
MaxSensitivity max_sensitivity(const ExplainFunction& explain, const cv::Mat& image, const RowMatrixXd& relevance,
                               const MaxSensitivityOptions& options);

/// Gini index of |R| (NaN for an all-zero map); throws on NaN or infinite values.
double sparseness(const RowMatrixXd& relevance);
/// Entropy of |R| / sum |R| in nats (NaN for an all-zero map); throws on NaN or infinite values.
double complexity(const RowMatrixXd& relevance);

/// Pearson correlation of two lists of equal length (NaN if either is shorter
/// than 2 or constant: its standard deviation at most 1e-12 of its largest |value|,
/// i.e. a spread of rounding only).
double pearson_correlation(const std::vector<double>& a, const std::vector<double>& b);

/// The pixel indices (row-major) of random subset k of `size` of `pixels`
/// pixels, from stream mix(seed, k): what faithfulness correlation and
/// sensitivity-n perturb (exposed for tests and references).
std::vector<long> random_subset(long pixels, long size, std::uint64_t seed, long k);

/// The Gaussian perturbation I (H x W, standard deviation sigma) of infidelity
/// sample k, from stream mix(seed, k).
RowMatrixXd infidelity_perturbation(int rows, int cols, double sigma, std::uint64_t seed, long k);

}  // namespace pixelwise
