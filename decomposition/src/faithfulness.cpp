#include "pixelwise/decomposition/faithfulness.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace pixelwise {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// SplitMix64 finaliser: the stream of sample k of a metric seeded with `seed`
// (Steele, Lea and Flood 2014), so that samples drawn on any thread, in any
// batch, are the same.
std::uint64_t mix(std::uint64_t seed, std::uint64_t k, std::uint64_t salt) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (k + 1) + salt;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
constexpr std::uint64_t kSubsetSalt = 0x5ab5e75ULL, kInfidelitySalt = 0x1f1de1ULL, kSensitivitySalt = 0x5e45ULL;

// The top 53 bits of a draw as a double in [0, 1): independent of a standard
// library's distributions.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Uniform integer in [0, n) by rejection, independent of the standard library.
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t v;
  do v = rng();
  while (v >= limit);
  return v % n;
}

void check_map(const cv::Mat& image, const RowMatrixXd& relevance, const std::string& what) {
  check_model_image(image, what);
  if (relevance.rows() != image.rows || relevance.cols() != image.cols)
    throw std::invalid_argument(what + ": the heatmap is " + std::to_string(relevance.rows()) + " x " +
                                std::to_string(relevance.cols()) + ", the image " + std::to_string(image.rows) + " x " +
                                std::to_string(image.cols));
  if (!relevance.allFinite()) throw std::invalid_argument(what + ": the heatmap has NaN or infinite values");
}

cv::Mat replacement_of(const cv::Mat& image, const ReplacementOptions& r, std::uint64_t seed) {
  PerturbationOptions p;
  p.replacement = r.replacement;
  p.constant = r.constant;
  p.blur_sigma = r.blur_sigma;
  p.seed = seed;  // the same noise image as region perturbation of this seed
  return replacement_image(image, p);
}

// x with the pixels of `subset` (every channel) taken from `replacement`.
cv::Mat replace_pixels(const cv::Mat& image, const cv::Mat& replacement, const std::vector<long>& subset) {
  cv::Mat x = image.clone();
  const int channels = image.channels();
  for (const long q : subset) {
    const int y = static_cast<int>(q / image.cols), col = static_cast<int>(q % image.cols);
    const float* from = replacement.ptr<float>(y) + static_cast<long>(col) * channels;
    float* to = x.ptr<float>(y) + static_cast<long>(col) * channels;
    std::copy(from, from + channels, to);
  }
  return x;
}

double subset_sum(const RowMatrixXd& relevance, const std::vector<long>& subset) {
  double s = 0;
  for (const long q : subset) s += relevance.data()[q];
  return s;
}

}  // namespace

void ReplacementOptions::validate() const {
  if (!std::isfinite(constant)) throw std::invalid_argument("replacement: the constant must be a finite grey level");
  if (!(blur_sigma > 0) || !std::isfinite(blur_sigma)) throw std::invalid_argument("replacement: blur sigma must be positive");
}

void FaithfulnessCorrelationOptions::validate() const {
  if (subsets < 2) throw std::invalid_argument("faithfulness correlation: subsets must be at least 2 (a correlation)");
  if (!(fraction > 0 && fraction <= 1))
    throw std::invalid_argument("faithfulness correlation: the subset fraction must be in (0, 1]");
  replacement.validate();
  batching.validate();
}

void SensitivityNOptions::validate() const {
  for (const long n : sizes)
    if (n < 1) throw std::invalid_argument("sensitivity-n: every subset size n must be at least 1 pixel");
  if (sizes.empty() && points < 1) throw std::invalid_argument("sensitivity-n: points must be at least 1");
  if (!(max_fraction > 0 && max_fraction <= 1))
    throw std::invalid_argument("sensitivity-n: the largest subset fraction must be in (0, 1]");
  if (subsets < 2) throw std::invalid_argument("sensitivity-n: subsets per n must be at least 2 (a correlation)");
  replacement.validate();
  batching.validate();
}

std::vector<long> SensitivityNOptions::sizes_for(long pixels) const {
  std::vector<long> out;
  if (!sizes.empty()) {
    for (const long n : sizes)
      if (n > pixels)
        throw std::invalid_argument("sensitivity-n: subset size " + std::to_string(n) + " exceeds the image's " +
                                    std::to_string(pixels) + " pixels");
    out = sizes;
  } else {
    const double top = std::max(1.0, std::floor(max_fraction * static_cast<double>(pixels)));
    for (int k = 0; k < points; ++k) {
      const double t = points > 1 ? static_cast<double>(k) / (points - 1) : 1.0;
      out.push_back(std::clamp(std::lround(std::pow(top, t)), 1L, pixels));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void InfidelityOptions::validate() const {
  if (samples < 1) throw std::invalid_argument("infidelity: samples must be at least 1");
  if (!(sigma > 0) || !std::isfinite(sigma)) throw std::invalid_argument("infidelity: sigma must be positive and finite");
  batching.validate();
}

void MaxSensitivityOptions::validate() const {
  if (samples < 1) throw std::invalid_argument("max-sensitivity: samples must be at least 1");
  if (!(radius > 0) || !std::isfinite(radius))
    throw std::invalid_argument("max-sensitivity: the radius must be positive and finite");
}

double pearson_correlation(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("correlation: lists of different lengths");
  const size_t n = a.size();
  if (n < 2) return kNaN;
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  // A list whose spread is within rounding of its values is constant: its
  // correlation is undefined, not the correlation of rounding noise (scores
  // summed in another order would give another one).
  auto flat = [n](const std::vector<double>& v, double ss) {
    double largest = 0;
    for (double x : v) largest = std::max(largest, std::abs(x));
    return !(ss > 0) || std::sqrt(ss / static_cast<double>(n)) <= 1e-12 * largest;
  };
  if (flat(a, saa) || flat(b, sbb)) return kNaN;
  return std::clamp(sab / std::sqrt(saa * sbb), -1.0, 1.0);
}

std::vector<long> random_subset(long pixels, long size, std::uint64_t seed, long k) {
  if (size < 1 || size > pixels) throw std::invalid_argument("random subset: size must be in [1, pixels]");
  std::mt19937_64 rng(mix(seed, static_cast<std::uint64_t>(k), kSubsetSalt));
  // Partial Fisher-Yates: the first `size` places of a random permutation.
  std::vector<long> index(static_cast<size_t>(pixels));
  std::iota(index.begin(), index.end(), 0L);
  for (long i = 0; i < size; ++i) {
    const long j = i + static_cast<long>(below(rng, static_cast<std::uint64_t>(pixels - i)));
    std::swap(index[i], index[j]);
  }
  index.resize(static_cast<size_t>(size));
  return index;
}

RowMatrixXd infidelity_perturbation(int rows, int cols, double sigma, std::uint64_t seed, long k) {
  std::mt19937_64 rng(mix(seed, static_cast<std::uint64_t>(k), kInfidelitySalt));
  RowMatrixXd out(rows, cols);
  // Box-Muller on 53-bit uniforms, two normals per pair of draws.
  for (long i = 0; i < out.size(); i += 2) {
    const double u1 = 1.0 - unit(rng), u2 = unit(rng);  // u1 in (0, 1]
    const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 6.283185307179586 * u2;
    out.data()[i] = sigma * radius * std::cos(angle);
    if (i + 1 < out.size()) out.data()[i + 1] = sigma * radius * std::sin(angle);
  }
  return out;
}

namespace {

// f(x) and f(x_S) for the given subsets, batched; fills attributions and drops.
void subset_drops(const ScoreModel& model, const cv::Mat& image, const cv::Mat& replacement, const RowMatrixXd& relevance,
                  int c, const std::vector<long>& sizes, long subsets, std::uint64_t seed, const BatchOptions& batching,
                  std::vector<std::vector<double>>& attributions, std::vector<std::vector<double>>& drops,
                  double& score) {
  const long pixels = static_cast<long>(relevance.size());
  const long count = static_cast<long>(sizes.size()) * subsets;
  std::vector<double> sums(static_cast<size_t>(count));
  // Image 0 is x; image 1 + p * subsets + s is x with subset s of size sizes[p].
  auto make = [&](long i) {
    if (i == 0) return image.clone();
    const long k = i - 1;
    const std::vector<long> subset = random_subset(pixels, sizes[k / subsets], seed, k);
    sums[k] = subset_sum(relevance, subset);
    return replace_pixels(image, replacement, subset);
  };
  const Eigen::VectorXd f = evaluate_images(model, count + 1, make, c, batching);
  score = f[0];
  attributions.assign(sizes.size(), {});
  drops.assign(sizes.size(), {});
  for (long k = 0; k < count; ++k) {
    attributions[k / subsets].push_back(sums[k]);
    drops[k / subsets].push_back(f[0] - f[k + 1]);
  }
}

}  // namespace

SubsetCorrelation faithfulness_correlation(const ScoreModel& model, const cv::Mat& image, const RowMatrixXd& relevance,
                                           int c, const FaithfulnessCorrelationOptions& options) {
  options.validate();
  check_map(image, relevance, "faithfulness correlation");
  const long pixels = static_cast<long>(relevance.size());
  const long n = std::clamp(std::lround(options.fraction * static_cast<double>(pixels)), 1L, pixels);
  const cv::Mat replacement = replacement_of(image, options.replacement, options.seed);
  std::vector<std::vector<double>> a, d;
  SubsetCorrelation out;
  subset_drops(model, image, replacement, relevance, c, {n}, options.subsets, options.seed, options.batching, a, d,
               out.score);
  out.subset_size = n;
  out.attributions = std::move(a[0]);
  out.drops = std::move(d[0]);
  out.correlation = pearson_correlation(out.attributions, out.drops);
  out.evaluations = options.subsets + 1;
  return out;
}

SensitivityNCurve sensitivity_n(const ScoreModel& model, const cv::Mat& image, const RowMatrixXd& relevance, int c,
                                const SensitivityNOptions& options) {
  options.validate();
  check_map(image, relevance, "sensitivity-n");
  SensitivityNCurve out;
  out.sizes = options.sizes_for(static_cast<long>(relevance.size()));
  const cv::Mat replacement = replacement_of(image, options.replacement, options.seed);
  std::vector<std::vector<double>> a, d;
  subset_drops(model, image, replacement, relevance, c, out.sizes, options.subsets, options.seed, options.batching, a, d,
               out.score);
  for (size_t p = 0; p < out.sizes.size(); ++p) out.correlations.push_back(pearson_correlation(a[p], d[p]));
  out.evaluations = static_cast<long>(out.sizes.size()) * options.subsets + 1;
  return out;
}

Infidelity infidelity(const ScoreModel& model, const cv::Mat& image, const RowMatrixXd& relevance, int c,
                      const InfidelityOptions& options) {
  options.validate();
  check_map(image, relevance, "infidelity");
  const long samples = options.samples;
  Infidelity out;
  out.attributions.assign(static_cast<size_t>(samples), 0.0);
  const int channels = image.channels();
  auto make = [&](long i) {
    if (i == 0) return image.clone();
    const RowMatrixXd perturbation = infidelity_perturbation(image.rows, image.cols, options.sigma, options.seed, i - 1);
    // x - I, I added to every channel of its pixel; I^T R uses the
    // perturbation as applied, x - float(x - I) (mean over the channels), so
    // that the rounding to float does not count as infidelity.
    cv::Mat x = image.clone();
    double sum = 0;
    for (int y = 0; y < x.rows; ++y) {
      float* row = x.ptr<float>(y);
      for (int col = 0; col < x.cols; ++col) {
        double applied = 0;
        for (int ch = 0; ch < channels; ++ch) {
          float& v = row[col * channels + ch];
          const double before = v;
          v = static_cast<float>(before - perturbation(y, col));
          applied += before - static_cast<double>(v);
        }
        sum += applied / channels * relevance(y, col);
      }
    }
    out.attributions[i - 1] = sum;
    return x;
  };
  const Eigen::VectorXd f = evaluate_images(model, samples + 1, make, c, options.batching);
  out.score = f[0];
  double ad = 0, aa = 0, dd = 0;
  for (long k = 0; k < samples; ++k) {
    out.drops.push_back(f[0] - f[k + 1]);
    ad += out.attributions[k] * out.drops[k];
    aa += out.attributions[k] * out.attributions[k];
    dd += out.drops[k] * out.drops[k];
  }
  out.beta = aa > 0 ? ad / aa : 0.0;
  double error = 0;
  for (long k = 0; k < samples; ++k) {
    const double e = out.beta * out.attributions[k] - out.drops[k];
    error += e * e;
  }
  out.infidelity = error / static_cast<double>(samples);
  out.relative_infidelity = dd > 0 ? std::clamp(error / dd, 0.0, 1.0) : kNaN;
  out.evaluations = samples + 1;
  return out;
}

MaxSensitivity max_sensitivity(const ExplainFunction& explain, const cv::Mat& image, const RowMatrixXd& relevance,
                               const MaxSensitivityOptions& options) {
  options.validate();
  if (!explain) throw std::invalid_argument("max-sensitivity: no explanation function");
  if (image.empty() || (image.depth() != CV_32F && image.depth() != CV_64F))
    throw std::invalid_argument("max-sensitivity: expected a non-empty float image");
  if (relevance.rows() != image.rows || relevance.cols() != image.cols)
    throw std::invalid_argument("max-sensitivity: the heatmap is " + std::to_string(relevance.rows()) + " x " +
                                std::to_string(relevance.cols()) + ", the image " + std::to_string(image.rows) + " x " +
                                std::to_string(image.cols));
  if (!relevance.allFinite()) throw std::invalid_argument("max-sensitivity: the heatmap has NaN or infinite values");
  const double norm = relevance.norm();
  MaxSensitivity out;
  out.max_sensitivity = norm > 0 ? 0.0 : kNaN;
  for (int k = 0; k < options.samples; ++k) {
    std::mt19937_64 rng(mix(options.seed, static_cast<std::uint64_t>(k), kSensitivitySalt));
    cv::Mat x = image.clone();
    const int values = x.cols * x.channels();
    for (int y = 0; y < x.rows; ++y) {
      if (x.depth() == CV_32F) {
        float* row = x.ptr<float>(y);
        for (int v = 0; v < values; ++v)
          row[v] = static_cast<float>(std::clamp(row[v] + options.radius * (2.0 * unit(rng) - 1.0), 0.0, 1.0));
      } else {
        double* row = x.ptr<double>(y);
        for (int v = 0; v < values; ++v) row[v] = std::clamp(row[v] + options.radius * (2.0 * unit(rng) - 1.0), 0.0, 1.0);
      }
    }
    const RowMatrixXd r = explain(x);
    if (r.rows() != relevance.rows() || r.cols() != relevance.cols())
      throw std::runtime_error("max-sensitivity: the explanation of a noisy input is " + std::to_string(r.rows()) +
                               " x " + std::to_string(r.cols()) + ", not the image's size");
    const double s = norm > 0 ? (r - relevance).norm() / norm : kNaN;
    out.sensitivities.push_back(s);
    if (norm > 0) out.max_sensitivity = std::max(out.max_sensitivity, s);
  }
  out.explanations = options.samples;
  return out;
}

namespace {
void check_finite(const RowMatrixXd& relevance, const std::string& what) {
  if (relevance.size() == 0) throw std::invalid_argument(what + ": the heatmap is empty");
  if (!relevance.allFinite()) throw std::invalid_argument(what + ": the heatmap has NaN or infinite values");
}
}  // namespace

double sparseness(const RowMatrixXd& relevance) {
  check_finite(relevance, "sparseness");
  std::vector<double> a(static_cast<size_t>(relevance.size()));
  for (long i = 0; i < relevance.size(); ++i) a[i] = std::abs(relevance.data()[i]);
  std::sort(a.begin(), a.end());
  const double total = std::accumulate(a.begin(), a.end(), 0.0);
  if (!(total > 0)) return kNaN;
  const double n = static_cast<double>(a.size());
  double weighted = 0;
  for (size_t k = 0; k < a.size(); ++k) weighted += (2.0 * static_cast<double>(k + 1) - n - 1.0) * a[k];
  return weighted / (n * total);
}

double complexity(const RowMatrixXd& relevance) {
  check_finite(relevance, "complexity");
  const double total = relevance.cwiseAbs().sum();
  if (!(total > 0)) return kNaN;
  double h = 0;
  for (long i = 0; i < relevance.size(); ++i) {
    const double p = std::abs(relevance.data()[i]) / total;
    if (p > 0) h -= p * std::log(p);
  }
  return std::max(0.0, h);
}

}  // namespace pixelwise
