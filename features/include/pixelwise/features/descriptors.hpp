#pragma once
// Local descriptors of any kind, selected by one options record (the
// "descriptor" section of a pipeline configuration): dense multi-scale SIFT
// (VLFeat vl_dsift, PHOW smoothing) or keypoint SIFT (VLFeat's difference-of-
// Gaussians detector vl_sift), on the grey image or on the planes of a colour
// space, with the weighting of their pixel supports (docs/design.md 1, 1.5).
#include <nlohmann/json_fwd.hpp>
#include <opencv2/core.hpp>
#include <string>

#include "pixelwise/features/dense_sift.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/features/local_features.hpp"

namespace pixelwise {

/// vl_sift parameters (VLFeat's names and defaults unless said otherwise).
struct KeypointSiftOptions {
  int first_octave = 0;          ///< o_min; -1 doubles the image first
  int octaves = -1;              ///< -1: as many as the image allows
  int levels = 3;                ///< scales per octave
  double peak_threshold = 0.0;   ///< on DoG values of the [0, 1] image
  double edge_threshold = 10.0;
  double magnif = 3.0;           ///< bin size = magnif * sigma; support side = 4 * magnif * sigma
  bool orientation = true;       ///< false: upright descriptors (angle 0, axis-aligned supports)
  void validate() const;
  /// Its keys in a "sift" descriptor section.
  static const OptionSchema<KeypointSiftOptions>& schema();
};

/// "dsift" (dense) or "sift" (keypoints).
enum class DescriptorType { dsift, sift };
const EnumNames<DescriptorType>& enum_names(DescriptorType);

/// Colour planes: "concatenate" = one descriptor of 128 x planes values per
/// location; "separate" = each plane its own feature channel (expanded by the
/// pipeline configuration into channels that set `plane`).
enum class PlaneMode { concatenate, separate };
const EnumNames<PlaneMode>& enum_names(PlaneMode);

struct DescriptorOptions {
  DescriptorType type = DescriptorType::dsift;
  ColourSpace colour = ColourSpace::grey;  ///< see colour_planes
  PlaneMode planes = PlaneMode::concatenate;
  int plane = -1;                      ///< >= 0: use only this plane of the colour space
  DenseSiftOptions dense;
  KeypointSiftOptions keypoint;
  SupportWeighting weighting;

  void validate() const;
  /// Number of planes whose descriptors are concatenated per location.
  int planes_used() const;
  /// Descriptor dimension: 128 per plane used.
  int dimension() const { return 128 * planes_used(); }
  /// JSON section "descriptor": the keys of every type, each applying to its
  /// own (selector "type"); weighting.type and weighting.sigma are spelt
  /// "weighting" and "gaussian_sigma".
  static const OptionSchema<DescriptorOptions>& schema();
};

void to_json(nlohmann::json& j, const DescriptorOptions& o);
void from_json(const nlohmann::json& j, DescriptorOptions& o);

/// Descriptors of one image, grey (CV_32FC1) or colour (CV_32FC3, BGR), both
/// in [0, 1]. Keypoints are detected on the grey image and described on every
/// plane at the same frame (centre, scale, orientation); dense frames are the
/// same on every plane. `what` names the image in error messages.
LocalFeatures compute_descriptors(const cv::Mat& image, const DescriptorOptions& options, const std::string& what);

}  // namespace pixelwise
