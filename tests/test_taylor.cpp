// Non-decomposable kernels and the Taylor decomposition (docs/design.md 1.4) and
// tiled explanations (1.6): kernel gradients against central differences,
// hand-computed roots and decompositions, a slow reference of the whole
// Taylor step, the bow_toy Taylor cases, real Fashion-MNIST images of both
// signs, model round trips, tiles, and the command line.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <random>

#include "pixelwise/classifiers/kernel_gradients.hpp"
#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "pixelwise/decomposition/taylor.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "pixelwise/pipelines/explain/tiles.hpp"
#include "bow_toy.hpp"
#include "test_support.hpp"
#include "tiny_bow.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

std::vector<Kernel> every_kernel() {
  return {Kernel(KernelType::linear),
          Kernel(KernelType::intersection),
          Kernel(KernelType::chi2),
          Kernel(KernelType::hellinger),
          Kernel::rbf(1.3),
          Kernel::exp_chi2(0.7),
          Kernel::polynomial(3, 0.8, 0.5)};
}

// A random machine over positive histograms of dimension D: U support vectors
// with values in [0.05, 1], coefficients of both signs.
OneVsRestSvm random_svm(const Kernel& kernel, int U, int D, std::mt19937& rng) {
  std::uniform_real_distribution<double> value(0.05, 1.0), coef(-1.0, 1.0);
  RowMatrixXd sv(U, D);
  for (int i = 0; i < U; ++i)
    for (int d = 0; d < D; ++d) sv(i, d) = value(rng);
  BinaryMachine m;
  for (int i = 0; i < U; ++i) {
    m.support.push_back(i);
    m.coef.push_back(coef(rng));
  }
  m.rho = 0.1;
  return OneVsRestSvm(kernel, sv, {m});
}

// The machine shifted by the median of its scores on the rows of `points`,
// so that about half of them score on each side.
OneVsRestSvm centred(const OneVsRestSvm& svm, const RowMatrixXd& points) {
  std::vector<double> f;
  for (long r = 0; r < points.rows(); ++r) f.push_back(svm.decision(0, points.row(r).transpose()));
  std::nth_element(f.begin(), f.begin() + f.size() / 2, f.end());
  BinaryMachine m = svm.machine(0);
  m.rho += f[f.size() / 2] + 1e-3;
  return OneVsRestSvm(svm.kernel_function(), svm.support_vectors(), {m});
}

// Central differences of f_0 with step h.
Eigen::VectorXd central_differences(const OneVsRestSvm& svm, const Eigen::VectorXd& x, double h) {
  Eigen::VectorXd g(x.size());
  for (long d = 0; d < x.size(); ++d) {
    Eigen::VectorXd up = x, down = x;
    up[d] += h;
    down[d] -= h;
    g[d] = (svm.decision(0, up) - svm.decision(0, down)) / (2 * h);
  }
  return g;
}

double relative_error(const Eigen::VectorXd& got, const Eigen::VectorXd& expected) {
  return (got - expected).lpNorm<Eigen::Infinity>() / expected.lpNorm<Eigen::Infinity>();
}

ReferencePoints one_reference(const Eigen::VectorXd& point, const std::string& name) {
  return {"given reference", point.transpose(), {name}};
}

// Slow, obviously-correct Taylor step: plain bisection from scratch on
// [x', x] (200 halvings), the gradient by central differences.
Eigen::VectorXd slow_taylor(const OneVsRestSvm& svm, const Eigen::VectorXd& x, const Eigen::VectorXd& ref,
                            Eigen::VectorXd* root) {
  double lo = 0, hi = 1;  // a: x0 = a x + (1 - a) ref; f(ref) has the other sign
  const double sign = svm.decision(0, x) > 0 ? 1 : -1;
  for (int k = 0; k < 200; ++k) {
    const double mid = (lo + hi) / 2;
    if (sign * svm.decision(0, mid * x + (1 - mid) * ref) > 0)
      hi = mid;
    else
      lo = mid;
  }
  *root = hi * x + (1 - hi) * ref;
  const Eigen::VectorXd g = central_differences(svm, *root, 1e-6);
  return g.cwiseProduct(x - *root);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kernels_and_gradients)

BOOST_AUTO_TEST_CASE(kernel_values_by_hand) {
  const Eigen::VectorXd a = (Eigen::VectorXd(3) << 0.5, 0.0, 0.2).finished();
  const Eigen::VectorXd b = (Eigen::VectorXd(3) << 0.1, 0.0, 0.4).finished();
  // rbf: |a - b|^2 = .16 + .04 = .2
  BOOST_TEST(std::abs(Kernel::rbf(2.0)(a, b) - std::exp(-0.4)) <= 1e-15);
  // expchi2: .16 / .6 + 0 (u + v = 0) + .04 / .6 = 1/3
  BOOST_TEST(std::abs(Kernel::exp_chi2(3.0)(a, b) - std::exp(-1.0)) <= 1e-15);
  // polynomial: (0.5 * .13 + 1)^2, <a, b> = .05 + .08 = .13
  BOOST_TEST(std::abs(Kernel::polynomial(2, 0.5, 1.0)(a, b) - 1.065 * 1.065) <= 1e-15);
  BOOST_TEST(std::abs(Kernel(KernelType::intersection)(a, b) - 0.3) <= 1e-16);
  BOOST_CHECK_THROW(Kernel::rbf(0.0), std::invalid_argument);
  BOOST_CHECK_THROW(Kernel::polynomial(0, 1.0, 1.0), std::invalid_argument);
  BOOST_CHECK_THROW(kernel_value(KernelType::rbf, a.data(), b.data(), 3), std::invalid_argument);
  for (const char* name : {"rbf", "expchi2", "poly"}) BOOST_TEST(kernel_name(parse_kernel(name)) == name);
}

BOOST_AUTO_TEST_CASE(decision_gradients_match_central_differences_for_every_kernel) {
  std::mt19937 rng(11);
  for (const Kernel& kernel : every_kernel()) {
    BOOST_TEST_CONTEXT(kernel.describe()) {
      const OneVsRestSvm svm = random_svm(kernel, 6, 9, rng);
      for (int trial = 0; trial < 5; ++trial) {
        // x away from the support vectors' values by more than the step (the
        // kinks of min(u, v)), and positive (Hellinger's square root).
        Eigen::VectorXd x(9);
        std::uniform_real_distribution<double> value(0.05, 1.0);
        for (long d = 0; d < x.size(); ++d) {
          do x[d] = value(rng);
          while ((svm.support_vectors().col(d).array() - x[d]).abs().minCoeff() < 1e-3);
        }
        const Eigen::VectorXd analytic = decision_gradient(svm, 0, x);
        const Eigen::VectorXd numeric = central_differences(svm, x, 1e-6);
        BOOST_TEST(relative_error(analytic, numeric) <= 1e-6, "trial " << trial << ": " << relative_error(analytic, numeric));
        // The single-kernel gradient, too.
        const Eigen::VectorXd sv = svm.support_vectors().row(2).transpose();
        Eigen::VectorXd fd(9);
        for (long d = 0; d < 9; ++d) {
          Eigen::VectorXd up = x, down = x;
          up[d] += 1e-6;
          down[d] -= 1e-6;
          fd[d] = (kernel(sv, up) - kernel(sv, down)) / 2e-6;
        }
        BOOST_TEST(relative_error(kernel_gradient(kernel, sv, x), fd) <= 1e-6);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(gradients_at_the_special_points) {
  // min(u, v) at u = v: 1/2, what central differences give.
  const Kernel hik(KernelType::intersection);
  BOOST_TEST(hik.term_derivative(0.3, 0.3) == 0.5);
  BOOST_TEST((hik.term(0.3, 0.3 + 1e-7) - hik.term(0.3, 0.3 - 1e-7)) / 2e-7 == 0.5, boost::test_tools::tolerance(1e-9));
  // expchi2 term at u = v = 0: t(0, v) = v, slope 1 (the bow_toy reference's convention).
  const Kernel e = Kernel::exp_chi2(1.0);
  BOOST_TEST(e.term_derivative(0.0, 0.0) == 1.0);
  BOOST_TEST(e.term(0.0, 1e-8) == 1e-8);
  // additive chi-square: t(0, v) = 0, slope 0; t(u, 0) has slope 2.
  BOOST_TEST(Kernel(KernelType::chi2).term_derivative(0.0, 0.0) == 0.0);
  BOOST_TEST(Kernel(KernelType::chi2).term_derivative(0.4, 0.0) == 2.0);
  // Hellinger: infinite slope at v = 0 for u > 0, none for u = 0.
  BOOST_TEST(std::isinf(Kernel(KernelType::hellinger).term_derivative(0.4, 0.0)));
  BOOST_TEST(Kernel(KernelType::hellinger).term_derivative(0.0, 0.3) == 0.0);
}

BOOST_AUTO_TEST_CASE(mean_rule_sets_gamma_from_the_training_distances) {
  // Four 3-D histograms; gamma = 1 / mean over pairs i != j of the inner quantity.
  RowMatrixXd X(4, 3);
  X << 0.5, 0.3, 0.2, 0.1, 0.1, 0.8, 0.6, 0.4, 0.0, 0.2, 0.2, 0.6;
  for (const std::string name : {"expchi2", "rbf", "poly"}) {
    SvmOptions options;
    options.kernel = parse_kernel(name);
    const OneVsRestSvm svm = OneVsRestSvm::train(X, {0, 1, 0, 1}, 2, options);
    Kernel k(parse_kernel(name));
    double sum = 0;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        if (i != j) sum += k.inner(X.row(i).data(), X.row(j).data(), 3);
    BOOST_TEST(svm.kernel_function().gamma == 12.0 / sum, boost::test_tools::tolerance(1e-14));
    // Decisions through libsvm's own precomputed-kernel prediction agree.
    const Eigen::VectorXd x = X.row(2).transpose();
    BOOST_TEST(svm.decision(0, x) == svm.libsvm_decision(0, x));
    // LRP needs an additive kernel; the message says what to use instead.
    try {
      decompose_svm(svm, 0, x, BiasPolicy::none);
      BOOST_FAIL("an exact decomposition of " + name + " was accepted");
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find("Taylor") != std::string::npos, e.what());
    }
  }
  // All training vectors equal: no mean distance to set gamma from.
  SvmOptions rbf;
  rbf.kernel = KernelType::rbf;
  BOOST_CHECK_THROW(OneVsRestSvm::train(RowMatrixXd::Ones(3, 2), {0, 1, 0}, 2, rbf), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(taylor_decomposition)

BOOST_AUTO_TEST_CASE(hand_computed_linear_case) {
  // f(x) = <(1, 2), x> - 1; x = (1, 1): f = 2; x' = (0, 0): f = -1.
  // Root: f(a x) = 3a - 1 = 0, a = 1/3, x0 = (1/3, 1/3); R = (1, 2) * (2/3, 2/3).
  RowMatrixXd sv(1, 2);
  sv << 1, 2;
  const OneVsRestSvm svm(KernelType::linear, sv, {BinaryMachine{{0}, {1.0}, 1.0}});
  const Eigen::VectorXd x = Eigen::VectorXd::Ones(2);
  TaylorOptions options;
  options.tolerance = 1e-14;
  const SvmTaylorRelevance t = taylor_decompose_svm(svm, 0, x, one_reference(Eigen::VectorXd::Zero(2), "origin"), options);
  BOOST_TEST(std::abs(t.a - 1.0 / 3) <= 1e-13);
  BOOST_TEST(std::abs(t.relevance[0] - 2.0 / 3) <= 1e-13);
  BOOST_TEST(std::abs(t.relevance[1] - 4.0 / 3) <= 1e-13);
  BOOST_TEST(std::abs(t.root_score) <= 1e-14);
  BOOST_TEST(std::abs(t.higher_order()) <= 1e-13);  // f is linear
  BOOST_TEST(t.reference_score == -1.0);
  BOOST_TEST(t.reference_name == "origin");
  BOOST_TEST(t.layer.relevance_in == 2.0);
  BOOST_TEST(std::abs(t.layer.unaccounted()) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(hand_computed_rbf_case) {
  // f(x) = exp(-x^2) - 1/2 in one dimension, x = 0.5, x' = 2.
  // Root x0 = sqrt(ln 2); gradient there -2 x0 exp(-x0^2) = -x0; R = -x0 (0.5 - x0).
  RowMatrixXd sv = RowMatrixXd::Zero(1, 1);
  const OneVsRestSvm svm(Kernel::rbf(1.0), sv, {BinaryMachine{{0}, {1.0}, 0.5}});
  const Eigen::VectorXd x = Eigen::VectorXd::Constant(1, 0.5);
  TaylorOptions options;
  options.tolerance = 1e-13;
  const SvmTaylorRelevance t =
      taylor_decompose_svm(svm, 0, x, one_reference(Eigen::VectorXd::Constant(1, 2.0), "two"), options);
  const double x0 = std::sqrt(std::log(2.0));
  BOOST_TEST(std::abs(t.root[0] - x0) <= 1e-12);
  BOOST_TEST(std::abs(t.a - (2.0 - x0) / 1.5) <= 1e-12);
  BOOST_TEST(std::abs(t.gradient[0] + x0) <= 1e-12);
  BOOST_TEST(std::abs(t.relevance[0] - x0 * (x0 - 0.5)) <= 1e-12);
  BOOST_TEST(std::abs(t.score - (std::exp(-0.25) - 0.5)) <= 1e-15);
  // residual f(x) - R = exp(-1/4) - 1/2 - x0 (x0 - 1/2) = 0.0018566...
  BOOST_TEST(std::abs(t.residual() - (std::exp(-0.25) - 0.5 - x0 * (x0 - 0.5))) <= 1e-12);
  BOOST_TEST(std::abs(t.layer.absorbed - t.residual()) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(root_nearest_to_x_on_the_segment) {
  // f along the segment (x at a = 1, x' at a = 0) has roots at a = 0.1, 0.6
  // and 0.8: the scan from x finds 0.8; plain bisection of [0, 1] would go to
  // 0.1, since f(0.5) has the sign of f(1).
  const Eigen::VectorXd x = Eigen::VectorXd::Ones(1), ref = Eigen::VectorXd::Zero(1);
  auto f = [](const Eigen::VectorXd& p) { return -(p[0] - 0.1) * (p[0] - 0.6) * (p[0] - 0.8); };
  const double fx = f(x), fref = f(ref);
  BOOST_REQUIRE(fx < 0);
  BOOST_REQUIRE(fref > 0);
  TaylorOptions options;
  options.tolerance = 1e-14;
  const SegmentRoot r = find_root_on_segment(f, x, fx, ref, fref, options);
  BOOST_TEST(f(Eigen::VectorXd::Constant(1, 0.5)) < 0);
  BOOST_TEST(std::abs(r.a - 0.8) <= 1e-13);
  BOOST_TEST(std::abs(r.score) <= 1e-14);
  // Same signs: an error, not a silent fallback.
  BOOST_CHECK_THROW(find_root_on_segment(f, x, fx, Eigen::VectorXd::Constant(1, 2.0), f(Eigen::VectorXd::Constant(1, 2.0)),
                                         options),
                    std::runtime_error);
  // A tolerance double precision cannot reach is reported.
  auto noisy = [](const Eigen::VectorXd& p) { return p[0] > 0.5 ? 1.0 : -1.0; };
  BOOST_CHECK_THROW(find_root_on_segment(noisy, x, 1.0, ref, -1.0, options), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(fast_taylor_matches_slow_reference_for_every_kernel) {
  std::mt19937 rng(5);
  for (const Kernel& kernel : every_kernel()) {
    BOOST_TEST_CONTEXT(kernel.describe()) {
      // Candidates: random histograms; x: one with the largest |f|.
      RowMatrixXd candidates(30, 6);
      std::uniform_real_distribution<double> value(0.05, 1.0);
      for (long r = 0; r < candidates.rows(); ++r)
        for (int d = 0; d < 6; ++d) candidates(r, d) = value(rng);
      const OneVsRestSvm svm = centred(random_svm(kernel, 8, 6, rng), candidates);
      Eigen::VectorXd x = candidates.row(0).transpose();
      for (long r = 1; r < candidates.rows(); ++r)
        if (std::abs(svm.decision(0, candidates.row(r).transpose())) > std::abs(svm.decision(0, x)))
          x = candidates.row(r).transpose();
      ReferencePoints refs{"random histograms", candidates, {}};
      for (long r = 0; r < candidates.rows(); ++r) refs.names.push_back("candidate " + std::to_string(r));
      TaylorOptions options;
      options.tolerance = 1e-12;
      options.scan_steps = 1;  // plain bisection of the whole segment, as the slow reference
      const SvmTaylorRelevance fast = taylor_decompose_svm(svm, 0, x, refs, options);
      // The reference is the nearest candidate of the other sign.
      double nearest = INFINITY;
      for (long r = 0; r < candidates.rows(); ++r)
        if (svm.decision(0, candidates.row(r).transpose()) * fast.score < 0)
          nearest = std::min(nearest, (candidates.row(r).transpose() - x).norm());
      BOOST_TEST(fast.reference_distance == nearest);
      BOOST_TEST(std::abs(fast.root_score) <= 1e-12);
      Eigen::VectorXd slow_root;
      const Eigen::VectorXd slow = slow_taylor(svm, x, fast.reference, &slow_root);
      BOOST_TEST((fast.root - slow_root).lpNorm<Eigen::Infinity>() <= 1e-9);
      BOOST_TEST(relative_error(fast.relevance, slow) <= 1e-6, relative_error(fast.relevance, slow));
      BOOST_TEST(std::abs(fast.first_order_sum + fast.higher_order() + fast.root_score - fast.score) <= 1e-14);
    }
  }
}

BOOST_AUTO_TEST_CASE(linear_kernel_taylor_equals_exact_decomposition_of_the_difference) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> value(0.0, 1.0);
  RowMatrixXd sample(50, 12);
  for (long r = 0; r < 50; ++r)
    for (int d = 0; d < 12; ++d) sample(r, d) = value(rng);
  const OneVsRestSvm svm = centred(random_svm(Kernel(KernelType::linear), 7, 12, rng), sample);
  int checked = 0;
  for (int trial = 0; trial < 20; ++trial) {
    Eigen::VectorXd x(12), ref(12);
    for (int d = 0; d < 12; ++d) {
      x[d] = value(rng);
      ref[d] = value(rng);
    }
    if (svm.decision(0, x) * svm.decision(0, ref) >= 0) continue;
    const SvmTaylorRelevance t = taylor_decompose_svm(svm, 0, x, one_reference(ref, "r"), TaylorOptions{});
    const Eigen::VectorXd exact = decompose_svm(svm, 0, x, BiasPolicy::none).relevance -
                                  decompose_svm(svm, 0, t.root, BiasPolicy::none).relevance;
    BOOST_TEST((t.relevance - exact).lpNorm<Eigen::Infinity>() <= 1e-14);
    BOOST_TEST(std::abs(t.first_order_sum - (t.score - t.root_score)) <= 1e-14);
    ++checked;
  }
  BOOST_TEST(checked >= 5);
}

BOOST_AUTO_TEST_CASE(no_reference_of_the_other_sign_is_an_error) {
  RowMatrixXd sv(1, 2);
  sv << 1, 2;
  const OneVsRestSvm svm(KernelType::linear, sv, {BinaryMachine{{0}, {1.0}, -5.0}});  // f = <w, x> + 5 > 0 on histograms
  RowMatrixXd candidates = RowMatrixXd::Identity(2, 2);
  try {
    taylor_decompose_svm(svm, 0, Eigen::VectorXd::Ones(2), {"support vectors", candidates, {"a", "b"}}, TaylorOptions{});
    BOOST_FAIL("no error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("none of the 2 support vectors has a score of the opposite sign") !=
                   std::string::npos,
               e.what());
  }
  try {
    taylor_decompose_svm(svm, 0, Eigen::VectorXd::Ones(2), one_reference(Eigen::VectorXd::Zero(2), "zero.npy"),
                         TaylorOptions{});
    BOOST_FAIL("no error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("zero.npy") != std::string::npos, e.what());
  }
}

// The bow_toy Taylor cases (expchi2, reference sv[1]):
// tests/data/bow_toy/README.md.
BOOST_AUTO_TEST_CASE(bow_toy_taylor_cases) {
  const test::BowToy bow;
  const nlohmann::json& toy = bow.toy;
  auto check = [](const Eigen::VectorXd& got, const std::vector<double>& expected, double tol, const char* what) {
    BOOST_REQUIRE_EQUAL(got.size(), static_cast<long>(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i)
      BOOST_TEST(std::abs(got[i] - expected[i]) <= tol, what << " " << i << ": " << got[i] << " vs " << expected[i]);
  };

  int checked = 0;
  for (const auto& tc : toy["cases"]) {
    if (tc["policy"] != "taylor") continue;
    BOOST_TEST_CONTEXT(tc["coding"].get<std::string>() << "/expchi2/taylor") {
      const BowEncoding e = bow.encode(tc);
      check(e.histogram, tc["x"].get<std::vector<double>>(), 1e-15, "x");

      BOOST_TEST(tc["kernel"] == "expchi2");
      const OneVsRestSvm svm(Kernel::exp_chi2(tc["gamma"].get<double>()), bow.sv,
                             {BinaryMachine{{0, 1, 2}, toy["coef"].get<std::vector<double>>(), -tc["b"].get<double>()}});
      BOOST_TEST(std::abs(svm.decision(0, e.histogram) - tc["f"].get<double>()) <= 1e-14);
      check(decision_gradient(svm, 0, e.histogram), tc["grad_x"].get<std::vector<double>>(), 1e-13, "grad_x");

      TaylorOptions options;
      options.tolerance = 1e-15;
      const Eigen::VectorXd ref = bow.sv.row(1).transpose();
      check(ref, tc["x_ref"].get<std::vector<double>>(), 0, "x_ref");
      const SvmTaylorRelevance t = taylor_decompose_svm(svm, 0, e.histogram, one_reference(ref, "sv[1]"), options);
      BOOST_TEST(std::abs(t.a - tc["a"].get<double>()) <= 1e-12);
      BOOST_TEST(std::abs(t.root_score) <= 1e-15);
      check(t.root, tc["x0"].get<std::vector<double>>(), 1e-12, "x0");
      check(t.gradient, tc["grad_x0"].get<std::vector<double>>(), 1e-12, "grad_x0");
      check(t.relevance, tc["R3"].get<std::vector<double>>(), 1e-12, "R3");
      BOOST_TEST(std::abs(std::abs(t.residual()) / std::abs(t.score) - tc["taylor_residual"].get<double>()) <= 1e-10);

      const Relevance r2 = pool_relevance(e, t.relevance);
      check(r2.relevance, tc["R2"].get<std::vector<double>>(), 1e-12, "R2");
      const Relevance r1 = spread_to_pixels(bow.frames, r2.relevance, bow.width, bow.height);
      const auto expected = tc["R1"].get<std::vector<std::vector<double>>>();
      for (int y = 0; y < bow.height; ++y)
        for (int x = 0; x < bow.width; ++x) BOOST_TEST(std::abs(pixel_map(r1.relevance, bow.width, bow.height)(y, x) - expected[y][x]) <= 1e-12);
      const auto sums = tc["sums"].get<std::vector<double>>();
      BOOST_TEST(std::abs(t.first_order_sum - sums[0]) <= 1e-12);
      BOOST_TEST(std::abs(r2.account.relevance_out - sums[1]) <= 1e-12);
      BOOST_TEST(std::abs(r1.account.relevance_out - sums[2]) <= 1e-12);
      // R3 on bins absent from the image (x_d = 0, x0_d != 0) cannot reach a feature.
      BOOST_TEST(std::abs(r2.account.unassigned - (sums[0] - sums[1])) <= 1e-12);
      ++checked;
    }
  }
  BOOST_TEST(checked == 2);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- real images ----

namespace {

PipelineConfig tiny_config(const std::string& kernel) {
  nlohmann::json c = test::tiny_config_json(kernel);
  // A linear kernel on L1-normalised histograms has tiny values: with C = 10
  // it underfits so much that no support vector has a positive score.
  if (kernel == "linear") c["svm"]["C"] = 1000;
  return PipelineConfig::parse(c);
}

struct Models {
  Dataset train = load_dataset("fashion-mnist:train:120");
  Dataset test = load_dataset("fashion-mnist:test:4");
  std::map<std::string, BowModel> by_kernel;
  Models() {
    for (const char* k : {"linear", "chi2", "hik", "expchi2", "rbf", "poly"})
      by_kernel.emplace(k, BowModel::train(tiny_config(k), train, nullptr));
  }
};
Models& models() {
  static Models m;
  return m;
}

ExplainOptions taylor_options(const std::string& reference, double tolerance = 1e-9) {
  ExplainOptions o;
  o.method = ExplainMethod::taylor;
  o.reference = TaylorReference::parse(reference);
  o.taylor.tolerance = tolerance;
  return o;
}

// What every explanation conserves: the score is the pixel sum plus what was
// absorbed (bias, Taylor residual) and what could not be passed on.
void check_conservation(const BowExplanation& e, double tol) {
  double absorbed = 0, unassigned = 0;
  for (const auto& layer : e.layers) {
    absorbed += layer.absorbed;
    unassigned += layer.unassigned;
    BOOST_TEST(std::abs(layer.unaccounted()) <= tol, layer.name);
  }
  BOOST_TEST(std::abs(e.score - e.pixel_sum - absorbed - unassigned) <= tol);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(real_images)

BOOST_AUTO_TEST_CASE(roots_within_tolerance_on_images_of_both_signs_for_every_kernel) {
  for (auto& [kernel, model] : models().by_kernel) {
    int positive = 0, negative = 0;
    for (const auto& image : models().test.images)
      for (int c : {-1, (image.label + 3) % 10})
        for (const std::string reference : {"nearest", "mean"})
          for (double tolerance : {1e-6, 1e-11}) {
            BOOST_TEST_CONTEXT(kernel << " " << image.name << " class " << c << " " << reference << " " << tolerance) {
              const BowExplanation e = explain(model, image.gray, c, taylor_options(reference, tolerance), image.name);
              BOOST_REQUIRE(e.taylor.has_value());
              const SvmTaylorRelevance& t = *e.taylor;
              (e.score > 0 ? positive : negative) += 1;
              BOOST_TEST(std::abs(t.root_score) <= tolerance);
              BOOST_TEST(t.reference_score * e.score < 0);
              BOOST_TEST(std::abs(t.score - e.score) <= 1e-12 * std::max(1.0, std::abs(e.score)));
              BOOST_TEST((e.method == ExplainMethod::taylor));
              // x0 on the segment, and the root is nearer to x than the reference.
              const Eigen::VectorXd x = model.forward(image.gray, image.name).encoding.histogram;
              BOOST_TEST(((t.a * x + (1 - t.a) * t.reference) - t.root).lpNorm<Eigen::Infinity>() <= 1e-15);
              BOOST_TEST(t.root_distance <= t.reference_distance);
              BOOST_TEST(std::abs(e.layers[0].absorbed - t.residual()) <= 1e-15);
              check_conservation(e, 1e-9 * std::max(1.0, std::abs(e.score)));
            }
          }
    BOOST_TEST(positive >= 4, kernel);
    BOOST_TEST(negative >= 4, kernel);
  }
}

BOOST_AUTO_TEST_CASE(linear_model_taylor_is_exact_lrp_of_the_difference_on_real_images) {
  const BowModel& model = models().by_kernel.at("linear");
  for (const auto& image : models().test.images) {
    const BowExplanation t = explain(model, image.gray, -1, taylor_options("nearest"), image.name);
    const Eigen::VectorXd exact = decompose_svm(test::svm_of(model), t.class_index, model.forward(image.gray, "x").encoding.histogram,
                                                BiasPolicy::none)
                                      .relevance -
                                  decompose_svm(test::svm_of(model), t.class_index, t.taylor->root, BiasPolicy::none).relevance;
    BOOST_TEST((t.bin_relevance - exact).lpNorm<Eigen::Infinity>() <= 1e-13);
    BOOST_TEST(std::abs(t.taylor->higher_order()) <= 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(additive_kernels_taylor_residual_is_reported_and_compared_with_exact) {
  // Taylor on the same model as the exact decomposition: its residual
  // f(x) - sum R is what the exact decomposition (policy nonzero) does not have.
  for (const char* kernel : {"chi2", "hik"}) {
    const BowModel& model = models().by_kernel.at(kernel);
    for (const auto& image : models().test.images) {
      BOOST_TEST_CONTEXT(kernel << " " << image.name) {
        const BowExplanation exact = explain(model, image.gray, -1, BiasPolicy::nonzero, image.name);
        const BowExplanation taylor = explain(model, image.gray, -1, taylor_options("nearest"), image.name);
        BOOST_TEST(std::abs(exact.residual()) <= 1e-9);
        BOOST_TEST(std::abs(taylor.score - exact.score) <= 1e-12 * std::max(1.0, std::abs(exact.score)));
        const double relative = std::abs(taylor.taylor->residual()) / std::abs(taylor.score);
        BOOST_TEST_MESSAGE(kernel << " " << image.name << ": Taylor relative residual " << relative);
        BOOST_TEST(std::isfinite(relative));
        BOOST_TEST(std::abs(taylor.taylor->residual() - (taylor.taylor->root_score + taylor.taylor->higher_order())) <=
                   1e-15);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(models_with_parametrised_kernels_round_trip_exactly) {
  test::ScratchDir dir("taylor-model");
  for (const char* kernel : {"expchi2", "poly"}) {
    const BowModel& model = models().by_kernel.at(kernel);
    const SvmOptions& options = model.config.section<SvmSection>()->options;
    BOOST_TEST(options.gamma.has_value());  // the "mean" rule's value is stored
    BOOST_TEST(*options.gamma == test::svm_of(model).kernel_function().gamma);
    const std::string path = dir / kernel;
    model.save(path);
    const nlohmann::json manifest = test::read_json(path + "/manifest.json");
    BOOST_TEST(manifest["pipeline"]["svm"]["gamma"].get<double>() == test::svm_of(model).kernel_function().gamma);
    const BowModel again = BowModel::load(path);
    BOOST_TEST((test::svm_of(again).kernel_function() == test::svm_of(model).kernel_function()));
    BOOST_TEST(again.config.to_json() == model.config.to_json());
    BOOST_TEST((again.class_means.array() == model.class_means.array()).all());
    BOOST_TEST((again.class_counts == model.class_counts));
    for (const auto& image : models().test.images) {
      const auto a = model.forward(image.gray, "a"), b = again.forward(image.gray, "b");
      for (int c = 0; c < 10; ++c) BOOST_TEST(a.scores[c] == b.scores[c]);
      const BowExplanation ea = explain(model, image.gray, -1, taylor_options("mean"), image.name);
      const BowExplanation eb = explain(again, image.gray, -1, taylor_options("mean"), image.name);
      BOOST_TEST((ea.pixels.array() == eb.pixels.array()).all());
    }
  }
  // The class means are the means of the training histograms.
  const BowModel& model = models().by_kernel.at("rbf");
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(model.dimension());
  long count = 0;
  for (const auto& image : models().train.images)
    if (image.label == 4) {
      mean += model.histogram(image.gray, image.name);
      ++count;
    }
  BOOST_TEST(count == model.class_counts[4]);
  BOOST_TEST((model.class_means.row(4).transpose() - mean / count).lpNorm<Eigen::Infinity>() <= 1e-15);
}

BOOST_AUTO_TEST_CASE(kernel_parameters_in_the_configuration) {
  auto parse = [](const char* text) { return PipelineConfig::parse(nlohmann::json::parse(text)); };
  const PipelineConfig rbf = parse(R"({"svm": {"kernel": "rbf", "gamma": 0.25}})");
  BOOST_TEST(*rbf.section<SvmSection>()->options.gamma == 0.25);
  BOOST_TEST(rbf.to_json()["svm"]["gamma"] == 0.25);
  BOOST_TEST(parse(R"({"svm": {"kernel": "expchi2"}})").to_json()["svm"]["gamma"] == "mean");
  const PipelineConfig poly = parse(R"({"svm": {"kernel": "poly", "gamma": "mean", "degree": 3, "coef0": 0.5}})");
  BOOST_TEST(poly.section<SvmSection>()->options.degree == 3);
  BOOST_TEST(poly.to_json()["svm"]["coef0"] == 0.5);
  BOOST_TEST(!poly.section<SvmSection>()->options.gamma.has_value());
  // Additive kernels keep their section as before.
  BOOST_TEST(!parse(R"({"svm": {"kernel": "hik"}})").to_json()["svm"].contains("gamma"));
  for (const char* bad : {R"({"svm": {"kernel": "hik", "gamma": 0.5}})", R"({"svm": {"kernel": "rbf", "gamma": -1}})",
                          R"({"svm": {"kernel": "rbf", "gamma": "median"}})", R"({"svm": {"kernel": "rbf", "degree": 3}})",
                          R"({"svm": {"kernel": "poly", "degree": 0}})",
                          R"({"svm": {"kernel": "rbf", "multiclass": "one_vs_one"}})"})
    BOOST_CHECK_THROW(parse(bad), std::invalid_argument);
  // LRP of a non-additive model is refused with a pointer to Taylor.
  const auto& image = models().test.images[0];
  try {
    explain(models().by_kernel.at("rbf"), image.gray, -1, BiasPolicy::nonzero, image.name);
    BOOST_FAIL("no error");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("Taylor") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- tiles ----

BOOST_AUTO_TEST_SUITE(tiles)

BOOST_AUTO_TEST_CASE(layout_and_averaging_by_hand) {
  // 5 x 4 image, tiles 3 x 3 every 2: columns 0, 2; rows 0 and 1 (the last
  // flush with the bottom edge).
  const std::vector<Tile> tiles = tile_layout(5, 4, TileOptions{3, 2});
  BOOST_REQUIRE_EQUAL(tiles.size(), 4u);
  const int expected[4][2] = {{0, 0}, {2, 0}, {0, 1}, {2, 1}};
  for (int t = 0; t < 4; ++t) {
    BOOST_TEST(tiles[t].x == expected[t][0]);
    BOOST_TEST(tiles[t].y == expected[t][1]);
    BOOST_TEST(tiles[t].width == 3);
    BOOST_TEST(tiles[t].height == 3);
  }
  // Constant maps 1, 2, 3, 4.
  std::vector<RowMatrixXd> maps;
  for (int t = 0; t < 4; ++t) maps.push_back(RowMatrixXd::Constant(3, 3, t + 1.0));
  RowMatrixXd coverage;
  const RowMatrixXd mean = average_over_tiles(5, 4, tiles, maps, &coverage);
  RowMatrixXd want(4, 5), want_coverage(4, 5);
  want << 1, 1, 1.5, 2, 2,
          2, 2, 2.5, 3, 3,
          2, 2, 2.5, 3, 3,
          3, 3, 3.5, 4, 4;
  want_coverage << 1, 1, 2, 1, 1,
                   2, 2, 4, 2, 2,
                   2, 2, 4, 2, 2,
                   1, 1, 2, 1, 1;
  BOOST_TEST((mean - want).cwiseAbs().maxCoeff() <= 1e-15);
  BOOST_TEST((coverage - want_coverage).cwiseAbs().maxCoeff() == 0.0);
  // Maps that differ inside a tile: tile t at local (r, c) holds (t + 1)(1 + 3r + c).
  for (int t = 0; t < 4; ++t)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) maps[t](r, c) = (t + 1) * (1 + 3 * r + c);
  const RowMatrixXd varied = average_over_tiles(5, 4, tiles, maps);
  // (2, 1): tile 0 at (1, 2) -> 6, tile 1 at (1, 0) -> 2 * 4, tile 2 at (0, 2) -> 3 * 3, tile 3 at (0, 0) -> 4.
  BOOST_TEST(varied(1, 2) == 27.0 / 4);
  BOOST_TEST(varied(3, 4) == 36.0);  // tile 3 only, at (2, 2): 4 * 9
  BOOST_TEST(varied(0, 0) == 1.0);   // tile 0 only, at (0, 0)
  // Tiles larger than the image: one tile, the whole image.
  const std::vector<Tile> one = tile_layout(28, 28, TileOptions{});
  BOOST_REQUIRE_EQUAL(one.size(), 1u);
  BOOST_TEST(one[0].width == 28);
  // 28 pixels, tiles of 20 every 4: 0, 4, 8 in each direction.
  BOOST_TEST(tile_layout(28, 28, TileOptions{20, 4}).size() == 9u);
  BOOST_TEST(tile_layout(30, 28, TileOptions{20, 4}).size() == 12u);  // columns 0, 4, 8, 10
  BOOST_CHECK_THROW(TileOptions::parse("102"), std::invalid_argument);
  BOOST_CHECK_THROW(TileOptions::parse("0,34"), std::invalid_argument);
  BOOST_CHECK_THROW(TileOptions::parse("10,x"), std::invalid_argument);
  BOOST_TEST(TileOptions::parse("102,34").offset == 34);
}

BOOST_AUTO_TEST_CASE(each_tile_conserves_what_a_whole_image_explanation_conserves) {
  const auto& image = models().test.images[1];
  for (const char* kernel : {"hik", "expchi2"}) {
    const BowModel& model = models().by_kernel.at(kernel);
    const ExplainOptions options = std::string(kernel) == "hik" ? ExplainOptions{} : taylor_options("nearest");
    int checks = 0;  // the interrupt check runs before every tile
    const TiledExplanation t =
        explain_tiled(model, image.gray, -1, options, TileOptions{20, 4}, image.name, -1, [&] { ++checks; });
    BOOST_REQUIRE_EQUAL(t.tiles.size(), 9u);
    BOOST_TEST(checks == 9);
    checks = 0;
    BOOST_CHECK_THROW(explain_tiled(model, image.gray, -1, options, TileOptions{20, 4}, image.name, -1,
                                    [&] {
                                      if (++checks == 4) throw std::runtime_error("stop");
                                    }),
                      std::runtime_error);
    BOOST_TEST(checks == 4);
    BOOST_TEST(t.class_index == t.predicted);
    std::vector<RowMatrixXd> maps;
    for (size_t i = 0; i < t.tiles.size(); ++i) {
      BOOST_TEST_CONTEXT(kernel << " tile " << i) {
        const BowExplanation& e = t.explanations[i];
        const Tile& tile = t.tiles[i];
        const cv::Mat crop = image.gray(cv::Rect(tile.x, tile.y, tile.width, tile.height)).clone();
        // Each tile is classified on its own, for the same class.
        BOOST_TEST(e.class_index == t.class_index);
        BOOST_TEST(e.score == model.forward(crop, "crop").scores[t.class_index]);
        check_conservation(e, 1e-9 * std::max(1.0, std::abs(e.score)));
        if (std::string(kernel) == "hik") BOOST_TEST(std::abs(e.pixel_sum - e.score) <= 1e-9);  // policy nonzero: exact
        maps.push_back(e.pixels);
      }
    }
    // The averaged map, recomputed pixel by pixel.
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        double sum = 0;
        int n = 0;
        for (size_t i = 0; i < t.tiles.size(); ++i) {
          const Tile& tile = t.tiles[i];
          if (x >= tile.x && x < tile.x + tile.width && y >= tile.y && y < tile.y + tile.height) {
            sum += maps[i](y - tile.y, x - tile.x);
            ++n;
          }
        }
        BOOST_TEST(n >= 1);
        BOOST_TEST(t.coverage(y, x) == n);
        BOOST_TEST(std::abs(t.pixels(y, x) - sum / n) <= 1e-15);
      }
    // One tile covering the whole image is the plain explanation.
    const TiledExplanation whole = explain_tiled(model, image.gray, -1, options, TileOptions{}, image.name);
    const BowExplanation plain = explain(model, image.gray, -1, options, image.name);
    BOOST_TEST((whole.pixels.array() == plain.pixels.array()).all());
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the command line ----

BOOST_AUTO_TEST_CASE(cli_taylor_tiles_and_bad_input) {
  test::ScratchDir dir("taylor-cli");
  const std::string model_dir = dir / "model";
  models().by_kernel.at("expchi2").save(model_dir);
  const BowModel model = BowModel::load(model_dir);
  const std::string out = dir / "out";
  auto r = test::run_cli("explain --model " + model_dir + " --out " + out +
                         " --method taylor --reference mean --root-tolerance 1e-10 fashion-mnist:test@2");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const ImageSample image = load_image_reference("fashion-mnist:test@2");
  const BowExplanation e = explain(model, image.gray, -1, taylor_options("mean", 1e-10), image.name);
  nlohmann::json j = test::read_json(out + "/fashion-mnist-test-2.json");
  BOOST_TEST(j["method"] == "taylor");
  BOOST_TEST(!j.contains("bias_policy"));
  BOOST_TEST(j["taylor"]["root_score"].get<double>() == e.taylor->root_score);
  BOOST_TEST(std::abs(j["taylor"]["root_score"].get<double>()) <= 1e-10);
  BOOST_TEST(j["taylor"]["first_order_sum"].get<double>() == e.taylor->first_order_sum);
  BOOST_TEST(j["taylor"]["reference"].get<std::string>().find("mean training histogram") == 0);
  BOOST_TEST(j["taylor"]["residuals"].size() == 3u);
  BOOST_TEST(j["taylor"]["residuals"][2]["residual"].get<double>() == e.score - e.pixels.sum());
  BOOST_TEST((parse_npy_f8(read_file(out + "/fashion-mnist-test-2.npy"), "npy").array() == e.pixels.array()).all());
  BOOST_TEST(r.output.find("root score") != std::string::npos, r.output);

  r = test::run_cli("explain --model " + model_dir + " --out " + out + " --method taylor --tiles 20,4 fashion-mnist:test@2");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  j = test::read_json(out + "/fashion-mnist-test-2.json");
  BOOST_TEST(j["tiles"].size() == 9u);
  BOOST_TEST(j["tile_size"] == 20);
  BOOST_TEST(j["tiles"][4]["x"] == 4);
  BOOST_TEST(j["tiles"][4]["method"] == "taylor");
  const TiledExplanation t = explain_tiled(model, image.gray, -1, taylor_options("nearest"), TileOptions{20, 4}, image.name);
  for (size_t i = 0; i < 9; ++i) BOOST_TEST(j["tiles"][i]["score"].get<double>() == t.explanations[i].score);
  BOOST_TEST((parse_npy_f8(read_file(out + "/fashion-mnist-test-2.npy"), "npy").array() == t.pixels.array()).all());

  // A reference of the wrong dimension, a missing one, and option mistakes:
  // errors naming the problem, nothing written.
  const std::string wrong = dir / "wrong.npy", bad_out = dir / "bad-out";
  write_file_atomically(wrong, npy_bytes(RowMatrixXd(RowMatrixXd::Ones(1, 7))));
  struct Case {
    std::string arguments, must_name;
  };
  const std::vector<Case> cases{
      {"--method taylor --reference " + wrong, "wrong.npy"},
      {"--method taylor --reference " + dir / "absent.npy", "absent.npy"},
      {"--method taylor --reference somewhere", "somewhere"},
      {"--method taylor --root-tolerance -1", "tolerance"},
      {"--method taylor --bias-policy none", "bias-policy"},
      {"--reference mean", "--method taylor"},
      {"--tiles 0,4", "tiles"},
      {"--tiles 20", "SIZE,OFFSET"},
      {"", "Taylor"},  // LRP of an expchi2 model
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.arguments) {
      r = test::run_cli("explain --model " + model_dir + " --out " + bad_out + " " + c.arguments + " fashion-mnist:test@2");
      BOOST_TEST(r.exit_code != 0);
      BOOST_TEST(r.output.find(c.must_name) != std::string::npos, r.output);
      BOOST_TEST((!fs::exists(bad_out) || fs::is_empty(bad_out)), "output written despite the error");
    }
  }
}
