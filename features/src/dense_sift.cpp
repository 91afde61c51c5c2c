#include "pixelwise/features/dense_sift.hpp"

#include "pixelwise/common/errors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

extern "C" {
#include <vl/dsift.h>
#include <vl/imopv.h>
}

namespace pixelwise {
namespace {

// RAII owner of a VLFeat dense SIFT filter.
struct DsiftDeleter {
  void operator()(VlDsiftFilter* f) const { vl_dsift_delete(f); }
};
using DsiftFilter = std::unique_ptr<VlDsiftFilter, DsiftDeleter>;

constexpr int kSpatialBins = 4;  // SIFT: 4 x 4 spatial bins of 8 orientations

int max_bin_size(const DenseSiftOptions& o) { return *std::max_element(o.bin_sizes.begin(), o.bin_sizes.end()); }

// PHOW aligns the scales: the smaller bins start later so that every scale
// has the same frame centres (vl_phow: off = floor(1 + 3/2 (max(sizes) - size)), 1-based).
int alignment_offset(const DenseSiftOptions& o, int bin_size) {
  return static_cast<int>(std::floor(1.5 * (max_bin_size(o) - bin_size)));
}

}  // namespace

const OptionSchema<DenseSiftOptions>& DenseSiftOptions::schema() {
  using F = Fields<DenseSiftOptions>;
  static const OptionSchema<DenseSiftOptions> s(
      {F::integer("step", [](auto& o) -> auto& { return o.step; }, 1, std::numeric_limits<int>::max()),
       F::integers("bin_sizes", [](auto& o) -> auto& { return o.bin_sizes; }, 1, 256),
       F::real("smoothing_magnif", [](auto& o) -> auto& { return o.smoothing_magnif; }, {0}),
       F::flag("fast", [](auto& o) -> auto& { return o.fast; })});
  return s;
}

void DenseSiftOptions::validate() const { schema().check(*this, "dense SIFT"); }

int DenseSiftOptions::minimum_image_side() const {
  int side = 0;
  for (int b : bin_sizes) side = std::max(side, alignment_offset(*this, b) + b * (kSpatialBins - 1) + 1);
  return side;
}

std::vector<float> dense_sift_input(const cv::Mat& gray, const DenseSiftOptions& options, int bin_size) {
  const cv::Mat contiguous = gray.isContinuous() ? gray : gray.clone();
  const float* pixels = contiguous.ptr<float>();
  std::vector<float> out(pixels, pixels + contiguous.total());
  if (options.smoothing_magnif > 0) {
    const double sigma = std::sqrt(std::max(0.0, std::pow(bin_size / options.smoothing_magnif, 2) - 0.25));
    if (sigma > 0) vl_imsmooth_f(out.data(), contiguous.cols, pixels, contiguous.cols, contiguous.rows, contiguous.cols,
                                 sigma, sigma);
  }
  return out;
}

LocalFeatures compute_dense_sift(const cv::Mat& gray, const DenseSiftOptions& options, const std::string& what) {
  options.validate();
  if (gray.empty() || gray.type() != CV_32FC1)
    throw std::invalid_argument(what + ": dense SIFT needs a non-empty single-channel float image");
  const int width = gray.cols, height = gray.rows;
  const int min_side = options.minimum_image_side();
  if (width < min_side || height < min_side)
    throw InputError(what + ": image of " + std::to_string(width) + " x " + std::to_string(height) +
                             " pixels is smaller than one descriptor support (needs at least " +
                             std::to_string(min_side) + " x " + std::to_string(min_side) + " for bin sizes up to " +
                             std::to_string(max_bin_size(options)) + ")");
  LocalFeatures out;
  out.image_width = width;
  out.image_height = height;
  std::vector<float> descriptors;
  int dimension = 0;
  for (int bin_size : options.bin_sizes) {
    const std::vector<float> smoothed = dense_sift_input(gray, options, bin_size);
    const std::string building = "dense SIFT (bin size " + std::to_string(bin_size) + ") of a " +
                                 std::to_string(width) + " x " + std::to_string(height) + " image";
    DsiftFilter filter(allocated(vl_dsift_new_basic(width, height, options.step, bin_size), building));
    const int offset = alignment_offset(options, bin_size);
    vl_dsift_set_bounds(filter.get(), offset, offset, width - 1, height - 1);
    vl_dsift_set_flat_window(filter.get(), options.fast);
    vl_dsift_set_window_size(filter.get(), kDenseSiftWindowSize);
    // vl_dsift_process allocates its buffers (keypoints, descriptors, eight
    // gradient planes and two convolution planes) without checking them and
    // writes into them: the same amount is reserved here first, so that memory
    // running out is a std::bad_alloc named with the image, not a crash
    // (docs/errors.md, "Limits").
    const size_t plane = static_cast<size_t>(width) * height * sizeof(float);
    const size_t frames = static_cast<size_t>(vl_dsift_get_keypoint_num(filter.get()));
    reserve_or_throw(frames * (sizeof(VlDsiftKeypoint) + sizeof(float) * vl_dsift_get_descriptor_size(filter.get())) +
                         10 * plane,
                     building);
    vl_dsift_process(filter.get(), smoothed.data());
    const int count = vl_dsift_get_keypoint_num(filter.get());
    dimension = vl_dsift_get_descriptor_size(filter.get());
    const VlDsiftKeypoint* keypoints = vl_dsift_get_keypoints(filter.get());
    const float* values = vl_dsift_get_descriptors(filter.get());
    descriptors.insert(descriptors.end(), values, values + static_cast<size_t>(count) * dimension);
    for (int k = 0; k < count; ++k) {
      Frame f;
      f.x = keypoints[k].x;
      f.y = keypoints[k].y;
      f.bin_size = bin_size;
      f.scale = bin_size;
      // Support: the 4 x 4 bins around the centre, 4 * bin_size on a side
      // (Bach et al. 2015, section on BoW features); rounded to whole pixels.
      const int side = kSpatialBins * bin_size;
      f.half_side = side / 2.0;
      const int x0 = static_cast<int>(std::floor(f.x - side / 2.0 + 0.5));
      const int y0 = static_cast<int>(std::floor(f.y - side / 2.0 + 0.5));
      f.support = {std::max(0, x0), std::max(0, y0), std::min(width, x0 + side), std::min(height, y0 + side)};
      out.frames.push_back(f);
    }
  }
  const int total = static_cast<int>(out.frames.size());
  out.descriptors = Eigen::Map<RowMatrixXf>(descriptors.data(), total, dimension);
  return out;
}

}  // namespace pixelwise
