// Per-dimension tables for additive-kernel SVMs (classifiers/additive_tables.hpp;
// Maji, Berg, Malik 2008): a hand case, and the fast pass against the direct
// kernel sum (decisions, kernel_terms) on random machines of every additive kernel.
#include <boost/test/unit_test.hpp>
#include <random>
#include <thread>

#include "pixelwise/classifiers/additive_tables.hpp"
#include "pixelwise/classifiers/svm.hpp"

using namespace pixelwise;

namespace {

// A random one-vs-rest model: `rows` support vectors of sparse histograms
// (some values repeated, so that sorted tables hold ties), machines over
// random subsets of the rows with coefficients of both signs.
OneVsRestSvm random_model(KernelType kernel, long rows, long dimension, int classes, unsigned seed, bool signed_values) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  RowMatrixXd sv = RowMatrixXd::Zero(rows, dimension);
  for (long u = 0; u < rows; ++u)
    for (long d = 0; d < dimension; ++d) {
      if (uniform(rng) < 0.4) continue;
      double v = uniform(rng) < 0.3 ? 0.25 : uniform(rng);  // 0.25: a tie shared by many rows
      if (signed_values && uniform(rng) < 0.3) v = -v;
      sv(u, d) = v;
    }
  std::vector<BinaryMachine> machines(classes);
  for (auto& m : machines) {
    for (long u = 0; u < rows; ++u)
      if (uniform(rng) < 0.6) {
        m.support.push_back(static_cast<int>(u));
        m.coef.push_back((uniform(rng) - 0.5) * 10);
      }
    m.rho = uniform(rng) - 0.5;
  }
  return OneVsRestSvm(Kernel(kernel), std::move(sv), std::move(machines));
}

Eigen::VectorXd random_input(long dimension, std::mt19937& rng, bool signed_values, const RowMatrixXd& sv) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(dimension);
  for (long d = 0; d < dimension; ++d) {
    const double p = uniform(rng);
    if (p < 0.3) continue;
    // Some inputs hit a support-vector value exactly (a breakpoint of h for hik).
    x[d] = p < 0.45 ? sv(static_cast<long>(rng() % sv.rows()), d) : uniform(rng);
    if (signed_values && uniform(rng) < 0.3) x[d] = -x[d];
  }
  return x;
}

// The size of the summands of f_c(x): bounds the rounding of any summation order.
double scale(const OneVsRestSvm& svm, int c, const Eigen::VectorXd& x) {
  const BinaryMachine& m = svm.machine(c);
  double s = std::abs(m.rho);
  for (size_t i = 0; i < m.support.size(); ++i)
    for (long d = 0; d < x.size(); ++d)
      s += std::abs(m.coef[i] * kernel_term(svm.kernel(), svm.support_vectors()(m.support[i], d), x[d]));
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(intersection_table_by_hand) {
  // Two support vectors in 2 dimensions; h_d(s) = sum_i coef_i min(v_i, s).
  RowMatrixXd sv(2, 2);
  sv << 0.2, 0.0,
        0.6, 0.5;
  BinaryMachine m;
  m.support = {0, 1};
  m.coef = {2.0, -1.0};
  m.rho = 0.1;
  const OneVsRestSvm svm(Kernel(KernelType::intersection), sv, {m});
  Eigen::VectorXd x(2);
  x << 0.4, 0.3;
  // d = 0: 2 min(0.2, 0.4) - min(0.6, 0.4) = 0.4 - 0.4 = 0; d = 1: 2 * 0 - min(0.5, 0.3) = -0.3.
  const AdditiveEvaluation e = svm.evaluate_additive(x);
  BOOST_TEST(e.bins == std::vector<long>({0, 1}));
  BOOST_TEST(std::abs(e.terms(0, 0) - 0.0) <= 1e-15);
  BOOST_TEST(std::abs(e.terms(1, 0) + 0.3) <= 1e-15);
  BOOST_TEST(std::abs(e.scores[0] - (-0.3 - 0.1)) <= 1e-15);
  // Below every value, above every value, exactly on a breakpoint, and negative (the zero entry counts s).
  x << 0.1, 0.0;
  BOOST_TEST(std::abs(svm.evaluate_additive(x).scores[0] - (2 * 0.1 - 0.1 - 0.1)) <= 1e-15);
  BOOST_TEST(svm.evaluate_additive(x).bins == std::vector<long>({0}));  // x_1 = 0 is not visited
  x << 0.9, 0.5;
  BOOST_TEST(std::abs(svm.evaluate_additive(x).scores[0] - (0.4 - 0.6 - 0.5 - 0.1)) <= 1e-15);
  x << 0.0, -0.2;  // d = 1: 2 min(0, -0.2) - min(0.5, -0.2) = -0.4 + 0.2
  BOOST_TEST(std::abs(svm.evaluate_additive(x).scores[0] - (-0.2 - 0.1)) <= 1e-15);
  BOOST_TEST(std::abs(svm.evaluate_additive(x).scores[0] - svm.decision(0, x)) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(tables_agree_with_the_direct_kernel_sum_for_every_additive_kernel) {
  // Histograms (non-negative) for every kernel; signed values too for all but chi2.
  const std::vector<std::pair<KernelType, bool>> cases{
      {KernelType::linear, false},       {KernelType::intersection, false}, {KernelType::chi2, false},
      {KernelType::hellinger, false},    {KernelType::linear, true},        {KernelType::intersection, true},
      {KernelType::hellinger, true}};
  for (const auto& [kernel, signed_values] : cases) {
    const OneVsRestSvm svm = random_model(kernel, 60, 40, 4, 7, signed_values);
    std::mt19937 rng(3);
    double worst = 0;
    for (int trial = 0; trial < 25; ++trial) {
      const Eigen::VectorXd x = random_input(40, rng, signed_values, svm.support_vectors());
      const AdditiveEvaluation e = svm.evaluate_additive(x);
      const Eigen::VectorXd direct = svm.decisions(x);
      for (int c = 0; c < svm.classes(); ++c) {
        const double tolerance = 1e-12 * scale(svm, c, x);
        BOOST_TEST(std::abs(e.scores[c] - direct[c]) <= tolerance, kernel_name(kernel) << " class " << c);
        worst = std::max(worst, std::abs(e.scores[c] - direct[c]) / scale(svm, c, x));
        // The per-bin terms are the exact decomposition's forward record, bin by bin.
        const Eigen::VectorXd fast = e.class_terms(c, x.size()), slow = svm.kernel_terms(c, x);
        for (long d = 0; d < x.size(); ++d) BOOST_TEST(std::abs(fast[d] - slow[d]) <= tolerance);
        // k_d(u, 0) = 0 (for hik only when u >= 0, so the signed hik model has nonzero terms there).
        if (kernel != KernelType::intersection || !signed_values)
          for (long d = 0; d < x.size(); ++d)
            if (x[d] == 0.0) BOOST_TEST(fast[d] == 0.0);
      }
    }
    BOOST_TEST_MESSAGE(kernel_name(kernel) << (signed_values ? " (signed)" : "") << ": largest |fast - direct| / scale = " << worst);
  }
}

// The checkpoints of hik tables (every `block` entries of a dimension's sorted
// values): any block size gives the direct sum, on random models and on
// l1-normalised sparse histograms like BoW's, whose values spread over orders
// of magnitude (the case where removing entries from a checkpoint's sums
// could lose precision).
BOOST_AUTO_TEST_CASE(intersection_checkpoints_of_every_block_size_agree_with_the_direct_sum) {
  for (const bool histograms : {false, true})
    for (const bool signed_values : {false, true}) {
      if (histograms && signed_values) continue;
      OneVsRestSvm svm = random_model(KernelType::intersection, 300, 30, 5, 13, signed_values);
      std::mt19937 rng(17);
      if (histograms) {  // rows: sparse counts with a heavy tail, l1-normalised
        RowMatrixXd sv = svm.support_vectors();
        std::geometric_distribution<int> counts(0.02);
        for (long u = 0; u < sv.rows(); ++u) {
          for (long d = 0; d < sv.cols(); ++d) sv(u, d) = rng() % 3 == 0 ? 0.0 : counts(rng) + 1.0;
          if (sv.row(u).sum() > 0) sv.row(u) /= sv.row(u).sum();
        }
        std::vector<BinaryMachine> machines;
        for (int c = 0; c < svm.classes(); ++c) machines.push_back(svm.machine(c));
        svm = OneVsRestSvm(Kernel(KernelType::intersection), sv, machines);
      }
      std::vector<BinaryMachine> machines;
      for (int c = 0; c < svm.classes(); ++c) machines.push_back(svm.machine(c));
      for (const long block : {1L, 2L, 7L, 16L, 64L, 1000L}) {
        const AdditiveTables tables(KernelType::intersection, svm.support_vectors(), machines, block);
        double worst = 0;
        for (int trial = 0; trial < 20; ++trial) {
          Eigen::VectorXd x = random_input(30, rng, signed_values, svm.support_vectors());
          if (histograms) x = x.cwiseAbs() / x.cwiseAbs().sum();
          const AdditiveEvaluation e = tables.evaluate(x);
          const Eigen::VectorXd direct = svm.decisions(x);
          for (int c = 0; c < svm.classes(); ++c) {
            const double sc = scale(svm, c, x);
            BOOST_TEST(std::abs(e.scores[c] - direct[c]) <= 1e-12 * sc, "block " << block << " class " << c);
            const Eigen::VectorXd fast = e.class_terms(c, x.size()), slow = svm.kernel_terms(c, x);
            for (long d = 0; d < x.size(); ++d) BOOST_TEST(std::abs(fast[d] - slow[d]) <= 1e-12 * sc);
            worst = std::max(worst, std::abs(e.scores[c] - direct[c]) / sc);
          }
        }
        BOOST_TEST_MESSAGE((histograms ? "histograms" : signed_values ? "signed" : "random") << ", block " << block
                                                                                            << ": largest |fast - direct| / scale = " << worst);
      }
    }
}

// More than 65536 support vectors: rows are stored in 4 bytes instead of 2.
BOOST_AUTO_TEST_CASE(tables_of_more_than_65536_support_vectors) {
  const long rows = 65536 + 40;
  std::mt19937 rng(23);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  RowMatrixXd sv = RowMatrixXd::Zero(rows, 2);
  for (long u = 0; u < rows; ++u)
    for (long d = 0; d < 2; ++d) sv(u, d) = uniform(rng) < 0.5 ? 0.0 : uniform(rng);
  std::vector<BinaryMachine> machines(2);
  for (auto& m : machines) {
    for (long u = 0; u < rows; u += 1 + static_cast<long>(rng() % 3)) {
      m.support.push_back(static_cast<int>(u));
      m.coef.push_back(uniform(rng) - 0.5);
    }
    m.rho = 0.25;
  }
  // The last rows, beyond 65535, carry the weight: a 2-byte row would wrap to the first rows.
  for (auto& m : machines) {
    m.support.push_back(static_cast<int>(rows - 1));
    m.coef.push_back(100.0);
  }
  sv(rows - 1, 0) = 0.9;
  sv(rows - 1, 1) = 0.8;
  for (const KernelType kernel : {KernelType::intersection, KernelType::chi2}) {
    const OneVsRestSvm svm(Kernel(kernel), sv, machines);
    for (int trial = 0; trial < 5; ++trial) {
      Eigen::VectorXd x(2);
      x << uniform(rng), uniform(rng);
      const AdditiveEvaluation e = svm.evaluate_additive(x);
      const Eigen::VectorXd direct = svm.decisions(x);
      for (int c = 0; c < 2; ++c) BOOST_TEST(std::abs(e.scores[c] - direct[c]) <= 1e-12 * scale(svm, c, x), kernel_name(kernel));
    }
  }
}

BOOST_AUTO_TEST_CASE(tables_built_concurrently_give_the_sequential_results) {
  const OneVsRestSvm svm = random_model(KernelType::intersection, 80, 50, 3, 11, false);
  std::mt19937 rng(5);
  std::vector<Eigen::VectorXd> inputs;
  for (int i = 0; i < 16; ++i) inputs.push_back(random_input(50, rng, false, svm.support_vectors()));
  // Copies share the lazily built tables; the first calls race to build them.
  std::vector<Eigen::VectorXd> parallel(inputs.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < inputs.size(); i += 4) parallel[i] = svm.evaluate_additive(inputs[i]).scores;
    });
  for (auto& th : threads) th.join();
  const OneVsRestSvm fresh = random_model(KernelType::intersection, 80, 50, 3, 11, false);
  for (size_t i = 0; i < inputs.size(); ++i) BOOST_TEST(parallel[i] == fresh.evaluate_additive(inputs[i]).scores);
}

BOOST_AUTO_TEST_CASE(non_additive_kernels_and_bad_inputs_are_refused) {
  const OneVsRestSvm svm = random_model(KernelType::linear, 5, 4, 2, 1, false);
  BOOST_CHECK_THROW(svm.evaluate_additive(Eigen::VectorXd::Zero(3)), std::invalid_argument);
  BOOST_CHECK_THROW(svm.evaluate_additive(Eigen::VectorXd::Zero(4)).class_terms(2, 4), std::out_of_range);
  const OneVsRestSvm rbf(Kernel::rbf(0.5), svm.support_vectors(), {svm.machine(0)});
  BOOST_CHECK_THROW(rbf.evaluate_additive(Eigen::VectorXd::Zero(4)), std::invalid_argument);
  // An all-zero input visits no bin: the decision is -rho.
  const AdditiveEvaluation e = svm.evaluate_additive(Eigen::VectorXd::Zero(4));
  BOOST_TEST(e.bins.empty());
  BOOST_TEST(e.scores[1] == -svm.machine(1).rho);
}
