#pragma once
// Dense SIFT on a grey image with VLFeat's vl_dsift, at one or several bin sizes
// (docs/design.md 1; issue: dense SIFT with supports). Each descriptor keeps its
// frame and its support square: 4 x bin size, centred on the frame, clipped.
#include <opencv2/core.hpp>
#include <vector>

#include "pixelwise/features/local_features.hpp"

namespace pixelwise {

struct DenseSiftOptions {
  int step = 2;                      ///< sampling step in pixels
  std::vector<int> bin_sizes{4};     ///< one scale per bin size
  /// Per-scale Gaussian smoothing as VLFeat's PHOW: sigma = bin_size / magnif
  /// (minus the 0.5 px of the sampling); 0 disables smoothing.
  double smoothing_magnif = 6.0;
  bool fast = true;                  ///< flat window instead of Gaussian (vl_dsift "fast")

  void validate() const;
  /// Its keys in a "dsift" descriptor section.
  static const OptionSchema<DenseSiftOptions>& schema();
  /// Smallest image side for which every scale yields at least one descriptor.
  int minimum_image_side() const;
};

/// The image vl_dsift describes at one bin size: the contiguous float image
/// `gray` smoothed with PHOW's sigma (a copy of it when there is no smoothing),
/// row-major.
std::vector<float> dense_sift_input(const cv::Mat& gray, const DenseSiftOptions& options, int bin_size);

/// VLFeat's Gaussian window of a dense SIFT descriptor, in bin sizes (the
/// vl_dsift default, which compute_dense_sift keeps).
constexpr double kDenseSiftWindowSize = 2.0;

/// Computes dense SIFT; scales are aligned as in PHOW so that all bin sizes
/// share descriptor centres. `what` names the image in error messages.
/// Throws std::runtime_error when the image is smaller than one support.
LocalFeatures compute_dense_sift(const cv::Mat& gray, const DenseSiftOptions& options,
                                 const std::string& what = "image");

}  // namespace pixelwise
