#pragma once
// How good is a heatmap? Faithfulness and localisation metrics (see
// docs/design.md section 5), for any model seen through ScoreModel (baselines.hpp).
//
// Region perturbation (Samek, Binder, Montavon, Lapuschkin, Müller 2017,
// "Evaluating the visualization of what a deep neural network has learned"):
// the image is cut into non-overlapping square regions (a grid of side r; the
// last row and column may be narrower), ranked by their summed relevance,
// most relevant first (MoRF) or least relevant first (LeRF). Step k replaces
// the next regions_per_step regions of the ranking, cumulatively, so that
//   x^(0) = x,  x^(k) = x^(k-1) with the k-th group of regions replaced,
// and the curve is f(x^(0)), ..., f(x^(L)). Per image
//   AOPC = 1/(L+1) sum_{k=0..L} (f(x^(0)) - f(x^(k)));
// over a data set the mean of that (docs/design.md 5). Under MoRF a faithful
// heatmap makes the score fall fast (large AOPC); under LeRF it keeps it
// (small AOPC). Replacement values: uniform noise in [0, 1] (one noise image
// per image, seeded), a constant grey level, or the Gaussian-blurred image.
// Regions of equal relevance are ordered by a seeded random permutation,
// not by position. Pixel flipping is the same with 1 x 1 regions.
//
// Localisation against a ground-truth mask G (N pixels, |G| in the mask):
//   relevance mass accuracy = sum_{q in G} max(R_q, 0) / sum_q max(R_q, 0)
//     (undefined, NaN, when no pixel has positive relevance);
//   relevance rank accuracy = |top-|G| pixels by relevance, within G| / |G|;
//   pointing game            = the pixel of maximal relevance lies in G.
// Ties are split: pixels of equal relevance at the top-|G| boundary, or tied
// maxima, count in proportion to how many of them lie in G. The chance level
// of all three (a heatmap independent of the mask) is the mask fraction |G|/N.
#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/decomposition/accounting.hpp"
#include "pixelwise/decomposition/baselines.hpp"

namespace pixelwise {

using MaskArray = Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class Replacement { uniform, constant, blur };
const EnumNames<Replacement>& enum_names(Replacement);
Replacement parse_replacement(const std::string& name);
std::string replacement_name(Replacement replacement);

struct PerturbationOptions {
  /// Side of the square regions; 0: 9, scaled down for small images to the
  /// largest side <= 9 that gives at least 100 regions, whatever `steps` is
  /// (3 for 28 x 28, 7 for 64 x 64, 9 from 90 x 90 up).
  int region = 0;
  int steps = 100;               ///< L; capped at the number of region groups
  int regions_per_step = 1;      ///< 0: enough for the L steps to replace the whole image
  bool most_relevant_first = true;
  Replacement replacement = Replacement::uniform;
  double constant = 0.0;         ///< constant replacement's grey level
  double blur_sigma = 3.0;       ///< blur replacement's Gaussian sigma in pixels
  std::uint64_t seed = 1;        ///< noise image and tie order (combine with the image index per image)
  BatchOptions batching;
  void validate() const;
  /// The region side used for an image of rows x cols.
  int region_side(int rows, int cols) const;
};

struct PerturbationCurve {
  std::vector<double> scores;  ///< f(x^(0)), ..., f(x^(L))
  int region = 0;              ///< region side used
  int regions_per_step = 1;
  long evaluations = 0;        ///< L + 1
  /// 1/(L+1) sum_k (f(x^(0)) - f(x^(k))).
  double aopc() const;
};

/// The region ranking: region indices (row-major over the grid of side r)
/// ordered by summed relevance, descending for MoRF, ascending for LeRF.
std::vector<int> rank_regions(const RowMatrixXd& relevance, int region, bool most_relevant_first, std::uint64_t seed);

PerturbationCurve region_perturbation(const ScoreModel& model, const cv::Mat& image, const RowMatrixXd& relevance,
                                      int c, const PerturbationOptions& options);

/// Replacement image for `image` (uniform noise, constant or blur), seeded.
cv::Mat replacement_image(const cv::Mat& image, const PerturbationOptions& options);

struct Localisation {
  double mass_accuracy = std::numeric_limits<double>::quiet_NaN();
  double rank_accuracy = 0;
  double pointing = 0;       ///< 1 or 0 (a fraction when the maximum is tied)
  double mask_fraction = 0;  ///< chance level |G| / N
  long mask_pixels = 0;
};

/// Localisation of a heatmap against a mask of the same size; throws
/// std::invalid_argument if the sizes differ or the mask is empty.
Localisation localise(const RowMatrixXd& relevance, const MaskArray& mask);

/// Mean, spread and range of a list of numbers; NaNs are counted apart.
struct Summary {
  long count = 0;      ///< finite values
  long undefined = 0;  ///< NaN values (left out of the statistics)
  double mean = 0, std = 0, min = 0, max = 0, median = 0;
  /// Half width of the 95 % confidence interval of the mean (1.96 std / sqrt(count)).
  double ci95() const;
};
Summary summarise(const std::vector<double>& values);
void to_json(nlohmann::json& j, const Summary& s);

/// One explanation's conservation account (docs/design.md section 2).
struct ConservationRecord {
  double score = 0;
  double pixel_sum = 0;
  std::vector<LayerRelevance> layers;
};

/// Over a data set: the residual f(x) - sum_q R_q and its size relative to
/// |f(x)|, and per layer (by name) the distributions of what it absorbed,
/// could not pass on (unassigned) and lost to rounding (unaccounted).
nlohmann::json conservation_statistics(const std::vector<ConservationRecord>& records);

}  // namespace pixelwise
