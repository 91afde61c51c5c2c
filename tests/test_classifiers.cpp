// Kernels and the one-vs-rest libsvm SVMs (docs/design.md 1.4).
#include <boost/test/unit_test.hpp>
#include <random>

#include "pixelwise/classifiers/svm.hpp"
#include "test_support.hpp"

using namespace pixelwise;

using test::clustered_histograms;

BOOST_AUTO_TEST_CASE(kernel_terms_by_hand) {
  BOOST_TEST(kernel_term(KernelType::linear, 0.5, 0.4) == 0.2);
  BOOST_TEST(kernel_term(KernelType::intersection, 0.5, 0.4) == 0.4);
  BOOST_TEST(std::abs(kernel_term(KernelType::chi2, 0.5, 0.4) - 0.4 / 0.9) <= 1e-16);
  BOOST_TEST(kernel_term(KernelType::chi2, 0.0, 0.0) == 0.0);  // 0 when u + v = 0
  for (auto k : {KernelType::linear, KernelType::intersection, KernelType::chi2}) {
    BOOST_TEST(kernel_term(k, 0.7, 0.0) == 0.0);  // k_d(u, 0) = 0: absent bins get no relevance
    BOOST_TEST((parse_kernel(kernel_name(k)) == k));
  }
  const double a[3] = {0.2, 0.3, 0.5}, b[3] = {0.4, 0.0, 0.6};
  BOOST_TEST(std::abs(kernel_value(KernelType::intersection, a, b, 3) - 0.7) <= 1e-15);
  BOOST_CHECK_THROW(parse_kernel("rbf-ish"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(decisions_equal_libsvm_predict_values_to_the_last_bit) {
  RowMatrixXd X;
  std::vector<int> y;
  clustered_histograms(X, y, 30, 11);
  for (const char* kernel : {"linear", "hik", "chi2"}) {
    SvmOptions options;
    options.kernel = parse_kernel(kernel);
    options.C = 5;
    const OneVsRestSvm svm = OneVsRestSvm::train(X, y, 3, options);
    BOOST_TEST(svm.classes() == 3);
    BOOST_TEST(svm.support_vectors().rows() > 0);
    RowMatrixXd T;
    std::vector<int> ty;
    clustered_histograms(T, ty, 10, 12);
    int correct = 0;
    for (long i = 0; i < T.rows(); ++i) {
      const Eigen::VectorXd f = svm.decisions(T.row(i).transpose());
      for (int c = 0; c < 3; ++c) BOOST_TEST(f[c] == svm.libsvm_decision(c, T.row(i).transpose()), kernel);
      int best;
      f.maxCoeff(&best);
      correct += best == ty[i];
    }
    // The clusters are easy: a working SVM is far above chance (1/3).
    BOOST_TEST(correct >= 24, kernel << ": " << correct << "/30");
    // The per-dimension terms add up to the decision (the basis of the exact decomposition).
    const Eigen::VectorXd x = T.row(0).transpose();
    for (int c = 0; c < 3; ++c)
      BOOST_TEST(std::abs(svm.kernel_terms(c, x).sum() - svm.machine(c).rho - svm.decision(c, x)) <= 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(saved_and_reloaded_machines_decide_identically) {
  RowMatrixXd X;
  std::vector<int> y;
  clustered_histograms(X, y, 20, 3);
  const OneVsRestSvm svm = OneVsRestSvm::train(X, y, 3, SvmOptions{});
  test::ScratchDir dir("svm");
  std::vector<std::string> paths;
  for (int c = 0; c < 3; ++c) {
    paths.push_back(dir / ("m" + std::to_string(c)));
    svm.save_machine(c, paths.back());
  }
  const OneVsRestSvm again = OneVsRestSvm::load(svm.kernel(), svm.support_vectors(), paths);
  for (long i = 0; i < X.rows(); ++i)
    for (int c = 0; c < 3; ++c) BOOST_TEST(again.decision(c, X.row(i).transpose()) == svm.decision(c, X.row(i).transpose()));
}

BOOST_AUTO_TEST_CASE(orientation_follows_the_class_whatever_libsvm_saw_first) {
  // First training sample negative for class 1: libsvm's label order is then (-1, +1).
  RowMatrixXd X(4, 2);
  X << 1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9;
  const OneVsRestSvm svm = OneVsRestSvm::train(X, {0, 0, 1, 1}, 2, SvmOptions{});
  BOOST_TEST(svm.decision(0, X.row(0).transpose()) > 0);
  BOOST_TEST(svm.decision(1, X.row(0).transpose()) < 0);
  BOOST_TEST(svm.decision(1, X.row(2).transpose()) > 0);
}

BOOST_AUTO_TEST_CASE(bad_training_input_and_damaged_model_files) {
  RowMatrixXd X(3, 2);
  X << 1, 0, 0, 1, 0.5, 0.5;
  BOOST_CHECK_THROW(OneVsRestSvm::train(X, {0, 0, 0}, 2, SvmOptions{}), std::runtime_error);  // class 1 empty
  BOOST_CHECK_THROW(OneVsRestSvm::train(RowMatrixXd(0, 2), {}, 2, SvmOptions{}), std::runtime_error);
  RowMatrixXd bad = X;
  bad(1, 1) = std::nan("");
  BOOST_CHECK_THROW(OneVsRestSvm::train(bad, {0, 1, 0}, 2, SvmOptions{}), std::runtime_error);
  SvmOptions negative_c;
  negative_c.C = -1;
  BOOST_CHECK_THROW(negative_c.validate(), std::invalid_argument);

  test::ScratchDir dir("svm-bad");
  const std::string garbage = dir / "garbage.model";
  { std::ofstream(garbage) << "this is not a model\n"; }
  BOOST_CHECK_THROW(OneVsRestSvm::load(KernelType::linear, X, {garbage}), std::runtime_error);
  BOOST_CHECK_THROW(OneVsRestSvm::load(KernelType::linear, X, {dir / "missing.model"}), std::runtime_error);
  // A model whose support vector names a row the table does not have.
  const OneVsRestSvm svm = OneVsRestSvm::train(X, {0, 1, 0}, 2, SvmOptions{});
  svm.save_machine(0, dir / "ok.model");
  BOOST_CHECK_THROW(OneVsRestSvm::load(KernelType::linear, X.topRows(1), {dir / "ok.model"}), std::runtime_error);
  BOOST_CHECK_THROW(svm.decision(0, Eigen::VectorXd::Zero(5)), std::invalid_argument);
  BOOST_CHECK_THROW(svm.machine(7), std::out_of_range);
}
