#include "pixelwise/features/descriptors.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "pixelwise/features/image.hpp"

extern "C" {
#include <vl/sift.h>
}

namespace pixelwise {
namespace {

struct SiftDeleter {
  void operator()(VlSiftFilt* f) const { vl_sift_delete(f); }
};
using SiftFilter = std::unique_ptr<VlSiftFilt, SiftDeleter>;

constexpr int kSiftDimension = 128;

cv::Mat contiguous(const cv::Mat& m) { return m.isContinuous() ? m : m.clone(); }

SiftFilter new_filter(const cv::Mat& image, const KeypointSiftOptions& o) {
  SiftFilter f(vl_sift_new(image.cols, image.rows, o.octaves, o.levels, o.first_octave));
  if (!f) throw std::bad_alloc();
  vl_sift_set_peak_thresh(f.get(), o.peak_threshold);
  vl_sift_set_edge_thresh(f.get(), o.edge_threshold);
  vl_sift_set_magnif(f.get(), o.magnif);
  return f;
}

// Keypoints from the DoG detector on `grey`, described on every plane at the
// same keypoint and orientation. vl_sift describes a keypoint only while its
// octave is the current one, so all filters step through the octaves together.
LocalFeatures keypoint_sift(const cv::Mat& grey_in, const std::vector<cv::Mat>& planes_in, bool describe_on_grey,
                            const KeypointSiftOptions& o) {
  const cv::Mat grey = contiguous(grey_in);
  std::vector<cv::Mat> planes;
  for (const cv::Mat& p : planes_in) planes.push_back(contiguous(p));
  const int width = grey.cols, height = grey.rows;
  SiftFilter detector = new_filter(grey, o);
  std::vector<SiftFilter> describers;
  if (!describe_on_grey)
    for (size_t i = 0; i < planes.size(); ++i) describers.push_back(new_filter(planes[i], o));
  const int planes_count = describe_on_grey ? 1 : static_cast<int>(planes.size());
  const int dimension = kSiftDimension * planes_count;

  LocalFeatures out;
  out.image_width = width;
  out.image_height = height;
  std::vector<float> values;
  int status = vl_sift_process_first_octave(detector.get(), grey.ptr<float>());
  for (size_t i = 0; i < describers.size(); ++i) vl_sift_process_first_octave(describers[i].get(), planes[i].ptr<float>());
  std::vector<float> descriptor(dimension);
  while (status != VL_ERR_EOF) {
    vl_sift_detect(detector.get());
    const VlSiftKeypoint* keys = vl_sift_get_keypoints(detector.get());
    const int count = vl_sift_get_nkeypoints(detector.get());
    for (int k = 0; k < count; ++k) {
      double angles[4] = {0, 0, 0, 0};
      const int n = o.orientation ? vl_sift_calc_keypoint_orientations(detector.get(), angles, &keys[k]) : 1;
      for (int a = 0; a < n; ++a) {
        if (describe_on_grey) {
          vl_sift_calc_keypoint_descriptor(detector.get(), descriptor.data(), &keys[k], angles[a]);
        } else {
          for (int i = 0; i < planes_count; ++i)
            vl_sift_calc_keypoint_descriptor(describers[i].get(), descriptor.data() + kSiftDimension * i, &keys[k],
                                             angles[a]);
        }
        values.insert(values.end(), descriptor.begin(), descriptor.end());
        Frame f;
        f.x = keys[k].x;
        f.y = keys[k].y;
        f.scale = keys[k].sigma;
        f.angle = angles[a];
        // VLFeat: 4 x 4 bins of magnif * sigma pixels around the keypoint.
        f.half_side = 2.0 * o.magnif * keys[k].sigma;
        if (!f.rotated()) {  // pixels x - h <= q < x + h, as the rotated rule with angle 0
          f.support = {static_cast<int>(std::ceil(f.x - f.half_side)), static_cast<int>(std::ceil(f.y - f.half_side)),
                       static_cast<int>(std::ceil(f.x + f.half_side)), static_cast<int>(std::ceil(f.y + f.half_side))};
          f.support = {std::max(0, f.support.x0), std::max(0, f.support.y0), std::min(width, f.support.x1),
                       std::min(height, f.support.y1)};
          if (f.support.x0 >= f.support.x1 || f.support.y0 >= f.support.y1) f.support = {};
        } else {
          f.support = bounding_box(support_spans(f, width, height));
        }
        out.frames.push_back(f);
      }
    }
    status = vl_sift_process_next_octave(detector.get());
    for (auto& d : describers) vl_sift_process_next_octave(d.get());
  }
  out.descriptors = Eigen::Map<RowMatrixXf>(values.data(), out.size(), dimension);
  return out;
}

}  // namespace

void KeypointSiftOptions::validate() const {
  if (octaves < -1 || octaves == 0) throw std::invalid_argument("keypoint SIFT: octaves must be -1 (all) or >= 1");
  if (levels < 1 || levels > 10) throw std::invalid_argument("keypoint SIFT: levels must be in [1, 10]");
  if (first_octave < -1 || first_octave > 4) throw std::invalid_argument("keypoint SIFT: first_octave must be in [-1, 4]");
  if (!(peak_threshold >= 0) || !std::isfinite(peak_threshold))
    throw std::invalid_argument("keypoint SIFT: peak_threshold must be >= 0");
  if (!(edge_threshold >= 1) || !std::isfinite(edge_threshold))
    throw std::invalid_argument("keypoint SIFT: edge_threshold must be >= 1");
  if (!(magnif > 0) || !std::isfinite(magnif)) throw std::invalid_argument("keypoint SIFT: magnif must be positive");
}

void DescriptorOptions::validate() const {
  if (type != "dsift" && type != "sift")
    throw std::invalid_argument("descriptor: unknown type \"" + type + "\" (known: dsift, sift)");
  const auto& names = plane_names(colour);
  if (planes != "concatenate" && planes != "separate")
    throw std::invalid_argument("descriptor: planes must be \"concatenate\" or \"separate\", got \"" + planes + "\"");
  if (plane < -1 || plane >= static_cast<int>(names.size()))
    throw std::invalid_argument("descriptor: plane " + std::to_string(plane) + " does not exist in colour space " + colour);
  if (type == "dsift") dense.validate();
  else keypoint.validate();
  weighting.validate();
}

int DescriptorOptions::planes_used() const {
  return plane >= 0 ? 1 : static_cast<int>(plane_names(colour).size());
}

std::set<std::string> DescriptorOptions::keys(const std::string& type) {
  std::set<std::string> k{"type", "colour", "planes", "plane", "weighting", "gaussian_sigma"};
  if (type == "sift")
    k.insert({"first_octave", "octaves", "levels", "peak_threshold", "edge_threshold", "magnif", "orientation"});
  else
    k.insert({"step", "bin_sizes", "smoothing_magnif", "fast"});
  return k;
}

void to_json(nlohmann::json& j, const DescriptorOptions& o) {
  if (o.type == "dsift") {
    j = o.dense;  // includes "type": "dsift"
  } else {
    const KeypointSiftOptions& k = o.keypoint;
    j = {{"type", o.type},          {"first_octave", k.first_octave},     {"octaves", k.octaves},
         {"levels", k.levels},      {"peak_threshold", k.peak_threshold}, {"edge_threshold", k.edge_threshold},
         {"magnif", k.magnif},      {"orientation", k.orientation}};
  }
  j["colour"] = o.colour;
  j["planes"] = o.planes;
  if (o.plane >= 0) j["plane"] = o.plane;
  j["weighting"] = o.weighting.type;
  j["gaussian_sigma"] = o.weighting.sigma;
}

void from_json(const nlohmann::json& j, DescriptorOptions& o) {
  DescriptorOptions d;
  o.type = j.value("type", d.type);
  o.colour = j.value("colour", d.colour);
  o.planes = j.value("planes", d.planes);
  o.plane = j.value("plane", d.plane);
  o.weighting.type = j.value("weighting", d.weighting.type);
  o.weighting.sigma = j.value("gaussian_sigma", d.weighting.sigma);
  if (o.type == "dsift") {
    o.dense = j.get<DenseSiftOptions>();
  } else {
    KeypointSiftOptions& k = o.keypoint;
    k.first_octave = j.value("first_octave", d.keypoint.first_octave);
    k.octaves = j.value("octaves", d.keypoint.octaves);
    k.levels = j.value("levels", d.keypoint.levels);
    k.peak_threshold = j.value("peak_threshold", d.keypoint.peak_threshold);
    k.edge_threshold = j.value("edge_threshold", d.keypoint.edge_threshold);
    k.magnif = j.value("magnif", d.keypoint.magnif);
    k.orientation = j.value("orientation", d.keypoint.orientation);
  }
  o.validate();
}

LocalFeatures compute_descriptors(const cv::Mat& image, const DescriptorOptions& options, const std::string& what) {
  options.validate();
  if (image.empty() || image.depth() != CV_32F || (image.channels() != 1 && image.channels() != 3))
    throw std::invalid_argument(what + ": descriptors need a non-empty float image with 1 or 3 channels");
  std::vector<cv::Mat> planes = colour_planes(image, options.colour, what);
  if (options.plane >= 0) planes = {planes[options.plane]};
  if (options.type == "sift") {
    const bool grey_only = options.colour == "grey";
    const cv::Mat grey = grey_only ? planes.front() : colour_planes(image, "grey", what).front();
    return keypoint_sift(grey, planes, grey_only, options.keypoint);
  }
  // Dense: every plane has the same frames; descriptors side by side.
  LocalFeatures out = compute_dense_sift(planes.front(), options.dense, what);
  if (planes.size() > 1) {
    RowMatrixXf all(out.descriptors.rows(), out.descriptors.cols() * static_cast<long>(planes.size()));
    all.leftCols(out.descriptors.cols()) = out.descriptors;
    for (size_t i = 1; i < planes.size(); ++i)
      all.middleCols(out.descriptors.cols() * static_cast<long>(i), out.descriptors.cols()) =
          compute_dense_sift(planes[i], options.dense, what).descriptors;
    out.descriptors = std::move(all);
  }
  return out;
}

}  // namespace pixelwise
