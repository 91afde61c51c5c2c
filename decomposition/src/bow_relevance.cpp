#include "pixelwise/decomposition/bow_relevance.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "pixelwise/decomposition/network_lrp.hpp"

namespace pixelwise {
namespace {

// A layer whose every input is one connection u (a descriptor's
// contribution to one output) with value value_u, feeding output bin_of_u
// with weight 1 and no bias (so w = w+ = w^2 = 1 and w- = 0): the pooling
// and the Fisher/VLAD mapping layers as the rules see them. Relevance of the
// connections is summed per feature (descriptor).
class ConnectionView : public RuleView {
 public:
  Eigen::RowVectorXd apply(const Eigen::RowVectorXd& a, WeightModifier g) const override {
    Eigen::RowVectorXd z = Eigen::RowVectorXd::Zero(outputs_);
    if (g == WeightModifier::negative) return z;
    for (size_t u = 0; u < bin_of_.size(); ++u) z[bin_of_[u]] += a[static_cast<long>(u)];
    return z;
  }
  Eigen::RowVectorXd transposed(const Eigen::RowVectorXd& s, WeightModifier g) const override {
    Eigen::RowVectorXd t = Eigen::RowVectorXd::Zero(static_cast<long>(bin_of_.size()));
    if (g == WeightModifier::negative) return t;
    for (size_t u = 0; u < bin_of_.size(); ++u) t[static_cast<long>(u)] = s[bin_of_[u]];
    return t;
  }
  Eigen::RowVectorXd bias() const override { return Eigen::RowVectorXd::Zero(outputs_); }
  /// The connection values, the layer's input as the rules read it.
  Eigen::RowVectorXd input() const {
    return Eigen::Map<const Eigen::RowVectorXd>(value_.data(), static_cast<long>(value_.size()));
  }
  /// Relevance of the connections summed per feature.
  Eigen::VectorXd per_feature(const Eigen::RowVectorXd& r) const {
    Eigen::VectorXd out = Eigen::VectorXd::Zero(features_);
    for (size_t u = 0; u < feature_of_.size(); ++u) out[feature_of_[u]] += r[static_cast<long>(u)];
    return out;
  }

 protected:
  ConnectionView(long outputs, int features, size_t connections) : outputs_(outputs), features_(features) {
    bin_of_.reserve(connections);
    feature_of_.reserve(connections);
    value_.reserve(connections);
  }
  void connect(long bin, int feature, double value) {
    bin_of_.push_back(bin);
    feature_of_.push_back(feature);
    value_.push_back(value);
  }

 private:
  long outputs_ = 0;
  int features_ = 0;
  std::vector<long> bin_of_;
  std::vector<int> feature_of_;
  std::vector<double> value_;
};

// The pooling layer: one connection per (feature, code entry, cell), with
// value g(m) of the pooling type (docs/design.md 1.2).
class PoolingView : public ConnectionView {
 public:
  explicit PoolingView(const BowEncoding& e)
      : ConnectionView(e.pooled.size(), e.codes.features(),
                       e.codes.word.size() * (e.cells_of.empty() ? 1 : e.cells_of.front().size())) {
    const Codes& codes = e.codes;
    const long V = codes.words;
    const PoolingType type = e.pooling.type;
    if (type != PoolingType::sum && e.bin_max.size() != e.pooled.size())
      throw std::invalid_argument("pooling relevance: the encoding lacks the per-bin maxima of " + name_of(type) +
                                  " pooling");
    for (int l = 0; l < codes.features(); ++l)
      for (int c : e.cells_of[l])
        for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k) {
          const long bin = c * V + codes.word[k];
          const double m = codes.weight[k];
          // g(m) of the rule, relative to the bin's maximum for p-means.
          const double g = type == PoolingType::sum   ? m
                           : type == PoolingType::max ? (m == e.bin_max[bin] ? 1.0 : 0.0)
                           : m > 0                    ? std::pow(m / e.bin_max[bin], e.pooling.p)
                                                      : 0.0;
          connect(bin, l, g);
        }
  }
};

// The Fisher/VLAD mapping layer (docs/design.md 1.8) restricted to the terms
// of one component k: one connection per term z_ld (an entry of k and one
// dimension of its block), with value z_ld, feeding the dimensions of k in
// every cell (its outputs, numbered cell * P + part * D + j with P = 2D for
// Fisher, D for VLAD). LRP-0 gives R_l = sum_d R_d z_ld / s_d; epsilon adds
// eps * scale_d * sign(s_d) to s_d, with scale_d = mean |z_ld| over the N_c
// descriptors of the dimension's cell.
//
// Every dimension belongs to one component, so the rule applied component by
// component is the rule applied to the whole layer; the parts are small
// enough to stay in cache, where the whole layer (descriptors x cells x
// components x 2D terms) made an explanation memory-bound.
class TermView : public ConnectionView {
 public:
  TermView(const TermEncoding& e, const std::vector<int>& entries)
      : ConnectionView(e.cells * (e.block() / e.components()), e.features(), entries.size() * (e.block() / e.components())),
        e_(e),
        per_cell_(e.block() / e.components()) {
    scale_ = Eigen::RowVectorXd::Zero(e.cells * per_cell_);
    for (int i : entries) {
      const TermEncoding::Entry& entry = e.entries[static_cast<size_t>(i)];
      e.terms(entry, [&](long bin, double z) {
        const long local = local_of(bin);
        connect(local, entry.feature, z);
        scale_[local] += std::abs(z);
      });
    }
    for (long d = 0; d < scale_.size(); ++d) {
      const int n = e.cell_count[d / per_cell_];
      if (n > 0) scale_[d] /= n;
    }
  }
  Eigen::RowVectorXd stabiliser_scale() const override { return scale_; }
  long outputs() const { return scale_.size(); }
  /// Dimension of the whole vector of output `local` of component k.
  long global_of(long local, int k) const {
    const long D = e_.dimension(), part = (local % per_cell_) / D;
    return (local / per_cell_) * e_.block() + part * e_.components() * D + k * D + local % D;
  }

 private:
  // The layout of TermEncoding: the block's mean part (or VLAD's residuals)
  // holds component k at k D + j, Fisher's variance part at K D + k D + j.
  long local_of(long bin) const {
    const long D = e_.dimension(), in_block = bin % e_.block();
    return (bin / e_.block()) * per_cell_ + (in_block >= e_.components() * D ? D : 0) + in_block % D;
  }
  const TermEncoding& e_;
  long per_cell_;
  Eigen::RowVectorXd scale_;
};

}  // namespace

Relevance term_relevance(const TermEncoding& e, const Eigen::VectorXd& relevance, const LrpRule* rule) {
  if (relevance.size() != e.size())
    throw std::invalid_argument(name_of(e.type) + " relevance: " + std::to_string(relevance.size()) +
                                " relevances for an encoding of " + std::to_string(e.size()));
  static const LrpRule lrp0 = LrpRule::lrp0();
  Relevance out;
  out.account.name = name_of(e.type);
  if (rule && rule->name() != "lrp0") out.account.name += " [" + rule->name() + "]";
  out.relevance = Eigen::VectorXd::Zero(e.features());
  std::vector<std::vector<int>> by_component(static_cast<size_t>(e.components()));
  for (size_t i = 0; i < e.entries.size(); ++i) by_component[e.entries[i].component].push_back(static_cast<int>(i));
  // Every component, also one without entries: relevance of its dimensions
  // then has no term to go to and is reported as unassigned.
  for (int k = 0; k < e.components(); ++k) {
    const TermView view(e, by_component[k]);
    Eigen::RowVectorXd upper(view.outputs());
    for (long d = 0; d < upper.size(); ++d) upper[d] = relevance[view.global_of(d, k)];
    const Eigen::RowVectorXd lower = apply_rule(view, view.input(), upper, rule ? *rule : lrp0, LrpOptions{}, out.account);
    out.relevance += view.per_feature(lower);
  }
  close_account(out.account, relevance.sum(), out.relevance.sum());
  return out;
}

Eigen::VectorXd component_relevance(const TermEncoding& e, const Eigen::VectorXd& relevance) {
  if (relevance.size() != e.size())
    throw std::invalid_argument("component relevance: relevance and encoding differ in size");
  const long D = e.dimension(), K = e.components();
  Eigen::VectorXd out = Eigen::VectorXd::Zero(K);
  for (long d = 0; d < relevance.size(); ++d) out[(d % e.block()) / D % K] += relevance[d];
  return out;
}

Relevance pool_relevance(const BowEncoding& e, const Eigen::VectorXd& bin_relevance, const LrpRule* rule) {
  if (bin_relevance.size() != e.pooled.size())
    throw std::invalid_argument("pooling relevance: " + std::to_string(bin_relevance.size()) +
                                " bin relevances for a histogram of " + std::to_string(e.pooled.size()));
  static const LrpRule lrp0 = LrpRule::lrp0();
  const PoolingView view(e);
  Relevance out;
  out.account.name = "pooling";
  if (rule && rule->name() != "lrp0") out.account.name += " [" + rule->name() + "]";
  const Eigen::RowVectorXd lower =
      apply_rule(view, view.input(), bin_relevance.transpose(), rule ? *rule : lrp0, LrpOptions{}, out.account);
  out.relevance = view.per_feature(lower);
  close_account(out.account, bin_relevance.sum(), out.relevance.sum());
  return out;
}

Relevance spread_to_pixels(const std::vector<Frame>& frames, const Eigen::VectorXd& feature_relevance, int width,
                           int height, const SupportWeighting& weighting, const SiftContributions* contributions) {
  weighting.validate();
  if (static_cast<long>(frames.size()) != feature_relevance.size())
    throw std::invalid_argument("pixel relevance: frames and relevances differ in number");
  if (width < 1 || height < 1) throw std::invalid_argument("pixel relevance: empty image");
  if (weighting.gradient()) {
    if (!contributions)
      throw std::invalid_argument("pixel relevance: gradient weighting needs the descriptors' pixel contributions");
    if (contributions->size() != feature_relevance.size() || contributions->width() != width ||
        contributions->height() != height)
      throw std::invalid_argument("pixel relevance: the pixel contributions belong to other descriptors or another image");
  }
  // docs/design.md 1.9: a_l = R_l / Z_l, then R_q = sum_l a_l c_lq.
  Eigen::VectorXd gradient_share;
  if (weighting.gradient()) gradient_share = Eigen::VectorXd::Zero(feature_relevance.size());
  double fallback = 0;
  RowMatrixXd diff = RowMatrixXd::Zero(height + 1, width + 1);  // 2-D difference array (axis-aligned, uniform)
  RowMatrixXd row_diff;                                          // per-row difference array (rotated, uniform)
  RowMatrixXd direct;                                            // Gaussian weights, added pixel by pixel
  double unassigned = 0;
  for (size_t l = 0; l < frames.size(); ++l) {
    const Frame& f = frames[l];
    const PixelBox& box = f.support;
    if (box.x0 < 0 || box.y0 < 0 || box.x1 > width || box.y1 > height)
      throw std::invalid_argument("pixel relevance: a support box lies outside the image");
    if (weighting.gradient() && contributions->totals()[l] > 0) {
      gradient_share[l] = feature_relevance[l] / contributions->totals()[l];
      continue;
    }
    if (box.area() <= 0) {
      unassigned += feature_relevance[l];
      continue;
    }
    // From here on gradient weighting falls back to uniform weights.
    if (weighting.gradient()) fallback += feature_relevance[l];
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
  RowMatrixXd map = RowMatrixXd::Zero(height, width);
  for (int y = 0; y < height; ++y) {
    double row = 0;
    for (int x = 0; x < width; ++x) {
      row += diff(y, x);
      map(y, x) = row + (y > 0 ? map(y - 1, x) : 0.0);
    }
  }
  if (row_diff.size() != 0)
    for (int y = 0; y < height; ++y) {
      double run = 0;
      for (int x = 0; x < width; ++x) map(y, x) += (run += row_diff(y, x));
    }
  if (direct.size() != 0) map += direct;
  if (gradient_share.size() != 0) contributions->accumulate(gradient_share, map);
  Relevance out;
  out.relevance = Eigen::Map<const Eigen::VectorXd>(map.data(), map.size());
  out.account.name = "pixels";
  out.account.unassigned = unassigned;
  out.account.fallback = fallback;
  close_account(out.account, feature_relevance.sum(), out.relevance.sum());
  return out;
}

RowMatrixXd pixel_map(const Eigen::VectorXd& relevance, int width, int height) {
  if (relevance.size() != static_cast<long>(width) * height)
    throw std::invalid_argument("pixel map: " + std::to_string(relevance.size()) + " values for " +
                                std::to_string(width) + " x " + std::to_string(height) + " pixels");
  return Eigen::Map<const RowMatrixXd>(relevance.data(), height, width);
}

Relevance PoolingStep::relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const {
  Relevance out;
  out.account.name = "pooling";
  std::vector<Eigen::VectorXd> blocks;
  long features = 0;
  for (const BowChannelRecord& ch : channels_) {
    const long bins = ch.terms ? ch.terms->size() : ch.encoding->pooled.size();
    if (ch.offset < 0 || ch.offset + bins > upper.size())
      throw std::invalid_argument("pooling relevance: channel " + ch.name + " lies outside the histogram");
    Relevance r = ch.terms ? term_relevance(*ch.terms, upper.segment(ch.offset, bins), rule)
                           : pool_relevance(*ch.encoding, upper.segment(ch.offset, bins), rule);
    out.account.name = r.account.name;
    out.account.absorbed += r.account.absorbed;
    out.account.unassigned += r.account.unassigned;
    features += r.relevance.size();
    out.parts.push_back({r.account, r.relevance});
    blocks.push_back(std::move(r.relevance));
  }
  out.relevance.resize(features);
  long at = 0;
  for (const auto& b : blocks) {
    out.relevance.segment(at, b.size()) = b;
    at += b.size();
  }
  return out;
}

Relevance PixelStep::relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const {
  if (rule && rule->name() != "flat")
    throw std::invalid_argument("the pixel layer spreads a descriptor's relevance over its support by the flat rule "
                                "(with the support's weighting: uniform, gaussian or gradient); it takes no rule \"" +
                                rule->name() + "\"");
  Relevance out;
  out.account.name = "pixels";
  out.relevance = Eigen::VectorXd::Zero(static_cast<long>(width_) * height_);
  long at = 0;
  for (const BowChannelRecord& ch : channels_) {
    const long n = static_cast<long>(ch.frames->size());
    if (at + n > upper.size())
      throw std::invalid_argument("pixel relevance: more features than relevance values");
    Relevance r = spread_to_pixels(*ch.frames, upper.segment(at, n), width_, height_, ch.weighting, ch.contributions);
    at += n;
    out.account.unassigned += r.account.unassigned;
    out.account.fallback += r.account.fallback;
    out.relevance += r.relevance;
    out.parts.push_back({r.account, std::move(r.relevance)});
  }
  if (at != upper.size()) throw std::invalid_argument("pixel relevance: fewer features than relevance values");
  return out;
}

}  // namespace pixelwise
