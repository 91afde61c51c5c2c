#pragma once
// Relevance below the classifier of a BoW pipeline: bins -> local features
// (pooling rules, DESIGN.md 1.2; normalisation passes relevance unchanged, 1.3)
// and local features -> pixels (DESIGN.md 1.5).
#include <Eigen/Core>

#include "pixelwise/decomposition/accounting.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/local_features.hpp"

namespace pixelwise {

struct FeatureRelevance {
  Eigen::VectorXd relevance;  ///< one value per local feature
  LayerRelevance layer;       ///< unassigned: bins with relevance but no feature mass
};

/// The pooling rule of e.pooling (DESIGN.md 1.2), for every cell c of a
/// feature and every word d of its code:
///   R_l = sum_c sum_d R_{c,d} g(m_d(l)) / sum_{j in c} g(m_d(l_j))
/// with g(m) = m for sum pooling, g(m) = m^p for p-means (evaluated as
/// (m / max)^p, which is the same ratio), and g(m) = [m == max] for max
/// pooling (winner takes all, ties split equally). A bin whose denominator is
/// 0 (no feature of the cell has the word) keeps its relevance: unassigned.
FeatureRelevance pool_relevance(const BowEncoding& encoding, const Eigen::VectorXd& bin_relevance);

struct PixelRelevance {
  RowMatrixXd relevance;  ///< H x W
  LayerRelevance layer;   ///< unassigned: features whose support holds no pixel
};

/// R_q = sum_{l : q in supp(l)} R_l w_l(q), sum_q w_l(q) = 1 over the clipped
/// support (see support_spans for the support of a rotated frame).
/// Uniform weights are accumulated with a 2-D difference array for axis-aligned
/// supports and a per-row difference array for rotated ones: O(M + pixels)
/// and O(M * support height + pixels). Gaussian weights (centred on the frame,
/// standard deviation weighting.sigma * half_side) visit every support pixel.
PixelRelevance spread_to_pixels(const std::vector<Frame>& frames, const Eigen::VectorXd& feature_relevance,
                                int width, int height, const SupportWeighting& weighting = {});

}  // namespace pixelwise
