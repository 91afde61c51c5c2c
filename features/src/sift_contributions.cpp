#include "pixelwise/features/sift_contributions.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "pixelwise/features/image.hpp"

extern "C" {
#include <vl/mathop.h>
}

namespace pixelwise {
namespace {

constexpr int kSpatialBins = 4;  // 4 x 4 spatial bins, as vl_dsift_new_basic

// VLFeat's mean of the Gaussian window over spatial bin `bin` (dsift.c,
// _vl_dsift_get_bin_window_mean), in the same float arithmetic: the flat
// window multiplies each bin by it.
float bin_window_mean(int bin_size, int bin, double window_size) {
  const float delta = static_cast<float>(bin_size) * (static_cast<float>(bin) - 0.5F * (kSpatialBins - 1));
  const float sigma = static_cast<float>(bin_size) * static_cast<float>(window_size);
  float acc = 0.0F;
  for (int x = -bin_size + 1; x <= bin_size - 1; ++x) {
    const float z = (static_cast<float>(x) - delta) / sigma;
    acc += std::exp(-0.5F * z * z);
  }
  return acc / static_cast<float>(2 * bin_size - 1);
}

// The spatial weight of a pixel at offset u - reach from a descriptor's first
// bin centre (along x or y; the 2-D weight is the product), summed over the 4
// bins of that axis (docs/design.md 1.9):
//   flat window:     sum_b mean_b * b * max(b - |u - b_i b|, 0) / b^2
//                    (vl_imconvcoltri's unit-integral triangle of size b, times
//                    the bin size and the window mean, as vl_dsift);
//   Gaussian window: sum_b (1 - |u - b_i b| / b) exp(-(u - 1.5 b)^2 / (2 (2 b)^2))
//                    (vl_dsift's per-bin kernel, centred on the descriptor).
std::vector<double> dense_kernel(int b, bool flat, int& reach) {
  reach = b - 1;
  std::vector<double> kernel(static_cast<size_t>((kSpatialBins - 1) * b + 2 * reach + 1), 0.0);
  for (int bin = 0; bin < kSpatialBins; ++bin) {
    const float mean = bin_window_mean(b, bin, kDenseSiftWindowSize);
    const float sigma = static_cast<float>(b) * static_cast<float>(kDenseSiftWindowSize);
    const float delta = static_cast<float>(b) * (static_cast<float>(bin) - 0.5F * (kSpatialBins - 1));
    for (int t = -b + 1; t <= b - 1; ++t) {
      double w;
      if (flat) {
        const float scale = static_cast<float>(1.0 / (static_cast<double>(b) * b));
        w = static_cast<double>(mean * static_cast<float>(b)) * static_cast<double>(scale) * (b - std::abs(t));
      } else {
        // vl_imconvcol convolves: pixel p = c - t of bin centre c takes ker(t), whose window
        // term (t - delta) / sigma = (descriptor centre - p) / sigma.
        const float z = (static_cast<float>(t) - delta) / sigma;
        w = static_cast<double>((1.0F - std::fabs(static_cast<float>(t)) / static_cast<float>(b)) *
                                std::exp(-0.5F * z * z));
      }
      kernel[static_cast<size_t>(bin * b - t + reach)] += w;
    }
  }
  return kernel;
}

// Gradient magnitude of the smoothed image as vl_dsift_process computes it:
// central differences inside, one-sided on the border, vl_fast_sqrt_f. Its
// split over the two nearest orientations adds up to it, so the orientation
// does not enter c_lq (docs/design.md 1.9).
void add_magnitude(const std::vector<float>& im, int width, int height, RowMatrixXd& m) {
  auto at = [&](int x, int y) { return im[static_cast<size_t>(y) * width + x]; };
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      float gx, gy;
      if (y == 0) gy = at(x, y + 1) - at(x, y);
      else if (y == height - 1) gy = at(x, y) - at(x, y - 1);
      else gy = 0.5F * (at(x, y + 1) - at(x, y - 1));
      if (x == 0) gx = at(x + 1, y) - at(x, y);
      else if (x == width - 1) gx = at(x, y) - at(x - 1, y);
      else gx = 0.5F * (at(x + 1, y) - at(x - 1, y));
      m(y, x) += static_cast<double>(vl_fast_sqrt_f(gx * gx + gy * gy));
    }
}

int clamp_index(int i, int n) { return std::min(std::max(i, 0), n - 1); }

// The flat-window kernel is piecewise linear with knots at multiples of b:
// K(u) = sum_i c_i (b - |u - i b|)_+, c_i = mean_i b / b^2. Its second
// difference is 6 spikes, so K = S(S(h)) with S the running sum and
// h = sum_i c_i (delta_{(i-1) b + 1} - 2 delta_{i b + 1} + delta_{(i+1) b + 1})
// (a triangle (b - |t|)_+ is S(S(delta_{-b+1} - 2 delta_1 + delta_{b+1}))).
// Returns (offset from the first bin centre, weight) of the spikes.
std::vector<std::pair<int, double>> flat_knots(int b) {
  std::vector<double> c;
  for (int bin = 0; bin < kSpatialBins; ++bin)
    c.push_back(static_cast<double>(bin_window_mean(b, bin, kDenseSiftWindowSize) * static_cast<float>(b)) *
                static_cast<double>(static_cast<float>(1.0 / (static_cast<double>(b) * b))));
  std::vector<std::pair<int, double>> knots;
  for (int j = -1; j <= kSpatialBins; ++j) {
    double w = 0;
    if (j + 1 < kSpatialBins) w += c[j + 1];
    if (j >= 0 && j < kSpatialBins) w -= 2 * c[j];
    if (j - 1 >= 0) w += c[j - 1];
    knots.emplace_back(j * b + 1, w);
  }
  return knots;
}

}  // namespace

SiftContributions::SiftContributions(const cv::Mat& image, const DescriptorOptions& options,
                                     const LocalFeatures& features, const std::string& what) {
  options.validate();
  if (options.type != DescriptorType::dsift)
    throw std::invalid_argument(what + ": gradient weighting decomposes dense SIFT descriptors only (descriptor type \"" +
                                name_of(options.type) + "\"); use weighting uniform or gaussian");
  width_ = image.cols;
  height_ = image.rows;
  if (features.image_width != width_ || features.image_height != height_)
    throw std::invalid_argument(what + ": the descriptors were computed on an image of another size");
  std::vector<cv::Mat> planes = colour_planes(image, options.colour, what);
  if (options.plane >= 0) planes = {planes[options.plane]};
  totals_ = Eigen::VectorXd::Zero(features.size());

  const std::vector<int>& sizes = options.dense.bin_sizes;
  for (int b : sizes) {
    DenseScale s;
    s.kernel = dense_kernel(b, options.dense.fast, s.reach);
    if (options.dense.fast) s.knots = flat_knots(b);
    std::vector<int> members;
    for (int l = 0; l < features.size(); ++l)
      if (features.frames[l].bin_size == b) members.push_back(l);
    for (int l : members) {
      const Frame& f = features.frames[l];
      s.xs.push_back(static_cast<int>(std::lround(f.x - 1.5 * b)));
      s.ys.push_back(static_cast<int>(std::lround(f.y - 1.5 * b)));
    }
    std::vector<int> fx = s.xs, fy = s.ys;
    for (auto* v : {&s.xs, &s.ys}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    const long nx = static_cast<long>(s.xs.size()), ny = static_cast<long>(s.ys.size());
    s.descriptor.assign(static_cast<size_t>(nx * ny), -1);
    for (size_t i = 0; i < members.size(); ++i) {
      const long ix = std::lower_bound(s.xs.begin(), s.xs.end(), fx[i]) - s.xs.begin();
      const long iy = std::lower_bound(s.ys.begin(), s.ys.end(), fy[i]) - s.ys.begin();
      int& slot = s.descriptor[static_cast<size_t>(iy * nx + ix)];
      if (slot >= 0) throw std::invalid_argument(what + ": two dense SIFT descriptors share a frame");
      slot = members[i];
    }
    s.magnitude = RowMatrixXd::Zero(height_, width_);
    for (const cv::Mat& plane : planes) add_magnitude(dense_sift_input(plane, options.dense, b), width_, height_, s.magnitude);

    // Z_l = sum_y k(y - fy) sum_x k(x - fx) m(x, y), pixels outside the image
    // standing for the border pixel (VLFeat pads by continuity): along x for
    // every row and grid column, then along y at the grid rows.
    const int len = static_cast<int>(s.kernel.size());
    RowMatrixXd along_x = RowMatrixXd::Zero(height_, nx);
    for (int y = 0; y < height_; ++y)
      for (long ix = 0; ix < nx; ++ix) {
        double acc = 0;
        for (int u = 0; u < len; ++u) acc += s.kernel[u] * s.magnitude(y, clamp_index(s.xs[ix] + u - s.reach, width_));
        along_x(y, ix) = acc;
      }
    for (long iy = 0; iy < ny; ++iy)
      for (long ix = 0; ix < nx; ++ix) {
        const int l = s.descriptor[static_cast<size_t>(iy * nx + ix)];
        if (l < 0) continue;
        double acc = 0;
        for (int u = 0; u < len; ++u) acc += s.kernel[u] * along_x(clamp_index(s.ys[iy] + u - s.reach, height_), ix);
        totals_[l] = acc;
      }
    dense_.push_back(std::move(s));
  }
  for (const Frame& f : features.frames)
    if (std::find(sizes.begin(), sizes.end(), f.bin_size) == sizes.end())
      throw std::invalid_argument(what + ": a descriptor of bin size " + std::to_string(f.bin_size) +
                                  " that the dense SIFT options do not have");
}

void SiftContributions::accumulate(const Eigen::VectorXd& a, RowMatrixXd& map) const {
  if (a.size() != totals_.size())
    throw std::invalid_argument("descriptor contributions: " + std::to_string(a.size()) + " coefficients for " +
                                std::to_string(totals_.size()) + " descriptors");
  if (map.rows() != height_ || map.cols() != width_)
    throw std::invalid_argument("descriptor contributions: the map is not the image's size");
  for (const DenseScale& s : dense_) {
    // sum_l a_l k(x - fx_l) k(y - fy_l), separably: the coefficients of each
    // grid row spread along x, then the rows spread along y; times m(q).
    const long nx = static_cast<long>(s.xs.size()), ny = static_cast<long>(s.ys.size());
    const int len = static_cast<int>(s.kernel.size());
    RowMatrixXd rows = RowMatrixXd::Zero(ny, width_);
    bool any = false;
    for (long iy = 0; iy < ny; ++iy)
      for (long ix = 0; ix < nx; ++ix) {
        const int l = s.descriptor[static_cast<size_t>(iy * nx + ix)];
        if (l < 0 || a[l] == 0.0) continue;
        any = true;
        const int x0 = s.xs[ix] - s.reach;
        if (x0 >= 0 && x0 + len <= width_)  // inside: one vectorised axpy
          rows.row(iy).segment(x0, len) += a[l] * Eigen::Map<const Eigen::RowVectorXd>(s.kernel.data(), len);
        else
          for (int u = 0; u < len; ++u) rows(iy, clamp_index(x0 + u, width_)) += a[l] * s.kernel[u];
      }
    if (!any) continue;
    if (!s.knots.empty()) {
      // Flat window: along y by the spikes of the kernel's second difference
      // and two running sums, streamed over the rows [lo, hi) the kernels
      // reach; a row beyond the image adds to the border row.
      const int lo = s.ys.front() - s.reach, hi = s.ys.back() + static_cast<int>(s.kernel.size()) - s.reach;
      std::vector<std::vector<std::pair<long, double>>> spikes(static_cast<size_t>(hi - lo));
      for (long iy = 0; iy < ny; ++iy)
        for (const auto& [offset, w] : s.knots) {
          const int at = s.ys[iy] + offset - lo;
          if (at < hi - lo) spikes[static_cast<size_t>(at)].emplace_back(iy, w);
        }
      Eigen::RowVectorXd first = Eigen::RowVectorXd::Zero(width_), second = Eigen::RowVectorXd::Zero(width_);
      for (int r = lo; r < hi; ++r) {
        for (const auto& [iy, w] : spikes[static_cast<size_t>(r - lo)]) first += w * rows.row(iy);
        second += first;
        const int y = clamp_index(r, height_);
        map.row(y) += second.cwiseProduct(s.magnitude.row(y));
      }
      continue;
    }
    // Gaussian window: along y, one output row at a time (the grid rows reaching it and their
    // weights, border rows collecting the samples beyond them), so that no
    // image-sized temporary is made.
    std::vector<std::vector<std::pair<long, double>>> reaching(static_cast<size_t>(height_));
    for (long iy = 0; iy < ny; ++iy)
      for (int u = 0; u < len; ++u) {
        auto& list = reaching[static_cast<size_t>(clamp_index(s.ys[iy] + u - s.reach, height_))];
        if (!list.empty() && list.back().first == iy) list.back().second += s.kernel[u];
        else list.emplace_back(iy, s.kernel[u]);
      }
    Eigen::RowVectorXd row(width_);
    for (int y = 0; y < height_; ++y) {
      const auto& list = reaching[static_cast<size_t>(y)];
      if (list.empty()) continue;
      row = list.front().second * rows.row(list.front().first);
      for (size_t k = 1; k < list.size(); ++k) row += list[k].second * rows.row(list[k].first);
      map.row(y) += row.cwiseProduct(s.magnitude.row(y));
    }
  }
}

}  // namespace pixelwise
