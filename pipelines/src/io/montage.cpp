#include "pixelwise/pipelines/io/montage.hpp"

#include <algorithm>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "pixelwise/common/files.hpp"

namespace pixelwise {
namespace {
constexpr int kGap = 8;
constexpr double kFontScale = 0.4;
}  // namespace

cv::Mat side_by_side(const std::vector<cv::Mat>& panels, const std::vector<std::string>& labels) {
  if (panels.empty()) throw std::invalid_argument("montage: no images");
  if (!labels.empty() && labels.size() != panels.size())
    throw std::invalid_argument("montage: " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(panels.size()) + " images (give one per image, or none)");
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  int band = 0, height = 0;
  std::vector<int> widths;
  for (size_t i = 0; i < panels.size(); ++i) {
    if (panels[i].empty() || panels[i].depth() != CV_8U || (panels[i].channels() != 1 && panels[i].channels() != 3))
      throw std::invalid_argument("montage: image " + std::to_string(i) + " is not an 8-bit grey or colour image");
    int baseline = 0;
    const cv::Size text = labels.empty() ? cv::Size() : cv::getTextSize(labels[i], font, kFontScale, 1, &baseline);
    if (!labels.empty()) band = std::max(band, text.height + baseline + 8);
    widths.push_back(std::max(panels[i].cols, text.width + 4));
    height = std::max(height, panels[i].rows);
  }
  int width = kGap * static_cast<int>(panels.size() - 1);
  for (int w : widths) width += w;
  cv::Mat out(band + height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  int x = 0;
  for (size_t i = 0; i < panels.size(); ++i) {
    cv::Mat colour = panels[i];
    if (colour.channels() == 1) cv::cvtColor(panels[i], colour, cv::COLOR_GRAY2BGR);
    colour.copyTo(out(cv::Rect(x + (widths[i] - colour.cols) / 2, band, colour.cols, colour.rows)));
    if (!labels.empty())
      cv::putText(out, labels[i], cv::Point(x + 2, band - 6), font, kFontScale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    x += widths[i] + kGap;
  }
  return out;
}

void write_montage(const std::vector<std::string>& inputs, const std::vector<std::string>& labels,
                   const std::string& out) {
  std::vector<cv::Mat> panels;
  for (const auto& path : inputs) {
    cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
    if (image.empty()) throw std::runtime_error(path + ": missing or not a readable image");
    panels.push_back(image);
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", side_by_side(panels, labels), png)) throw std::runtime_error(out + ": PNG encoding failed");
  write_file_atomically(out, std::string(png.begin(), png.end()));
}

}  // namespace pixelwise
