// Relevance rules of the BoW layers (docs/design.md 1.2-1.5): hand-computed cases,
// the bow_toy reference cases, and a slow reference for pixel spreading.
#include <boost/test/unit_test.hpp>
#include <random>

#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "bow_toy.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

// Two support vectors in V = 3: sv1 = (0.5, 0.2, 0.3) with alpha*y = 1,
// sv2 = (0.1, 0.6, 0.3) with alpha*y = -0.5, bias b = 0.2; x = (0.4, 0, 0.6).
OneVsRestSvm hand_svm(KernelType kernel) {
  RowMatrixXd sv(2, 3);
  sv << 0.5, 0.2, 0.3, 0.1, 0.6, 0.3;
  BinaryMachine m{{0, 1}, {1.0, -0.5}, -0.2};
  return OneVsRestSvm(kernel, sv, {m});
}
Eigen::VectorXd hand_x() { return (Eigen::VectorXd(3) << 0.4, 0.0, 0.6).finished(); }

void check_vector(const Eigen::VectorXd& got, const std::vector<double>& expected, double tolerance) {
  BOOST_REQUIRE_EQUAL(got.size(), static_cast<long>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) BOOST_TEST(std::abs(got[i] - expected[i]) <= tolerance, "entry " << i << ": " << got[i] << " vs " << expected[i]);
}

// Slow, obviously-correct pixel spreading: visit every pixel of every support.
RowMatrixXd spread_slowly(const std::vector<Frame>& frames, const Eigen::VectorXd& r, int width, int height) {
  RowMatrixXd out = RowMatrixXd::Zero(height, width);
  for (size_t l = 0; l < frames.size(); ++l)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        if (frames[l].support.contains(x, y)) out(y, x) += r[l] / static_cast<double>(frames[l].support.area());
  return out;
}


}  // namespace

BOOST_AUTO_TEST_SUITE(svm_layer)

BOOST_AUTO_TEST_CASE(hand_computed_intersection_kernel_all_policies) {
  const OneVsRestSvm svm = hand_svm(KernelType::intersection);
  // terms: d0 = min(.5,.4) - .5 min(.1,.4) = .35; d1 = 0 (x_1 = 0); d2 = .3 - .5 * .3 = .15; f = .5 + .2 = .7
  BOOST_TEST(std::abs(svm.decision(0, hand_x()) - 0.7) <= 1e-15);
  Relevance none = decompose_svm(svm, 0, hand_x(), BiasPolicy::none);
  check_vector(none.relevance, {0.35, 0.0, 0.15}, 1e-15);
  BOOST_TEST(std::abs(none.account.absorbed - 0.2) <= 1e-15);
  Relevance uniform = decompose_svm(svm, 0, hand_x(), BiasPolicy::uniform);
  check_vector(uniform.relevance, {0.35 + 0.2 / 3, 0.2 / 3, 0.15 + 0.2 / 3}, 1e-15);
  BOOST_TEST(uniform.account.absorbed == 0.0);
  Relevance nonzero = decompose_svm(svm, 0, hand_x(), BiasPolicy::nonzero);
  check_vector(nonzero.relevance, {0.45, 0.0, 0.25}, 1e-15);
  BOOST_TEST(std::abs(nonzero.account.relevance_in - 0.7) <= 1e-15);
  BOOST_TEST(std::abs(nonzero.account.unaccounted()) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(hand_computed_chi2_and_linear) {
  // chi2: d0 = 2*.5*.4/.9 - .5 * 2*.1*.4/.5 = .4/.9 - .08; d2 = .36/.9 - .5 * .36/.9 = .2
  Relevance chi2 = decompose_svm(hand_svm(KernelType::chi2), 0, hand_x(), BiasPolicy::none);
  check_vector(chi2.relevance, {0.4 / 0.9 - 0.08, 0.0, 0.2}, 1e-15);
  BOOST_TEST(std::abs(chi2.account.relevance_in - (0.4 / 0.9 - 0.08 + 0.2 + 0.2)) <= 1e-15);
  // linear: d0 = .5*.4 - .5*.1*.4 = .18; d2 = .3*.6 - .5*.3*.6 = .09
  Relevance linear = decompose_svm(hand_svm(KernelType::linear), 0, hand_x(), BiasPolicy::nonzero);
  check_vector(linear.relevance, {0.28, 0.0, 0.19}, 1e-15);
}

BOOST_AUTO_TEST_CASE(bias_policy_names_round_trip_and_reject_unknown) {
  for (auto p : {BiasPolicy::none, BiasPolicy::uniform, BiasPolicy::nonzero})
    BOOST_TEST((parse_bias_policy(bias_policy_name(p)) == p));
  BOOST_CHECK_THROW(parse_bias_policy("half"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pooling_layer)

// Three features, hard codes l0 -> w0, l1 -> w0, l2 -> w2.
Codes three_codes() {
  Codes codes;
  codes.words = 3;
  for (int w : {0, 0, 2}) {
    codes.word.push_back(w);
    codes.weight.push_back(1.0);
    codes.offsets.push_back(static_cast<int>(codes.word.size()));
  }
  return codes;
}

BOOST_AUTO_TEST_CASE(hand_computed_sum_pooling_one_cell) {
  PoolingOptions options;
  const BowEncoding e = pool(three_codes(), {{0}, {0}, {0}}, 1, options);
  check_vector(e.pooled, {2, 0, 1}, 0);
  // bin 1 holds relevance but no feature: it cannot be passed on.
  const Relevance r = pool_relevance(e, (Eigen::VectorXd(3) << 0.6, 0.1, -0.3).finished());
  check_vector(r.relevance, {0.3, 0.3, -0.3}, 1e-15);
  BOOST_TEST(std::abs(r.account.unassigned - 0.1) <= 1e-15);
  BOOST_TEST(std::abs(r.account.unaccounted()) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(hand_computed_pyramid_cells) {
  // Levels 1x1 and 2x1: cell 0 whole image, cell 1 left, cell 2 right;
  // l0 and l2 on the left, l1 on the right.
  PoolingOptions options;
  options.pyramid = {{1, 1}, {2, 1}};
  const BowEncoding e = pool(three_codes(), {{0, 1}, {0, 2}, {0, 1}}, 3, options);
  check_vector(e.pooled, {2, 0, 1, 1, 0, 1, 1, 0, 0}, 0);
  Eigen::VectorXd bins(9);
  bins << 0.6, 0, -0.3, 0.2, 0, 0.1, 0.4, 0, 0;
  const Relevance r = pool_relevance(e, bins);
  // l0: .6/2 + .2/1; l1: .6/2 + .4/1; l2: -.3/1 + .1/1
  check_vector(r.relevance, {0.5, 0.7, -0.2}, 1e-15);
  BOOST_TEST(r.account.unassigned == 0.0);
}

BOOST_AUTO_TEST_CASE(rejects_mismatched_relevance) {
  const BowEncoding e = pool(three_codes(), {{0}, {0}, {0}}, 1, PoolingOptions{});
  BOOST_CHECK_THROW(pool_relevance(e, Eigen::VectorXd::Zero(4)), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pixel_layer)

BOOST_AUTO_TEST_CASE(hand_computed_overlapping_supports) {
  // A = [0,2) x [0,2) with R = 4 (1 per pixel); B = [1,4) x [1,3) with R = 3 (0.5 per pixel).
  const std::vector<Frame> frames{test::frame_with_box(0, 0, 2, 2), test::frame_with_box(1, 1, 4, 3)};
  const Relevance p = spread_to_pixels(frames, (Eigen::VectorXd(2) << 4.0, 3.0).finished(), 4, 4);
  RowMatrixXd expected(4, 4);
  expected << 1, 1, 0, 0,
              1, 1.5, 0.5, 0.5,
              0, 0.5, 0.5, 0.5,
              0, 0, 0, 0;
  BOOST_TEST((pixel_map(p.relevance, 4, 4) - expected).cwiseAbs().maxCoeff() <= 1e-15);
  BOOST_TEST(std::abs(p.account.relevance_out - 7.0) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(fast_spreading_matches_slow_reference_on_random_supports) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const int width = 5 + static_cast<int>(rng() % 60), height = 5 + static_cast<int>(rng() % 60);
    std::vector<Frame> frames;
    Eigen::VectorXd r(1 + rng() % 300);
    std::normal_distribution<double> normal;
    for (long l = 0; l < r.size(); ++l) {
      const int x0 = rng() % width, y0 = rng() % height;
      frames.push_back(test::frame_with_box(x0, y0, x0 + 1 + rng() % (width - x0), y0 + 1 + rng() % (height - y0)));
      r[l] = normal(rng);
    }
    const Relevance fast = spread_to_pixels(frames, r, width, height);
    const RowMatrixXd slow = spread_slowly(frames, r, width, height);
    const double scale = std::max(1.0, slow.cwiseAbs().maxCoeff());
    BOOST_TEST((pixel_map(fast.relevance, width, height) - slow).cwiseAbs().maxCoeff() <= 1e-12 * scale, "trial " << trial);
    BOOST_TEST(std::abs(fast.relevance.sum() - r.sum()) <= 1e-12 * std::max(1.0, r.cwiseAbs().sum()));
  }
}

BOOST_AUTO_TEST_CASE(rejects_support_outside_image) {
  const std::vector<Frame> frames{test::frame_with_box(0, 0, 5, 2)};
  BOOST_CHECK_THROW(spread_to_pixels(frames, Eigen::VectorXd::Ones(1), 4, 4), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// The bow_toy cases (tests/data/bow_toy/README.md): codes M are
// given, so every additive-kernel case checks pooling, normalisation, the SVM
// decomposition under each bias policy, and pixel spreading.
BOOST_AUTO_TEST_CASE(bow_toy_reference_cases) {
  const test::BowToy t;
  const nlohmann::json& toy = t.toy;
  const BinaryMachine machine{{0, 1, 2}, toy["coef"].get<std::vector<double>>(), -toy["b"].get<double>()};

  int checked = 0;
  for (const auto& tc : toy["cases"]) {
    if (tc["policy"] == "taylor") continue;  // non-decomposable kernel
    const std::string label = tc["coding"].get<std::string>() + "/" + tc["kernel"].get<std::string>() + "/" +
                              tc["policy"].get<std::string>();
    BOOST_TEST_CONTEXT(label) {
      const BowEncoding e = t.encode(tc);
      BOOST_TEST(std::abs(e.pooled.lpNorm<1>() - tc["Z"].get<double>()) <= 1e-12);
      check_vector(e.histogram, tc["x"].get<std::vector<double>>(), 1e-15);

      const OneVsRestSvm svm(parse_kernel(tc["kernel"]), t.sv, {machine});
      BOOST_TEST(std::abs(svm.decision(0, e.histogram) - tc["f"].get<double>()) <= 1e-13);
      const Relevance r3 = decompose_svm(svm, 0, e.histogram, parse_bias_policy(tc["policy"]));
      check_vector(r3.relevance, tc["R3"].get<std::vector<double>>(), 1e-13);
      const Relevance r2 = pool_relevance(e, r3.relevance);
      check_vector(r2.relevance, tc["R2"].get<std::vector<double>>(), 1e-13);
      const Relevance r1 = spread_to_pixels(t.frames, r2.relevance, t.width, t.height);
      const auto expected = tc["R1"].get<std::vector<std::vector<double>>>();
      for (int y = 0; y < t.height; ++y)
        for (int x = 0; x < t.width; ++x)
          BOOST_TEST(std::abs(pixel_map(r1.relevance, t.width, t.height)(y, x) - expected[y][x]) <= 1e-13);
      const auto sums = tc["sums"].get<std::vector<double>>();
      BOOST_TEST(std::abs(r3.account.relevance_out - sums[0]) <= 1e-13);
      BOOST_TEST(std::abs(r2.account.relevance_out - sums[1]) <= 1e-13);
      BOOST_TEST(std::abs(r1.account.relevance_out - sums[2]) <= 1e-13);
      // Every loss is accounted for: bias kept at the top, or relevance of empty bins.
      BOOST_TEST(std::abs(r3.account.unaccounted()) <= 1e-13);
      BOOST_TEST(std::abs(r2.account.unaccounted()) <= 1e-13);
      BOOST_TEST(std::abs(r1.account.unaccounted()) <= 1e-13);
      ++checked;
    }
  }
  BOOST_TEST(checked == 18);
}
