// The descriptor layer decomposed (docs/design.md 1.9): the pixel contributions
// of dense SIFT descriptors against VLFeat's own descriptors, the fast
// separable accumulation against the explicit per-pixel, per-dimension sums,
// a hand-computed case, conservation of gradient spreading on real images for
// every dense descriptor kind, and the refusal of keypoint SIFT.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cfloat>
#include <cmath>
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
  std::normal_distribution<double> normal;
  // A photo crop with a flat band pasted in, so that some descriptors see no
  // gradient and fall back to their supports.
  cv::Mat banded = photo().clone();
  banded(cv::Rect(0, 0, 48, 16)).setTo(cv::Scalar(0.3, 0.4, 0.5));
  const std::vector<std::pair<const cv::Mat*, DescriptorOptions>> cases{
      {&fashion(), dense("grey", {3, 4}, 2, true)},     {&banded, dense("grey", {3, 4}, 2, true)},
      {&banded, dense("opponent", {3, 6}, 3, true)},    {&banded, dense("hsv", {4}, 2, false, 2)},
      {&photo(), dense("rgb", {3, 4, 5}, 2, false)}};
  bool fell_back = false;
  for (const auto& [image, o] : cases) {
    const LocalFeatures f = compute_descriptors(*image, o, "test");
    const SiftContributions c(*image, o, f, "test");
    Eigen::VectorXd R(f.size());
    for (long l = 0; l < R.size(); ++l) R[l] = normal(rng);
    const Relevance r = spread_to_pixels(f.frames, R, image->cols, image->rows, o.weighting, &c);
    BOOST_TEST(std::abs(r.relevance.sum() - R.sum()) <= 1e-9 * R.cwiseAbs().sum());
    BOOST_TEST(r.account.unassigned == 0.0);
    // The fallback part is exactly the relevance of the descriptors without gradient.
    double flat = 0;
    for (long l = 0; l < R.size(); ++l)
      if (c.totals()[l] == 0) flat += R[l];
    BOOST_TEST(r.account.fallback == flat);
    fell_back = fell_back || flat != 0;
  }
  BOOST_TEST(fell_back);
}

BOOST_AUTO_TEST_CASE(gradient_weighting_is_refused_without_contributions_and_for_keypoint_sift) {
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
  DescriptorOptions keypoints;
  keypoints.type = DescriptorType::sift;
  keypoints.weighting.type = WeightingType::gradient;
  BOOST_TEST(test::error_of([&] { keypoints.validate(); }).find("dense SIFT (type \"dsift\") only") != std::string::npos);
  BOOST_TEST((parse_enum<WeightingType>("gradient", "weighting") == WeightingType::gradient));
}
