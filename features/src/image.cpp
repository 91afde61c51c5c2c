#include "pixelwise/features/image.hpp"

#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace pixelwise {
namespace {

cv::Mat to_unit_float(const cv::Mat& image, const std::string& what) {
  cv::Mat result;
  if (image.depth() == CV_8U) {
    image.convertTo(result, CV_32F, 1.0 / 255.0);
  } else if (image.depth() == CV_16U) {
    image.convertTo(result, CV_32F, 1.0 / 65535.0);
  } else if (image.depth() == CV_32F || image.depth() == CV_64F) {
    image.convertTo(result, CV_32F);
  } else {
    throw std::runtime_error(what + ": unsupported pixel type");
  }
  if (!cv::checkRange(result)) throw std::runtime_error(what + ": image contains NaN or infinite values");
  return result;
}

}  // namespace

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
  return to_unit_float(gray, what);
}

cv::Mat to_colour_float(const cv::Mat& image, const std::string& what) {
  if (image.empty()) throw std::runtime_error(what + ": image is empty");
  cv::Mat colour;
  switch (image.channels()) {
    case 1: cv::cvtColor(image, colour, cv::COLOR_GRAY2BGR); break;
    case 3: colour = image; break;
    case 4: cv::cvtColor(image, colour, cv::COLOR_BGRA2BGR); break;
    default:
      throw std::runtime_error(what + ": unsupported number of channels " +
                               std::to_string(image.channels()));
  }
  return to_unit_float(colour, what);
}

cv::Mat read_image_file(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": no such image file");
  cv::Mat image = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (image.empty()) throw std::runtime_error(path + ": not a readable image (missing, corrupt or unknown format)");
  return image;
}

cv::Mat load_gray_image(const std::string& path) { return to_gray_float(read_image_file(path), path); }

const EnumNames<ColourSpace>& enum_names(ColourSpace) {
  static const EnumNames<ColourSpace> names{{ColourSpace::grey, "grey"},
                                            {ColourSpace::rgb, "rgb"},
                                            {ColourSpace::opponent, "opponent"},
                                            {ColourSpace::hsv, "hsv"}};
  return names;
}

const std::vector<std::string>& plane_names(ColourSpace space) {
  static const std::map<ColourSpace, std::vector<std::string>> names{{ColourSpace::grey, {"grey"}},
                                                                     {ColourSpace::rgb, {"R", "G", "B"}},
                                                                     {ColourSpace::opponent, {"O1", "O2", "O3"}},
                                                                     {ColourSpace::hsv, {"H", "S", "V"}}};
  return names.at(space);
}

std::vector<cv::Mat> colour_planes(const cv::Mat& image, ColourSpace space, const std::string& what) {
  if (image.empty() || image.depth() != CV_32F || (image.channels() != 1 && image.channels() != 3))
    throw std::invalid_argument(what + ": colour planes need a non-empty float image with 1 or 3 channels");
  if (space == ColourSpace::grey) {
    if (image.channels() == 1) return {image};
    cv::Mat gray;
    cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
    return {gray};
  }
  cv::Mat bgr = image;
  if (image.channels() == 1) cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
  std::vector<cv::Mat> c;  // B, G, R
  cv::split(bgr, c);
  if (space == ColourSpace::rgb) return {c[2], c[1], c[0]};
  if (space == ColourSpace::opponent) {
    const cv::Mat &B = c[0], &G = c[1], &R = c[2];
    cv::Mat o1 = (R - G) * (1.0 / std::sqrt(2.0));
    cv::Mat o2 = (R + G - 2 * B) * (1.0 / std::sqrt(6.0));
    cv::Mat o3 = (R + G + B) * (1.0 / std::sqrt(3.0));
    return {o1, o2, o3};
  }
  cv::Mat hsv;  // float input: H in [0, 360), S and V in [0, 1]
  cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);
  std::vector<cv::Mat> p;
  cv::split(hsv, p);
  p[0] *= 1.0 / 360.0;
  return p;
}

}  // namespace pixelwise
