// Fisher vectors and VLAD (docs/design.md 1.8): the per-descriptor terms sum to
// VLFeat's vl_fisher_encode / vl_vlad_encode, agree with slow reference
// implementations written from the formulas, and the mapping rule takes
// relevance to descriptors exactly (eps = 0) or with its loss reported.
#include <boost/test/unit_test.hpp>

#include <Eigen/QR>
#include <cmath>
#include <random>

#include "pixelwise/decomposition/baselines.hpp"
#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "pixelwise/features/fisher.hpp"
#include "test_support.hpp"

extern "C" {
#include <vl/fisher.h>
#include <vl/gmm.h>
#include <vl/vlad.h>
}

using namespace pixelwise;

namespace {

RowMatrixXd random_matrix(long rows, long cols, std::mt19937_64& rng, double scale = 1.0) {
  std::normal_distribution<double> n(0.0, scale);
  RowMatrixXd m(rows, cols);
  for (long i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

Gmm random_gmm(int K, int D, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.2, 1.0);
  Gmm g;
  g.means = random_matrix(K, D, rng, 1.5);
  g.variances = RowMatrixXd(K, D);
  for (long i = 0; i < g.variances.size(); ++i) g.variances.data()[i] = u(rng) + 0.3;
  g.priors = Eigen::VectorXd(K);
  for (int k = 0; k < K; ++k) g.priors[k] = u(rng);
  g.priors /= g.priors.sum();
  return g;
}

// Two pyramid levels: the whole image (cell 0) and two halves (cells 1, 2).
std::vector<std::vector<int>> two_levels(long M) {
  std::vector<std::vector<int>> cells(M);
  for (long l = 0; l < M; ++l) cells[l] = {0, 1 + static_cast<int>(l % 2)};
  return cells;
}

RowMatrixXd rows_of_cell(const RowMatrixXd& x, const std::vector<std::vector<int>>& cells, int c) {
  std::vector<long> pick;
  for (long l = 0; l < x.rows(); ++l)
    for (int k : cells[l])
      if (k == c) pick.push_back(l);
  RowMatrixXd out(pick.size(), x.cols());
  for (size_t i = 0; i < pick.size(); ++i) out.row(i) = x.row(pick[i]);
  return out;
}

double max_relative(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0, b.cwiseAbs().maxCoeff());
}

// Slow reference (docs/design.md 1.8), written from the formulas: explicit
// posteriors by log-sum-exp, and the full term matrix Z (one row per
// descriptor and cell, one column per dimension of the whole vector).
RowMatrixXd reference_fisher_terms(const Gmm& g, const RowMatrixXd& x, const std::vector<std::vector<int>>& cells,
                                   int n_cells) {
  const int K = g.components(), D = g.dimension();
  const long block = 2L * K * D;
  std::vector<int> count(n_cells, 0);
  for (const auto& list : cells)
    for (int c : list) ++count[c];
  RowMatrixXd Z = RowMatrixXd::Zero(x.rows() * n_cells, block * n_cells);
  for (long l = 0; l < x.rows(); ++l) {
    std::vector<double> logp(K);
    double top = -INFINITY;
    for (int k = 0; k < K; ++k) {
      double s = std::log(g.priors[k]);
      for (int j = 0; j < D; ++j) {
        const double t = x(l, j) - g.means(k, j);
        s -= 0.5 * (std::log(g.variances(k, j)) + t * t / g.variances(k, j));
      }
      logp[k] = s;
      top = std::max(top, s);
    }
    double total = 0;
    for (int k = 0; k < K; ++k) total += std::exp(logp[k] - top);
    for (int c : cells[l])
      for (int k = 0; k < K; ++k) {
        const double q = std::exp(logp[k] - top) / total;
        if (q < 1e-6 || g.priors[k] < 1e-6) continue;  // VLFeat's thresholds
        const double N = count[c];
        for (int j = 0; j < D; ++j) {
          const double u = (x(l, j) - g.means(k, j)) / std::sqrt(g.variances(k, j));
          Z(l * n_cells + c, c * block + k * D + j) = q * u / (N * std::sqrt(g.priors[k]));
          Z(l * n_cells + c, c * block + K * D + k * D + j) = q * (u * u - 1) / (N * std::sqrt(2 * g.priors[k]));
        }
      }
  }
  return Z;
}

RowMatrixXd reference_vlad_terms(const RowMatrixXd& centres, const RowMatrixXd& assign, const RowMatrixXd& x,
                                 const std::vector<std::vector<int>>& cells, int n_cells) {
  const long K = centres.rows(), D = centres.cols(), block = K * D;
  RowMatrixXd Z = RowMatrixXd::Zero(x.rows() * n_cells, block * n_cells);
  for (long l = 0; l < x.rows(); ++l)
    for (int c : cells[l])
      for (long k = 0; k < K; ++k)
        for (long j = 0; j < D; ++j)
          Z(l * n_cells + c, c * block + k * D + j) = assign(l, k) * (x(l, j) - centres(k, j));
  return Z;
}

// Codes from a dense assignment matrix (rows sum to 1).
Codes codes_of(const RowMatrixXd& assign) {
  Codes codes;
  codes.words = static_cast<int>(assign.cols());
  for (long l = 0; l < assign.rows(); ++l) {
    for (long k = 0; k < assign.cols(); ++k)
      if (assign(l, k) > 0) {
        codes.word.push_back(static_cast<int>(k));
        codes.weight.push_back(assign(l, k));
      }
    codes.offsets.push_back(static_cast<int>(codes.word.size()));
  }
  return codes;
}

RowMatrixXd soft_assignments(long M, long K, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  RowMatrixXd a(M, K);
  for (long l = 0; l < M; ++l) {
    for (long k = 0; k < K; ++k) a(l, k) = u(rng) < 0.4 ? 0.0 : u(rng);
    if (a.row(l).sum() == 0) a(l, l % K) = 1;
    a.row(l) /= a.row(l).sum();
  }
  return a;
}

RowMatrixXd hard_assignments(const RowMatrixXd& x, const RowMatrixXd& centres) {
  RowMatrixXd a = RowMatrixXd::Zero(x.rows(), centres.rows());
  for (long l = 0; l < x.rows(); ++l) {
    Eigen::Index best;
    (centres.rowwise() - x.row(l)).rowwise().squaredNorm().minCoeff(&best);
    a(l, best) = 1;
  }
  return a;
}

}  // namespace

BOOST_AUTO_TEST_CASE(fisher_terms_sum_to_vl_fisher_encode_per_cell) {
  std::mt19937_64 rng(7);
  const int K = 5, D = 6, M = 41, cells = 3;
  const Gmm g = random_gmm(K, D, rng);
  const RowMatrixXd x = random_matrix(M, D, rng, 1.5);
  const auto cells_of = two_levels(M);
  // flags: plain, square root, normalised, improved
  for (int flags : {0, VL_FISHER_FLAG_SQUARE_ROOT, VL_FISHER_FLAG_NORMALIZED, VL_FISHER_FLAG_IMPROVED}) {
    MappingOptions o;
    o.type = MappingType::fisher;
    o.square_root = flags & VL_FISHER_FLAG_SQUARE_ROOT;
    o.normalised = flags & VL_FISHER_FLAG_NORMALIZED;
    const TermEncoding e = fisher_encode(g, x, cells_of, cells, o);
    BOOST_REQUIRE_EQUAL(e.size(), cells * 2L * K * D);
    for (int c = 0; c < cells; ++c) {
      const RowMatrixXd xc = rows_of_cell(x, cells_of, c);
      Eigen::VectorXd vl(2 * K * D), raw(2 * K * D);
      vl_fisher_encode(vl.data(), VL_TYPE_DOUBLE, g.means.data(), D, K, g.variances.data(), g.priors.data(), xc.data(),
                       xc.rows(), flags);
      vl_fisher_encode(raw.data(), VL_TYPE_DOUBLE, g.means.data(), D, K, g.variances.data(), g.priors.data(),
                       xc.data(), xc.rows(), 0);
      BOOST_TEST(max_relative(e.encoded.segment(c * 2 * K * D, 2 * K * D), vl) < 1e-12);
      BOOST_TEST(max_relative(e.sums.segment(c * 2 * K * D, 2 * K * D), raw) < 1e-12);
    }
  }
}

BOOST_AUTO_TEST_CASE(gmm_posteriors_by_matrix_product_equal_vlfeat_and_the_formula) {
  // Descriptors far from the means (distances in the hundreds: the expanded
  // Mahalanobis form cancels) and a component with a prior below VLFeat's
  // 1e-6, which gets no posterior.
  std::mt19937_64 rng(5);
  const int K = 7, D = 24, M = 300;
  Gmm g = random_gmm(K, D, rng);
  g.priors[3] = 5e-7;
  g.priors /= g.priors.sum();
  const RowMatrixXd x = random_matrix(M, D, rng, 6.0);
  const RowMatrixXd q = gmm_posteriors(g, x);
  RowMatrixXd vl(M, K);
  vl_get_gmm_data_posteriors_d(vl.data(), K, M, g.priors.data(), g.means.data(), D, g.variances.data(), x.data());
  // The formula, slowly: log(prior_k N(x | mu_k, s_k)) by the direct sum, then normalised.
  RowMatrixXd slow(M, K);
  for (long i = 0; i < M; ++i) {
    Eigen::VectorXd log_p(K);
    for (int k = 0; k < K; ++k) {
      double mahalanobis = 0, log_det = 0;
      for (int d = 0; d < D; ++d) {
        mahalanobis += std::pow(x(i, d) - g.means(k, d), 2) / g.variances(k, d);
        log_det += std::log(g.variances(k, d));
      }
      log_p[k] = g.priors[k] < 1e-6 ? -INFINITY : std::log(g.priors[k]) - 0.5 * log_det - 0.5 * mahalanobis;
    }
    Eigen::VectorXd e(K);
    for (int k = 0; k < K; ++k) e[k] = std::exp(log_p[k] - log_p.maxCoeff());
    slow.row(i) = (e / e.sum()).transpose();
  }
  BOOST_TEST(q.col(3).cwiseAbs().maxCoeff() == 0.0);
  BOOST_TEST((q - slow).cwiseAbs().maxCoeff() < 1e-12);
  BOOST_TEST((q - vl).cwiseAbs().maxCoeff() < 1e-12);
  BOOST_TEST((q.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-14);
  // Not a degenerate case: posteriors are spread, not all 0 or 1.
  BOOST_TEST(((q.array() > 1e-3) && (q.array() < 0.999)).count() > M / 5);
}

BOOST_AUTO_TEST_CASE(fisher_fast_code_agrees_with_slow_reference) {
  std::mt19937_64 rng(11);
  const int K = 4, D = 3, M = 29, cells = 3;
  const Gmm g = random_gmm(K, D, rng);
  const RowMatrixXd x = random_matrix(M, D, rng, 1.5);
  const auto cells_of = two_levels(M);
  MappingOptions o;
  o.type = MappingType::fisher;
  const TermEncoding e = fisher_encode(g, x, cells_of, cells, o);
  const RowMatrixXd Z = reference_fisher_terms(g, x, cells_of, cells);
  BOOST_TEST(max_relative(e.sums, Z.colwise().sum().transpose()) < 1e-12);
  // The fast code's terms, entry by entry, are the reference matrix's entries.
  RowMatrixXd fast = RowMatrixXd::Zero(Z.rows(), Z.cols());
  for (const auto& entry : e.entries)
    e.terms(entry, [&](long bin, double z) { fast(entry.feature * cells + entry.cell, bin) += z; });
  BOOST_TEST((fast - Z).cwiseAbs().maxCoeff() < 1e-12 * std::max(1.0, Z.cwiseAbs().maxCoeff()));
  // The relevance rule on the reference matrix: R_l = sum_d R_d z_ld / s_d.
  const Eigen::VectorXd R = random_matrix(e.size(), 1, rng);
  const Eigen::VectorXd s = Z.colwise().sum().transpose();
  Eigen::VectorXd expected = Eigen::VectorXd::Zero(M);
  double unassigned = 0;
  for (long d = 0; d < e.size(); ++d) {
    if (s[d] == 0) {
      unassigned += R[d];
      continue;
    }
    for (long r = 0; r < Z.rows(); ++r) expected[r / cells] += R[d] * Z(r, d) / s[d];
  }
  const Relevance got = term_relevance(e, R);
  BOOST_TEST(max_relative(got.relevance, expected) < 1e-12);
  BOOST_TEST(got.account.unassigned == unassigned);
  BOOST_TEST(got.account.name == "fisher");
  BOOST_TEST(std::abs(got.account.unaccounted()) < 1e-12 * std::max(1.0, R.cwiseAbs().sum()));
}

BOOST_AUTO_TEST_CASE(vlad_terms_sum_to_vl_vlad_encode_hard_and_soft) {
  std::mt19937_64 rng(3);
  const int K = 4, D = 5, M = 33, cells = 3;
  const RowMatrixXd centres = random_matrix(K, D, rng, 1.5);
  const RowMatrixXd x = random_matrix(M, D, rng, 1.5);
  const auto cells_of = two_levels(M);
  for (bool soft : {false, true}) {
    const RowMatrixXd assign = soft ? soft_assignments(M, K, rng) : hard_assignments(x, centres);
    const Codes codes = codes_of(assign);
    const RowMatrixXd Z = reference_vlad_terms(centres, assign, x, cells_of, cells);
    for (int flags : {VL_VLAD_FLAG_UNNORMALIZED, VL_VLAD_FLAG_SQUARE_ROOT | VL_VLAD_FLAG_UNNORMALIZED, 0,
                      VL_VLAD_FLAG_NORMALIZE_COMPONENTS,
                      VL_VLAD_FLAG_SQUARE_ROOT | VL_VLAD_FLAG_NORMALIZE_COMPONENTS}) {
      MappingOptions o;
      o.type = MappingType::vlad;
      o.square_root = flags & VL_VLAD_FLAG_SQUARE_ROOT;
      o.intra = flags & VL_VLAD_FLAG_NORMALIZE_COMPONENTS;
      o.normalised = !(flags & VL_VLAD_FLAG_UNNORMALIZED);
      const TermEncoding e = vlad_encode(centres, codes, x, cells_of, cells, o);
      BOOST_TEST(max_relative(e.sums, Z.colwise().sum().transpose()) < 1e-12);
      for (int c = 0; c < cells; ++c) {
        const RowMatrixXd xc = rows_of_cell(x, cells_of, c);
        const RowMatrixXd ac = rows_of_cell(assign, cells_of, c);
        Eigen::VectorXd vl(K * D);
        vl_vlad_encode(vl.data(), VL_TYPE_DOUBLE, centres.data(), D, K, xc.data(), xc.rows(), ac.data(), flags);
        BOOST_TEST(max_relative(e.encoded.segment(c * K * D, K * D), vl) < 1e-12);
      }
    }
  }
}

// Two components far apart (means (0,0) and (10,0), unit variances, priors
// 1/2): every posterior is 1 or below VLFeat's 1e-6, so the terms are
// hand-computable. Descriptors (1,0) and (0,2) belong to component 1, (10,1)
// to component 2; N = 3, 1/(N sqrt(pi)) = sqrt(2)/3, 1/(N sqrt(2 pi)) = 1/3.
BOOST_AUTO_TEST_CASE(fisher_hand_computed_two_components) {
  Gmm g;
  g.priors = Eigen::Vector2d(0.5, 0.5);
  g.means = RowMatrixXd(2, 2);
  g.means << 0, 0, 10, 0;
  g.variances = RowMatrixXd::Ones(2, 2);
  RowMatrixXd x(3, 2);
  x << 1, 0, 0, 2, 10, 1;
  MappingOptions o;
  o.type = MappingType::fisher;
  const TermEncoding e = fisher_encode(g, x, {{0}, {0}, {0}}, 1, o);
  const double r2 = std::sqrt(2.0);
  // layout: mean k1 (2), mean k2 (2), variance k1 (2), variance k2 (2)
  Eigen::VectorXd s(8);
  s << r2 / 3, 2 * r2 / 3, 0, r2 / 3, -1.0 / 3, 2.0 / 3, -1.0 / 3, 0;
  BOOST_TEST(max_relative(e.sums, s) < 1e-15);
  Eigen::VectorXd R(8);
  R << 1, 2, 3, 4, 5, 6, 7, 8;
  // l1: R_0 * 1 + R_5 * (-1/3)/(2/3) = 1 - 3 = -2
  // l2: R_1 * 1 + R_4 * 1 + R_5 * 1/(2/3) = 2 + 5 + 9 = 16
  // l3: R_3 * 1 + R_6 * 1 = 11; dimensions 2 and 7 (s = 0) are unassigned: 3 + 8.
  const Relevance r = term_relevance(e, R);
  BOOST_TEST(r.relevance[0] == -2.0, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(r.relevance[1] == 16.0, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(r.relevance[2] == 11.0, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(r.account.unassigned == 11.0);
  BOOST_TEST(r.account.absorbed == 0.0);
  const Eigen::VectorXd per_component = component_relevance(e, R);
  BOOST_TEST(per_component[0] == 1 + 2 + 5 + 6);
  BOOST_TEST(per_component[1] == 3 + 4 + 7 + 8);
  // epsilon 0.5: dimension 0 has s = sqrt(2)/3 and mean |z| = (sqrt(2)/3)/3, so
  // its denominator is s (1 + 0.5/3) and l1 receives 6/7 of R_0; dimension 5
  // has s = 2/3, mean |z| = (1/3 + 1)/3 = 4/9, denominator 2/3 + 2/9 = 8/9.
  const LrpRule eps = LrpRule::epsilon(0.5);
  const Relevance re = term_relevance(e, R, &eps);
  BOOST_TEST(re.relevance[0] == 6.0 / 7.0 + 6 * (-1.0 / 3) / (8.0 / 9), boost::test_tools::tolerance(1e-14));
  BOOST_TEST(re.account.name == "fisher [epsilon:0.5]");
  BOOST_TEST(re.account.absorbed > 0);
  BOOST_TEST(std::abs(R.sum() - re.relevance.sum() - re.account.absorbed - re.account.unassigned) < 1e-13);
}

// VLAD with centres (0,0) and (10,0): hard codes l1 = (1,0), l2 = (0,2) -> centre 1,
// l3 = (10,1) -> centre 2; then l1 split 3/4 : 1/4 (soft).
BOOST_AUTO_TEST_CASE(vlad_hand_computed_two_centres) {
  RowMatrixXd centres(2, 2);
  centres << 0, 0, 10, 0;
  RowMatrixXd x(3, 2);
  x << 1, 0, 0, 2, 10, 1;
  RowMatrixXd hard(3, 2);
  hard << 1, 0, 1, 0, 0, 1;
  MappingOptions o;
  o.type = MappingType::vlad;
  const TermEncoding e = vlad_encode(centres, codes_of(hard), x, {{0}, {0}, {0}}, 1, o);
  BOOST_TEST(max_relative(e.sums, Eigen::Vector4d(1, 2, 0, 1)) < 1e-15);
  const Relevance r = term_relevance(e, Eigen::Vector4d(1, 2, 3, 4));
  BOOST_TEST(r.relevance[0] == 1.0);
  BOOST_TEST(r.relevance[1] == 2.0);
  BOOST_TEST(r.relevance[2] == 4.0);
  BOOST_TEST(r.account.unassigned == 3.0);
  BOOST_TEST(r.account.name == "vlad");

  RowMatrixXd soft = hard;
  soft.row(0) << 0.75, 0.25;
  // s = (0.75 + 0, 2, -2.25 + 0, 0 + 1): z_l1 = (0.75, 0, -2.25, 0)
  const TermEncoding es = vlad_encode(centres, codes_of(soft), x, {{0}, {0}, {0}}, 1, o);
  BOOST_TEST(max_relative(es.sums, Eigen::Vector4d(0.75, 2, -2.25, 1)) < 1e-15);
  const Relevance rs = term_relevance(es, Eigen::Vector4d(1, 2, 3, 4));
  BOOST_TEST(rs.relevance[0] == 1.0 + 3.0);  // all of dimensions 0 and 2
  BOOST_TEST(rs.relevance[1] == 2.0);
  BOOST_TEST(rs.relevance[2] == 4.0);
  BOOST_TEST(rs.account.unassigned == 0.0);
}

BOOST_AUTO_TEST_CASE(term_rule_conserves_or_reports_under_every_rule) {
  std::mt19937_64 rng(5);
  const Gmm g = random_gmm(3, 4, rng);
  const RowMatrixXd x = random_matrix(20, 4, rng);
  MappingOptions o;
  o.type = MappingType::fisher;
  const TermEncoding e = fisher_encode(g, x, two_levels(20), 3, o);
  const Eigen::VectorXd R = random_matrix(e.size(), 1, rng);
  const Relevance exact = term_relevance(e, R);
  BOOST_TEST(std::abs(exact.relevance.sum() + exact.account.unassigned - R.sum()) < 1e-12 * R.cwiseAbs().sum());
  BOOST_TEST(exact.account.absorbed == 0.0);
  for (double eps : {0.01, 1.0}) {
    const LrpRule rule = LrpRule::epsilon(eps);
    const Relevance r = term_relevance(e, R, &rule);
    BOOST_TEST(std::abs(r.account.unaccounted()) < 1e-12 * R.cwiseAbs().sum());
    BOOST_TEST(r.account.absorbed != 0.0);
    BOOST_TEST((r.relevance - exact.relevance).cwiseAbs().maxCoeff() > 0);
  }
  BOOST_TEST(test::error_of([&] { term_relevance(e, Eigen::VectorXd::Zero(3)); }) ==
             "fisher relevance: 3 relevances for an encoding of " + std::to_string(e.size()));
}

BOOST_AUTO_TEST_CASE(gmm_training_is_seeded_and_checked) {
  std::mt19937_64 rng(2);
  RowMatrixXf x(300, 3);
  std::normal_distribution<float> n(0.f, 1.f);
  for (long i = 0; i < x.rows(); ++i)
    for (long j = 0; j < 3; ++j) x(i, j) = n(rng) + (i % 3 == 0 ? 6.f : 0.f);
  GmmOptions o;
  o.components = 2;
  o.seed = 4;
  const Gmm a = train_gmm(x, o), b = train_gmm(x, o);
  BOOST_TEST((a.means == b.means));
  BOOST_TEST((a.variances == b.variances));
  BOOST_TEST((a.priors == b.priors));
  BOOST_TEST(a.priors.sum() == 1.0, boost::test_tools::tolerance(1e-9));
  // The two clusters (a third of the rows shifted by 6) are found.
  const double p = std::min(a.priors[0], a.priors[1]);
  BOOST_TEST(p == 1.0 / 3, boost::test_tools::tolerance(0.05));
  o.components = 400;
  BOOST_TEST(test::error_of([&] { train_gmm(x, o); }) ==
             "gmm: 300 descriptors are fewer than the 400 components asked for");
  Gmm bad = a;
  bad.variances(0, 0) = 0;
  BOOST_TEST(test::error_of([&] { bad.validate("gmm.npy"); }) == "gmm.npy: a GMM variance is not positive and finite");
}

BOOST_AUTO_TEST_CASE(pca_projects_on_leading_components_and_whitens) {
  std::mt19937_64 rng(8);
  // Variances 9, 4, 1, 0.01 along the axes, then rotated by a fixed orthogonal matrix.
  RowMatrixXd raw = random_matrix(4000, 4, rng);
  const Eigen::Vector4d sd(3, 2, 1, 0.1);
  raw = raw * sd.asDiagonal();
  const Eigen::MatrixXd Q = Eigen::MatrixXd(Eigen::HouseholderQR<Eigen::MatrixXd>(random_matrix(4, 4, rng)).householderQ());
  const RowMatrixXd x = raw * Q.transpose();
  PcaOptions o;
  o.dimensions = 2;
  const Pca pca = fit_pca(x.cast<float>(), o);
  BOOST_REQUIRE_EQUAL(pca.projection.rows(), 2);
  // Orthonormal rows spanning the two leading directions (Q's first two columns).
  BOOST_TEST((pca.projection * pca.projection.transpose() - Eigen::Matrix2d::Identity()).cwiseAbs().maxCoeff() < 1e-9);
  BOOST_TEST(std::abs(std::abs(pca.projection.row(0).dot(Q.col(0))) - 1) < 0.01);
  BOOST_TEST(std::abs(std::abs(pca.projection.row(1).dot(Q.col(1))) - 1) < 0.01);
  const RowMatrixXd y = pca.apply(x);
  BOOST_TEST(y.cols() == 2);
  o.whiten = true;
  const RowMatrixXd w = fit_pca(x.cast<float>(), o).apply(x);
  const RowMatrixXd centred = w.rowwise() - w.colwise().mean();
  const Eigen::Matrix2d covariance = centred.transpose() * centred / static_cast<double>(w.rows() - 1);
  BOOST_TEST((covariance - Eigen::Matrix2d::Identity()).cwiseAbs().maxCoeff() < 1e-3);
  o.dimensions = 5;
  BOOST_TEST(test::error_of([&] { fit_pca(x.cast<float>(), o); }) == "pca: 5 dimensions asked of descriptors of 4");
  o.dimensions = 0;
  BOOST_TEST(fit_pca(x.cast<float>(), o).empty());
}

// The descriptor sensitivity of a Fisher or VLAD encoding (docs/design.md 5)
// against central differences of f(t) = w . normalise_blocks(s + (t - 1) z_l),
// the definition written out: every square root and normalisation on.
BOOST_AUTO_TEST_CASE(term_sensitivity_matches_finite_differences) {
  std::mt19937_64 rng(23);
  const int K = 3, D = 4, M = 17, cells = 3;
  const RowMatrixXd x = random_matrix(M, D, rng, 1.5);
  const auto cells_of = two_levels(M);
  const Gmm g = random_gmm(K, D, rng);
  std::vector<TermEncoding> encodings;
  MappingOptions fv;
  fv.type = MappingType::fisher;
  encodings.push_back(fisher_encode(g, x, cells_of, cells, fv));
  MappingOptions vlad;
  vlad.type = MappingType::vlad;
  encodings.push_back(vlad_encode(g.means, codes_of(soft_assignments(M, K, rng)), x, cells_of, cells, vlad));
  vlad.intra = false;
  encodings.push_back(vlad_encode(g.means, codes_of(hard_assignments(x, g.means)), x, cells_of, cells, vlad));
  for (const TermEncoding& e : encodings) {
    const Eigen::VectorXd w = random_matrix(1, e.size(), rng).transpose();
    const Eigen::VectorXd s = descriptor_sensitivity(e, w);
    BOOST_REQUIRE_EQUAL(s.size(), M);
    auto f = [&](int l, double t) {
      Eigen::VectorXd sums = e.sums;
      for (const auto& entry : e.entries)
        if (entry.feature == l) e.terms(entry, [&](long bin, double z) { sums[bin] += (t - 1) * z; });
      return w.dot(normalise_blocks(sums, e.type, e.components(), e.dimension(), e.options));
    };
    const double h = 1e-6;
    for (int l = 0; l < M; ++l) {
      const double numeric = (f(l, 1 + h) - f(l, 1 - h)) / (2 * h);
      BOOST_TEST(std::abs(s[l] - numeric) <= 1e-6 * std::max(1.0, std::abs(numeric)), "l " << l << ": " << s[l] << " vs " << numeric);
    }
    // The gradient's size is checked.
    BOOST_TEST(test::error_of([&] { descriptor_sensitivity(e, Eigen::VectorXd::Zero(3)); }).find("the gradient has 3 values") !=
               std::string::npos);
  }
}

