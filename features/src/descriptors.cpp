#include "pixelwise/features/descriptors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "pixelwise/common/errors.hpp"
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
  const std::string building = "SIFT keypoints of a " + std::to_string(image.cols) + " x " +
                               std::to_string(image.rows) + " image";
  reserve_or_throw(sizeof(VlSiftFilt), building);  // vl_sift_new writes into its vl_malloc'd filter unchecked
  SiftFilter f(allocated(vl_sift_new(image.cols, image.rows, o.octaves, o.levels, o.first_octave), building));
  // ... and leaves its scale-space buffers null when they cannot be had, for
  // vl_sift_process_first_octave to write into.
  if (!f->temp || !f->octave || !f->dog || !f->grad) throw AllocationError(building);
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

const OptionSchema<KeypointSiftOptions>& KeypointSiftOptions::schema() {
  using F = Fields<KeypointSiftOptions>;
  static const OptionSchema<KeypointSiftOptions> s(
      {F::integer("first_octave", [](auto& o) -> auto& { return o.first_octave; }, -1, 4),
       F::integer("octaves", [](auto& o) -> auto& { return o.octaves; }, -1, std::numeric_limits<int>::max()),
       F::integer("levels", [](auto& o) -> auto& { return o.levels; }, 1, 10),
       F::real("peak_threshold", [](auto& o) -> auto& { return o.peak_threshold; }, {0}),
       F::real("edge_threshold", [](auto& o) -> auto& { return o.edge_threshold; }, {1}),
       F::real("magnif", [](auto& o) -> auto& { return o.magnif; }, {0, true}),
       F::flag("orientation", [](auto& o) -> auto& { return o.orientation; })});
  return s;
}

void KeypointSiftOptions::validate() const {
  schema().check(*this, "keypoint SIFT");
  if (octaves == 0) throw std::invalid_argument("keypoint SIFT: octaves must be -1 (all) or >= 1");
}

const EnumNames<DescriptorType>& enum_names(DescriptorType) {
  static const EnumNames<DescriptorType> names{{DescriptorType::dsift, "dsift"}, {DescriptorType::sift, "sift"}};
  return names;
}

const EnumNames<PlaneMode>& enum_names(PlaneMode) {
  static const EnumNames<PlaneMode> names{{PlaneMode::concatenate, "concatenate"}, {PlaneMode::separate, "separate"}};
  return names;
}

const OptionSchema<DescriptorOptions>& DescriptorOptions::schema() {
  static const OptionSchema<DescriptorOptions> s = [] {
    using F = Fields<DescriptorOptions>;
    std::vector<OptionField<DescriptorOptions>> fields{
        F::choice("type", [](auto& o) -> auto& { return o.type; }),
        F::choice("colour", [](auto& o) -> auto& { return o.colour; }),
        F::choice("planes", [](auto& o) -> auto& { return o.planes; }),
        // Plane indices beyond the colour space's planes are refused by validate().
        F::integer("plane", [](auto& o) -> auto& { return o.plane; }, -1, 2)};
    fields.back().omitted = [](const DescriptorOptions& o) { return o.plane < 0; };
    for (auto& f : lift<DescriptorOptions>(DenseSiftOptions::schema().fields(), [](auto& o) -> auto& { return o.dense; },
                                           {}, {name_of(DescriptorType::dsift)}))
      fields.push_back(std::move(f));
    for (auto& f : lift<DescriptorOptions>(KeypointSiftOptions::schema().fields(),
                                           [](auto& o) -> auto& { return o.keypoint; }, {}, {name_of(DescriptorType::sift)}))
      fields.push_back(std::move(f));
    for (auto& f : lift<DescriptorOptions>(SupportWeighting::schema().fields(),
                                           [](auto& o) -> auto& { return o.weighting; },
                                           {{"type", "weighting"}, {"sigma", "gaussian_sigma"}}))
      fields.push_back(std::move(f));
    return OptionSchema<DescriptorOptions>(std::move(fields), "type");
  }();
  return s;
}

void DescriptorOptions::validate() const {
  schema().check(*this, "descriptor");
  if (plane >= static_cast<int>(plane_names(colour).size()))
    throw std::invalid_argument("descriptor: plane " + std::to_string(plane) + " does not exist in colour space " +
                                name_of(colour));
  if (type == DescriptorType::sift) keypoint.validate();  // octaves 0, which the range [-1, max] lets through
  if (weighting.gradient() && type != DescriptorType::dsift)
    throw std::invalid_argument("descriptor: weighting \"gradient\" decomposes dense SIFT (type \"dsift\") only; "
                                "keypoint SIFT takes weighting uniform or gaussian");
}

int DescriptorOptions::planes_used() const {
  return plane >= 0 ? 1 : static_cast<int>(plane_names(colour).size());
}

void to_json(nlohmann::json& j, const DescriptorOptions& o) { j = DescriptorOptions::schema().write(o); }

void from_json(const nlohmann::json& j, DescriptorOptions& o) {
  o = DescriptorOptions::schema().read(j, "descriptor");
  o.validate();
}

LocalFeatures compute_descriptors(const cv::Mat& image, const DescriptorOptions& options, const std::string& what) {
  options.validate();
  if (image.empty() || image.depth() != CV_32F || (image.channels() != 1 && image.channels() != 3))
    throw std::invalid_argument(what + ": descriptors need a non-empty float image with 1 or 3 channels");
  std::vector<cv::Mat> planes = colour_planes(image, options.colour, what);
  if (options.plane >= 0) planes = {planes[options.plane]};
  if (options.type == DescriptorType::sift) {
    const bool grey_only = options.colour == ColourSpace::grey;
    const cv::Mat grey = grey_only ? planes.front() : colour_planes(image, ColourSpace::grey, what).front();
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
