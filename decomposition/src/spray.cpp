#include "pixelwise/decomposition/spray.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace pixelwise {

const EnumNames<SprayNormalisation>& enum_names(SprayNormalisation) {
  static const EnumNames<SprayNormalisation> names{{SprayNormalisation::none, "none"},
                                                   {SprayNormalisation::max_abs, "max-abs"},
                                                   {SprayNormalisation::sum_abs, "sum-abs"}};
  return names;
}

void SprayOptions::validate() const {
  auto fail = [](const std::string& what) { throw std::invalid_argument("spray: " + what); };
  if (rows < 1 || cols < 1 || rows > 256 || cols > 256) fail("the downsampled size must be between 1 and 256 per side");
  if (neighbours < 0) fail("neighbours must be 0 (automatic) or more");
  if (clusters < 0) fail("clusters must be 0 (from the eigengap) or more");
  if (max_clusters < 1) fail("max_clusters must be at least 1");
  if (restarts < 1) fail("restarts must be at least 1");
  if (nearest < 0) fail("nearest must not be negative");
}

namespace {

// Draws as in the scene generator: only the 64-bit generator's output is used,
// so that results do not depend on a standard library's distributions.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// W(i, y): the length of source pixel [y, y+1) inside block i of n blocks over `size` pixels.
Eigen::MatrixXd overlap_weights(int n, int size) {
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(n, size);
  const double step = static_cast<double>(size) / n;
  for (int i = 0; i < n; ++i) {
    const double a = i * step, b = (i + 1) * step;
    for (int y = static_cast<int>(std::floor(a)); y < size && y < b; ++y)
      w(i, y) = std::max(0.0, std::min(b, y + 1.0) - std::max(a, static_cast<double>(y)));
  }
  return w;
}

double squared_distance(const Eigen::MatrixXd& p, long i, const Eigen::RowVectorXd& c) {
  return (p.row(i) - c).squaredNorm();
}

// One k-means run from k-means++ starts (Arthur and Vassilvitskii 2007).
std::vector<int> kmeans_once(const Eigen::MatrixXd& p, int k, std::mt19937_64& rng, double* inertia) {
  const long n = p.rows();
  Eigen::MatrixXd centres(k, p.cols());
  std::vector<double> d2(n, std::numeric_limits<double>::infinity());
  centres.row(0) = p.row(std::min<long>(n - 1, static_cast<long>(uniform(rng) * n)));
  for (int c = 1; c < k; ++c) {
    double total = 0;
    for (long i = 0; i < n; ++i) {
      d2[i] = std::min(d2[i], squared_distance(p, i, centres.row(c - 1)));
      total += d2[i];
    }
    long pick = n - 1;
    if (total > 0) {
      double target = uniform(rng) * total;
      for (long i = 0; i < n; ++i) {
        target -= d2[i];
        if (target < 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = std::min<long>(n - 1, static_cast<long>(uniform(rng) * n));
    }
    centres.row(c) = p.row(pick);
  }
  std::vector<int> assign(n, -1);
  for (int iteration = 0; iteration < 300; ++iteration) {
    bool changed = false;
    for (long i = 0; i < n; ++i) {
      int best = 0;
      double best_d = squared_distance(p, i, centres.row(0));
      for (int c = 1; c < k; ++c) {
        const double d = squared_distance(p, i, centres.row(c));
        if (d < best_d) best_d = d, best = c;
      }
      if (assign[i] != best) assign[i] = best, changed = true;
    }
    if (!changed) break;
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, p.cols());
    std::vector<long> counts(k, 0);
    for (long i = 0; i < n; ++i) sums.row(assign[i]) += p.row(i), ++counts[assign[i]];
    for (int c = 0; c < k; ++c) {
      if (counts[c] > 0) {
        centres.row(c) = sums.row(c) / static_cast<double>(counts[c]);
        continue;
      }
      // An empty cluster restarts at the point farthest from its centre.
      long far = 0;
      double far_d = -1;
      for (long i = 0; i < n; ++i) {
        const double d = squared_distance(p, i, centres.row(assign[i]));
        if (d > far_d) far_d = d, far = i;
      }
      centres.row(c) = p.row(far);
    }
  }
  *inertia = 0;
  for (long i = 0; i < n; ++i) *inertia += squared_distance(p, i, centres.row(assign[i]));
  return assign;
}

// Clusters renumbered by size, largest first; ties by their first member.
std::vector<int> by_size(const std::vector<int>& assign, int k) {
  std::vector<long> size(k, 0), first(k, std::numeric_limits<long>::max());
  for (long i = 0; i < static_cast<long>(assign.size()); ++i) {
    ++size[assign[i]];
    first[assign[i]] = std::min(first[assign[i]], i);
  }
  std::vector<int> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return size[a] != size[b] ? size[a] > size[b] : first[a] < first[b]; });
  std::vector<int> rank(k);
  for (int r = 0; r < k; ++r) rank[order[r]] = r;
  std::vector<int> out(assign.size());
  for (size_t i = 0; i < assign.size(); ++i) out[i] = rank[assign[i]];
  return out;
}

}  // namespace

RowMatrixXd downsample_relevance(const RowMatrixXd& relevance, int rows, int cols) {
  if (relevance.size() == 0) throw std::invalid_argument("spray: empty heatmap");
  if (rows < 1 || cols < 1) throw std::invalid_argument("spray: the downsampled size must be positive");
  const Eigen::MatrixXd wr = overlap_weights(rows, static_cast<int>(relevance.rows()));
  const Eigen::MatrixXd wc = overlap_weights(cols, static_cast<int>(relevance.cols()));
  return wr * relevance * wc.transpose();
}

Eigen::MatrixXd knn_affinity(const Eigen::MatrixXd& points, int k) {
  const long n = points.rows();
  if (k < 1 || k >= n) throw std::invalid_argument("spray: neighbours must be between 1 and N - 1 = " + std::to_string(n - 1));
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(n, n);
  std::vector<std::pair<double, long>> d(n - 1);
  for (long i = 0; i < n; ++i) {
    long m = 0;
    for (long j = 0; j < n; ++j)
      if (j != i) d[m++] = {(points.row(i) - points.row(j)).squaredNorm(), j};
    std::partial_sort(d.begin(), d.begin() + k, d.end());  // pairs: distance, then index
    for (int q = 0; q < k; ++q) a(i, d[q].second) = a(d[q].second, i) = 1;
  }
  return a;
}

Spectrum normalised_laplacian_spectrum(const Eigen::MatrixXd& affinity) {
  const long n = affinity.rows();
  if (n != affinity.cols() || n == 0) throw std::invalid_argument("spray: the affinity must be square and not empty");
  const Eigen::VectorXd degree = affinity.rowwise().sum();
  for (long i = 0; i < n; ++i)
    if (!(degree[i] > 0)) throw std::invalid_argument("spray: node " + std::to_string(i) + " of the affinity is isolated");
  const Eigen::VectorXd s = degree.cwiseSqrt().cwiseInverse();
  Eigen::MatrixXd l = -(s.asDiagonal() * affinity * s.asDiagonal());
  l.diagonal().array() += 1.0;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(l);
  if (solver.info() != Eigen::Success) throw std::runtime_error("spray: the eigensolver did not converge");
  return {solver.eigenvalues(), solver.eigenvectors()};
}

int largest_eigengap(const Eigen::VectorXd& ascending, int max_clusters) {
  const long m = std::min<long>(max_clusters, ascending.size() - 1);
  int best = 1;
  double best_gap = -std::numeric_limits<double>::infinity();
  for (long k = 1; k <= m; ++k) {
    const double gap = ascending[k] - ascending[k - 1];
    if (gap > best_gap) best_gap = gap, best = static_cast<int>(k);
  }
  return best;
}

std::vector<int> kmeans(const Eigen::MatrixXd& points, int k, std::uint64_t seed, int restarts) {
  const long n = points.rows();
  if (k < 1 || k > n) throw std::invalid_argument("k-means: k must be between 1 and the number of points");
  if (k == 1) return std::vector<int>(n, 0);
  std::mt19937_64 rng(seed);
  std::vector<int> best;
  double best_inertia = std::numeric_limits<double>::infinity();
  for (int r = 0; r < std::max(1, restarts); ++r) {
    double inertia;
    std::vector<int> a = kmeans_once(points, k, rng, &inertia);
    if (inertia < best_inertia) best_inertia = inertia, best = std::move(a);
  }
  return by_size(best, k);
}

SprayResult spray_features(const Eigen::MatrixXd& features, const SprayOptions& options, int rows, int cols) {
  options.validate();
  const long n = features.rows();
  if (n < 2) throw std::invalid_argument("spray: needs at least two heatmaps, got " + std::to_string(n));
  if (!features.allFinite()) throw std::invalid_argument("spray: a heatmap holds a value that is not finite");
  if (options.clusters > n)
    throw std::invalid_argument("spray: clusters " + std::to_string(options.clusters) + " exceeds the " +
                                std::to_string(n) + " heatmaps");
  SprayResult out;
  out.neighbours = options.neighbours > 0 ? options.neighbours : static_cast<int>(std::min<long>(10, n - 1));
  if (out.neighbours >= n)
    throw std::invalid_argument("spray: neighbours " + std::to_string(options.neighbours) + " must be below the " +
                                std::to_string(n) + " heatmaps");
  const Spectrum spectrum = normalised_laplacian_spectrum(knn_affinity(features, out.neighbours));
  out.clusters_from_eigengap = options.clusters == 0;
  out.clusters = options.clusters > 0 ? options.clusters : largest_eigengap(spectrum.values, options.max_clusters);
  out.eigenvalues = spectrum.values.head(std::min<long>(n, std::max(options.max_clusters, out.clusters) + 1));

  Eigen::MatrixXd embedding = spectrum.vectors.leftCols(out.clusters);
  for (long i = 0; i < n; ++i) {
    const double norm = embedding.row(i).norm();
    if (norm > 0) embedding.row(i) /= norm;
  }
  out.assignment = kmeans(embedding, out.clusters, options.seed, options.restarts);

  out.embedding = Eigen::MatrixXd::Zero(n, 2);
  for (int c = 0; c < 2 && c + 1 < n; ++c) {
    Eigen::VectorXd u = spectrum.vectors.col(c + 1);
    Eigen::Index top;
    u.cwiseAbs().maxCoeff(&top);
    if (u[top] < 0) u = -u;
    out.embedding.col(c) = u;
  }

  out.per_cluster.resize(out.clusters);
  for (int c = 0; c < out.clusters; ++c) {
    std::vector<long> members;
    for (long i = 0; i < n; ++i)
      if (out.assignment[i] == c) members.push_back(i);
    SprayCluster& k = out.per_cluster[c];
    k.size = static_cast<long>(members.size());
    Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(features.cols());
    for (long i : members) mean += features.row(i);
    if (!members.empty()) mean /= static_cast<double>(members.size());
    k.mean_heatmap = Eigen::Map<const RowMatrixXd>(mean.data(), rows, cols);
    std::vector<std::pair<double, long>> d;
    for (long i : members) d.emplace_back((features.row(i) - mean).squaredNorm(), i);
    std::sort(d.begin(), d.end());
    for (size_t q = 0; q < d.size() && static_cast<int>(q) < options.nearest; ++q) k.nearest.push_back(d[q].second);
  }
  return out;
}

SprayResult spray(const std::vector<RowMatrixXd>& heatmaps, const SprayOptions& options) {
  options.validate();
  const long n = static_cast<long>(heatmaps.size());
  if (n < 2) throw std::invalid_argument("spray: needs at least two heatmaps, got " + std::to_string(n));
  Eigen::MatrixXd features(n, static_cast<long>(options.rows) * options.cols);
  for (long i = 0; i < n; ++i) {
    if (heatmaps[i].size() == 0) throw std::invalid_argument("spray: heatmap " + std::to_string(i) + " is empty");
    if (!heatmaps[i].allFinite())
      throw std::invalid_argument("spray: heatmap " + std::to_string(i) + " holds a value that is not finite");
    RowMatrixXd small = downsample_relevance(heatmaps[i], options.rows, options.cols);
    double scale = 1;
    if (options.normalisation == SprayNormalisation::max_abs) scale = small.cwiseAbs().maxCoeff();
    if (options.normalisation == SprayNormalisation::sum_abs) scale = small.cwiseAbs().sum();
    if (scale > 0) small /= scale;  // an all-zero map stays zero
    features.row(i) = Eigen::Map<const Eigen::RowVectorXd>(small.data(), small.size());
  }
  return spray_features(features, options, options.rows, options.cols);
}

double adjusted_rand_index(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("adjusted Rand index: labelings of different lengths");
  const double n = static_cast<double>(a.size());
  std::map<std::pair<int, int>, double> table;
  std::map<int, double> rows, cols;
  for (size_t i = 0; i < a.size(); ++i) {
    ++table[{a[i], b[i]}];
    ++rows[a[i]];
    ++cols[b[i]];
  }
  auto pairs = [](double x) { return x * (x - 1) / 2; };
  double index = 0, sum_a = 0, sum_b = 0;
  for (const auto& [key, v] : table) index += pairs(v);
  for (const auto& [key, v] : rows) sum_a += pairs(v);
  for (const auto& [key, v] : cols) sum_b += pairs(v);
  const double expected = sum_a * sum_b / pairs(n);
  const double maximum = (sum_a + sum_b) / 2;
  if (maximum == expected) return 1.0;  // both trivial: the same partition
  return (index - expected) / (maximum - expected);
}

}  // namespace pixelwise
