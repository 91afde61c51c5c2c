// Heatmap similarity for the sanity checks (similarity.hpp; Adebayo et al. 2018, section 3).
#include "pixelwise/decomposition/similarity.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace pixelwise {
namespace {

void check_pair(const RowMatrixXd& a, const RowMatrixXd& b, const char* what) {
  if (a.size() == 0 || b.size() == 0) throw std::invalid_argument(std::string(what) + ": empty heatmap");
  if (a.rows() != b.rows() || a.cols() != b.cols())
    throw std::invalid_argument(std::string(what) + ": heatmaps of different sizes (" + std::to_string(a.rows()) + " x " +
                                std::to_string(a.cols()) + " and " + std::to_string(b.rows()) + " x " +
                                std::to_string(b.cols()) + ")");
  for (const RowMatrixXd* m : {&a, &b})
    if (!m->allFinite()) throw std::invalid_argument(std::string(what) + ": a heatmap holds a value that is not finite");
}

Eigen::VectorXd flat(const RowMatrixXd& m) { return Eigen::Map<const Eigen::VectorXd>(m.data(), m.size()); }

// Pearson correlation; NaN when either vector is constant.
double pearson(const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
  const Eigen::ArrayXd dx = x.array() - x.mean(), dy = y.array() - y.mean();
  const double sxx = (dx * dx).sum(), syy = (dy * dy).sum();
  if (!(sxx > 0) || !(syy > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (dx * dy).sum() / std::sqrt(sxx * syy);
}

// Top-k weights of |values| (similarity.hpp): 1 above the k-th value, the
// share still needed for the pixels tied at it, 0 below; they sum to k.
Eigen::VectorXd top_k_weights(const Eigen::VectorXd& values, long k) {
  const long n = values.size();
  const Eigen::VectorXd m = values.cwiseAbs();
  std::vector<double> sorted(m.data(), m.data() + n);
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<double>());
  const double t = sorted[static_cast<size_t>(k - 1)];
  long above = 0, tied = 0;
  for (long i = 0; i < n; ++i) {
    above += m[i] > t;
    tied += m[i] == t;
  }
  const double share = static_cast<double>(k - above) / static_cast<double>(tied);
  Eigen::VectorXd w(n);
  for (long i = 0; i < n; ++i) w[i] = m[i] > t ? 1.0 : m[i] == t ? share : 0.0;
  return w;
}

// The Gaussian window of similarity.hpp: sigma 1.5, radius 5.
constexpr double kSigma = 1.5;
constexpr int kRadius = 5;

// Separable sum of g(offset) * m over the window inside the image.
RowMatrixXd window_sum(const RowMatrixXd& m, const std::vector<double>& g) {
  const long rows = m.rows(), cols = m.cols();
  RowMatrixXd across = RowMatrixXd::Zero(rows, cols), out = RowMatrixXd::Zero(rows, cols);
  for (long y = 0; y < rows; ++y)
    for (long x = 0; x < cols; ++x)
      for (int d = -kRadius; d <= kRadius; ++d)
        if (x + d >= 0 && x + d < cols) across(y, x) += g[d + kRadius] * m(y, x + d);
  for (long y = 0; y < rows; ++y)
    for (int d = -kRadius; d <= kRadius; ++d)
      if (y + d >= 0 && y + d < rows) out.row(y) += g[d + kRadius] * across.row(y + d);
  return out;
}

RowMatrixXd scaled_by_max_abs(const RowMatrixXd& m) {
  const double top = m.cwiseAbs().maxCoeff();
  return top > 0 ? RowMatrixXd(m / top) : RowMatrixXd(m);
}

}  // namespace

Eigen::VectorXd average_ranks(const Eigen::VectorXd& values) {
  const long n = values.size();
  std::vector<long> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0L);
  std::stable_sort(order.begin(), order.end(), [&](long i, long j) { return values[i] < values[j]; });
  Eigen::VectorXd ranks(n);
  for (long start = 0; start < n;) {
    long end = start + 1;
    while (end < n && values[order[end]] == values[order[start]]) ++end;
    const double rank = 0.5 * static_cast<double>(start + 1 + end);  // mean of ranks start+1 .. end
    for (long i = start; i < end; ++i) ranks[order[i]] = rank;
    start = end;
  }
  return ranks;
}

double spearman_correlation(const RowMatrixXd& a, const RowMatrixXd& b) {
  check_pair(a, b, "Spearman correlation");
  return pearson(average_ranks(flat(a)), average_ranks(flat(b)));
}

double heatmap_ssim(const RowMatrixXd& a_in, const RowMatrixXd& b_in) {
  check_pair(a_in, b_in, "SSIM");
  const RowMatrixXd a = scaled_by_max_abs(a_in), b = scaled_by_max_abs(b_in);
  const double L = 2.0, C1 = (0.01 * L) * (0.01 * L), C2 = (0.03 * L) * (0.03 * L);
  std::vector<double> g(2 * kRadius + 1);
  for (int d = -kRadius; d <= kRadius; ++d) g[d + kRadius] = std::exp(-0.5 * d * d / (kSigma * kSigma));
  // Weighted moments of every window: sums over the part inside the image,
  // divided by that part's total weight (the renormalised window).
  const RowMatrixXd weight = window_sum(RowMatrixXd::Ones(a.rows(), a.cols()), g);
  const Eigen::ArrayXXd w = weight.array();
  const Eigen::ArrayXXd mu_a = window_sum(a, g).array() / w, mu_b = window_sum(b, g).array() / w;
  const Eigen::ArrayXXd aa = window_sum(a.cwiseProduct(a), g).array() / w - mu_a * mu_a;
  const Eigen::ArrayXXd bb = window_sum(b.cwiseProduct(b), g).array() / w - mu_b * mu_b;
  const Eigen::ArrayXXd ab = window_sum(a.cwiseProduct(b), g).array() / w - mu_a * mu_b;
  const Eigen::ArrayXXd map = ((2 * mu_a * mu_b + C1) * (2 * ab + C2)) /
                              ((mu_a * mu_a + mu_b * mu_b + C1) * (aa + bb + C2));
  return map.mean();
}

double top_k_intersection(const RowMatrixXd& a, const RowMatrixXd& b, long k) {
  check_pair(a, b, "top-k intersection");
  if (k < 1 || k > a.size())
    throw std::invalid_argument("top-k intersection: k = " + std::to_string(k) + " must be between 1 and the " +
                                std::to_string(a.size()) + " pixels");
  return top_k_weights(flat(a), k).dot(top_k_weights(flat(b), k)) / static_cast<double>(k);
}

long top_k_pixels(double fraction, long pixels) {
  if (!(fraction > 0 && fraction <= 1))
    throw std::invalid_argument("top-k fraction " + std::to_string(fraction) +
                                ": must be in (0, 1], the share of the pixels compared");
  if (pixels < 1) throw std::invalid_argument("top-k: a heatmap needs at least one pixel");
  return std::clamp<long>(std::lround(fraction * static_cast<double>(pixels)), 1, pixels);
}

HeatmapSimilarity heatmap_similarity(const RowMatrixXd& a, const RowMatrixXd& b, double top_k) {
  check_pair(a, b, "heatmap similarity");
  HeatmapSimilarity s;
  s.top_k = top_k_pixels(top_k, a.size());
  s.spearman = spearman_correlation(a, b);
  s.spearman_abs = spearman_correlation(a.cwiseAbs(), b.cwiseAbs());
  s.ssim = heatmap_ssim(a, b);
  s.top_k_intersection = top_k_intersection(a, b, s.top_k);
  return s;
}

void to_json(nlohmann::json& j, const HeatmapSimilarity& s) {
  auto number = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  j = {{"spearman", number(s.spearman)}, {"spearman_abs", number(s.spearman_abs)}, {"ssim", number(s.ssim)},
       {"top_k_intersection", number(s.top_k_intersection)}, {"top_k", s.top_k}};
}

nlohmann::json similarity_chance(long pixels, double top_k) {
  const long k = top_k_pixels(top_k, pixels);
  return {{"spearman", 0.0}, {"spearman_abs", 0.0}, {"ssim", 0.0},
          {"top_k_intersection", static_cast<double>(k) / static_cast<double>(pixels)}};
}

}  // namespace pixelwise
