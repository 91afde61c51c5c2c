// Linear SVMs on homogeneous kernel maps (classifiers/homkermap_svm.hpp):
// the map approximates the additive kernels, the per-bin decomposition adds up
// to the decision exactly and equals the plain dot product, training is seeded.
#include <boost/test/unit_test.hpp>
#include <random>

#include "pixelwise/classifiers/homkermap_svm.hpp"
#include "pixelwise/classifiers/svm.hpp"
#include "test_support.hpp"

using namespace pixelwise;

using test::clustered_histograms;

BOOST_AUTO_TEST_CASE(the_map_approximates_the_kernel_terms) {
  for (const char* kernel : {"chi2", "hik"}) {
    FeatureMapOptions o;
    o.kernel = parse_kernel(kernel);
    o.order = 3;
    const HomogeneousKernelMap map(o);
    BOOST_TEST(map.expansion() == 7);
    std::vector<double> zero(7, 1.0);
    map.map(0.0, zero.data());
    for (double z : zero) BOOST_TEST(z == 0.0);  // psi(0) = 0: absent bins carry no relevance
    double worst = 0, worst_near = 0;  // all pairs; pairs with 1/10 <= u/v <= 10
    for (double u : {0.01, 0.05, 0.1, 0.3, 0.7, 1.0})
      for (double v : {0.01, 0.05, 0.1, 0.3, 0.7, 1.0}) {
        std::vector<double> a(7), b(7);
        map.map(u, a.data());
        map.map(v, b.data());
        double dot = 0;
        for (int j = 0; j < 7; ++j) dot += a[j] * b[j];
        const double exact = kernel_term(parse_kernel(kernel), u, v);
        const double error = std::abs(dot - exact) / std::sqrt(u * v);
        worst = std::max(worst, error);
        if (u / v <= 10 && v / u <= 10) worst_near = std::max(worst_near, error);
      }
    // Relative to sqrt(uv), the scale of both kernels (measured for VLFeat's
    // order-3 maps: chi2 0.005 everywhere; hik, whose spectrum decays slowly,
    // 0.33 at u/v = 100 and about 0.1 within a factor 10).
    const bool chi2 = std::string(kernel) == "chi2";
    BOOST_TEST(worst < (chi2 ? 5e-3 : 0.35), kernel << ": " << worst);
    BOOST_TEST(worst_near < (chi2 ? 5e-3 : 0.12), kernel << ": " << worst_near);
    BOOST_TEST_MESSAGE(kernel << ": largest |psi(u).psi(v) - k(u, v)| / sqrt(uv) = " << worst << " (u/v within 10: "
                              << worst_near << ")");
  }
  FeatureMapOptions bad;
  bad.kernel = KernelType::rbf;
  BOOST_CHECK_THROW(HomogeneousKernelMap{bad}, std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bin_terms_sum_to_the_decision_and_equal_the_dot_product) {
  RowMatrixXd X, T;
  std::vector<int> y, ty;
  clustered_histograms(X, y, 40, 11);
  clustered_histograms(T, ty, 10, 12);
  for (const char* kernel : {"chi2", "hik"}) {
    FeatureMapOptions map;
    map.kernel = parse_kernel(kernel);
    LinearSvmOptions options;
    options.C = 5;
    const MappedLinearSvm svm = MappedLinearSvm::train(X, y, 3, map, options);
    BOOST_TEST(svm.dimension() == 6);
    BOOST_TEST(svm.weights().cols() == 6 * 5);
    int correct = 0;
    for (long i = 0; i < T.rows(); ++i) {
      const Eigen::VectorXd x = T.row(i).transpose();
      const AdditiveEvaluation e = svm.evaluate(x);
      const Eigen::VectorXd dot = svm.decisions(x);
      for (int c = 0; c < 3; ++c) {
        BOOST_TEST(std::abs(e.scores[c] - dot[c]) <= 1e-12 * (1 + svm.weights().row(c).cwiseAbs().sum()));
        // R_d = sum over the bin's expanded dimensions; the terms plus b are the score.
        const Eigen::VectorXd terms = e.class_terms(c, 6);
        for (long d = 0; d < 6; ++d) {
          const Eigen::VectorXd psi = svm.feature_map().map(Eigen::VectorXd::Constant(1, x[d]));
          BOOST_TEST(std::abs(terms[d] - svm.weights().row(c).segment(d * 5, 5).dot(psi)) <= 1e-14);
          if (x[d] == 0.0) BOOST_TEST(terms[d] == 0.0);
        }
        BOOST_TEST(std::abs(terms.sum() + svm.bias()[c] - e.scores[c]) <= 1e-14);
      }
      int best;
      e.scores.maxCoeff(&best);
      correct += best == ty[i];
    }
    BOOST_TEST(correct >= 24, kernel << ": " << correct << "/30");  // as the kernel SVMs of test_classifiers.cpp
    // Seeded: training again gives the same weights, whatever the threads.
    BOOST_TEST((MappedLinearSvm::train(X, y, 3, map, options).weights() == svm.weights()));
    for (const int threads : {1, 3}) {
      LinearSvmOptions threaded = options;
      threaded.threads = threads;
      const MappedLinearSvm again = MappedLinearSvm::train(X, y, 3, map, threaded);
      BOOST_TEST((again.weights() == svm.weights()), threads << " threads");
      BOOST_TEST((again.bias() == svm.bias()), threads << " threads");
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_training_input_is_rejected) {
  RowMatrixXd X(3, 2);
  X << 1, 0, 0, 1, 0.5, 0.5;
  BOOST_CHECK_THROW(MappedLinearSvm::train(X, {0, 1}, 2, {}, {}), std::invalid_argument);
  BOOST_CHECK_THROW(MappedLinearSvm::train(X, {0, 1, 2}, 2, {}, {}), std::invalid_argument);
  LinearSvmOptions negative;
  negative.C = -1;
  BOOST_CHECK_THROW(MappedLinearSvm::train(X, {0, 1, 0}, 2, {}, negative), std::invalid_argument);
  const MappedLinearSvm svm = MappedLinearSvm::train(X, {0, 1, 0}, 2, {}, {});
  BOOST_CHECK_THROW(svm.evaluate(Eigen::VectorXd::Zero(3)), std::invalid_argument);
}

// The linear kernel's map is the identity (order 0): SDCA then trains plain
// linear SVMs, whose bin terms are w_cd x_d (docs/design.md 1.8).
BOOST_AUTO_TEST_CASE(the_linear_kernel_maps_by_the_identity) {
  FeatureMapOptions map;
  map.kernel = KernelType::linear;
  map.order = 0;
  const HomogeneousKernelMap identity(map);
  BOOST_TEST(identity.expansion() == 1);
  Eigen::VectorXd v(4);
  v << -2.5, 0.0, 1e-9, 3.25;
  BOOST_TEST((identity.map(v) == v));
  FeatureMapOptions ordered = map;
  ordered.order = 2;
  BOOST_CHECK_THROW(HomogeneousKernelMap{ordered}, std::invalid_argument);
  RowMatrixXd X, T;
  std::vector<int> y, ty;
  clustered_histograms(X, y, 40, 11);
  clustered_histograms(T, ty, 10, 12);
  LinearSvmOptions options;
  options.C = 5;
  const MappedLinearSvm svm = MappedLinearSvm::train(X, y, 3, map, options);
  BOOST_TEST(svm.weights().cols() == 6);
  int correct = 0;
  for (long i = 0; i < T.rows(); ++i) {
    const Eigen::VectorXd x = T.row(i).transpose();
    const AdditiveEvaluation e = svm.evaluate(x);
    for (int c = 0; c < 3; ++c) {
      const Eigen::VectorXd terms = e.class_terms(c, 6);
      for (long d = 0; d < 6; ++d) BOOST_TEST(terms[d] == svm.weights()(c, d) * x[d]);
      BOOST_TEST(std::abs(e.scores[c] - (svm.weights().row(c).dot(x) + svm.bias()[c])) <= 1e-14);
    }
    int best;
    e.scores.maxCoeff(&best);
    correct += best == ty[i];
  }
  BOOST_TEST(correct >= 24, correct << "/30");
}
