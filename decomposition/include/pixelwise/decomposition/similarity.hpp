#pragma once
// How similar are two heatmaps of one image? The measures of the sanity checks
// of Adebayo, Gilmer, Muelly, Goodfellow, Hardt and Kim, "Sanity checks for
// saliency maps", NeurIPS 2018, section 3 (model and data randomisation;
// docs/design.md 5, docs/evaluation.md "Sanity checks"). An explanation that
// passes the checks changes when the model it explains is randomised; one whose
// maps stay similar does not depend on what the model learnt.
//
// For two maps a, b of N pixels each:
//   spearman      Spearman rank correlation of a and b: the Pearson correlation
//                 of their ranks, tied values getting the average of their ranks;
//                 undefined (NaN) when a map is constant. Chance level 0.
//   spearman_abs  the same of |a| and |b| (the sign of relevance ignored, as
//                 Adebayo et al. do for maps whose sign is not meaningful). Chance 0.
//   ssim          structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004) of
//                 a / max|a| and b / max|b| (an all-zero map stays zero, nothing is
//                 divided by zero), both in [-1, 1]: a Gaussian window of sigma 1.5
//                 truncated at 3.5 sigma (radius 5, an 11 x 11 window; at the
//                 border the part inside the image, renormalised to sum 1), data
//                 range L = 2, C1 = (0.01 L)^2, C2 = (0.03 L)^2,
//                   SSIM(p) = (2 mu_a mu_b + C1)(2 s_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(s_a^2 + s_b^2 + C2))
//                 with the weighted means, variances and covariance of the window
//                 around pixel p, and ssim the mean over all pixels. 1 for equal
//                 maps (two all-zero maps too). Chance level about 0: the
//                 covariance of independent maps is 0 on average, which makes
//                 the second factor small (not exactly 0: C2 > 0).
//   top_k_intersection
//                 the share of the k pixels of largest |a| that are also among the
//                 k pixels of largest |b|. Pixels tied at the k-th value are taken
//                 in proportion (w_q = the share of the tied pixels still needed,
//                 so that sum_q w_q = k), and the measure is sum_q wa_q wb_q / k:
//                 the expected share when ties are broken at random, so that a flat
//                 map scores the chance level. Chance level k / N.
#include <limits>
#include <nlohmann/json_fwd.hpp>

#include "pixelwise/common/matrix.hpp"

namespace pixelwise {

/// Average ranks (1-based; tied values share the mean of their ranks) of the values.
Eigen::VectorXd average_ranks(const Eigen::VectorXd& values);

/// Spearman rank correlation of two maps of the same size (above); NaN when
/// either is constant. Throws std::invalid_argument when the sizes differ or
/// the maps are empty.
double spearman_correlation(const RowMatrixXd& a, const RowMatrixXd& b);

/// SSIM of two maps each divided by its max |R| (above; every constant in the
/// header comment). Throws std::invalid_argument when the sizes differ or the
/// maps are empty.
double heatmap_ssim(const RowMatrixXd& a, const RowMatrixXd& b);

/// The expected share of the k pixels of largest |a| among the k of largest
/// |b| (above). 1 <= k <= N, else std::invalid_argument.
double top_k_intersection(const RowMatrixXd& a, const RowMatrixXd& b, long k);

/// The top-k size for a map of `pixels` pixels from a fraction in (0, 1]:
/// round(fraction * pixels), at least 1. Throws std::invalid_argument naming
/// the fraction when it is outside (0, 1].
long top_k_pixels(double fraction, long pixels);
/// The default fraction: the top 10 % of the pixels.
constexpr double kDefaultTopK = 0.1;

struct HeatmapSimilarity {
  double spearman = std::numeric_limits<double>::quiet_NaN();
  double spearman_abs = std::numeric_limits<double>::quiet_NaN();
  double ssim = 0;
  double top_k_intersection = 0;
  long top_k = 0;  ///< k, in pixels
};

/// All four measures; `top_k` is the fraction of the pixels (top_k_pixels).
HeatmapSimilarity heatmap_similarity(const RowMatrixXd& a, const RowMatrixXd& b, double top_k = kDefaultTopK);
/// {"spearman", "spearman_abs", "ssim", "top_k_intersection", "top_k"}; an
/// undefined Spearman correlation is null.
void to_json(nlohmann::json& j, const HeatmapSimilarity& s);

/// The chance levels of the measures for maps of `pixels` pixels (above):
/// {"spearman": 0, "spearman_abs": 0, "ssim": 0, "top_k_intersection": k / N}.
nlohmann::json similarity_chance(long pixels, double top_k = kDefaultTopK);

}  // namespace pixelwise
