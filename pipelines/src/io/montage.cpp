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

cv::Mat grid(const std::vector<cv::Mat>& panels, const std::vector<std::string>& labels, int columns, int scale) {
  if (columns < 0) throw std::invalid_argument("montage: columns must be 0 (one row) or more");
  if (scale < 1 || scale > 64) throw std::invalid_argument("montage: scale must be in 1 .. 64");
  if (panels.empty()) throw std::invalid_argument("montage: no images");
  if (!labels.empty() && labels.size() != panels.size())
    throw std::invalid_argument("montage: " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(panels.size()) + " images (give one per image, or none)");
  std::vector<cv::Mat> scaled;
  for (const cv::Mat& p : panels) {
    cv::Mat s = p;
    if (scale > 1 && !p.empty()) cv::resize(p, s, cv::Size(), scale, scale, cv::INTER_NEAREST);
    scaled.push_back(s);
  }
  const size_t per_row = columns == 0 ? scaled.size() : static_cast<size_t>(columns);
  std::vector<cv::Mat> rows;
  for (size_t first = 0; first < scaled.size(); first += per_row) {
    const size_t last = std::min(scaled.size(), first + per_row);
    const std::vector<cv::Mat> row(scaled.begin() + static_cast<long>(first), scaled.begin() + static_cast<long>(last));
    const std::vector<std::string> row_labels =
        labels.empty() ? std::vector<std::string>{}
                       : std::vector<std::string>(labels.begin() + static_cast<long>(first), labels.begin() + static_cast<long>(last));
    rows.push_back(side_by_side(row, row_labels));
  }
  int width = 0, height = kGap * static_cast<int>(rows.size() - 1);
  for (const cv::Mat& r : rows) {
    width = std::max(width, r.cols);
    height += r.rows;
  }
  cv::Mat out(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  int y = 0;
  for (const cv::Mat& r : rows) {
    r.copyTo(out(cv::Rect(0, y, r.cols, r.rows)));
    y += r.rows + kGap;
  }
  return out;
}

void write_montage(const std::vector<std::string>& inputs, const std::vector<std::string>& labels,
                   const std::string& out, int columns, int scale) {
  std::vector<cv::Mat> panels;
  for (const auto& path : inputs) {
    cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
    if (image.empty()) throw std::runtime_error(path + ": missing or not a readable image");
    panels.push_back(image);
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", grid(panels, labels, columns, scale), png)) throw std::runtime_error(out + ": PNG encoding failed");
  write_file_atomically(out, std::string(png.begin(), png.end()));
}

}  // namespace pixelwise
