#pragma once
// Relevance below the classifier of a BoW pipeline, as relevance steps
// (relevance_step.hpp): bins -> local features (pooling rules, docs/design.md 1.2;
// normalisation passes relevance unchanged, 1.3) and local features -> pixels
// (docs/design.md 1.5). Both are affine maps seen by the same rule vocabulary as the
// network layers (network_lrp.hpp): sum pooling is LRP-0 over the code matrix,
// uniform spreading is the flat rule over a support.
#include <Eigen/Core>
#include <string>
#include <vector>

#include "pixelwise/decomposition/relevance_step.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/fisher.hpp"
#include "pixelwise/features/local_features.hpp"
#include "pixelwise/features/sift_contributions.hpp"

namespace pixelwise {

/// The pooling rule (docs/design.md 1.2), for every cell c of a feature and every
/// word d of its code:
///   R_l = sum_c sum_d R_{c,d} g(m_d(l)) / sum_{j in c} g(m_d(l_j))
/// with g(m) = m for sum pooling, g(m) = m^p for p-means (evaluated as
/// (m / max)^p, which is the same ratio), and g(m) = [m == max] for max
/// pooling (winner takes all, ties split equally). This is LRP-0 on the layer
/// whose inputs are the (feature, code entry, cell) connections with values
/// g(m) and unit weights into their bin; `rule` (default LRP-0) may be any
/// rule of that vocabulary (e.g. epsilon). A bin whose denominator is 0 (no
/// feature of the cell has the word) keeps its relevance: unassigned.
/// Returns one value per feature; account "pooling".
Relevance pool_relevance(const BowEncoding& encoding, const Eigen::VectorXd& bin_relevance,
                         const LrpRule* rule = nullptr);

/// The Fisher-vector / VLAD mapping rule (docs/design.md 1.8): the square root
/// and the normalisations multiply each dimension by a positive factor, so
/// relevance R_d of a dimension goes to the descriptors in proportion to their
/// terms, R_l = sum_d R_d z_ld / (s_d + eps scale_d sign(s_d)), scale_d the mean
/// |z_ld| over the N_c descriptors of d's cell. `rule` nullptr is LRP-0 (eps = 0,
/// exact); epsilon (or any rule of the vocabulary) reports what it takes as
/// absorbed. A dimension with s_d = 0 keeps its relevance: unassigned.
/// Returns one value per descriptor; account "fisher" or "vlad".
Relevance term_relevance(const TermEncoding& encoding, const Eigen::VectorXd& relevance,
                         const LrpRule* rule = nullptr);

/// Relevance per GMM component / VLAD centre: the sum over its dimensions
/// (mean and variance parts, every cell).
Eigen::VectorXd component_relevance(const TermEncoding& encoding, const Eigen::VectorXd& relevance);

/// R_q = sum_{l : q in supp(l)} R_l w_l(q), sum_q w_l(q) = 1 over the clipped
/// support (see support_spans for the support of a rotated frame): the flat
/// rule over the support with the weighting's weights (docs/design.md 1.5), or,
/// with gradient weighting, the z+ rule through the descriptor layer
/// (docs/design.md 1.9): R_q = sum_l R_l c_lq / Z_l with the `contributions`
/// of the same descriptors (required then); a descriptor with Z_l = 0 falls
/// back to uniform weights over its support (account.fallback).
/// Uniform weights are accumulated with a 2-D difference array for axis-aligned
/// supports and a per-row difference array for rotated ones: O(M + pixels)
/// and O(M * support height + pixels). Gaussian weights (centred on the frame,
/// standard deviation weighting.sigma * half_side) visit every support pixel;
/// gradient weights cost SiftContributions::accumulate.
/// Returns the row-major H x W map; account "pixels" (unassigned: features
/// whose support holds no pixel).
Relevance spread_to_pixels(const std::vector<Frame>& frames, const Eigen::VectorXd& feature_relevance, int width,
                           int height, const SupportWeighting& weighting = {},
                           const SiftContributions* contributions = nullptr);

/// A row-major H x W relevance vector as a matrix.
RowMatrixXd pixel_map(const Eigen::VectorXd& relevance, int width, int height);

/// One channel of a BoW pipeline as the two steps below the classifier see it:
/// its block of bins [offset, offset + encoding.pooled.size()) and its features.
struct BowChannelRecord {
  std::string name;
  const BowEncoding* encoding = nullptr;
  /// A Fisher-vector or VLAD channel's record (docs/design.md 1.8); when set,
  /// the channel's block is this encoding and `encoding` is not read.
  const TermEncoding* terms = nullptr;
  long offset = 0;
  const std::vector<Frame>* frames = nullptr;
  SupportWeighting weighting;
  /// Gradient weighting: the pixel contributions of the channel's descriptors.
  const SiftContributions* contributions = nullptr;
};

/// bins -> features of every channel (features in channel order); one part per
/// channel. The mapping of a channel is its pooling rule (histogram) or its
/// term rule (Fisher vector, VLAD); both take the rules of the "pooling" selector.
class PoolingStep : public RelevanceStep {
 public:
  explicit PoolingStep(std::vector<BowChannelRecord> channels) : channels_(std::move(channels)) {}
  std::string selector() const override { return "pooling"; }
  Relevance relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const override;

 private:
  std::vector<BowChannelRecord> channels_;
};

/// features of every channel -> pixels (row-major H x W); one part per channel
/// with that channel's map.
class PixelStep : public RelevanceStep {
 public:
  PixelStep(std::vector<BowChannelRecord> channels, int width, int height)
      : channels_(std::move(channels)), width_(width), height_(height) {}
  std::string selector() const override { return "pixels"; }
  Relevance relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const override;

 private:
  std::vector<BowChannelRecord> channels_;
  int width_, height_;
};

}  // namespace pixelwise
