#pragma once
// Images side by side with a label above each, for figures that compare
// heatmaps of several methods or models (e.g. scripts/taylor_demo.sh).
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace pixelwise {

/// The panels (8-bit, 1 or 3 channels) in one row on white, top-aligned,
/// 8 pixels apart, each under a white band with its label (labels may be
/// empty, or one per panel).
cv::Mat side_by_side(const std::vector<cv::Mat>& panels, const std::vector<std::string>& labels);

/// Rows of `columns` panels (0: all in one row) made by side_by_side, stacked
/// 8 pixels apart, left-aligned; panels enlarged `scale` times first (nearest
/// neighbour, so that a 28 x 28 heatmap keeps its pixels).
cv::Mat grid(const std::vector<cv::Mat>& panels, const std::vector<std::string>& labels, int columns = 0,
             int scale = 1);

/// Reads the PNG (or other image) files, lays them out with grid() and writes
/// the result to `out` atomically. Errors name the file.
void write_montage(const std::vector<std::string>& inputs, const std::vector<std::string>& labels,
                   const std::string& out, int columns = 0, int scale = 1);

}  // namespace pixelwise
