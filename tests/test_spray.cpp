// Spectral relevance analysis (decomposition/spray.hpp, docs/design.md 7):
// hand-computed downsampling, neighbour graphs, Laplacian spectra, eigengaps
// and Rand indices; k-means against an exhaustive search; SpRAy on synthetic
// heatmap stacks whose groups are known.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "pixelwise/decomposition/spray.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

// Within-cluster sum of squares of an assignment.
double inertia(const Eigen::MatrixXd& p, const std::vector<int>& a, int k) {
  double total = 0;
  for (int c = 0; c < k; ++c) {
    Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(p.cols());
    long n = 0;
    for (long i = 0; i < p.rows(); ++i)
      if (a[i] == c) mean += p.row(i), ++n;
    if (n == 0) continue;
    mean /= static_cast<double>(n);
    for (long i = 0; i < p.rows(); ++i)
      if (a[i] == c) total += (p.row(i) - mean).squaredNorm();
  }
  return total;
}

// A heatmap with a Gaussian blob of relevance at (cy, cx) (fractions of the
// side), plus noise; `side` pixels square.
RowMatrixXd blob(int side, double cy, double cx, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0.0, 0.05);
  RowMatrixXd r(side, side);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      const double dy = (y + 0.5) / side - cy, dx = (x + 0.5) / side - cx;
      r(y, x) = std::exp(-(dy * dy + dx * dx) / (2 * 0.08 * 0.08)) + noise(rng);
    }
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(downsampling_sums_relevance_over_blocks) {
  RowMatrixXd r(4, 4);
  r << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16;
  const RowMatrixXd d = downsample_relevance(r, 2, 2);
  BOOST_TEST(d(0, 0) == 1 + 2 + 5 + 6);
  BOOST_TEST(d(0, 1) == 3 + 4 + 7 + 8);
  BOOST_TEST(d(1, 0) == 9 + 10 + 13 + 14);
  BOOST_TEST(d(1, 1) == 11 + 12 + 15 + 16);
  // 3 x 3 to 2 x 2: blocks of 1.5 pixels; the middle row and column are split in halves.
  RowMatrixXd s(3, 3);
  s << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  const RowMatrixXd e = downsample_relevance(s, 2, 2);
  BOOST_TEST(e(0, 0) == 1 + 0.5 * 2 + 0.5 * 4 + 0.25 * 5);
  BOOST_TEST(e(1, 1) == 9 + 0.5 * 8 + 0.5 * 6 + 0.25 * 5);
  BOOST_TEST(std::abs(e.sum() - 45.0) < 1e-12);
  // Upsampling 2 x 1 to 4 x 1 spreads each pixel over two blocks.
  RowMatrixXd t(2, 1);
  t << 2, 6;
  const RowMatrixXd u = downsample_relevance(t, 4, 1);
  BOOST_TEST(u(0, 0) == 1.0);
  BOOST_TEST(u(1, 0) == 1.0);
  BOOST_TEST(u(2, 0) == 3.0);
  BOOST_TEST(u(3, 0) == 3.0);
}

BOOST_AUTO_TEST_CASE(knn_graph_is_symmetric_with_ties_by_index) {
  Eigen::MatrixXd p(4, 1);
  p << 0, 1, 3, 10;
  // Nearest: 0 -> 1, 1 -> 0, 3 -> 1 (distance 2 against 7), 10 -> 3.
  const Eigen::MatrixXd a = knn_affinity(p, 1);
  Eigen::MatrixXd expected(4, 4);
  expected << 0, 1, 0, 0,  //
      1, 0, 1, 0,          //
      0, 1, 0, 1,          //
      0, 0, 1, 0;
  BOOST_TEST((a == expected));
  // Point 1 has 0 and 2 at distance 1: the lower index wins.
  Eigen::MatrixXd q(3, 1);
  q << 0, 1, 2;
  const Eigen::MatrixXd b = knn_affinity(q, 1);
  BOOST_TEST(b(1, 0) == 1.0);
  BOOST_TEST(b(1, 2) == 1.0);  // 2's own nearest is 1
  BOOST_TEST(b(0, 2) == 0.0);
  BOOST_CHECK_THROW(knn_affinity(q, 3), std::invalid_argument);
  BOOST_CHECK_THROW(knn_affinity(q, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(eigengap_of_block_diagonal_affinity) {
  // Complete graphs on 3, 4 and 5 nodes: the normalised Laplacian of K_m has
  // eigenvalue 0 once and m / (m - 1) m - 1 times, so the spectrum is
  // 0, 0, 0, 5/4 (x4), 4/3 (x3), 3/2 (x2) and the largest gap follows lambda_3.
  const int sizes[] = {3, 4, 5};
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(12, 12);
  int start = 0;
  for (int m : sizes) {
    a.block(start, start, m, m).setOnes();
    for (int i = 0; i < m; ++i) a(start + i, start + i) = 0;
    start += m;
  }
  const Spectrum s = normalised_laplacian_spectrum(a);
  const double expected[] = {0, 0, 0, 1.25, 1.25, 1.25, 1.25, 4.0 / 3, 4.0 / 3, 4.0 / 3, 1.5, 1.5};
  for (int i = 0; i < 12; ++i) BOOST_TEST(std::abs(s.values[i] - expected[i]) < 1e-12, i);
  BOOST_TEST(largest_eigengap(s.values, 10) == 3);
  BOOST_TEST(largest_eigengap(s.values, 2) == 2);  // the gap after lambda_3 is beyond the first 3
  // L v = lambda v for every pair.
  Eigen::MatrixXd l = Eigen::MatrixXd::Identity(12, 12);
  const Eigen::VectorXd d = a.rowwise().sum();
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 12; ++j) l(i, j) -= a(i, j) / std::sqrt(d[i] * d[j]);
  BOOST_TEST((l * s.vectors - s.vectors * s.values.asDiagonal()).cwiseAbs().maxCoeff() < 1e-12);
  // Two nodes joined: L = [[1, -1], [-1, 1]], eigenvalues 0 and 2.
  Eigen::MatrixXd pair(2, 2);
  pair << 0, 1, 1, 0;
  const Spectrum p = normalised_laplacian_spectrum(pair);
  BOOST_TEST(std::abs(p.values[0]) < 1e-15);
  BOOST_TEST(std::abs(p.values[1] - 2.0) < 1e-15);
  BOOST_CHECK_THROW(normalised_laplacian_spectrum(Eigen::MatrixXd::Zero(2, 2)), std::invalid_argument);
  // Gaps 0.1, 0.5, 0.2: the largest after lambda_2.
  Eigen::VectorXd v(4);
  v << 0, 0.1, 0.6, 0.8;
  BOOST_TEST(largest_eigengap(v, 10) == 2);
}

BOOST_AUTO_TEST_CASE(adjusted_rand_index_hand_cases) {
  BOOST_TEST((adjusted_rand_index({0, 0, 1, 1}, {1, 1, 0, 0}) == 1.0));
  // Contingency all ones: index 0, expected (2 * 2) / 6, maximum 2: (0 - 2/3) / (2 - 2/3) = -0.5.
  BOOST_TEST((std::abs(adjusted_rand_index({0, 0, 1, 1}, {0, 1, 0, 1}) + 0.5) < 1e-15));
  // index 1, sums 2 and 1, expected 2/6, maximum 1.5: (1 - 1/3) / (1.5 - 1/3) = 4/7.
  BOOST_TEST((std::abs(adjusted_rand_index({0, 0, 1, 1}, {0, 0, 1, 2}) - 4.0 / 7) < 1e-15));
  BOOST_TEST((adjusted_rand_index({0, 0, 0}, {5, 5, 5}) == 1.0));
  BOOST_CHECK_THROW(adjusted_rand_index({0, 1}, {0}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(kmeans_matches_exhaustive_search) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> g(0.0, 1.0);
  for (int trial = 0; trial < 5; ++trial) {
    Eigen::MatrixXd p(9, 2);
    for (long i = 0; i < p.rows(); ++i) p(i, 0) = g(rng) + (i % 3) * 1.5, p(i, 1) = g(rng);
    // The slow reference: every assignment of the 9 points to 3 labels.
    double best = std::numeric_limits<double>::infinity();
    std::vector<int> a(9);
    for (int code = 0; code < 19683; ++code) {
      int c = code;
      for (int i = 0; i < 9; ++i) a[i] = c % 3, c /= 3;
      best = std::min(best, inertia(p, a, 3));
    }
    const std::vector<int> found = kmeans(p, 3, 1, 20);
    BOOST_TEST(std::abs(inertia(p, found, 3) - best) < 1e-9, "trial " << trial);
    BOOST_TEST(kmeans(p, 3, 1, 20) == found);  // same seed, same clusters
  }
  // Clusters are numbered by size.
  Eigen::MatrixXd q(5, 1);
  q << 10, 0, 10.1, 0.1, 10.2;
  BOOST_TEST(kmeans(q, 2, 3, 5) == (std::vector<int>{0, 1, 0, 1, 0}));
  BOOST_TEST(kmeans(q, 1, 3, 5) == (std::vector<int>(5, 0)));
}

BOOST_AUTO_TEST_CASE(spray_recovers_known_groups_of_heatmaps) {
  std::mt19937_64 rng(3);
  // Three groups: relevance top left (20 maps), bottom right (15), centre (10);
  // maps of two sizes, so that downsampling puts them on one grid.
  std::vector<RowMatrixXd> maps;
  std::vector<int> truth;
  const double centres[3][2] = {{0.2, 0.2}, {0.8, 0.8}, {0.5, 0.5}};
  const int counts[3] = {20, 15, 10};
  for (int g = 0; g < 3; ++g)
    for (int i = 0; i < counts[g]; ++i) {
      maps.push_back(blob(i % 2 ? 32 : 40, centres[g][0], centres[g][1], rng) * (1 + i));
      truth.push_back(g);
    }
  SprayOptions o;
  o.neighbours = 5;
  const SprayResult r = spray(maps, o);
  BOOST_TEST(r.clusters_from_eigengap);
  BOOST_TEST(r.clusters == 3);
  BOOST_TEST(r.neighbours == 5);
  BOOST_TEST(adjusted_rand_index(r.assignment, truth) == 1.0);
  BOOST_TEST(r.assignment[0] == 0);   // the largest group is cluster 0
  BOOST_TEST(r.assignment[20] == 1);
  BOOST_TEST(r.assignment[35] == 2);
  // Three disconnected groups: three zero eigenvalues, then a gap.
  BOOST_TEST(r.eigenvalues.size() == 11);
  for (int i = 0; i < 3; ++i) BOOST_TEST(std::abs(r.eigenvalues[i]) < 1e-9);
  BOOST_TEST(r.eigenvalues[3] > 0.1);
  BOOST_TEST(r.per_cluster.size() == 3u);
  BOOST_TEST(r.per_cluster[0].size == 20);
  BOOST_TEST(r.per_cluster[1].size == 15);
  BOOST_TEST(r.per_cluster[2].size == 10);
  // Mean heatmaps peak where their group's relevance is (16 x 16 grid).
  Eigen::Index y, x;
  r.per_cluster[0].mean_heatmap.maxCoeff(&y, &x);
  BOOST_TEST((y == 3 && x == 3));
  r.per_cluster[1].mean_heatmap.maxCoeff(&y, &x);
  BOOST_TEST((y == 12 && x == 12));
  for (int c = 0; c < 3; ++c) {
    BOOST_TEST(r.per_cluster[c].nearest.size() == 8u);
    for (long i : r.per_cluster[c].nearest) BOOST_TEST(r.assignment[i] == c);
  }
  BOOST_TEST(r.embedding.rows() == 45);
  // Given K, the same partition; the same seed, the same result.
  o.clusters = 3;
  const SprayResult given = spray(maps, o);
  BOOST_TEST(!given.clusters_from_eigengap);
  BOOST_TEST(given.assignment == r.assignment);
  o.clusters = 0;
  BOOST_TEST((spray(maps, o).embedding == r.embedding));
  // Normalisation by max |R| removes the scale (1 + i): with no normalisation the
  // per-map scale dominates and the groups are not recovered.
  o.normalisation = SprayNormalisation::none;
  BOOST_TEST(adjusted_rand_index(spray(maps, o).assignment, truth) < 1.0);
}

BOOST_AUTO_TEST_CASE(spray_rejects_bad_input) {
  std::vector<RowMatrixXd> one{RowMatrixXd::Ones(4, 4)};
  BOOST_CHECK_THROW(spray(one, {}), std::invalid_argument);
  std::vector<RowMatrixXd> two{RowMatrixXd::Ones(4, 4), RowMatrixXd::Ones(4, 4)};
  two[1](0, 0) = std::numeric_limits<double>::quiet_NaN();
  BOOST_TEST(test::error_of([&] { spray(two, {}); }).find("heatmap 1") != std::string::npos);
  two[1](0, 0) = 1;
  SprayOptions o;
  o.neighbours = 2;
  BOOST_TEST(test::error_of([&] { spray(two, o); }).find("neighbours 2") != std::string::npos);
  o.neighbours = 0;
  o.rows = 0;
  BOOST_CHECK_THROW(spray(two, o), std::invalid_argument);
  o.rows = 16;
  o.clusters = 3;
  BOOST_CHECK_THROW(spray(two, o), std::invalid_argument);
  BOOST_TEST((parse_enum<SprayNormalisation>("sum-abs", "normalisation") == SprayNormalisation::sum_abs));
  BOOST_CHECK_THROW(parse_enum<SprayNormalisation>("max", "normalisation"), std::invalid_argument);
}
