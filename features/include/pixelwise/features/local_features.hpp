#pragma once
// Local features of one image: descriptors, frames and pixel supports
// (docs/design.md section 1, notation l = 1..M, supp(l)).
#include "pixelwise/common/matrix.hpp"
#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pixelwise/common/option_schema.hpp"

namespace pixelwise {


/// Pixel rectangle [x0, x1) x [y0, y1), already clipped to the image.
struct PixelBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  long area() const { return static_cast<long>(width()) * height(); }
  bool contains(int x, int y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

/// Where a descriptor was computed: centre (x right, y down, in pixels; pixel
/// (i, j) has its centre at (i, j) as in VLFeat), its scale and its support.
///
/// The support is a square of side 2 * half_side centred on (x, y):
/// - angle == 0: the axis-aligned pixel box `support` (dense SIFT rounds it as
///   in compute_dense_sift);
/// - angle != 0 (keypoint SIFT with orientation): the pixels q whose offsets
///   d = q - (x, y), rotated into the keypoint's frame, u = cos(a) dx + sin(a) dy,
///   v = -sin(a) dx + cos(a) dy (VLFeat's descriptor geometry), satisfy
///   -half_side <= u < half_side and -half_side <= v < half_side; `support` is
///   then the bounding box of those pixels. See support_spans().
struct Frame {
  double x = 0, y = 0;
  int bin_size = 0;        ///< dense SIFT bin size in pixels (0 for keypoint SIFT)
  PixelBox support;        ///< clipped support box (bounding box when rotated)
  double scale = 0;        ///< dense SIFT: the bin size; keypoint SIFT: the keypoint's sigma
  double angle = 0;        ///< orientation of the support square in radians (0: axis-aligned)
  double half_side = 0;    ///< half the side of the support square before clipping
  int channel = 0;         ///< feature channel of a multi-channel pipeline
  bool rotated() const { return angle != 0.0; }
};

struct LocalFeatures {
  int image_width = 0, image_height = 0;
  RowMatrixXf descriptors;    ///< M x D, one descriptor a row
  std::vector<Frame> frames;  ///< M frames, same order
  int size() const { return static_cast<int>(frames.size()); }
};

/// One row of a support: pixels [x0, x1) of row y.
struct RowSpan {
  int y = 0, x0 = 0, x1 = 0;
};

/// The pixels of a frame's support, clipped to a width x height image, row by
/// row (a square is convex, so each row holds one span). For an axis-aligned
/// frame these are the rows of `support`; for a rotated one every pixel of the
/// bounding square is tested against the definition above.
std::vector<RowSpan> support_spans(const Frame& frame, int width, int height);

/// Bounding box of spans (empty box if there are none).
PixelBox bounding_box(const std::vector<RowSpan>& spans);

/// How relevance is spread over a support's pixels (docs/design.md 1.5, 1.9):
/// w_l(q) uniform, or Gaussian exp(-|q - centre|^2 / (2 s^2)) with
/// s = sigma * half_side, normalised to sum 1 over the clipped support
/// (sigma = 1 matches the Gaussian window of a SIFT descriptor, whose standard
/// deviation is half the descriptor width); or "gradient": the descriptor layer
/// decomposed, w_l(q) = c_lq / sum_q' c_lq' with c_lq pixel q's contribution
/// to descriptor l (sift_contributions.hpp), uniform over the support for a
/// descriptor without contributions.
enum class WeightingType { uniform, gaussian, gradient };
const EnumNames<WeightingType>& enum_names(WeightingType);

struct SupportWeighting {
  WeightingType type = WeightingType::uniform;
  double sigma = 1.0;            ///< Gaussian only, in units of the support's half side
  void validate() const;
  bool gaussian() const { return type == WeightingType::gaussian; }
  bool gradient() const { return type == WeightingType::gradient; }
  /// Keys "type" and "sigma" (the Python dict; a descriptor section spells
  /// them "weighting" and "gaussian_sigma").
  static const OptionSchema<SupportWeighting>& schema();
  /// The range of sigma, shared by both spellings.
  static constexpr double kMinimumSigma = 0.05;
};

}  // namespace pixelwise
