#pragma once
// Image input: pipelines work on float images in [0, 1], either grey
// (CV_32FC1) or colour (CV_32FC3, OpenCV's BGR order).
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "pixelwise/common/option_schema.hpp"

namespace pixelwise {

/// What to do with an image above the pixel limit (max_image_pixels): refuse
/// it (the default), or downscale it to fit (fit_image_limit). A BoW model's
/// configuration chooses ("input": {"oversize": ...}, docs/config.md).
enum class OversizeImages { refuse, downscale };
const EnumNames<OversizeImages>& enum_names(OversizeImages);

/// The configuration section "input": how a model reads its images.
struct InputOptions {
  OversizeImages oversize = OversizeImages::refuse;
  static const OptionSchema<InputOptions>& schema();
};
void to_json(nlohmann::json& j, const InputOptions& o);
void from_json(const nlohmann::json& j, InputOptions& o);

/// Reads an image file as it is stored (cv::IMREAD_UNCHANGED). Throws
/// std::runtime_error naming the file when it is missing, unreadable, empty,
/// corrupt or truncated (decode_image_bytes), or above the pixel limit and
/// `oversize` is refuse.
cv::Mat read_image_file(const std::string& path, OversizeImages oversize = OversizeImages::refuse);

/// Decodes the bytes of an image file (cv::IMREAD_UNCHANGED). OpenCV decodes
/// a truncated PNG or JPEG with a warning only, filling the missing rows; so
/// the structure of those two formats is walked first and a file that ends
/// before its IEND chunk (PNG) or EOI marker (JPEG) is refused as truncated
/// (docs/errors.md, "Inputs"). Throws std::runtime_error naming `what`. An
/// image above the pixel limit is refused from its PNG or JPEG header before
/// it is decoded, or with `oversize` downscale decoded and downscaled
/// (fit_image_limit).
cv::Mat decode_image_bytes(const std::string& bytes, const std::string& what,
                           OversizeImages oversize = OversizeImages::refuse);

/// The largest image accepted, in pixels (docs/errors.md, "Limits"): an
/// explanation holds several float planes and descriptor sets of the image,
/// so memory grows with its pixels. In order of precedence: the value of
/// set_max_image_pixels (the command line's --max-image-pixels, Python's
/// pixelwise.set_max_image_pixels), the environment variable
/// PIXELWISE_MAX_IMAGE_PIXELS (a whole number; anything else is an error
/// naming it), 4096 x 4096. 0 means no limit.
inline constexpr long kDefaultMaxImagePixels = 4096L * 4096L;
long max_image_pixels();
/// Sets the limit for this process (0: no limit), over the environment
/// variable; a negative value removes it again (back to the variable or the
/// default).
void set_max_image_pixels(long pixels);
/// Throws std::runtime_error naming `what`, its size and the limit when a
/// width x height image is above max_image_pixels().
void check_image_size(long width, long height, const std::string& what);
/// The largest size of the same aspect ratio (each side rounded down, at
/// least 1) whose pixel count is within `limit` (> 0).
cv::Size fitted_image_size(long width, long height, long limit);
/// `image` (any depth and channels) within the pixel limit: as it is when it
/// fits; above it, refused (check_image_size) or, with `oversize` downscale,
/// resized to fitted_image_size with area interpolation (cv::INTER_AREA, the
/// mean of the pixels each new pixel covers).
cv::Mat fit_image_limit(const cv::Mat& image, OversizeImages oversize, const std::string& what);

/// Reads an image file as grey levels in [0, 1] (CV_32F). Throws
/// std::runtime_error naming the file when it is missing, unreadable or empty.
cv::Mat load_gray_image(const std::string& path);

/// Converts an 8-bit or float image with 1, 3 or 4 channels to grey CV_32F in
/// [0, 1] (8-bit divided by 255; float taken as it is). `what` names the input
/// in error messages.
cv::Mat to_gray_float(const cv::Mat& image, const std::string& what);

/// Converts an image with 1, 3 or 4 channels to colour CV_32FC3 (BGR) in
/// [0, 1]; a grey image is replicated into the three channels.
cv::Mat to_colour_float(const cv::Mat& image, const std::string& what);

enum class ColourSpace { grey, rgb, opponent, hsv };
const EnumNames<ColourSpace>& enum_names(ColourSpace);

/// The planes a descriptor is computed on (van de Sande, Gevers, Snoek 2010,
/// "Evaluating color descriptors for object and scene recognition"), each
/// CV_32FC1, from a grey (CV_32FC1) or colour (CV_32FC3, BGR) float image:
///   "grey":     one plane, the grey image (a colour image is converted with
///               OpenCV's BGR -> grey weights);
///   "rgb":      R, G, B;
///   "opponent": O1 = (R - G) / sqrt 2, O2 = (R + G - 2B) / sqrt 6, O3 = (R + G + B) / sqrt 3;
///   "hsv":      H / 360 in [0, 1), S, V (OpenCV's float conversion).
/// A grey image given to a colour space is first replicated to R = G = B.
std::vector<cv::Mat> colour_planes(const cv::Mat& image, ColourSpace space, const std::string& what);

/// Names of the planes of a colour space, e.g. {"O1", "O2", "O3"}.
const std::vector<std::string>& plane_names(ColourSpace space);

}  // namespace pixelwise
