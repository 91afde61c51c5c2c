#include "pixelwise/features/image.hpp"

#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace pixelwise {

cv::Mat to_gray_float(const cv::Mat& image, const std::string& what) {
  if (image.empty()) throw std::runtime_error(what + ": image is empty");
  cv::Mat gray;
  switch (image.channels()) {
    case 1: gray = image; break;
    case 3: cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY); break;
    case 4: cv::cvtColor(image, gray, cv::COLOR_BGRA2GRAY); break;
    default:
      throw std::runtime_error(what + ": unsupported number of channels " +
                               std::to_string(image.channels()));
  }
  cv::Mat result;
  if (gray.depth() == CV_8U) {
    gray.convertTo(result, CV_32F, 1.0 / 255.0);
  } else if (gray.depth() == CV_16U) {
    gray.convertTo(result, CV_32F, 1.0 / 65535.0);
  } else if (gray.depth() == CV_32F || gray.depth() == CV_64F) {
    gray.convertTo(result, CV_32F);
  } else {
    throw std::runtime_error(what + ": unsupported pixel type");
  }
  if (!cv::checkRange(result)) throw std::runtime_error(what + ": image contains NaN or infinite values");
  return result;
}

cv::Mat load_gray_image(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": no such image file");
  cv::Mat image = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (image.empty()) throw std::runtime_error(path + ": not a readable image (missing, corrupt or unknown format)");
  return to_gray_float(image, path);
}

}  // namespace pixelwise
