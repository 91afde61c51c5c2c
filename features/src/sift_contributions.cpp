#include "pixelwise/features/sift_contributions.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <stdexcept>

#include "keypoint_sift.hpp"
#include "pixelwise/features/image.hpp"

extern "C" {
#include <vl/mathop.h>
#include <vl/sift.h>
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


// ---- Keypoint SIFT (docs/design.md 1.9, "Keypoint SIFT") ----

constexpr int kKeypointBins = 4;  // NBP of vl_sift_calc_keypoint_descriptor

// sift.c's fast_expn: exp(-x) interpolated linearly in a table of 257 values
// over [0, 25], 0 beyond.
double fast_expn(double x) {
  static const std::array<double, 257> table = [] {
    std::array<double, 257> t{};
    for (int k = 0; k <= 256; ++k) t[static_cast<size_t>(k)] = std::exp(-static_cast<double>(k) * (25.0 / 256));
    return t;
  }();
  if (x > 25.0) return 0.0;
  x *= 256 / 25.0;
  const int i = std::min(static_cast<int>(vl_floor_d(x)), 255);
  const double r = x - i;
  return table[static_cast<size_t>(i)] + r * (table[static_cast<size_t>(i) + 1] - table[static_cast<size_t>(i)]);
}

// The Gaussian kernel of sift.c's _vl_sift_smooth (half width max(ceil(4
// sigma), 1), float values normalised in float), renormalised in double so
// that a smoothing's rows sum to 1 to rounding and relevance passes through
// it unchanged in total.
std::vector<double> smoothing_kernel(double sigma) {
  const int half = std::max(static_cast<int>(std::ceil(4.0 * sigma)), 1);
  std::vector<float> g(static_cast<size_t>(2 * half + 1));
  float acc = 0;
  for (int j = 0; j < 2 * half + 1; ++j) {
    const float d = static_cast<float>(j - half) / static_cast<float>(sigma);
    g[static_cast<size_t>(j)] = static_cast<float>(std::exp(-0.5 * (d * d)));
    acc += g[static_cast<size_t>(j)];
  }
  std::vector<double> out(g.size());
  double sum = 0;
  for (size_t j = 0; j < g.size(); ++j) sum += out[j] = static_cast<double>(g[j] / acc);
  for (double& v : out) v /= sum;
  return out;
}

// Adds to `to` the adjoint of one pass of vl_imconvcol with padding by
// continuity, along y (`along_y`) or x, applied to `from`: the forward pass
// reads in(clamp(i + k)) with weight g(k) for output i (g is symmetric), so
// output i gives g(k) of its adjoint to clamp(i + k).
// Row by row, so that the rows being added stay in cache.
void add_adjoint_pass(const RowMatrixXd& from, const std::vector<double>& g, bool along_y, RowMatrixXd& to) {
  const int half = static_cast<int>(g.size() / 2);
  if (along_y) {
    const int n = static_cast<int>(from.rows());
    for (int i = 0; i < n; ++i)
      for (int k = -half; k <= half; ++k)
        to.row(std::clamp(i + k, 0, n - 1)) += g[static_cast<size_t>(k + half)] * from.row(i);
    return;
  }
  const int n = static_cast<int>(from.cols());
  for (long y = 0; y < from.rows(); ++y) {
    auto in = from.row(y);
    auto out = to.row(y);
    for (int k = -half; k <= half; ++k) {
      const double w = g[static_cast<size_t>(k + half)];
      const int lo = std::max(0, -k), hi = std::min(n, n - k);  // outputs i with 0 <= i + k < n
      if (lo < hi) out.segment(lo + k, hi - lo) += w * in.segment(lo, hi - lo);
      const int below = std::max(0, std::min(n, -k));  // outputs i < -k read the first sample
      if (below > 0) out[0] += w * in.head(below).sum();
      const int above = std::max(0, std::min(n, k));  // outputs i >= n - k read the last
      if (above > 0) out[n - 1] += w * in.tail(above).sum();
    }
  }
}

// The adjoint of _vl_sift_smooth (along y, then along x): along x, then y.
RowMatrixXd adjoint_smooth(const RowMatrixXd& adjoint, const std::vector<double>& g) {
  RowMatrixXd along_x = RowMatrixXd::Zero(adjoint.rows(), adjoint.cols());
  add_adjoint_pass(adjoint, g, false, along_x);
  RowMatrixXd out = RowMatrixXd::Zero(adjoint.rows(), adjoint.cols());
  add_adjoint_pass(along_x, g, true, out);
  return out;
}

// The adjoint of copy_and_upsample_rows along y (n rows to 2n):
// u(2y) = s(y), u(2y + 1) = (s(y) + s(y + 1)) / 2 for y < n - 1,
// u(2n - 2) = u(2n - 1) = s(n - 1).
RowMatrixXd adjoint_double_rows(const RowMatrixXd& up) {
  const long n = up.rows() / 2;
  RowMatrixXd s = RowMatrixXd::Zero(n, up.cols());
  for (long y = 0; y + 1 < n; ++y) {
    s.row(y) += up.row(2 * y) + 0.5 * up.row(2 * y + 1);
    s.row(y + 1) += 0.5 * up.row(2 * y + 1);
  }
  if (n > 0) s.row(n - 1) += up.row(2 * n - 2) + up.row(2 * n - 1);
  return s;
}

}  // namespace

// Keypoint SIFT: VLFeat's scale space (vl_sift_process_first_octave,
// vl_sift_process_next_octave) and, per descriptor, the keypoint as
// vl_sift_calc_keypoint_descriptor reads it.
struct SiftContributions::KeypointRecord {
  struct Keypoint {
    int level = -1;            // index into magnitude; -1: VLFeat did not describe it
    double x = 0, y = 0, sigma = 0, angle = 0;  // in the octave's pixels
  };
  // The non-zero part of a window (for_each_weight), row by row: pixels
  // x0 .. x0 + count - 1 of octave row y, their weights from `first` on.
  struct WindowRow {
    int y = 0, x0 = 0, count = 0;
    size_t first = 0;
  };
  struct Window {
    std::vector<WindowRow> rows;
    std::vector<double> weights;
  };
  int o_min = 0, s_min = 0, s_best = 0, levels = 0;  // levels with gradients: s_min + 1 .. s_min + levels
  double magnif = 0, window = 0;
  std::vector<int> widths, heights;                 // per octave
  std::vector<std::vector<double>> first_smoothing;  // per octave: of its first level (empty: none)
  std::vector<std::vector<double>> level_smoothing;  // level s_min + 1 + i from the one below
  std::vector<RowMatrixXd> magnitude;                // per octave and level with gradients, summed over planes
  std::vector<Keypoint> keypoints;
  std::vector<Window> windows;  // per keypoint (empty when not described)

  int octave_of(int level) const { return level / levels; }

  // Calls visit(y, x, w_l(p)) for the octave pixels p of keypoint k's window
  // with a non-zero weight: the pixels vl_sift_calc_keypoint_descriptor
  // visits (the square of half side W round the rounded centre, inside the
  // octave image less its border), their offset rotated by the keypoint's
  // angle and measured in bins of magnif * sigma, the Gaussian window
  // (fast_expn, sigma = window bins) times the bilinear weights of the
  // spatial bins inside the 4 x 4 grid; in VLFeat's float arithmetic, the
  // product in double. The orientation weights (summing to 1) are left out.
  template <class Visit>
  void for_each_weight(const Keypoint& k, Visit&& visit) const {
    const int o = octave_of(k.level), w = widths[static_cast<size_t>(o)], h = heights[static_cast<size_t>(o)];
    const int xi = static_cast<int>(k.x + 0.5), yi = static_cast<int>(k.y + 0.5);
    const double st0 = std::sin(k.angle), ct0 = std::cos(k.angle);
    const double sbp = magnif * k.sigma + VL_EPSILON_D;
    const int W = static_cast<int>(std::floor(std::sqrt(2.0) * sbp * (kKeypointBins + 1) / 2.0 + 0.5));
    const float wsigma = static_cast<float>(window);
    auto bins = [](float n) {  // sum of the weights of the two nearest bin centres inside the grid
      const int bin = static_cast<int>(vl_floor_f(static_cast<float>(n - 0.5)));
      const float r = static_cast<float>(n - (bin + 0.5));
      double sum = 0;
      for (int d = 0; d < 2; ++d)
        if (bin + d >= -kKeypointBins / 2 && bin + d < kKeypointBins / 2)
          sum += static_cast<double>(vl_abs_f(static_cast<float>(1 - d) - r));
      return sum;
    };
    for (int dyi = std::max(-W, 1 - yi); dyi <= std::min(W, h - yi - 2); ++dyi)
      for (int dxi = std::max(-W, 1 - xi); dxi <= std::min(W, w - xi - 2); ++dxi) {
        const float dx = static_cast<float>(xi + dxi - k.x), dy = static_cast<float>(yi + dyi - k.y);
        const float nx = static_cast<float>((ct0 * dx + st0 * dy) / sbp);
        const float ny = static_cast<float>((-st0 * dx + ct0 * dy) / sbp);
        const float win = static_cast<float>(fast_expn((nx * nx + ny * ny) / (2.0 * wsigma * wsigma)));
        const double weight = static_cast<double>(win) * bins(nx) * bins(ny);
        if (weight > 0) visit(yi + dyi, xi + dxi, weight);
      }
  }
};

namespace {

// Gradient magnitude of an octave image as sift.c's update_gradient computes
// it inside the image (central differences, vl_fast_sqrt_f), added to m; the
// border, which the descriptor never reads, is left out.
void add_octave_magnitude(const float* im, int width, int height, RowMatrixXd& m) {
  for (int y = 1; y < height - 1; ++y)
    for (int x = 1; x < width - 1; ++x) {
      const float* p = im + static_cast<size_t>(y) * width + x;
      const float gx = static_cast<float>(0.5 * (p[1] - p[-1]));
      const float gy = static_cast<float>(0.5 * (p[width] - p[-width]));
      m(y, x) += static_cast<double>(vl_fast_sqrt_f(gx * gx + gy * gy));
    }
}

bool same_value(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a)); }

}  // namespace

SiftContributions::SiftContributions(const cv::Mat& image, const DescriptorOptions& options,
                                     const LocalFeatures& features, const std::string& what) {
  options.validate();
  width_ = image.cols;
  height_ = image.rows;
  if (features.image_width != width_ || features.image_height != height_)
    throw std::invalid_argument(what + ": the descriptors were computed on an image of another size");
  if (options.type == DescriptorType::sift) {
    totals_ = Eigen::VectorXd::Zero(features.size());
    keypoints_ = record_keypoints(image, options, features, what, totals_);
    return;
  }
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

std::shared_ptr<const SiftContributions::KeypointRecord> SiftContributions::record_keypoints(
    const cv::Mat& image, const DescriptorOptions& options, const LocalFeatures& features, const std::string& what,
    Eigen::VectorXd& totals) {
  auto r = std::make_shared<KeypointRecord>();
  long l = 0;
  bool same_frames = true;
  detail::walk_keypoint_sift(
      detail::keypoint_images(image, options, what), options.keypoint,
      [&](const std::vector<VlSiftFilt*>& describers) {
        const VlSiftFilt& f = *describers.front();
        if (r->widths.empty()) {
          r->o_min = f.o_min;
          r->s_min = f.s_min;
          r->levels = f.s_max - 2 - f.s_min;  // the levels update_gradient computes
          r->s_best = std::min(f.s_min + f.S, f.s_max);
          // VLFeat's s_min = -1 and s_max = S + 1 make the level passed on to
          // the next octave the last one with gradients.
          if (r->s_best != f.s_max - 2) throw std::logic_error("keypoint SIFT: a scale space VLFeat does not build");
          r->magnif = f.magnif;
          r->window = f.windowSize;
          for (int s = f.s_min + 1; s <= f.s_max - 2; ++s)
            r->level_smoothing.push_back(smoothing_kernel(f.dsigma0 * std::pow(f.sigmak, s)));
        }
        // The smoothing of the octave's first level (vl_sift_process_first_octave
        // and vl_sift_process_next_octave, with their float powf in the latter).
        double sa, sb;
        if (r->widths.empty()) {
          sa = f.sigma0 * std::pow(f.sigmak, f.s_min);
          sb = f.sigman * std::pow(2.0, -f.o_min);
        } else {
          sa = f.sigma0 * std::pow(static_cast<float>(f.sigmak), static_cast<float>(f.s_min));
          sb = f.sigma0 * std::pow(static_cast<float>(f.sigmak), static_cast<float>(r->s_best - f.S));
        }
        r->first_smoothing.push_back(sa > sb ? smoothing_kernel(std::sqrt(sa * sa - sb * sb)) : std::vector<double>{});
        const int w = f.octave_width, h = f.octave_height;
        r->widths.push_back(w);
        r->heights.push_back(h);
        for (int s = f.s_min + 1; s <= f.s_max - 2; ++s) {
          RowMatrixXd m = RowMatrixXd::Zero(h, w);
          for (const VlSiftFilt* d : describers) add_octave_magnitude(vl_sift_get_octave(d, s), w, h, m);
          r->magnitude.push_back(std::move(m));
        }
      },
      [&](const VlSiftKeypoint& key, double angle, const std::vector<VlSiftFilt*>& describers) {
        if (l < features.size()) {
          const Frame& fr = features.frames[static_cast<size_t>(l)];
          same_frames = same_frames && same_value(fr.x, key.x) && same_value(fr.y, key.y) &&
                        same_value(fr.scale, key.sigma) && same_value(fr.angle, angle);
        }
        ++l;
        KeypointRecord::Keypoint k;
        const VlSiftFilt& f = *describers.front();
        if (detail::vlfeat_describes(f, key)) {
          const double xper = std::pow(2.0, f.o_cur);
          k.level = (f.o_cur - r->o_min) * r->levels + (key.is - f.s_min - 1);
          k.x = key.x / xper;
          k.y = key.y / xper;
          k.sigma = key.sigma / xper;
          k.angle = angle;
        }
        r->keypoints.push_back(k);
      });
  if (!same_frames || l != features.size())
    throw std::invalid_argument(what + ": the descriptors' frames are not the keypoints VLFeat finds in the image with "
                                "these options (" + std::to_string(features.size()) + " frames, " + std::to_string(l) +
                                " keypoints)");
  // The windows' weights, kept (one double per window pixel with a non-zero
  // weight) so that each explanation only multiplies and adds; Z_l from the
  // same values.
  r->windows.resize(r->keypoints.size());
  for (size_t i = 0; i < r->keypoints.size(); ++i) {
    const KeypointRecord::Keypoint& k = r->keypoints[i];
    if (k.level < 0) continue;
    KeypointRecord::Window& window = r->windows[i];
    r->for_each_weight(k, [&](int y, int x, double w) {
      if (window.rows.empty() || window.rows.back().y != y)
        window.rows.push_back({y, x, 0, window.weights.size()});
      KeypointRecord::WindowRow& row = window.rows.back();
      for (; row.x0 + row.count < x; ++row.count) window.weights.push_back(0.0);  // a zero inside the span
      window.weights.push_back(w);
      ++row.count;
    });
    const RowMatrixXd& m = r->magnitude[static_cast<size_t>(k.level)];
    double z = 0;
    for (const KeypointRecord::WindowRow& row : window.rows)
      z += m.row(row.y).segment(row.x0, row.count).dot(
          Eigen::Map<const Eigen::RowVectorXd>(window.weights.data() + row.first, row.count));
    totals[static_cast<long>(i)] = z;
  }
  return r;
}

// docs/design.md 1.9: sum_l a_l c_lp on every octave level, then L^T.
void SiftContributions::accumulate_keypoints(const Eigen::VectorXd& a, RowMatrixXd& map) const {
  const KeypointRecord& r = *keypoints_;
  const int octaves = static_cast<int>(r.widths.size());
  std::vector<std::vector<size_t>> in_octave(static_cast<size_t>(octaves));
  for (size_t l = 0; l < r.keypoints.size(); ++l)
    if (r.keypoints[l].level >= 0 && a[static_cast<long>(l)] != 0.0)
      in_octave[static_cast<size_t>(r.octave_of(r.keypoints[l].level))].push_back(l);
  RowMatrixXd carry;  // the adjoint of the next octave's first level before smoothing (empty: zero)
  for (int o = octaves - 1; o >= 0; --o) {
    const int w = r.widths[static_cast<size_t>(o)], h = r.heights[static_cast<size_t>(o)];
    std::vector<RowMatrixXd> level(static_cast<size_t>(r.levels));  // adjoint of level s_min + 1 + i (empty: zero)
    auto at = [&](int i) -> RowMatrixXd& {
      RowMatrixXd& m = level[static_cast<size_t>(i)];
      if (m.size() == 0) m = RowMatrixXd::Zero(h, w);
      return m;
    };
    for (size_t l : in_octave[static_cast<size_t>(o)]) {
      const KeypointRecord::Keypoint& k = r.keypoints[l];
      RowMatrixXd& m = at(k.level - o * r.levels);
      const KeypointRecord::Window& window = r.windows[l];
      for (const KeypointRecord::WindowRow& row : window.rows)
        m.row(row.y).segment(row.x0, row.count) +=
            a[static_cast<long>(l)] * Eigen::Map<const Eigen::RowVectorXd>(window.weights.data() + row.first, row.count);
    }
    for (int i = 0; i < r.levels; ++i)
      if (level[static_cast<size_t>(i)].size() != 0)
        level[static_cast<size_t>(i)].array() *= r.magnitude[static_cast<size_t>(o * r.levels + i)].array();
    if (carry.size() != 0) {  // the next octave started from every second pixel of level s_best
      RowMatrixXd& m = at(r.s_best - r.s_min - 1);
      for (long y = 0; y < carry.rows(); ++y)
        for (long x = 0; x < carry.cols(); ++x) m(2 * y, 2 * x) += carry(y, x);
    }
    RowMatrixXd first;  // the adjoint of level s_min
    for (int i = r.levels - 1; i >= 0; --i) {
      if (level[static_cast<size_t>(i)].size() == 0) continue;
      RowMatrixXd back = adjoint_smooth(level[static_cast<size_t>(i)], r.level_smoothing[static_cast<size_t>(i)]);
      if (i > 0) at(i - 1) += back;
      else first = std::move(back);
    }
    if (first.size() != 0 && !r.first_smoothing[static_cast<size_t>(o)].empty())
      first = adjoint_smooth(first, r.first_smoothing[static_cast<size_t>(o)]);
    carry = std::move(first);
  }
  if (carry.size() == 0) return;
  // The first octave from the image: doubled -o_min times (along x, then y,
  // so undone along y, then x), subsampled by 2^o_min, or copied.
  for (int d = r.o_min; d < 0; ++d) {
    carry = adjoint_double_rows(carry);
    carry = adjoint_double_rows(carry.transpose()).transpose();
  }
  const int step = r.o_min > 0 ? 1 << r.o_min : 1;
  for (long y = 0; y < carry.rows(); ++y)
    for (long x = 0; x < carry.cols(); ++x) map(step * y, step * x) += carry(y, x);
}

void SiftContributions::accumulate(const Eigen::VectorXd& a, RowMatrixXd& map) const {
  if (a.size() != totals_.size())
    throw std::invalid_argument("descriptor contributions: " + std::to_string(a.size()) + " coefficients for " +
                                std::to_string(totals_.size()) + " descriptors");
  if (map.rows() != height_ || map.cols() != width_)
    throw std::invalid_argument("descriptor contributions: the map is not the image's size");
  if (keypoints_) {
    accumulate_keypoints(a, map);
    return;
  }
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
