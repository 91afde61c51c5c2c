#pragma once
// Image input: every pipeline works on a single-channel float image in [0, 1].
#include <opencv2/core.hpp>
#include <string>

namespace pixelwise {

/// Reads an image file as grey levels in [0, 1] (CV_32F). Throws
/// std::runtime_error naming the file when it is missing, unreadable or empty.
cv::Mat load_gray_image(const std::string& path);

/// Converts an 8-bit or float image with 1, 3 or 4 channels to grey CV_32F in
/// [0, 1] (8-bit divided by 255; float taken as it is). `what` names the input
/// in error messages.
cv::Mat to_gray_float(const cv::Mat& image, const std::string& what);

}  // namespace pixelwise
