#pragma once
// The descriptor layer decomposed (docs/design.md 1.9): how much each pixel
// contributed to each SIFT descriptor before its normalisation.
//
// A SIFT descriptor is a sum of non-negative pixel contributions,
//   d_lj = sum_q m_q w_o(theta_q; orientation bin of j) w_s(q; spatial bin of j),
// m_q and theta_q the gradient magnitude and angle of the smoothed image (the
// octave image for keypoint SIFT), w_o the linear split between the two nearest
// of 8 orientations and w_s the spatial weight (bilinear binning times the
// Gaussian window, or its per-bin mean for dense SIFT's flat window), exactly as
// VLFeat computes them. The orientation weights of a pixel add up to 1, so the
// contribution of pixel q to descriptor l, summed over the dimensions, is
//   c_lq = sum_j c_ljq = m_q sum_{spatial bins b} w_s(q; b).
// The normalisation (and the 0.2 clamp) rescales the descriptor afterwards; it
// does not change which pixels built it.
#include <Eigen/Core>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "pixelwise/common/matrix.hpp"
#include "pixelwise/features/descriptors.hpp"

namespace pixelwise {

/// The record of the descriptor layer of one image: per descriptor l, the
/// totals Z_l = sum_q c_lq, and the means to add sum_l a_l c_lq over the image
/// for any coefficients a_l (the z+ rule through the layer with a_l = R_l / Z_l).
///
/// Dense SIFT (grey, colour planes concatenated or one plane): per bin size, the
/// gradient-magnitude map (summed over the planes, which share the spatial
/// weights) and the separable spatial kernel of a descriptor; descriptors of one
/// bin size lie on a grid, so the sum over l is two separable passes, O(grid x
/// kernel length + rows x columns) per bin size with the flat window (whose
/// piecewise linear kernel is two running sums of 6 spikes), O(grid x kernel
/// length + rows x columns x kernel length / step) with the Gaussian one,
/// instead of O(descriptors x support area).
///
/// Keypoint SIFT is not decomposed yet: its descriptors are refused.
class SiftContributions {
 public:
  /// For `features` = compute_descriptors(image, options, ...) of the same
  /// image and options (frames in the order compute_descriptors gives them).
  SiftContributions(const cv::Mat& image, const DescriptorOptions& options, const LocalFeatures& features,
                    const std::string& what);

  int size() const { return static_cast<int>(totals_.size()); }
  int width() const { return width_; }
  int height() const { return height_; }
  /// Z_l = sum_q c_lq (0: the descriptor's patch has no gradient).
  const Eigen::VectorXd& totals() const { return totals_; }
  /// map(q) += sum_l a_l c_lq for the row-major height x width map.
  void accumulate(const Eigen::VectorXd& a, RowMatrixXd& map) const;

 private:
  // Dense SIFT, one bin size: descriptors on the grid xs x ys of their first
  // bin centres (frame centre minus 1.5 bin sizes); kernel[u] is the spatial
  // weight of offset u - reach from a first bin centre, in x and in y.
  struct DenseScale {
    std::vector<int> xs, ys;
    std::vector<double> kernel;
    int reach = 0;
    std::vector<std::pair<int, double>> knots;  // flat window: the kernel's second difference (offset, weight)
    RowMatrixXd magnitude;          // H x W, summed over planes
    std::vector<int> descriptor;    // ys.size() x xs.size(): index l, or -1
  };
  int width_ = 0, height_ = 0;
  Eigen::VectorXd totals_;
  std::vector<DenseScale> dense_;
};

}  // namespace pixelwise
