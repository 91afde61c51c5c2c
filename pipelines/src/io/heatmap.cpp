#include "pixelwise/pipelines/io/heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace pixelwise {

cv::Mat render_heatmap(const RowMatrixXd& relevance, const cv::Mat& gray, const HeatmapOptions& options) {
  if (gray.rows != relevance.rows() || gray.cols != relevance.cols() || gray.type() != CV_32FC1)
    throw std::invalid_argument("heatmap: relevance and image differ in size");
  double scale = options.scale > 0 ? options.scale : relevance.cwiseAbs().maxCoeff();
  if (!(scale > 0) || !std::isfinite(scale)) scale = 1.0;  // all-zero map: no division by zero
  cv::Mat out(gray.rows, gray.cols, CV_8UC3);
  for (int y = 0; y < gray.rows; ++y)
    for (int x = 0; x < gray.cols; ++x) {
      const double r = std::clamp(relevance(y, x) / scale, -1.0, 1.0);
      // bwr colour map: white at 0, red at +1, blue at -1.
      double red = 1, green = 1 - std::abs(r), blue = 1;
      if (r > 0) blue = 1 - r;
      if (r < 0) red = 1 + r;
      const double shade = 0.45 + 0.55 * std::clamp<double>(gray.at<float>(y, x), 0.0, 1.0);
      out.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(255 * blue * shade),
                                          cv::saturate_cast<uchar>(255 * green * shade),
                                          cv::saturate_cast<uchar>(255 * red * shade));
    }
  const int side = std::min(gray.rows, gray.cols);
  if (side < options.min_side) {
    const int factor = (options.min_side + side - 1) / side;
    cv::resize(out, out, cv::Size(), factor, factor, cv::INTER_NEAREST);
  }
  return out;
}

}  // namespace pixelwise
