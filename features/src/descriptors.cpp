#include "pixelwise/features/descriptors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/features/image.hpp"
#include "keypoint_sift.hpp"

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

// Keypoints from the DoG detector, described on every plane at the same
// keypoint and orientation (walk_keypoint_sift).
LocalFeatures keypoint_sift(const detail::KeypointImages& images, const KeypointSiftOptions& o) {
  const int width = images.grey.cols, height = images.grey.rows;
  const int planes_count = static_cast<int>(images.planes.size());
  const int dimension = kSiftDimension * planes_count;
  LocalFeatures out;
  out.image_width = width;
  out.image_height = height;
  std::vector<float> values;
  std::vector<float> descriptor(dimension);
  detail::walk_keypoint_sift(
      images, o, [](const std::vector<VlSiftFilt*>&) {},
      [&](const VlSiftKeypoint& key, double angle, const std::vector<VlSiftFilt*>& describers) {
        // VLFeat leaves the buffer untouched for a keypoint it does not
        // describe (vlfeat_describes): such a descriptor is zero.
        std::fill(descriptor.begin(), descriptor.end(), 0.0F);
        for (int i = 0; i < planes_count; ++i)
          vl_sift_calc_keypoint_descriptor(describers[i], descriptor.data() + kSiftDimension * i, &key, angle);
        values.insert(values.end(), descriptor.begin(), descriptor.end());
        Frame f;
        f.x = key.x;
        f.y = key.y;
        f.scale = key.sigma;
        f.angle = angle;
        // VLFeat: 4 x 4 bins of magnif * sigma pixels around the keypoint.
        f.half_side = 2.0 * o.magnif * key.sigma;
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
      });
  out.descriptors = Eigen::Map<RowMatrixXf>(values.data(), out.size(), dimension);
  return out;
}

}  // namespace

namespace detail {

KeypointImages keypoint_images(const cv::Mat& image, const DescriptorOptions& options, const std::string& what) {
  std::vector<cv::Mat> planes = colour_planes(image, options.colour, what);
  if (options.plane >= 0) planes = {planes[options.plane]};
  KeypointImages out;
  out.describe_on_grey = options.colour == ColourSpace::grey;
  out.grey = contiguous(out.describe_on_grey ? planes.front() : colour_planes(image, ColourSpace::grey, what).front());
  if (out.describe_on_grey) out.planes = {out.grey};
  else
    for (const cv::Mat& p : planes) out.planes.push_back(contiguous(p));
  return out;
}

// vl_sift describes a keypoint only while its octave is the current one, so
// all filters step through the octaves together.
void walk_keypoint_sift(const KeypointImages& images, const KeypointSiftOptions& o,
                        const std::function<void(const std::vector<VlSiftFilt*>&)>& octave,
                        const std::function<void(const VlSiftKeypoint&, double, const std::vector<VlSiftFilt*>&)>& keypoint) {
  SiftFilter detector = new_filter(images.grey, o);
  std::vector<SiftFilter> owned;
  std::vector<VlSiftFilt*> describers;
  if (images.describe_on_grey) {
    describers = {detector.get()};
  } else {
    for (const cv::Mat& p : images.planes) {
      owned.push_back(new_filter(p, o));
      describers.push_back(owned.back().get());
    }
  }
  int status = vl_sift_process_first_octave(detector.get(), images.grey.ptr<float>());
  for (size_t i = 0; i < owned.size(); ++i) vl_sift_process_first_octave(owned[i].get(), images.planes[i].ptr<float>());
  while (status != VL_ERR_EOF) {
    vl_sift_detect(detector.get());
    octave(describers);
    const VlSiftKeypoint* keys = vl_sift_get_keypoints(detector.get());
    const int count = vl_sift_get_nkeypoints(detector.get());
    for (int k = 0; k < count; ++k) {
      double angles[4] = {0, 0, 0, 0};
      const int n = o.orientation ? vl_sift_calc_keypoint_orientations(detector.get(), angles, &keys[k]) : 1;
      for (int a = 0; a < n; ++a) keypoint(keys[k], angles[a], describers);
    }
    status = vl_sift_process_next_octave(detector.get());
    for (auto& d : owned) vl_sift_process_next_octave(d.get());
  }
}

bool vlfeat_describes(const VlSiftFilt& f, const VlSiftKeypoint& k) {
  const double xper = std::pow(2.0, f.o_cur);
  const int xi = static_cast<int>(k.x / xper + 0.5), yi = static_cast<int>(k.y / xper + 0.5);
  return k.o == f.o_cur && xi >= 0 && xi < f.octave_width && yi >= 0 && yi < f.octave_height - 1 &&
         k.is >= f.s_min + 1 && k.is <= f.s_max - 2;
}

}  // namespace detail

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
  if (options.type == DescriptorType::sift) return keypoint_sift(detail::keypoint_images(image, options, what), options.keypoint);
  std::vector<cv::Mat> planes = colour_planes(image, options.colour, what);
  if (options.plane >= 0) planes = {planes[options.plane]};
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
