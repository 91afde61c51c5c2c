#pragma once
// The descriptor layer decomposed (docs/design.md 1.9): how much each pixel
// contributed to each SIFT descriptor before its normalisation.
//
// A SIFT descriptor is a sum of non-negative contributions of the pixels p of
// the image it is computed on (the smoothed image for dense SIFT, the octave
// image of the keypoint's level for keypoint SIFT),
//   d_lj = sum_p m_p w_o(theta_p; orientation bin of j) w_s(p; spatial bin of j),
// m_p and theta_p the gradient magnitude and angle, w_o the linear split
// between the two nearest of 8 orientations and w_s the spatial weight
// (bilinear binning times the Gaussian window, or its per-bin mean for dense
// SIFT's flat window), exactly as VLFeat computes them. The orientation
// weights of a pixel add up to 1, so summed over the dimensions
//   c_lp = sum_j c_ljp = m_p sum_{spatial bins b} w_s(p; b).
// The normalisation (and the 0.2 clamp) rescales the descriptor afterwards; it
// does not change which pixels built it.
//
// Dense SIFT describes an image of the input's size: c_lq = c_lp at p = q.
// Keypoint SIFT describes octave images, I_{o,s} = L_{o,s} x, linear in the
// input image x: resampled to octave o_min (VLFeat's copy, row and column
// doubling or subsampling), smoothed by Gaussians (separable, padded by
// continuity), and for each further octave the level s_min + S of the previous
// one taken at every second pixel and smoothed again. Every step takes convex
// combinations of its input, so L_{o,s} >= 0 and each of its rows sums to 1;
// the contribution of octave pixel p is passed to the input pixels in
// proportion to their weights in it:
//   c_lq = sum_p c_lp L_{o_l,s_l}(p, q),   sum_q c_lq = sum_p c_lp = Z_l.
// (The Gaussian kernels are VLFeat's, renormalised in double so that the rows
// sum to 1 to rounding.)
#include <Eigen/Core>
#include <opencv2/core.hpp>
#include <memory>
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
/// Keypoint SIFT: the record holds, per octave and level with gradients, the
/// gradient magnitude of the octave image (summed over the planes) and, per
/// descriptor, the non-zero spatial weights of its window, row by row. The sum
/// over l is taken on the octave images (O(M x window area), one vectorised
/// axpy per window row) and brought to the input pixels by the adjoint of the
/// scale space, L^T, one transposed smoothing per level, from the last octave
/// down (the cost of building the scale space once). Building the record runs
/// VLFeat's detector again (the frames do not say at which octave and level a
/// keypoint was found) and checks that it finds the frames.
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
  struct KeypointRecord;  // keypoint SIFT (sift_contributions.cpp)
  static std::shared_ptr<const KeypointRecord> record_keypoints(const cv::Mat& image, const DescriptorOptions& options,
                                                                const LocalFeatures& features, const std::string& what,
                                                                Eigen::VectorXd& totals);
  void accumulate_keypoints(const Eigen::VectorXd& a, RowMatrixXd& map) const;
  int width_ = 0, height_ = 0;
  Eigen::VectorXd totals_;
  std::vector<DenseScale> dense_;
  std::shared_ptr<const KeypointRecord> keypoints_;
};

}  // namespace pixelwise
