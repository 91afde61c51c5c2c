// The descriptor layer decomposed (docs/design.md 1.9): the pixel contributions
// of dense SIFT descriptors against VLFeat's own descriptors, the fast
// separable accumulation against the explicit per-pixel, per-dimension sums,
// a hand-computed case, conservation of gradient spreading on real images for
// every dense descriptor kind; the same for keypoint SIFT, whose contributions
// go from VLFeat's octave images to the input pixels through the scale space.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <map>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <random>

#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/features/descriptors.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/features/sift_contributions.hpp"
#include "test_support.hpp"

extern "C" {
#include <vl/dsift.h>
#include <vl/mathop.h>
#include <vl/sift.h>
}

using namespace pixelwise;

namespace {

constexpr int kBins = 4, kOrientations = 8;

// Orientation planes g_t(q) of one smoothed plane, as vl_dsift_process makes
// them: gradient by central differences (one-sided on the border), magnitude
// and angle with VLFeat's fast approximations, the magnitude split linearly
// between the two nearest of 8 orientations.
std::array<std::vector<double>, kOrientations> orientation_planes(const std::vector<float>& im, int w, int h) {
  std::array<std::vector<double>, kOrientations> g;
  for (auto& p : g) p.assign(static_cast<size_t>(w) * h, 0.0);
  auto at = [&](int x, int y) { return im[static_cast<size_t>(y) * w + x]; };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float gy = y == 0 ? at(x, 1) - at(x, 0)
                              : y == h - 1 ? at(x, y) - at(x, y - 1) : 0.5F * (at(x, y + 1) - at(x, y - 1));
      const float gx = x == 0 ? at(1, y) - at(0, y)
                              : x == w - 1 ? at(x, y) - at(x - 1, y) : 0.5F * (at(x + 1, y) - at(x - 1, y));
      const float angle = vl_fast_atan2_f(gy, gx);
      const double mod = vl_fast_sqrt_f(gx * gx + gy * gy);
      const float nt = vl_mod_2pi_f(angle) * static_cast<float>(kOrientations / (2 * VL_PI));
      const int t = static_cast<int>(std::floor(nt));
      const double r = nt - static_cast<float>(t);
      g[t % kOrientations][static_cast<size_t>(y) * w + x] += (1 - r) * mod;
      g[(t + 1) % kOrientations][static_cast<size_t>(y) * w + x] += r * mod;
    }
  return g;
}

// The weight of every pixel p of an axis of length n in spatial bin i of a
// descriptor whose first bin centre is f (bin centre c = f + i b), from the
// definitions in VLFeat's dsift.c: the samples c + u, |u| < b, of the bin's
// triangle, a sample outside the image standing for the border pixel (padding
// by continuity). Flat window: VLFeat's unit-integral triangle (b - |u|) / b^2
// times b times the mean of the Gaussian window over the bin. Gaussian window:
// (1 - |u| / b) times the window exp(-(p - centre)^2 / (2 (2 b)^2)) at the
// sample's own position.
std::vector<double> axis_weights(int n, int f, int i, int b, bool flat) {
  std::vector<double> w(static_cast<size_t>(n), 0.0);
  const double sigma = 2.0 * b, centre = f + 1.5 * b;
  float mean = 0;  // VLFeat's float arithmetic
  for (int u = -b + 1; u <= b - 1; ++u) {
    const float z = (static_cast<float>(u) - static_cast<float>(b) * (static_cast<float>(i) - 1.5F)) /
                    (static_cast<float>(b) * 2.0F);
    mean += std::exp(-0.5F * z * z);
  }
  mean /= static_cast<float>(2 * b - 1);
  for (int u = -b + 1; u <= b - 1; ++u) {
    const int c = f + i * b, p = std::min(std::max(c + u, 0), n - 1);
    if (flat) {
      w[p] += static_cast<double>(mean * static_cast<float>(b)) *
              static_cast<double>(static_cast<float>(1.0 / (static_cast<double>(b) * b))) * (b - std::abs(u));
    } else {
      const float z = static_cast<float>((c + u - centre) / sigma);
      w[p] += static_cast<double>((1.0F - std::fabs(static_cast<float>(u)) / static_cast<float>(b)) *
                                  std::exp(-0.5F * z * z));
    }
  }
  return w;
}

// The slow reference: c_ljq of every descriptor, dimension and pixel, summed
// over the planes of the descriptor (a concatenated colour descriptor has its
// planes' dimensions one after another).
struct Reference {
  RowMatrixXd unnormalised;  // M x D: d_lj = sum_q c_ljq
  Eigen::VectorXd totals;    // Z_l = sum_j sum_q c_ljq
  RowMatrixXd per_pixel;     // M x (H W): c_lq = sum_j c_ljq
};

Reference reference(const cv::Mat& image, const DescriptorOptions& o, const LocalFeatures& f) {
  std::vector<cv::Mat> planes = colour_planes(image, o.colour, "test");
  if (o.plane >= 0) planes = {planes[o.plane]};
  const int w = image.cols, h = image.rows, M = f.size();
  Reference r;
  r.unnormalised = RowMatrixXd::Zero(M, 128L * static_cast<long>(planes.size()));
  r.per_pixel = RowMatrixXd::Zero(M, static_cast<long>(w) * h);
  for (size_t p = 0; p < planes.size(); ++p)
    for (int b : o.dense.bin_sizes) {
      const auto g = orientation_planes(dense_sift_input(planes[p], o.dense, b), w, h);
      for (int l = 0; l < M; ++l) {
        const Frame& fr = f.frames[l];
        if (fr.bin_size != b) continue;
        const int fx = static_cast<int>(std::lround(fr.x - 1.5 * b)), fy = static_cast<int>(std::lround(fr.y - 1.5 * b));
        for (int by = 0; by < kBins; ++by) {
          const std::vector<double> wy = axis_weights(h, fy, by, b, o.dense.fast);
          for (int bx = 0; bx < kBins; ++bx) {
            const std::vector<double> wx = axis_weights(w, fx, bx, b, o.dense.fast);
            for (int t = 0; t < kOrientations; ++t) {
              const long j = 128L * static_cast<long>(p) + t + kOrientations * bx + kOrientations * kBins * by;
              for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                  const double c = g[t][static_cast<size_t>(y) * w + x] * wx[x] * wy[y];
                  r.unnormalised(l, j) += c;
                  r.per_pixel(l, static_cast<long>(y) * w + x) += c;
                }
            }
          }
        }
      }
    }
  r.totals = r.per_pixel.rowwise().sum();
  return r;
}

// VLFeat's normalisation of a descriptor (L2, clamp at 0.2, L2), per plane.
Eigen::RowVectorXd normalised(const Eigen::RowVectorXd& d) {
  Eigen::RowVectorXd out = d;
  for (long start = 0; start < d.size(); start += 128) {
    auto block = out.segment(start, 128);
    block /= block.norm() + FLT_EPSILON;
    block = block.cwiseMin(0.2);
    block /= block.norm() + FLT_EPSILON;
  }
  return out;
}

const cv::Mat& photo() {
  static const cv::Mat p = [] {
    const cv::Mat colour = to_colour_float(read_image_file("/usr/share/doc/opencv-doc/examples/data/fruits.jpg"), "fruits");
    cv::Mat small;
    cv::resize(colour, small, cv::Size(48, 40), 0, 0, cv::INTER_AREA);
    return small;
  }();
  return p;
}

const cv::Mat& fashion() {
  static const cv::Mat g = test::cached_dataset("fashion-mnist:test:1").images[0].gray;
  return g;
}

DescriptorOptions dense(const std::string& colour, std::vector<int> bins, int step, bool fast, int plane = -1) {
  DescriptorOptions o;
  o.colour = parse_enum<ColourSpace>(colour, "colour");
  o.dense.bin_sizes = std::move(bins);
  o.dense.step = step;
  o.dense.fast = fast;
  o.plane = plane;
  o.weighting.type = WeightingType::gradient;
  return o;
}

// Gradient spreading of random descriptor relevance on `image`: the map sums
// to sum R, nothing is unassigned, and the fallback is exactly the relevance
// of the descriptors without gradient. Returns whether any fell back.
bool gradient_spreading_conserves(const cv::Mat& image, const DescriptorOptions& o, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  const LocalFeatures f = compute_descriptors(image, o, "test");
  BOOST_REQUIRE(f.size() > 0);
  const SiftContributions c(image, o, f, "test");
  Eigen::VectorXd R(f.size());
  for (long l = 0; l < R.size(); ++l) R[l] = normal(rng);
  const Relevance r = spread_to_pixels(f.frames, R, image.cols, image.rows, o.weighting, &c);
  BOOST_TEST_MESSAGE(image.cols << " x " << image.rows << ", " << name_of(o.colour) << ": " << f.size()
                                << " descriptors, relevance off by " << r.relevance.sum() - R.sum());
  BOOST_TEST(std::abs(r.relevance.sum() - R.sum()) <= 1e-9 * R.cwiseAbs().sum());
  BOOST_TEST(r.account.unassigned == 0.0);
  double flat = 0;
  for (long l = 0; l < R.size(); ++l)
    if (c.totals()[l] == 0) flat += R[l];
  BOOST_TEST(r.account.fallback == flat);
  return flat != 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(contributions_sum_per_dimension_to_vlfeats_descriptor) {
  // VLFeat returns the descriptor normalised only. So the explicit sums
  // d_lj = sum_q c_ljq are checked twice: normalised as VLFeat does, they equal
  // its descriptor dimension by dimension; and their total equals the mass
  // VLFeat reports per frame (VlDsiftKeypoint::norm, the sum of the
  // unnormalised descriptor over frameSize^2, frameSize = 3 b + 1), which fixes
  // the scale. Both to float precision.
  for (bool fast : {true, false})
    for (const cv::Mat* image : {&fashion(), &photo()}) {
      const DescriptorOptions o = dense("grey", {3, 5}, 3, fast);
      const cv::Mat grey = colour_planes(*image, ColourSpace::grey, "test").front();
      const LocalFeatures f = compute_descriptors(grey, o, "test");
      const Reference r = reference(grey, o, f);
      double worst = 0;
      for (int l = 0; l < f.size(); ++l)
        worst = std::max(worst, (normalised(r.unnormalised.row(l)) - f.descriptors.row(l).cast<double>()).cwiseAbs().maxCoeff());
      BOOST_TEST(worst <= 1e-5, "fast " << fast << ": largest difference " << worst);
      int first = 0;
      for (int b : o.dense.bin_sizes) {
        const std::vector<float> input = dense_sift_input(grey, o.dense, b);
        VlDsiftFilter* filter = vl_dsift_new_basic(grey.cols, grey.rows, o.dense.step, b);
        const int offset = static_cast<int>(std::floor(1.5 * (5 - b)));
        vl_dsift_set_bounds(filter, offset, offset, grey.cols - 1, grey.rows - 1);
        vl_dsift_set_flat_window(filter, fast);
        vl_dsift_set_window_size(filter, kDenseSiftWindowSize);
        vl_dsift_process(filter, input.data());
        const int count = vl_dsift_get_keypoint_num(filter);
        const double frame = 3.0 * b + 1, constant = frame * frame;
        double relative = 0;
        for (int k = 0; k < count; ++k) {
          const double mass = vl_dsift_get_keypoints(filter)[k].norm * constant;
          relative = std::max(relative, std::abs(mass - r.totals[first + k]) / std::max(mass, 1e-3));
        }
        vl_dsift_delete(filter);
        BOOST_TEST(relative <= 1e-5, "bin size " << b << ", fast " << fast << ": " << relative);
        first += count;
      }
      BOOST_TEST(first == f.size());
    }
}

BOOST_AUTO_TEST_CASE(fast_accumulation_equals_the_explicit_per_pixel_sums) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  struct Case {
    const cv::Mat* image;
    DescriptorOptions options;
  };
  const std::vector<Case> cases{{&fashion(), dense("grey", {3, 4}, 2, true)},
                                {&fashion(), dense("grey", {4}, 3, false)},
                                {&photo(), dense("opponent", {3, 5}, 4, true)},
                                {&photo(), dense("rgb", {4}, 3, true, 1)},
                                {&photo(), dense("hsv", {3}, 5, false)}};
  for (const Case& c : cases) {
    const LocalFeatures f = compute_descriptors(*c.image, c.options, "test");
    const SiftContributions fast(*c.image, c.options, f, "test");
    const Reference r = reference(*c.image, c.options, f);
    BOOST_REQUIRE_EQUAL(fast.size(), f.size());
    BOOST_TEST((fast.totals() - r.totals).cwiseAbs().maxCoeff() <= 1e-12 * r.totals.cwiseAbs().maxCoeff());
    Eigen::VectorXd a(f.size());
    for (long l = 0; l < a.size(); ++l) a[l] = normal(rng);
    RowMatrixXd map = RowMatrixXd::Zero(c.image->rows, c.image->cols);
    fast.accumulate(a, map);
    const Eigen::VectorXd slow = r.per_pixel.transpose() * a;
    const Eigen::VectorXd got = Eigen::Map<const Eigen::VectorXd>(map.data(), map.size());
    BOOST_TEST((got - slow).cwiseAbs().maxCoeff() <= 1e-12 * slow.cwiseAbs().maxCoeff(),
               name_of(c.options.colour) << ": " << (got - slow).cwiseAbs().maxCoeff());
  }
}

BOOST_AUTO_TEST_CASE(a_bright_pixel_gives_its_four_gradient_neighbours_equal_shares) {
  // 7 x 7 image, bin size 2, no smoothing: one descriptor centred on (3, 3).
  // A single bright pixel at the centre has gradient magnitude 1/2 at its four
  // neighbours (central differences) and 0 elsewhere; the spatial weights are
  // symmetric about the centre, so each neighbour receives R / 4.
  DescriptorOptions o = dense("grey", {2}, 10, true);
  o.dense.smoothing_magnif = 0;
  cv::Mat image = cv::Mat::zeros(7, 7, CV_32F);
  image.at<float>(3, 3) = 1.0F;
  const LocalFeatures f = compute_descriptors(image, o, "bright pixel");
  BOOST_REQUIRE_EQUAL(f.size(), 1);
  BOOST_TEST(f.frames[0].x == 3.0);
  const SiftContributions c(image, o, f, "bright pixel");
  const Relevance r = spread_to_pixels(f.frames, Eigen::VectorXd::Constant(1, 2.0), 7, 7, o.weighting, &c);
  const RowMatrixXd map = pixel_map(r.relevance, 7, 7);
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 7; ++x) {
      const bool neighbour = std::abs(x - 3) + std::abs(y - 3) == 1;
      BOOST_TEST(std::abs(map(y, x) - (neighbour ? 0.5 : 0.0)) <= 1e-15, x << "," << y);
    }
  BOOST_TEST(r.account.fallback == 0.0);

  // A flat image: no contribution at all, so the descriptor falls back to its
  // support (8 x 8 around (3, 3), clipped to the 7 x 7 image), uniformly, and
  // the account reports it.
  const cv::Mat flat = cv::Mat::ones(7, 7, CV_32F) * 0.5;
  const LocalFeatures ff = compute_descriptors(flat, o, "flat");
  const SiftContributions cf(flat, o, ff, "flat");
  BOOST_TEST(cf.totals()[0] == 0.0);
  const Relevance rf = spread_to_pixels(ff.frames, Eigen::VectorXd::Constant(1, 4.9), 7, 7, o.weighting, &cf);
  BOOST_TEST((rf.relevance.array() - 0.1).abs().maxCoeff() <= 1e-15);
  BOOST_TEST(rf.account.fallback == 4.9);
  BOOST_TEST(std::abs(rf.account.unaccounted()) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(gradient_spreading_conserves_on_real_images_for_every_dense_descriptor) {
  std::mt19937_64 rng(5);
  // A photo crop with a flat band pasted in, so that some descriptors see no
  // gradient and fall back to their supports.
  cv::Mat banded = photo().clone();
  banded(cv::Rect(0, 0, 48, 16)).setTo(cv::Scalar(0.3, 0.4, 0.5));
  const std::vector<std::pair<const cv::Mat*, DescriptorOptions>> cases{
      {&fashion(), dense("grey", {3, 4}, 2, true)},     {&banded, dense("grey", {3, 4}, 2, true)},
      {&banded, dense("opponent", {3, 6}, 3, true)},    {&banded, dense("hsv", {4}, 2, false, 2)},
      {&photo(), dense("rgb", {3, 4, 5}, 2, false)}};
  bool fell_back = false;
  for (const auto& [image, o] : cases) fell_back = gradient_spreading_conserves(*image, o, rng) || fell_back;
  BOOST_TEST(fell_back);
}

BOOST_AUTO_TEST_CASE(gradient_weighting_is_refused_without_contributions_or_for_other_descriptors) {
  DescriptorOptions o = dense("grey", {3}, 2, true);
  const LocalFeatures f = compute_descriptors(fashion(), o, "test");
  BOOST_TEST(test::error_of([&] { spread_to_pixels(f.frames, Eigen::VectorXd::Ones(f.size()), 28, 28, o.weighting); })
                 .find("needs the descriptors' pixel contributions") != std::string::npos);
  DescriptorOptions other = dense("grey", {4}, 2, true);
  const LocalFeatures g = compute_descriptors(fashion(), other, "test");
  const SiftContributions c(fashion(), other, g, "test");
  if (g.size() != f.size())
    BOOST_TEST(test::error_of([&] {
                 spread_to_pixels(f.frames, Eigen::VectorXd::Ones(f.size()), 28, 28, o.weighting, &c);
               }).find("belong to other descriptors") != std::string::npos);
  // Keypoint frames of another image (or other options) are not the
  // keypoints found again in this one.
  DescriptorOptions keypoints;
  keypoints.type = DescriptorType::sift;
  keypoints.keypoint.first_octave = -1;
  keypoints.weighting.type = WeightingType::gradient;
  keypoints.validate();
  const cv::Mat other_image = test::cached_dataset("fashion-mnist:test:2").images[1].gray;
  const LocalFeatures k = compute_descriptors(other_image, keypoints, "other");
  BOOST_REQUIRE(k.size() > 0);
  BOOST_TEST(test::error_of([&] { SiftContributions(fashion(), keypoints, k, "test"); })
                 .find("are not the keypoints VLFeat finds") != std::string::npos);
  BOOST_TEST((parse_enum<WeightingType>("gradient", "weighting") == WeightingType::gradient));
}

// ---- Keypoint SIFT (docs/design.md 1.9, "Keypoint SIFT") ----

namespace {

// The Gaussian kernel of sift.c's _vl_sift_smooth (half width max(ceil(4
// sigma), 1), float values normalised in float), renormalised in double.
std::vector<double> sift_kernel(double sigma) {
  const int half = std::max(static_cast<int>(std::ceil(4.0 * sigma)), 1);
  std::vector<float> g;
  float acc = 0;
  for (int j = -half; j <= half; ++j) {
    const float d = static_cast<float>(j) / static_cast<float>(sigma);
    g.push_back(static_cast<float>(std::exp(-0.5 * (d * d))));
    acc += g.back();
  }
  std::vector<double> out;
  double sum = 0;
  for (float v : g) sum += out.emplace_back(static_cast<double>(v / acc));
  for (double& v : out) v /= sum;
  return out;
}

// vl_imconvcol with padding by continuity along y, then along x (_vl_sift_smooth).
RowMatrixXd smooth(const RowMatrixXd& in, double sigma) {
  const std::vector<double> g = sift_kernel(sigma);
  const int half = static_cast<int>(g.size() / 2), h = static_cast<int>(in.rows()), w = static_cast<int>(in.cols());
  RowMatrixXd along_y = RowMatrixXd::Zero(h, w), out = RowMatrixXd::Zero(h, w);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = -half; k <= half; ++k) along_y(y, x) += g[k + half] * in(std::clamp(y + k, 0, h - 1), x);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = -half; k <= half; ++k) out(y, x) += g[k + half] * along_y(y, std::clamp(x + k, 0, w - 1));
  return out;
}

// copy_and_upsample_rows twice: every row doubled by linear interpolation
// (the last sample repeated), then every column.
RowMatrixXd doubled(const RowMatrixXd& in) {
  const long h = in.rows(), w = in.cols();
  RowMatrixXd wide(h, 2 * w), out(2 * h, 2 * w);
  for (long y = 0; y < h; ++y)
    for (long x = 0; x < w; ++x) {
      wide(y, 2 * x) = in(y, x);
      wide(y, 2 * x + 1) = x + 1 < w ? 0.5 * (in(y, x) + in(y, x + 1)) : in(y, x);
    }
  for (long y = 0; y < h; ++y)
    for (long x = 0; x < 2 * w; ++x) {
      out(2 * y, x) = wide(y, x);
      out(2 * y + 1, x) = y + 1 < h ? 0.5 * (wide(y, x) + wide(y + 1, x)) : wide(y, x);
    }
  return out;
}

// copy_and_downsample: every d-th pixel.
RowMatrixXd subsampled(const RowMatrixXd& in, int d, int w, int h) {
  RowMatrixXd out(h, w);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) out(y, x) = in(d * y, d * x);
  return out;
}

struct SpaceParams {
  int width = 0, height = 0, o_min = 0, octaves = 0, S = 0, s_min = 0, s_max = 0;
  double sigma0 = 0, sigmak = 0, dsigma0 = 0, sigman = 0;
  int side(int n, int o) const { return o >= 0 ? n >> o : n << -o; }
};

// VLFeat's Gaussian scale space of an image as sift.c defines it
// (vl_sift_process_first_octave, vl_sift_process_next_octave), in double:
// out[o - o_min][s - s_min] for the levels s_min .. s_max - 2.
std::vector<std::vector<RowMatrixXd>> scale_space(const RowMatrixXd& image, const SpaceParams& p) {
  RowMatrixXd base = image;
  for (int o = p.o_min; o < 0; ++o) base = doubled(base);
  if (p.o_min > 0) base = subsampled(image, 1 << p.o_min, p.side(p.width, p.o_min), p.side(p.height, p.o_min));
  const int s_best = std::min(p.s_min + p.S, p.s_max);
  std::vector<std::vector<RowMatrixXd>> out;
  for (int o = p.o_min; o < p.o_min + p.octaves; ++o) {
    double sa = p.sigma0 * std::pow(p.sigmak, p.s_min), sb = p.sigman * std::pow(2.0, -p.o_min);
    if (o > p.o_min) {
      sa = p.sigma0 * std::pow(static_cast<float>(p.sigmak), static_cast<float>(p.s_min));
      sb = p.sigma0 * std::pow(static_cast<float>(p.sigmak), static_cast<float>(s_best - p.S));
    }
    std::vector<RowMatrixXd> levels{sa > sb ? smooth(base, std::sqrt(sa * sa - sb * sb)) : base};
    for (int s = p.s_min + 1; s <= p.s_max - 2; ++s) levels.push_back(smooth(levels.back(), p.dsigma0 * std::pow(p.sigmak, s)));
    base = subsampled(levels[static_cast<size_t>(s_best - p.s_min)], 2, p.side(p.width, o + 1), p.side(p.height, o + 1));
    out.push_back(std::move(levels));
  }
  return out;
}

RowMatrixXd as_double(const float* data, int w, int h) {
  return Eigen::Map<const RowMatrixXf>(data, h, w).cast<double>();
}

struct KeypointDescriptor {
  int o = 0, is = 0;
  bool described = false;
  std::vector<std::pair<long, double>> pixels;  // octave pixel y * w + x and c_lp (over dimensions and planes)
  Eigen::RowVectorXd unnormalised;              // d_lj = sum_p c_ljp, 128 per plane
};

struct KeypointReference {
  SpaceParams params;
  std::vector<KeypointDescriptor> descriptors;
  double worst_normalised = 0;    // largest |normalised d_lj - VLFeat's descriptor (as compute_descriptors returns it)|
  int bracketed = 0, outside = 0;  // VLFeat's own norms within 1e-4 of |d_l| per plane, and not
  double worst_octave = 0;         // largest |scale_space(plane) - VLFeat's octave image|
};

// The reference for keypoint SIFT, from the definitions in VLFeat's sift.c:
// keypoint SIFT run step by step as compute_descriptors runs it (detection on
// grey, description on every plane), and per keypoint and orientation the
// loop of vl_sift_calc_keypoint_descriptor written out on the octave image of
// the keypoint's level: gradient (central differences, vl_fast_sqrt_f,
// vl_fast_atan2_f), offset rotated by the keypoint angle in bins of
// magnif * sigma, Gaussian window by the table of fast_expn, trilinear
// weights over 4 x 4 x 8 bins, each c_ljp in double from VLFeat's float factors
// (the orientation split 1 - r, r in double, so that it sums to 1 exactly).
KeypointReference keypoint_reference(const cv::Mat& image, const DescriptorOptions& o) {
  std::vector<cv::Mat> planes = colour_planes(image, o.colour, "test");
  if (o.plane >= 0) planes = {planes[o.plane]};
  const bool on_grey = o.colour == ColourSpace::grey;
  const cv::Mat grey = (on_grey ? planes.front() : colour_planes(image, ColourSpace::grey, "test").front()).clone();
  for (cv::Mat& p : planes) p = p.clone();
  const KeypointSiftOptions& k = o.keypoint;
  auto make = [&](const cv::Mat& m) {
    VlSiftFilt* f = vl_sift_new(m.cols, m.rows, k.octaves, k.levels, k.first_octave);
    vl_sift_set_peak_thresh(f, k.peak_threshold);
    vl_sift_set_edge_thresh(f, k.edge_threshold);
    vl_sift_set_magnif(f, k.magnif);
    return f;
  };
  VlSiftFilt* detector = make(grey);
  std::vector<VlSiftFilt*> describers;
  if (on_grey) describers = {detector};
  else
    for (const cv::Mat& p : planes) describers.push_back(make(p));
  int status = vl_sift_process_first_octave(detector, grey.ptr<float>());
  if (!on_grey)
    for (size_t i = 0; i < planes.size(); ++i) vl_sift_process_first_octave(describers[i], planes[i].ptr<float>());

  KeypointReference r;
  SpaceParams& p = r.params;
  p = {grey.cols, grey.rows, detector->o_min, detector->O, detector->S, detector->s_min, detector->s_max,
       detector->sigma0, detector->sigmak, detector->dsigma0, detector->sigman};
  std::vector<std::vector<std::vector<RowMatrixXd>>> spaces;
  for (const cv::Mat& plane : planes) spaces.push_back(scale_space(as_double(plane.ptr<float>(), plane.cols, plane.rows), p));
  const LocalFeatures library = compute_descriptors(image, o, "test");
  const int P = static_cast<int>(planes.size());
  std::vector<float> buffer(128);
  long l = 0;
  while (status != VL_ERR_EOF) {
    vl_sift_detect(detector);
    const int oc = detector->o_cur, w = detector->octave_width, h = detector->octave_height;
    for (int i = 0; i < P; ++i)
      for (int s = p.s_min; s <= p.s_max - 2; ++s) {
        const RowMatrixXd vl = as_double(vl_sift_get_octave(describers[i], s), w, h);
        r.worst_octave = std::max(r.worst_octave, (vl - spaces[i][oc - p.o_min][s - p.s_min]).cwiseAbs().maxCoeff());
      }
    const VlSiftKeypoint* keys = vl_sift_get_keypoints(detector);
    for (int key = 0; key < vl_sift_get_nkeypoints(detector); ++key) {
      const VlSiftKeypoint& kp = keys[key];
      double angles[4] = {0, 0, 0, 0};
      const int n = k.orientation ? vl_sift_calc_keypoint_orientations(detector, angles, &kp) : 1;
      for (int a = 0; a < n; ++a, ++l) {
        KeypointDescriptor d;
        d.o = kp.o;
        d.is = kp.is;
        d.unnormalised = Eigen::RowVectorXd::Zero(128L * P);
        const double xper = std::pow(2.0, oc), x = kp.x / xper, y = kp.y / xper, sigma = kp.sigma / xper;
        const int xi = static_cast<int>(x + 0.5), yi = static_cast<int>(y + 0.5);
        d.described = xi >= 0 && xi < w && yi >= 0 && yi < h - 1 && kp.is >= p.s_min + 1 && kp.is <= p.s_max - 2;
        if (d.described) {
          const double st0 = std::sin(angles[a]), ct0 = std::cos(angles[a]), sbp = k.magnif * sigma + VL_EPSILON_D;
          const int W = static_cast<int>(std::floor(std::sqrt(2.0) * sbp * 5 / 2.0 + 0.5));
          std::map<long, double> per_pixel;
          for (int i = 0; i < P; ++i) {
            const float* im = vl_sift_get_octave(describers[i], kp.is);
            for (int dyi = std::max(-W, 1 - yi); dyi <= std::min(W, h - yi - 2); ++dyi)
              for (int dxi = std::max(-W, 1 - xi); dxi <= std::min(W, w - xi - 2); ++dxi) {
                const long at = static_cast<long>(yi + dyi) * w + xi + dxi;
                const float gx = static_cast<float>(0.5 * (im[at + 1] - im[at - 1]));
                const float gy = static_cast<float>(0.5 * (im[at + w] - im[at - w]));
                const float mod = vl_fast_sqrt_f(gx * gx + gy * gy);
                const float angle = vl_mod_2pi_f(vl_fast_atan2_f(gy, gx) + static_cast<float>(2 * VL_PI));
                const float theta = vl_mod_2pi_f(static_cast<float>(angle - angles[a]));
                const float dx = static_cast<float>(xi + dxi - x), dy = static_cast<float>(yi + dyi - y);
                const float nx = static_cast<float>((ct0 * dx + st0 * dy) / sbp);
                const float ny = static_cast<float>((-st0 * dx + ct0 * dy) / sbp);
                const float nt = static_cast<float>(8 * theta / (2 * VL_PI));
                // fast_expn: the table exp(-k 25 / 256), k = 0..256, interpolated linearly
                const double e = (nx * nx + ny * ny) / (2.0 * 2.0F * 2.0F) * (256 / 25.0);
                const int ei = static_cast<int>(std::floor(e));
                const double ea = std::exp(-ei * (25.0 / 256)), eb = std::exp(-(ei + 1) * (25.0 / 256));
                const float win = e > 256 ? 0.0F : static_cast<float>(ea + (e - ei) * (eb - ea));
                const int binx = static_cast<int>(vl_floor_f(static_cast<float>(nx - 0.5)));
                const int biny = static_cast<int>(vl_floor_f(static_cast<float>(ny - 0.5)));
                const int bint = static_cast<int>(vl_floor_f(nt));
                const float rx = static_cast<float>(nx - (binx + 0.5)), ry = static_cast<float>(ny - (biny + 0.5));
                const float rt = nt - static_cast<float>(bint);
                for (int bx = 0; bx < 2; ++bx)
                  for (int by = 0; by < 2; ++by)
                    for (int bt = 0; bt < 2; ++bt) {
                      if (binx + bx < -2 || binx + bx >= 2 || biny + by < -2 || biny + by >= 2) continue;
                      const double c = static_cast<double>(win) * static_cast<double>(mod) *
                                       static_cast<double>(std::fabs(static_cast<float>(1 - bx) - rx)) *
                                       static_cast<double>(std::fabs(static_cast<float>(1 - by) - ry)) *
                                       (bt == 0 ? 1.0 - static_cast<double>(rt) : static_cast<double>(rt));
                      const long j = 128L * i + (bint + bt) % 8 + 8 * (binx + bx + 2) + 32 * (biny + by + 2);
                      d.unnormalised[j] += c;
                      per_pixel[at] += c;
                    }
              }
            // VLFeat zeroes a descriptor whose norm (before normalising) is
            // below its norm threshold: its own norm lies between 0.9999 and
            // 1.0001 times ours when it keeps the one and zeroes the other.
            const double norm = d.unnormalised.segment(128L * i, 128).norm();
            if (norm > 0) {
              bool kept = false, zeroed = true;
              vl_sift_set_norm_thresh(describers[i], 0.9999 * norm);
              vl_sift_calc_keypoint_descriptor(describers[i], buffer.data(), &kp, angles[a]);
              for (float v : buffer) kept = kept || v != 0;
              vl_sift_set_norm_thresh(describers[i], 1.0001 * norm);
              vl_sift_calc_keypoint_descriptor(describers[i], buffer.data(), &kp, angles[a]);
              for (float v : buffer) zeroed = zeroed && v == 0;
              vl_sift_set_norm_thresh(describers[i], 0);
              (kept && zeroed ? r.bracketed : r.outside) += 1;
            }
          }
          d.pixels.assign(per_pixel.begin(), per_pixel.end());
        }
        BOOST_REQUIRE(l < library.size());
        r.worst_normalised = std::max(
            r.worst_normalised,
            (normalised(d.unnormalised) - library.descriptors.row(l).cast<double>()).cwiseAbs().maxCoeff());
        r.descriptors.push_back(std::move(d));
      }
    }
    status = vl_sift_process_next_octave(detector);
    if (!on_grey)
      for (VlSiftFilt* f : describers) vl_sift_process_next_octave(f);
  }
  BOOST_TEST(l == library.size());
  if (!on_grey)
    for (VlSiftFilt* f : describers) vl_sift_delete(f);
  vl_sift_delete(detector);
  return r;
}

// The slow reference: c_lq = sum_p c_lp L(p, q) for every descriptor and
// input pixel, L(., q) being the scale space of the image that is 1 at q and
// 0 elsewhere.
RowMatrixXd keypoint_per_pixel(const KeypointReference& r) {
  const SpaceParams& p = r.params;
  RowMatrixXd c = RowMatrixXd::Zero(static_cast<long>(r.descriptors.size()), static_cast<long>(p.width) * p.height);
  for (long q = 0; q < c.cols(); ++q) {
    RowMatrixXd impulse = RowMatrixXd::Zero(p.height, p.width);
    impulse.data()[q] = 1.0;
    const auto space = scale_space(impulse, p);
    for (size_t l = 0; l < r.descriptors.size(); ++l) {
      const KeypointDescriptor& d = r.descriptors[l];
      if (!d.described) continue;
      const RowMatrixXd& L = space[static_cast<size_t>(d.o - p.o_min)][static_cast<size_t>(d.is - p.s_min)];
      double acc = 0;
      for (const auto& [at, v] : d.pixels) acc += v * L.data()[at];
      c(static_cast<long>(l), q) = acc;
    }
  }
  return c;
}

DescriptorOptions keypoints(const std::string& colour, int first_octave, bool orientation = true, int plane = -1) {
  DescriptorOptions o;
  o.type = DescriptorType::sift;
  o.colour = parse_enum<ColourSpace>(colour, "colour");
  o.keypoint.first_octave = first_octave;
  o.keypoint.orientation = orientation;
  o.plane = plane;
  o.weighting.type = WeightingType::gradient;
  o.validate();
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(keypoint_contributions_sum_per_dimension_to_vlfeats_descriptor) {
  // Compared: d_lj = sum_p c_ljp (VLFeat's loop written out on its own octave
  // images), normalised as VLFeat does, against the descriptors of
  // compute_descriptors (vl_sift_calc_keypoint_descriptor), dimension by
  // dimension; the scale, which the normalisation drops, by VLFeat's norm
  // threshold on its own unnormalised histogram. The scale space written out
  // from sift.c's definitions in double reproduces VLFeat's octave images,
  // so the L that carries c_lp to the input pixels is VLFeat's smoothing.
  const std::vector<std::pair<const cv::Mat*, DescriptorOptions>> cases{
      {&fashion(), keypoints("grey", 0)},   {&fashion(), keypoints("grey", -1)},
      {&photo(), keypoints("grey", 0)},     {&photo(), keypoints("opponent", 0)},
      {&photo(), keypoints("grey", 1)},     {&photo(), keypoints("rgb", -1, false, 2)}};
  for (const auto& [image, o] : cases) {
    const KeypointReference r = keypoint_reference(*image, o);
    BOOST_TEST_MESSAGE(name_of(o.colour) << ", first octave " << o.keypoint.first_octave << ": "
                                         << r.descriptors.size() << " descriptors, normalised within "
                                         << r.worst_normalised << ", " << r.bracketed << " norms bracketed, octaves within "
                                         << r.worst_octave);
    BOOST_TEST_CONTEXT(name_of(o.colour) << ", first octave " << o.keypoint.first_octave) {
      BOOST_TEST(r.descriptors.size() > 0u);
      BOOST_TEST(r.worst_normalised <= 1e-5);
      BOOST_TEST(r.bracketed > 0);
      BOOST_TEST(r.outside == 0);
      BOOST_TEST(r.worst_octave <= 1e-5);
    }
  }
}

BOOST_AUTO_TEST_CASE(keypoint_fast_accumulation_equals_the_explicit_per_pixel_sums) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  const std::vector<std::pair<const cv::Mat*, DescriptorOptions>> cases{
      {&fashion(), keypoints("grey", 0)},   {&fashion(), keypoints("grey", -1)},
      {&photo(), keypoints("opponent", 0)}, {&photo(), keypoints("grey", 1)},
      {&photo(), keypoints("hsv", 0, false, 1)}};
  long above_first_octave = 0;  // descriptors whose contributions pass octave subsampling
  for (const auto& [image, o] : cases) {
    BOOST_TEST_CONTEXT(name_of(o.colour) << ", first octave " << o.keypoint.first_octave) {
      const LocalFeatures f = compute_descriptors(*image, o, "test");
      const SiftContributions fast(*image, o, f, "test");
      const KeypointReference r = keypoint_reference(*image, o);
      const RowMatrixXd slow = keypoint_per_pixel(r);
      for (const KeypointDescriptor& d : r.descriptors) above_first_octave += d.described && d.o > r.params.o_min;
      BOOST_REQUIRE_EQUAL(fast.size(), f.size());
      BOOST_REQUIRE_EQUAL(slow.rows(), f.size());
      const Eigen::VectorXd totals = slow.rowwise().sum();
      BOOST_TEST(totals.maxCoeff() > 0);
      BOOST_TEST((fast.totals() - totals).cwiseAbs().maxCoeff() <= 1e-12 * totals.maxCoeff());
      // L passes each octave pixel's contribution on whole: sum_q c_lq = sum_p c_lp.
      for (long l = 0; l < slow.rows(); ++l) {
        double octave = 0;
        for (const auto& [at, v] : r.descriptors[static_cast<size_t>(l)].pixels) octave += v;
        BOOST_TEST(std::abs(octave - totals[l]) <= 1e-12 * totals.maxCoeff());
      }
      Eigen::VectorXd a(f.size());
      for (long l = 0; l < a.size(); ++l) a[l] = normal(rng);
      RowMatrixXd map = RowMatrixXd::Zero(image->rows, image->cols);
      fast.accumulate(a, map);
      const Eigen::VectorXd expected = slow.transpose() * a;
      const Eigen::VectorXd got = Eigen::Map<const Eigen::VectorXd>(map.data(), map.size());
      BOOST_TEST((got - expected).cwiseAbs().maxCoeff() <= 1e-12 * expected.cwiseAbs().maxCoeff(),
                 (got - expected).cwiseAbs().maxCoeff());
    }
  }
  BOOST_TEST(above_first_octave > 0);
}

BOOST_AUTO_TEST_CASE(gradient_spreading_conserves_for_keypoint_sift_on_real_images) {
  std::mt19937_64 rng(13);
  // The photo with its blue channel constant: every keypoint described on
  // the blue plane has no gradient and falls back to its support.
  cv::Mat no_blue = photo().clone();
  std::vector<cv::Mat> bgr;
  cv::split(no_blue, bgr);
  bgr[0].setTo(0.4);
  cv::merge(bgr, no_blue);
  const cv::Mat& fruits = photo();
  // The whole photo, at its size, with vl_sift's defaults: hundreds of
  // keypoints over five octaves.
  const cv::Mat whole = to_colour_float(read_image_file("/usr/share/doc/opencv-doc/examples/data/fruits.jpg"), "fruits");
  const std::vector<std::pair<const cv::Mat*, DescriptorOptions>> cases{
      {&fashion(), keypoints("grey", -1)},     {&fruits, keypoints("grey", -1)},
      {&whole, keypoints("grey", 0)},
      {&fruits, keypoints("opponent", 0)},     {&fruits, keypoints("hsv", 0, false)},
      {&no_blue, keypoints("rgb", 0, true, 2)}, {&no_blue, keypoints("rgb", -1)}};
  bool fell_back = false;
  for (const auto& [image, o] : cases) fell_back = gradient_spreading_conserves(*image, o, rng) || fell_back;
  BOOST_TEST(fell_back);
}

BOOST_AUTO_TEST_CASE(a_centred_symmetric_blob_gives_each_quadrant_a_quarter) {
  // A Gaussian blob at the centre of a 41 x 41 image, upright descriptors:
  // the keypoints VLFeat finds on it are all at the centre (found below), the
  // blob, the octave images (separable Gaussians with edges padded by
  // continuity), the gradient magnitudes, the Gaussian window and the
  // bilinear binning are all symmetric under the flips x -> 40 - x,
  // y -> 40 - y and the transposition. So is the map, whatever relevance the
  // descriptors carry; the centre row and column are shared by two quadrants
  // each and the centre pixel by four, so each quadrant, counting shared
  // pixels at half and a quarter, receives exactly R / 4.
  constexpr int n = 41, centre = 20;
  cv::Mat image(n, n, CV_32F);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x)
      image.at<float>(y, x) = static_cast<float>(0.1 + 0.8 * std::exp(-((x - centre) * (x - centre) + (y - centre) * (y - centre)) / (2.0 * 16.0)));
  const DescriptorOptions o = keypoints("grey", 0, false);
  const LocalFeatures f = compute_descriptors(image, o, "blob");
  BOOST_REQUIRE(f.size() >= 1);
  for (const Frame& frame : f.frames) {
    BOOST_TEST(std::abs(frame.x - centre) <= 1e-4);
    BOOST_TEST(std::abs(frame.y - centre) <= 1e-4);
  }
  const SiftContributions c(image, o, f, "blob");
  const double R = 3.0;
  const Eigen::VectorXd relevance = Eigen::VectorXd::Constant(f.size(), R / static_cast<double>(f.size()));
  const Relevance r = spread_to_pixels(f.frames, relevance, n, n, o.weighting, &c);
  BOOST_TEST(r.account.fallback == 0.0);
  const RowMatrixXd map = pixel_map(r.relevance, n, n);
  BOOST_TEST(std::abs(map.sum() - R) <= 1e-12);
  double worst = 0;
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      worst = std::max({worst, std::abs(map(y, x) - map(y, n - 1 - x)), std::abs(map(y, x) - map(n - 1 - y, x)),
                        std::abs(map(y, x) - map(x, y))});
    }
  // VLFeat computes the octave images and gradients in float: symmetric to its rounding.
  BOOST_TEST(worst <= 1e-6 * map.cwiseAbs().maxCoeff(), worst);
  std::array<double, 4> quadrant{};
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const double wy = y == centre ? 0.5 : 1.0, wx = x == centre ? 0.5 : 1.0;
      for (int q = 0; q < 4; ++q) {
        const bool in_y = q < 2 ? y <= centre : y >= centre, in_x = q % 2 == 0 ? x <= centre : x >= centre;
        if (in_y && in_x) quadrant[static_cast<size_t>(q)] += wy * wx * map(y, x);
      }
    }
  for (double q : quadrant) BOOST_TEST(std::abs(q - R / 4) <= 1e-5 * R, q);
}
