// Faithfulness correlation, sensitivity-n, infidelity, max-sensitivity,
// sparseness and complexity (decomposition/faithfulness.hpp): a linear model
// f(x) = sum_q w_q x_q, whose gradient x input map R = w x is exactly
// faithful under a constant-0 replacement and whose gradient w is exactly
// faithful under additive perturbations; hand-computed Gini indices and
// entropies; slow one-image-at-a-time references for the batched, threaded code.
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <set>
#include <mutex>
#include <random>

#include "pixelwise/decomposition/faithfulness.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

constexpr int kRows = 28, kCols = 28;

cv::Mat random_image(int rows, int cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  cv::Mat x(rows, cols, CV_32FC1);
  for (int y = 0; y < rows; ++y)
    for (int c = 0; c < cols; ++c) x.at<float>(y, c) = static_cast<float>((rng() >> 11) * 0x1.0p-53);
  return x;
}

RowMatrixXd as_matrix(const cv::Mat& image) {
  RowMatrixXd m(image.rows, image.cols);
  for (int y = 0; y < image.rows; ++y)
    for (int c = 0; c < image.cols; ++c) m(y, c) = image.at<float>(y, c);
  return m;
}

// w in [-1, 1), fixed.
const RowMatrixXd& weights() {
  static const RowMatrixXd w = random_relevance(kRows, kCols, 77);
  return w;
}

double linear(const cv::Mat& image) { return (weights().array() * as_matrix(image).array()).sum(); }

FunctionModel linear_model() {
  return FunctionModel([](const cv::Mat& image, int) { return linear(image); });
}

// A model that is not linear, for the references: sum w x + 0.5 (sum x^2)^1.5 / N.
double curved(const cv::Mat& image) {
  const RowMatrixXd x = as_matrix(image);
  return (weights().array() * x.array()).sum() + 0.5 * std::pow(x.array().square().sum(), 1.5) / x.size();
}

RowMatrixXd gradient_times_input(const cv::Mat& image) { return (weights().array() * as_matrix(image).array()).matrix(); }

BatchOptions threaded(int batch, int threads) {
  BatchOptions b;
  b.batch = batch;
  b.threads = threads;
  return b;
}

ReplacementOptions constant_zero() {
  ReplacementOptions r;
  r.replacement = Replacement::constant;
  r.constant = 0.0;
  return r;
}

double close(double a, double b) { return std::abs(a - b); }

}  // namespace

BOOST_AUTO_TEST_CASE(pearson_correlation_by_hand) {
  BOOST_TEST(close(pearson_correlation({1, 2, 3}, {2, 4, 6}), 1.0) < 1e-15);
  BOOST_TEST(close(pearson_correlation({1, 2, 3}, {3, 2, 1}), -1.0) < 1e-15);
  // x = (1, 2, 3, 4), y = (1, 3, 2, 4): cov 2.5 / 3, var 5 / 3 each -> 0.8
  BOOST_TEST(close(pearson_correlation({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8) < 1e-15);
  BOOST_TEST(std::isnan(pearson_correlation({1, 1, 1}, {1, 2, 3})));
  BOOST_TEST(std::isnan(pearson_correlation({1}, {1})));
  // A spread of rounding only (scores summed in another order) is no spread.
  BOOST_TEST(std::isnan(pearson_correlation({1, 2, 3}, {0.3, 0.1 + 0.2, 0.3 + 1e-17})));
  BOOST_TEST(std::isnan(pearson_correlation({1, 2, 3}, {0.3, 0.30000000000000004, 0.3})));
  BOOST_TEST(close(pearson_correlation({1, 2, 3}, {0.3, 0.3 + 1e-9, 0.3 + 2e-9}), 1.0) < 1e-6);
  BOOST_CHECK_THROW(pearson_correlation({1, 2}, {1}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(random_subsets_are_seeded_distinct_and_in_range) {
  const std::vector<long> a = random_subset(100, 10, 5, 3), b = random_subset(100, 10, 5, 3);
  BOOST_TEST(a == b);
  BOOST_TEST(a != random_subset(100, 10, 6, 3));
  BOOST_TEST(a != random_subset(100, 10, 5, 4));
  std::vector<long> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  BOOST_TEST((std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()));
  BOOST_TEST(sorted.front() >= 0);
  BOOST_TEST(sorted.back() < 100);
  const std::vector<long> all = random_subset(7, 7, 1, 0);
  BOOST_TEST(std::set<long>(all.begin(), all.end()).size() == 7u);
  BOOST_CHECK_THROW(random_subset(5, 6, 1, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(gradient_times_input_is_exactly_faithful_on_a_linear_model) {
  // Constant 0 replacement: f(x) - f(x_S) = sum_{q in S} w_q x_q = sum_{q in S} R_q.
  const cv::Mat x = random_image(kRows, kCols, 1);
  const FunctionModel model = linear_model();
  FaithfulnessCorrelationOptions o;
  o.replacement = constant_zero();
  const SubsetCorrelation r = faithfulness_correlation(model, x, gradient_times_input(x), 0, o);
  BOOST_TEST(r.subset_size == 78);  // 10 % of 784
  BOOST_TEST(r.evaluations == 101);
  BOOST_TEST(r.attributions.size() == 100u);
  for (size_t k = 0; k < r.drops.size(); ++k) BOOST_TEST(close(r.attributions[k], r.drops[k]) < 1e-12);
  BOOST_TEST(close(r.correlation, 1.0) < 1e-12);
  BOOST_TEST(close(r.score, linear(x)) < 1e-12);
  // Scaling the map changes nothing; negating it gives -1.
  const RowMatrixXd scaled = 5.0 * gradient_times_input(x);
  BOOST_TEST(close(faithfulness_correlation(model, x, scaled, 0, o).correlation, 1.0) < 1e-12);
  BOOST_TEST(close(faithfulness_correlation(model, x, -gradient_times_input(x), 0, o).correlation, -1.0) < 1e-12);

  SensitivityNOptions n;
  n.replacement = constant_zero();
  const SensitivityNCurve curve = sensitivity_n(model, x, gradient_times_input(x), 0, n);
  BOOST_TEST(curve.sizes == std::vector<long>({1, 2, 4, 9, 18, 36, 73, 150, 307, 627}));
  BOOST_TEST(curve.evaluations == 10 * 50 + 1);
  for (double c : curve.correlations) BOOST_TEST(close(c, 1.0) < 1e-12);
}

BOOST_AUTO_TEST_CASE(a_random_heatmap_is_uncorrelated_on_a_linear_model) {
  const cv::Mat x = random_image(kRows, kCols, 2);
  const FunctionModel model = linear_model();
  FaithfulnessCorrelationOptions o;
  o.replacement = constant_zero();
  o.subsets = 400;
  const double random_map = faithfulness_correlation(model, x, random_relevance(kRows, kCols, 9), 0, o).correlation;
  BOOST_TEST_MESSAGE("random map's faithfulness correlation " << random_map);
  BOOST_TEST(std::abs(random_map) < 0.2);
  SensitivityNOptions n;
  n.replacement = constant_zero();
  n.subsets = 400;
  n.sizes = {78};
  const double random_n = sensitivity_n(model, x, random_relevance(kRows, kCols, 9), 0, n).correlations[0];
  BOOST_TEST(std::abs(random_n) < 0.2);
}

BOOST_AUTO_TEST_CASE(subset_correlations_equal_a_slow_reference) {
  // A curved model, uniform-noise replacement, a random map; the fast code on
  // threads and odd batches against one image at a time.
  const cv::Mat x = random_image(kRows, kCols, 3);
  const RowMatrixXd r = random_relevance(kRows, kCols, 4) + 0.5 * gradient_times_input(x);
  const FunctionModel model([](const cv::Mat& image, int) { return curved(image); });
  FaithfulnessCorrelationOptions o;
  o.subsets = 37;
  o.fraction = 0.2;
  o.seed = 11;
  o.batching = threaded(5, 2);
  const SubsetCorrelation fast = faithfulness_correlation(model, x, r, 0, o);

  PerturbationOptions p;  // the replacement image region perturbation would use for seed 11
  p.seed = 11;
  const cv::Mat noise = replacement_image(x, p);
  const long n = std::lround(0.2 * kRows * kCols);
  std::vector<double> a, d;
  for (long k = 0; k < o.subsets; ++k) {
    const std::vector<long> subset = random_subset(kRows * kCols, n, 11, k);
    cv::Mat xs = x.clone();
    double sum = 0;
    for (long q : subset) {
      xs.at<float>(static_cast<int>(q / kCols), static_cast<int>(q % kCols)) =
          noise.at<float>(static_cast<int>(q / kCols), static_cast<int>(q % kCols));
      sum += r(q / kCols, q % kCols);
    }
    a.push_back(sum);
    d.push_back(curved(x) - curved(xs));
  }
  // Pearson by its textbook formula.
  double ma = 0, md = 0;
  for (size_t k = 0; k < a.size(); ++k) ma += a[k] / a.size(), md += d[k] / d.size();
  double sad = 0, saa = 0, sdd = 0;
  for (size_t k = 0; k < a.size(); ++k)
    sad += (a[k] - ma) * (d[k] - md), saa += (a[k] - ma) * (a[k] - ma), sdd += (d[k] - md) * (d[k] - md);
  const double reference = sad / std::sqrt(saa * sdd);
  BOOST_TEST(fast.subset_size == n);
  for (size_t k = 0; k < a.size(); ++k) {
    BOOST_TEST(close(fast.attributions[k], a[k]) < 1e-12);
    BOOST_TEST(close(fast.drops[k], d[k]) < 1e-12);
  }
  BOOST_TEST(close(fast.correlation, reference) < 1e-12);
  BOOST_TEST(std::abs(reference) < 0.999);  // not trivially 1

  // Sensitivity-n: sample k of the curve is subset k of its size; same seed, threads, batches.
  SensitivityNOptions s;
  s.sizes = {3, 50};
  s.subsets = 9;
  s.seed = 11;
  s.batching = threaded(4, 2);
  const SensitivityNCurve curve = sensitivity_n(model, x, r, 0, s);
  for (size_t i = 0; i < 2; ++i) {
    std::vector<double> ai, di;
    for (long j = 0; j < 9; ++j) {
      const std::vector<long> subset = random_subset(kRows * kCols, s.sizes[i], 11, static_cast<long>(i) * 9 + j);
      cv::Mat xs = x.clone();
      double sum = 0;
      for (long q : subset) {
        xs.at<float>(static_cast<int>(q / kCols), static_cast<int>(q % kCols)) =
            noise.at<float>(static_cast<int>(q / kCols), static_cast<int>(q % kCols));
        sum += r(q / kCols, q % kCols);
      }
      ai.push_back(sum);
      di.push_back(curved(x) - curved(xs));
    }
    BOOST_TEST(close(curve.correlations[i], pearson_correlation(ai, di)) < 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(seeds_decide_the_subsets) {
  const cv::Mat x = random_image(kRows, kCols, 5);
  const RowMatrixXd r = random_relevance(kRows, kCols, 6);
  const FunctionModel model([](const cv::Mat& image, int) { return curved(image); });
  FaithfulnessCorrelationOptions o;
  o.subsets = 20;
  const SubsetCorrelation a = faithfulness_correlation(model, x, r, 0, o);
  o.batching = threaded(3, 2);
  const SubsetCorrelation b = faithfulness_correlation(model, x, r, 0, o);
  BOOST_TEST(a.drops == b.drops);  // exactly: threads and batches change nothing
  BOOST_TEST(a.correlation == b.correlation);
  o.seed = 2;
  const SubsetCorrelation c = faithfulness_correlation(model, x, r, 0, o);
  BOOST_TEST(a.drops != c.drops);
  BOOST_TEST(a.correlation != c.correlation);
}

BOOST_AUTO_TEST_CASE(infidelity_of_the_gradient_of_a_linear_model_is_zero) {
  // f(x) - f(x - I) = I^T w exactly: the gradient w has infidelity 0 with beta 1,
  // any multiple of it too (with beta the inverse scale); w x does not.
  const cv::Mat x = random_image(kRows, kCols, 7);
  const FunctionModel model = linear_model();
  InfidelityOptions o;
  const Infidelity g = infidelity(model, x, weights(), 0, o);
  BOOST_TEST(g.evaluations == 101);
  BOOST_TEST(close(g.beta, 1.0) < 1e-12);
  BOOST_TEST(g.infidelity < 1e-20);
  BOOST_TEST(g.relative_infidelity < 1e-12);
  const Infidelity scaled = infidelity(model, x, 4.0 * weights(), 0, o);
  BOOST_TEST(close(scaled.beta, 0.25) < 1e-12);
  BOOST_TEST(scaled.infidelity < 1e-20);
  const Infidelity gi = infidelity(model, x, gradient_times_input(x), 0, o);
  BOOST_TEST_MESSAGE("relative infidelity of w x: " << gi.relative_infidelity);
  BOOST_TEST(gi.relative_infidelity > 0.2);
  BOOST_TEST(gi.relative_infidelity <= 1.0);
  const Infidelity zero = infidelity(model, x, RowMatrixXd::Zero(kRows, kCols), 0, o);
  BOOST_TEST(zero.beta == 0.0);
  BOOST_TEST(zero.relative_infidelity == 1.0);
  double dd = 0;
  for (double d : zero.drops) dd += d * d / zero.drops.size();
  BOOST_TEST(close(zero.infidelity, dd) < 1e-12);
}

BOOST_AUTO_TEST_CASE(infidelity_equals_a_slow_reference) {
  const cv::Mat x = random_image(kRows, kCols, 8);
  const RowMatrixXd r = random_relevance(kRows, kCols, 9) + gradient_times_input(x);
  const FunctionModel model([](const cv::Mat& image, int) { return curved(image); });
  InfidelityOptions o;
  o.samples = 23;
  o.sigma = 0.3;
  o.seed = 5;
  o.batching = threaded(4, 2);
  const Infidelity fast = infidelity(model, x, r, 0, o);
  std::vector<double> a, d;
  for (long k = 0; k < o.samples; ++k) {
    const RowMatrixXd I = infidelity_perturbation(kRows, kCols, 0.3, 5, k);
    cv::Mat xi = x.clone();
    double sum = 0;
    for (int y = 0; y < kRows; ++y)
      for (int c = 0; c < kCols; ++c) {
        xi.at<float>(y, c) = static_cast<float>(x.at<float>(y, c) - I(y, c));
        sum += (static_cast<double>(x.at<float>(y, c)) - xi.at<float>(y, c)) * r(y, c);  // as applied
      }
    a.push_back(sum);
    d.push_back(curved(x) - curved(xi));
  }
  double ad = 0, aa = 0, dd = 0;
  for (size_t k = 0; k < a.size(); ++k) ad += a[k] * d[k], aa += a[k] * a[k], dd += d[k] * d[k];
  const double beta = ad / aa;
  double error = 0;
  for (size_t k = 0; k < a.size(); ++k) error += (beta * a[k] - d[k]) * (beta * a[k] - d[k]);
  BOOST_TEST(close(fast.beta, beta) < 1e-12);
  BOOST_TEST(close(fast.infidelity, error / a.size()) < 1e-12);
  BOOST_TEST(close(fast.relative_infidelity, error / dd) < 1e-12);
  BOOST_TEST(fast.relative_infidelity > 1e-3);
  // The perturbations are Gaussian with the given sigma (784 x 23 draws).
  double s = 0, s2 = 0;
  long count = 0;
  for (long k = 0; k < o.samples; ++k) {
    const RowMatrixXd I = infidelity_perturbation(kRows, kCols, 0.3, 5, k);
    s += I.sum(), s2 += I.squaredNorm(), count += I.size();
  }
  BOOST_TEST(std::abs(s / count) < 0.02);
  BOOST_TEST(std::abs(std::sqrt(s2 / count) - 0.3) < 0.01);
  // Seeds decide.
  o.seed = 6;
  BOOST_TEST(infidelity(model, x, r, 0, o).infidelity != fast.infidelity);
  o.seed = 5;
  o.batching = threaded(32, 1);
  BOOST_TEST(infidelity(model, x, r, 0, o).infidelity == fast.infidelity);
}

BOOST_AUTO_TEST_CASE(max_sensitivity_of_a_linear_explanation_is_bounded_by_the_noise) {
  // Phi(x) = w x: Phi(x + delta) - Phi(x) = w delta, so each ratio is
  // ||w delta|| / ||w x|| <= r ||w|| / ||w x||. The inputs Phi saw give the exact values.
  const cv::Mat x = random_image(kRows, kCols, 10);
  std::vector<cv::Mat> seen;
  const ExplainFunction phi = [&](const cv::Mat& image) {
    seen.push_back(image.clone());
    return gradient_times_input(image);
  };
  MaxSensitivityOptions o;
  const MaxSensitivity m = max_sensitivity(phi, x, gradient_times_input(x), o);
  BOOST_TEST(m.explanations == 10);
  BOOST_TEST(seen.size() == 10u);
  const double base = gradient_times_input(x).norm();
  const double bound = o.radius * weights().norm() / base;
  double largest = 0;
  for (size_t k = 0; k < seen.size(); ++k) {
    const RowMatrixXd delta = as_matrix(seen[k]) - as_matrix(x);
    BOOST_TEST(delta.cwiseAbs().maxCoeff() <= o.radius + 1e-7);
    BOOST_TEST(delta.cwiseAbs().maxCoeff() > 0.9 * o.radius);  // uniform over [-r, r]: 784 values reach near r
    const double ratio = (weights().array() * delta.array()).matrix().norm() / base;
    BOOST_TEST(close(m.sensitivities[k], ratio) < 1e-12);
    largest = std::max(largest, ratio);
  }
  BOOST_TEST(close(m.max_sensitivity, largest) < 1e-15);
  BOOST_TEST(m.max_sensitivity <= bound);
  // Uniform noise has E[delta^2] = r^2 / 3: the ratio is near bound / sqrt(3).
  BOOST_TEST(m.max_sensitivity > 0.4 * bound);
  // Deterministic under the seed, different under another.
  BOOST_TEST(max_sensitivity(phi, x, gradient_times_input(x), o).max_sensitivity == m.max_sensitivity);
  o.seed = 2;
  BOOST_TEST(max_sensitivity(phi, x, gradient_times_input(x), o).max_sensitivity != m.max_sensitivity);
  // The noisy inputs stay images: x + delta clipped to [0, 1] (a black and white image moves inwards only).
  cv::Mat extremes(kRows, kCols, CV_32FC1, cv::Scalar(0.0));
  extremes(cv::Rect(0, 0, kCols, kRows / 2)).setTo(1.0);
  seen.clear();
  max_sensitivity(phi, extremes, gradient_times_input(extremes), o);
  for (const cv::Mat& noisy : seen) {
    double lo, hi;
    cv::minMaxLoc(noisy, &lo, &hi);
    BOOST_TEST(lo >= 0.0);
    BOOST_TEST(hi <= 1.0);
    BOOST_TEST(cv::norm(noisy, extremes, cv::NORM_INF) > 0.0);
  }
  // A map that ignores the input (like the random baseline): 0. A zero map: undefined.
  const RowMatrixXd fixed = random_relevance(kRows, kCols, 3);
  BOOST_TEST(max_sensitivity([&](const cv::Mat&) { return fixed; }, x, fixed, o).max_sensitivity == 0.0);
  const RowMatrixXd zero = RowMatrixXd::Zero(kRows, kCols);
  BOOST_TEST(std::isnan(max_sensitivity([&](const cv::Mat&) { return zero; }, x, zero, o).max_sensitivity));
  BOOST_CHECK_THROW(max_sensitivity([&](const cv::Mat&) { return RowMatrixXd::Zero(2, 2).eval(); }, x, fixed, o),
                    std::runtime_error);
}

BOOST_AUTO_TEST_CASE(sparseness_and_complexity_by_hand) {
  const RowMatrixXd uniform = RowMatrixXd::Constant(2, 2, 0.5);
  BOOST_TEST(close(sparseness(uniform), 0.0) < 1e-15);
  BOOST_TEST(close(complexity(uniform), std::log(4.0)) < 1e-15);
  RowMatrixXd one_hot = RowMatrixXd::Zero(3, 3);
  one_hot(1, 2) = -2.0;  // |R|: the sign does not matter
  BOOST_TEST(close(sparseness(one_hot), 1.0 - 1.0 / 9.0) < 1e-15);
  BOOST_TEST(complexity(one_hot) == 0.0);
  RowMatrixXd ramp(2, 2);
  ramp << -1, 2, -3, 4;
  // sorted 1, 2, 3, 4, sum 10: (-3 * 1 - 1 * 2 + 1 * 3 + 3 * 4) / (4 * 10) = 0.25
  BOOST_TEST(close(sparseness(ramp), 0.25) < 1e-15);
  const double h = -(0.1 * std::log(0.1) + 0.2 * std::log(0.2) + 0.3 * std::log(0.3) + 0.4 * std::log(0.4));
  BOOST_TEST(close(complexity(ramp), h) < 1e-15);
  BOOST_TEST(close(h, 1.2798542258336676) < 1e-12);
  // The scale of a map does not matter.
  BOOST_TEST(close(sparseness(7.0 * ramp), 0.25) < 1e-15);
  BOOST_TEST(close(complexity(1e-9 * ramp), h) < 1e-12);
  // All-zero maps: undefined. NaN values: refused.
  BOOST_TEST(std::isnan(sparseness(RowMatrixXd::Zero(3, 3))));
  BOOST_TEST(std::isnan(complexity(RowMatrixXd::Zero(3, 3))));
  RowMatrixXd bad = uniform;
  bad(0, 0) = NAN;
  BOOST_CHECK_THROW(sparseness(bad), std::invalid_argument);
  BOOST_CHECK_THROW(complexity(bad), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(colour_images_replace_and_perturb_every_channel) {
  // A colour model summing w over all three channels: gradient x input summed
  // over the channels is exactly faithful; the gradient (3 w per pixel for a
  // perturbation of every channel) has infidelity 0.
  cv::Mat x;
  cv::merge(std::vector<cv::Mat>{random_image(kRows, kCols, 1), random_image(kRows, kCols, 2), random_image(kRows, kCols, 3)}, x);
  const FunctionModel model([](const cv::Mat& image, int) {
    std::vector<cv::Mat> planes;
    cv::split(image, planes);
    return linear(planes[0]) + linear(planes[1]) + linear(planes[2]);
  });
  std::vector<cv::Mat> planes;
  cv::split(x, planes);
  const RowMatrixXd r = gradient_times_input(planes[0]) + gradient_times_input(planes[1]) + gradient_times_input(planes[2]);
  FaithfulnessCorrelationOptions o;
  o.replacement = constant_zero();
  BOOST_TEST(close(faithfulness_correlation(model, x, r, 0, o).correlation, 1.0) < 1e-12);
  const Infidelity g = infidelity(model, x, 3.0 * weights(), 0, {});
  BOOST_TEST(g.relative_infidelity < 1e-12);
}

BOOST_AUTO_TEST_CASE(bad_options_and_inputs_are_refused) {
  const cv::Mat x = random_image(4, 4, 1);
  const FunctionModel model = linear_model();
  FaithfulnessCorrelationOptions f;
  f.subsets = 1;
  BOOST_CHECK_THROW(f.validate(), std::invalid_argument);
  f.subsets = 10;
  f.fraction = 0;
  BOOST_CHECK_THROW(f.validate(), std::invalid_argument);
  f.fraction = 1.5;
  BOOST_CHECK_THROW(f.validate(), std::invalid_argument);
  f.fraction = 0.5;
  f.replacement.blur_sigma = -1;
  BOOST_CHECK_THROW(f.validate(), std::invalid_argument);
  SensitivityNOptions s;
  s.sizes = {0};
  BOOST_CHECK_THROW(s.validate(), std::invalid_argument);
  s.sizes = {17};
  BOOST_CHECK_THROW(s.sizes_for(16), std::invalid_argument);
  s.sizes = {};
  s.max_fraction = 0;
  BOOST_CHECK_THROW(s.validate(), std::invalid_argument);
  InfidelityOptions i;
  i.sigma = 0;
  BOOST_CHECK_THROW(i.validate(), std::invalid_argument);
  i.sigma = 0.1;
  i.samples = 0;
  BOOST_CHECK_THROW(i.validate(), std::invalid_argument);
  MaxSensitivityOptions m;
  m.radius = NAN;
  BOOST_CHECK_THROW(m.validate(), std::invalid_argument);
  // A heatmap of another size, or with NaN.
  BOOST_CHECK_THROW(faithfulness_correlation(model, x, RowMatrixXd::Zero(3, 4), 0, {}), std::invalid_argument);
  RowMatrixXd bad = RowMatrixXd::Zero(4, 4);
  bad(1, 1) = INFINITY;
  BOOST_CHECK_THROW(infidelity(model, x, bad, 0, {}), std::invalid_argument);
  // Small images: automatic sizes stay distinct and within the image.
  SensitivityNOptions small;
  BOOST_TEST(small.sizes_for(16) == std::vector<long>({1, 2, 3, 4, 5, 7, 9, 12}));
  BOOST_TEST(small.sizes_for(1) == std::vector<long>({1}));
}

BOOST_AUTO_TEST_CASE(evaluate_refuses_bad_metric_settings_before_writing) {
  // The option values are checked before the model is read: the message names
  // the flag and its value, the exit status is 2 (a usage error), and no folder appears.
  test::ScratchDir dir("faithfulness-cli");
  const std::string out = dir / "out";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--metrics infidelity --infidelity-sigma -1", "--infidelity-sigma -1: must be a positive grey level"},
      {"--metrics infidelity --infidelity-samples 0", "--infidelity-samples 0: must be at least 1"},
      {"--metrics faithfulness-correlation --correlation-fraction 1.5", "--correlation-fraction 1.5: must be in (0, 1]"},
      {"--metrics faithfulness-correlation --correlation-subsets 1", "--correlation-subsets 1: must be at least 2"},
      {"--metrics sensitivity-n --sensitivity-n-sizes 4,0", "--sensitivity-n-sizes: 0 is not a pixel count >= 1"},
      {"--metrics sensitivity-n --sensitivity-n-max-fraction 0", "--sensitivity-n-max-fraction 0: must be in (0, 1]"},
      {"--metrics max-sensitivity --max-sensitivity-radius 0", "--max-sensitivity-radius 0: must be a positive grey level"},
      {"--metrics max-sensitivity --max-sensitivity-samples -3", "--max-sensitivity-samples -3: must be at least 1"},
      {"--metrics faithfulness,complexity", "unknown metric \"faithfulness\""}};
  for (const auto& [flags, message] : cases) {
    const auto r = test::run_cli("evaluate --model '" + (dir / "no-model") + "' --data fashion-mnist:test:2 --out '" + out +
                                 "' " + flags);
    BOOST_TEST(r.exit_code == 2, flags << ": " << r.output);
    BOOST_TEST(r.output.find(message) != std::string::npos, flags << ": " << r.output);
    BOOST_TEST(r.output.find("no-model") == std::string::npos, flags << ": " << r.output);
    BOOST_TEST(!std::filesystem::exists(out), flags);
  }
}
