#include "pixelwise/decomposition/baselines.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "pixelwise/common/parallel.hpp"

namespace pixelwise {

Eigen::VectorXd ScoreModel::scores(const std::vector<cv::Mat>& batch, int c) const {
  if (batch.empty()) return Eigen::VectorXd();
  Eigen::VectorXd s = evaluate(batch, c);
  if (s.size() != static_cast<long>(batch.size()))
    throw std::logic_error("model returned " + std::to_string(s.size()) + " scores for " +
                           std::to_string(batch.size()) + " images");
  evaluations_ += static_cast<long>(batch.size());
  return s;
}

double ScoreModel::score(const cv::Mat& image, int c) const { return scores({image}, c)[0]; }

Eigen::VectorXd FunctionModel::evaluate(const std::vector<cv::Mat>& batch, int c) const {
  Eigen::VectorXd s(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) s[static_cast<long>(i)] = f_(batch[i], c);
  return s;
}

void BatchOptions::validate() const {
  if (batch < 1) throw std::invalid_argument("batch size must be at least 1");
  if (threads < 0) throw std::invalid_argument("threads must be 0 (all cores) or more");
}

Eigen::VectorXd evaluate_images(const ScoreModel& model, long count, const std::function<cv::Mat(long)>& make, int c,
                                const BatchOptions& options) {
  options.validate();
  Eigen::VectorXd out(count);
  const long batches = (count + options.batch - 1) / options.batch;
  auto run_batch = [&](long b) {
    if (options.interrupt) options.interrupt();
    const long first = b * options.batch, last = std::min(count, first + options.batch);
    std::vector<cv::Mat> images;
    images.reserve(static_cast<size_t>(last - first));
    for (long i = first; i < last; ++i) images.push_back(make(i));
    out.segment(first, last - first) = model.scores(images, c);
  };
  for_each_parallel(batches, model.concurrent() ? options.threads : 1, run_batch);
  return out;
}

void check_model_image(const cv::Mat& image, const std::string& what) {
  if (image.empty() || (image.type() != CV_32FC1 && image.type() != CV_32FC3))
    throw std::invalid_argument(what + ": expected a non-empty grey (CV_32FC1) or colour (CV_32FC3) float image");
}

RowMatrixXd random_relevance(int rows, int cols, std::uint64_t seed) {
  if (rows < 1 || cols < 1) throw std::invalid_argument("random relevance: the image size must be positive");
  std::mt19937_64 rng(seed);
  RowMatrixXd r(rows, cols);
  // The top 53 bits of each draw, so that the values do not depend on a
  // standard library's distribution implementation.
  for (long i = 0; i < r.size(); ++i) r.data()[i] = 2.0 * static_cast<double>(rng() >> 11) * 0x1.0p-53 - 1.0;
  return r;
}

void OcclusionOptions::validate() const {
  if (patch < 1) throw std::invalid_argument("occlusion: patch must be at least 1 pixel");
  if (stride < 1) throw std::invalid_argument("occlusion: stride must be at least 1 pixel");
  if (!std::isfinite(fill)) throw std::invalid_argument("occlusion: fill must be a finite grey level");
  batching.validate();
}

std::vector<int> patch_origins(int length, int patch, int stride) {
  if (length < 1 || patch < 1 || stride < 1) throw std::invalid_argument("patch origins: sizes must be positive");
  if (patch >= length) return {0};
  std::vector<int> origins;
  for (int o = 0; o + patch <= length; o += stride) origins.push_back(o);
  if (origins.back() + patch < length) origins.push_back(length - patch);
  return origins;
}

OcclusionResult occlusion(const ScoreModel& model, const cv::Mat& image, int c, const OcclusionOptions& options) {
  options.validate();
  check_model_image(image, "occlusion");
  const int rows = image.rows, cols = image.cols;
  const int ph = std::min(options.patch, rows), pw = std::min(options.patch, cols);
  const std::vector<int> ys = patch_origins(rows, options.patch, options.stride);
  const std::vector<int> xs = patch_origins(cols, options.patch, options.stride);
  const long positions = static_cast<long>(ys.size() * xs.size());
  // Image 0 is the original, image 1 + p the one with patch p filled.
  const Eigen::VectorXd s = evaluate_images(
      model, positions + 1,
      [&](long i) {
        cv::Mat x = image.clone();
        if (i > 0) {
          const long p = i - 1;
          x(cv::Rect(xs[p % xs.size()], ys[p / xs.size()], pw, ph)).setTo(cv::Scalar::all(options.fill));  // every colour plane
        }
        return x;
      },
      c, options.batching);
  OcclusionResult r;
  r.score = s[0];
  r.evaluations = positions + 1;
  r.positions = static_cast<int>(positions);
  RowMatrixXd sum = RowMatrixXd::Zero(rows, cols), covered = RowMatrixXd::Zero(rows, cols);
  for (long p = 0; p < positions; ++p) {
    const int y0 = ys[p / xs.size()], x0 = xs[p % xs.size()];
    sum.block(y0, x0, ph, pw).array() += s[0] - s[p + 1];
    covered.block(y0, x0, ph, pw).array() += 1.0;
  }
  r.relevance = sum.cwiseQuotient(covered);  // every pixel is covered (patch_origins)
  return r;
}

Eigen::VectorXd normalisation_backward(const Eigen::VectorXd& x, const NormalisationOptions& options,
                                       const Eigen::VectorXd& g) {
  options.validate();
  if (g.size() != x.size()) throw std::invalid_argument("normalisation gradient: x and g differ in size");
  // Forward pass keeping each step's input, then the chain rule backwards.
  std::vector<Eigen::VectorXd> inputs;
  Eigen::VectorXd y = x;
  for (const auto& step : options.steps) {
    inputs.push_back(y);
    y = normalise(y, NormalisationOptions{{step}});
  }
  Eigen::VectorXd u = g;
  for (size_t k = options.steps.size(); k-- > 0;) {
    const NormalisationStep step = options.steps[k];
    const Eigen::VectorXd& v = inputs[k];
    if (step == NormalisationStep::l1) {
      // y = v / S, S = sum |v|: dy_i/dv_j = delta_ij / S - v_i sign(v_j) / S^2.
      const double S = v.lpNorm<1>();
      if (S > 0) u = (u - v.dot(u) / S * v.cwiseSign()) / S;
    } else if (step == NormalisationStep::l2) {
      // y = v / N, N = |v|_2: dy_i/dv_j = delta_ij / N - v_i v_j / N^3.
      const double N = v.norm();
      if (N > 0) u = (u - v.dot(u) / (N * N) * v) / N;
    } else {  // power: y = sign(v) sqrt|v|, dy/dv = 1 / (2 sqrt|v|)
      for (long i = 0; i < u.size(); ++i) u[i] = v[i] == 0.0 ? 0.0 : u[i] / (2.0 * std::sqrt(std::abs(v[i])));
    }
  }
  return u;
}

Eigen::VectorXd descriptor_sensitivity(const BowEncoding& e, const Eigen::VectorXd& u) {
  const Codes& codes = e.codes;
  const long V = codes.words;
  if (u.size() != e.pooled.size())
    throw std::invalid_argument("descriptor sensitivity: the gradient has " + std::to_string(u.size()) +
                                " values, the pooled vector " + std::to_string(e.pooled.size()));
  const PoolingType type = e.pooling.type;
  std::vector<long> members(e.cells, 0);  // M_c
  for (const auto& cells : e.cells_of)
    for (int c : cells) ++members[c];
  // Max pooling: how many features attain each bin's maximum.
  std::vector<int> winners;
  if (type == PoolingType::max) {
    winners.assign(static_cast<size_t>(e.pooled.size()), 0);
    for (int l = 0; l < codes.features(); ++l)
      for (int c : e.cells_of[l])
        for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k)
          if (codes.weight[k] > 0 && codes.weight[k] == e.bin_max[c * V + codes.word[k]]) ++winners[c * V + codes.word[k]];
  }
  Eigen::VectorXd s = Eigen::VectorXd::Zero(codes.features());
  for (int l = 0; l < codes.features(); ++l)
    for (int c : e.cells_of[l])
      for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k) {
        const long bin = c * V + codes.word[k];
        const double m = codes.weight[k];
        if (m <= 0) continue;
        double dx;
        if (type == PoolingType::sum) {
          dx = m;
        } else if (type == PoolingType::max) {
          dx = m == e.bin_max[bin] ? m / winners[bin] : 0.0;
        } else {  // pmeans: x^(1-p) m^p / M_c, evaluated as x (m / x)^p / M_c
          const double x = e.pooled[bin];
          dx = x * std::pow(m / x, e.pooling.p) / static_cast<double>(members[c]);
        }
        s[l] += u[bin] * dx;
      }
  return s;
}

namespace {
// g pulled back through y = v / max(|v|_2, floor), in place; y is the output.
void unit_norm_backward(Eigen::Ref<Eigen::VectorXd> g, const Eigen::Ref<const Eigen::VectorXd>& v) {
  constexpr double kFloor = 1e-12;  // normalise_blocks' lower bound of a norm
  const double n = v.norm();
  if (n <= kFloor) {
    g /= kFloor;
    return;
  }
  const Eigen::VectorXd y = v / n;
  g = (g - y * y.dot(g)) / n;
}
}  // namespace

Eigen::VectorXd normalise_blocks_backward(const TermEncoding& e, const Eigen::VectorXd& g) {
  if (g.size() != e.size())
    throw std::invalid_argument("normalise_blocks_backward: the gradient has " + std::to_string(g.size()) +
                                " values, the encoding " + std::to_string(e.size()));
  const long block = e.block();
  const int K = e.components(), D = e.dimension();
  const MappingOptions& o = e.options;
  Eigen::VectorXd u = g;
  for (long at = 0; at < u.size(); at += block) {
    const auto s = e.sums.segment(at, block);
    // The forward steps' inputs, recomputed: a = sqrt step output, b = after intra.
    Eigen::VectorXd a = s;
    if (o.square_root)
      for (long d = 0; d < block; ++d) a[d] = s[d] < 0 ? -std::sqrt(-s[d]) : std::sqrt(s[d]);
    Eigen::VectorXd b = a;
    const bool intra = e.type == MappingType::vlad && o.intra;
    if (intra)
      for (int k = 0; k < K; ++k) {
        auto part = b.segment(static_cast<long>(k) * D, D);
        part /= std::max(part.norm(), 1e-12);
      }
    auto ub = u.segment(at, block);
    if (o.normalised) unit_norm_backward(ub, b);
    if (intra)
      for (int k = 0; k < K; ++k)
        unit_norm_backward(ub.segment(static_cast<long>(k) * D, D), a.segment(static_cast<long>(k) * D, D));
    if (o.square_root)
      for (long d = 0; d < block; ++d) ub[d] = s[d] == 0.0 ? 0.0 : ub[d] / (2.0 * std::sqrt(std::abs(s[d])));
  }
  return u;
}

Eigen::VectorXd descriptor_sensitivity(const TermEncoding& e, const Eigen::VectorXd& encoded_gradient) {
  const Eigen::VectorXd v = normalise_blocks_backward(e, encoded_gradient);
  Eigen::VectorXd s = Eigen::VectorXd::Zero(e.features());
  for (const auto& entry : e.entries) e.terms(entry, [&](long bin, double z) { s[entry.feature] += v[bin] * z; });
  return s;
}

}  // namespace pixelwise
