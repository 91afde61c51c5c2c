#pragma once
// Relevance below the classifier of a BoW pipeline: bins -> local features
// (pooling rule, DESIGN.md 1.2; normalisation passes relevance unchanged, 1.3)
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

/// Sum pooling (p = 1): R_l = sum_{c in cells(l)} sum_d R_{c,d} m_d(l) / sum_{j in c} m_d(l_j).
FeatureRelevance pool_relevance(const BowEncoding& encoding, const Eigen::VectorXd& bin_relevance);

struct PixelRelevance {
  RowMatrixXd relevance;  ///< H x W
  LayerRelevance layer;   ///< unassigned: features whose support holds no pixel
};

/// R_q = sum_{l : q in supp(l)} R_l / |supp(l)|, accumulated with a 2-D
/// difference array in O(M + pixels) instead of O(M * support area).
PixelRelevance spread_to_pixels(const std::vector<Frame>& frames, const Eigen::VectorXd& feature_relevance,
                                int width, int height);

}  // namespace pixelwise
