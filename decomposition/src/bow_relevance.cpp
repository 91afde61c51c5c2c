#include "pixelwise/decomposition/bow_relevance.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace pixelwise {

FeatureRelevance pool_relevance(const BowEncoding& e, const Eigen::VectorXd& bin_relevance) {
  if (bin_relevance.size() != e.pooled.size())
    throw std::invalid_argument("pooling relevance: " + std::to_string(bin_relevance.size()) +
                                " bin relevances for a histogram of " + std::to_string(e.pooled.size()));
  const Codes& codes = e.codes;
  const long V = codes.words;
  const PoolingType type = e.pooling.type;
  if (type != PoolingType::sum && e.bin_max.size() != e.pooled.size())
    throw std::invalid_argument("pooling relevance: the encoding lacks the per-bin maxima of " + name_of(type) + " pooling");
  // g(m) of the rule (DESIGN.md 1.2), relative to the bin's maximum for p-means.
  auto g = [&](long bin, double m) {
    if (type == PoolingType::sum) return m;
    if (type == PoolingType::max) return m == e.bin_max[bin] ? 1.0 : 0.0;
    return m > 0 ? std::pow(m / e.bin_max[bin], e.pooling.p) : 0.0;
  };
  Eigen::VectorXd mass;
  if (type == PoolingType::sum) {
    mass = e.pooled;  // sum pooling: the pooled value is the denominator
  } else {
    mass = Eigen::VectorXd::Zero(e.pooled.size());
    for (int l = 0; l < codes.features(); ++l)
      for (int c : e.cells_of[l])
        for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k) {
          const long bin = c * V + codes.word[k];
          mass[bin] += g(bin, codes.weight[k]);
        }
  }
  FeatureRelevance out;
  out.relevance = Eigen::VectorXd::Zero(codes.features());
  for (int l = 0; l < codes.features(); ++l)
    for (int c : e.cells_of[l])
      for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k) {
        const long bin = c * V + codes.word[k];
        if (mass[bin] > 0) out.relevance[l] += bin_relevance[bin] * g(bin, codes.weight[k]) / mass[bin];
      }
  double unassigned = 0;
  for (long bin = 0; bin < e.pooled.size(); ++bin)
    if (!(mass[bin] > 0)) unassigned += bin_relevance[bin];
  out.layer.name = "pooling";
  out.layer.relevance_in = bin_relevance.sum();
  out.layer.relevance_out = out.relevance.sum();
  out.layer.unassigned = unassigned;
  return out;
}

PixelRelevance spread_to_pixels(const std::vector<Frame>& frames, const Eigen::VectorXd& feature_relevance,
                                int width, int height, const SupportWeighting& weighting) {
  weighting.validate();
  if (static_cast<long>(frames.size()) != feature_relevance.size())
    throw std::invalid_argument("pixel relevance: frames and relevances differ in number");
  if (width < 1 || height < 1) throw std::invalid_argument("pixel relevance: empty image");
  RowMatrixXd diff = RowMatrixXd::Zero(height + 1, width + 1);  // 2-D difference array (axis-aligned, uniform)
  RowMatrixXd row_diff;                                          // per-row difference array (rotated, uniform)
  RowMatrixXd direct;                                            // Gaussian weights, added pixel by pixel
  double unassigned = 0;
  for (size_t l = 0; l < frames.size(); ++l) {
    const Frame& f = frames[l];
    const PixelBox& box = f.support;
    if (box.x0 < 0 || box.y0 < 0 || box.x1 > width || box.y1 > height)
      throw std::invalid_argument("pixel relevance: a support box lies outside the image");
    if (box.area() <= 0) {
      unassigned += feature_relevance[l];
      continue;
    }
    if (!weighting.gaussian() && !f.rotated()) {
      const double v = feature_relevance[l] / static_cast<double>(box.area());
      diff(box.y0, box.x0) += v;
      diff(box.y0, box.x1) -= v;
      diff(box.y1, box.x0) -= v;
      diff(box.y1, box.x1) += v;
      continue;
    }
    const std::vector<RowSpan> spans = support_spans(f, width, height);
    if (spans.empty()) {
      unassigned += feature_relevance[l];
      continue;
    }
    if (!weighting.gaussian()) {
      long count = 0;
      for (const RowSpan& s : spans) count += s.x1 - s.x0;
      const double v = feature_relevance[l] / static_cast<double>(count);
      if (row_diff.size() == 0) row_diff = RowMatrixXd::Zero(height, width + 1);
      for (const RowSpan& s : spans) {
        row_diff(s.y, s.x0) += v;
        row_diff(s.y, s.x1) -= v;
      }
      continue;
    }
    if (!(f.half_side > 0))
      throw std::invalid_argument("pixel relevance: Gaussian weighting needs each support's half side");
    // w(q) = exp(-(|q - centre|^2 - min)/(2 s^2)) / sum, shifted by the smallest
    // squared distance so that the nearest pixel has weight 1 and none underflows all.
    const double s = weighting.sigma * f.half_side;
    double nearest = std::numeric_limits<double>::infinity();
    for (const RowSpan& span : spans)
      for (int x = span.x0; x < span.x1; ++x)
        nearest = std::min(nearest, (x - f.x) * (x - f.x) + (span.y - f.y) * (span.y - f.y));
    auto weight = [&](int x, int y) {
      return std::exp(-((x - f.x) * (x - f.x) + (y - f.y) * (y - f.y) - nearest) / (2 * s * s));
    };
    double total = 0;
    for (const RowSpan& span : spans)
      for (int x = span.x0; x < span.x1; ++x) total += weight(x, span.y);
    if (direct.size() == 0) direct = RowMatrixXd::Zero(height, width);
    for (const RowSpan& span : spans)
      for (int x = span.x0; x < span.x1; ++x) direct(span.y, x) += feature_relevance[l] * weight(x, span.y) / total;
  }
  PixelRelevance out;
  out.relevance = RowMatrixXd::Zero(height, width);
  for (int y = 0; y < height; ++y) {
    double row = 0;
    for (int x = 0; x < width; ++x) {
      row += diff(y, x);
      out.relevance(y, x) = row + (y > 0 ? out.relevance(y - 1, x) : 0.0);
    }
  }
  if (row_diff.size() != 0)
    for (int y = 0; y < height; ++y) {
      double run = 0;
      for (int x = 0; x < width; ++x) out.relevance(y, x) += (run += row_diff(y, x));
    }
  if (direct.size() != 0) out.relevance += direct;
  out.layer.name = "pixels";
  out.layer.relevance_in = feature_relevance.sum();
  out.layer.relevance_out = out.relevance.sum();
  out.layer.unassigned = unassigned;
  return out;
}

}  // namespace pixelwise
