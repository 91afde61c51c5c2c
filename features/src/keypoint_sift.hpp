#pragma once
// Internal to the features part: VLFeat's keypoint SIFT stepped through its
// octaves, shared by compute_descriptors (which describes every keypoint) and
// SiftContributions (which decomposes the same descriptors, docs/design.md
// 1.9), so that both see the same keypoints, orientations and octave images
// in the same order.
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "pixelwise/features/descriptors.hpp"

extern "C" {
#include <vl/sift.h>
}

namespace pixelwise::detail {

/// The images keypoint SIFT works on: keypoints are detected on `grey` and
/// described on every image of `planes` (on the detector's own scale space
/// when `describe_on_grey`, planes then being {grey}).
struct KeypointImages {
  cv::Mat grey;
  std::vector<cv::Mat> planes;
  bool describe_on_grey = true;
};
KeypointImages keypoint_images(const cv::Mat& image, const DescriptorOptions& options, const std::string& what);

/// Runs vl_sift on the images with the options' parameters. For every octave
/// (in order o_min, o_min + 1, ...), once its scale space is built and its
/// keypoints detected, calls `octave(describers)` with the filters whose
/// octave images the descriptors are computed on (one per plane, the detector
/// itself when describing grey), then `keypoint(key, angle, describers)` for
/// every keypoint and orientation (angle 0 when orientation is off), in the
/// order compute_descriptors emits their descriptors.
void walk_keypoint_sift(const KeypointImages& images, const KeypointSiftOptions& options,
                        const std::function<void(const std::vector<VlSiftFilt*>&)>& octave,
                        const std::function<void(const VlSiftKeypoint&, double, const std::vector<VlSiftFilt*>&)>& keypoint);

/// VLFeat's test in vl_sift_calc_keypoint_descriptor: a keypoint whose rounded
/// centre is not inside its octave image (the last row excluded), or whose
/// level has no gradient, is not described (its descriptor is left untouched).
bool vlfeat_describes(const VlSiftFilt& filter, const VlSiftKeypoint& key);

}  // namespace pixelwise::detail
