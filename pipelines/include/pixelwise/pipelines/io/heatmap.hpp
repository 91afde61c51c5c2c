#pragma once
// Heatmap rendering (docs/design.md 5): relevance divided by max |R| to [-1, 1],
// red positive, blue negative, white zero, laid over the grey image.
#include <opencv2/core.hpp>

#include "pixelwise/features/local_features.hpp"

namespace pixelwise {

struct HeatmapOptions {
  double scale = 0;      ///< divide by this; 0: max |R| of this map (an all-zero map stays white)
  int min_side = 112;    ///< small images are enlarged (nearest neighbour, integer factor) to at least this
};

/// BGR 8-bit image: colour(R / scale) shaded by the image's grey level.
cv::Mat render_heatmap(const RowMatrixXd& relevance, const cv::Mat& gray, const HeatmapOptions& options = {});

}  // namespace pixelwise
