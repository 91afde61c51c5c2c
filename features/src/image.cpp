#include "pixelwise/features/image.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "pixelwise/common/files.hpp"

namespace pixelwise {
namespace {

cv::Mat to_unit_float(const cv::Mat& image, const std::string& what) {
  check_image_size(image.cols, image.rows, what);  // every image, from a file or an array
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

namespace {
// set_max_image_pixels' value; -1: not set.
std::atomic<long> limit_set{-1};
}  // namespace

const EnumNames<OversizeImages>& enum_names(OversizeImages) {
  static const EnumNames<OversizeImages> names{{OversizeImages::refuse, "refuse"},
                                               {OversizeImages::downscale, "downscale"}};
  return names;
}

const OptionSchema<InputOptions>& InputOptions::schema() {
  using F = Fields<InputOptions>;
  static const OptionSchema<InputOptions> s({F::choice("oversize", [](auto& o) -> auto& { return o.oversize; })});
  return s;
}
void to_json(nlohmann::json& j, const InputOptions& o) { j = InputOptions::schema().write(o); }
void from_json(const nlohmann::json& j, InputOptions& o) { o = InputOptions::schema().read(j, "input"); }

void set_max_image_pixels(long pixels) { limit_set = pixels < 0 ? -1 : pixels; }

long max_image_pixels() {
  if (const long set = limit_set; set >= 0) return set;
  const char* text = std::getenv("PIXELWISE_MAX_IMAGE_PIXELS");
  if (!text || !*text) return kDefaultMaxImagePixels;
  const std::string value(text);
  if (value.size() > 18 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw std::runtime_error("PIXELWISE_MAX_IMAGE_PIXELS=\"" + value + "\" is not a whole number of pixels (0: no limit)");
  return std::stol(value);
}

void check_image_size(long width, long height, const std::string& what) {
  if (width < 0 || height < 0)
    throw std::runtime_error(what + ": image header gives a negative size " + std::to_string(width) + " x " +
                             std::to_string(height));
  // A header can claim up to 2^32 - 1 per side: the product is taken unsigned
  // and wide enough (below 2^64) so that a forged header cannot overflow it.
  const auto side = [](long v) { return std::min<unsigned long long>(static_cast<unsigned long long>(v), 0xffffffffULL); };
  const unsigned long long pixels = side(width) * side(height);
  const long limit = max_image_pixels();
  if (limit > 0 && pixels > static_cast<unsigned long long>(limit))
    throw std::runtime_error(what + ": image of " + std::to_string(width) + " x " + std::to_string(height) + " = " +
                             std::to_string(pixels) + " pixels is above the limit of " +
                             std::to_string(limit) + " pixels (--max-image-pixels or PIXELWISE_MAX_IMAGE_PIXELS "
                             "changes the limit; a model configured with \"input\": {\"oversize\": \"downscale\"} "
                             "downscales instead; docs/errors.md, \"Limits\")");
}

cv::Size fitted_image_size(long width, long height, long limit) {
  if (width < 1 || height < 1 || limit < 1) throw std::invalid_argument("fitted_image_size: sizes and limit must be positive");
  if (width * height <= limit) return {static_cast<int>(width), static_cast<int>(height)};
  const double scale = std::sqrt(static_cast<double>(limit) / (static_cast<double>(width) * height));
  long w = static_cast<long>(std::floor(width * scale)), h = static_cast<long>(std::floor(height * scale));
  // A side below one pixel is one, and the other takes the whole limit.
  if (h < 1) h = 1, w = std::min(width, limit);
  if (w < 1) w = 1, h = std::min(height, limit);
  // Rounding of the square root can leave the product a little above the
  // limit: the side longer than the aspect ratio asks for gives way.
  while (w * h > limit) {
    if ((w * height >= h * width && w > 1) || h == 1)
      --w;
    else
      --h;
  }
  return {static_cast<int>(w), static_cast<int>(h)};
}

cv::Mat fit_image_limit(const cv::Mat& image, OversizeImages oversize, const std::string& what) {
  const long limit = max_image_pixels();
  if (limit == 0 || static_cast<long>(image.cols) * image.rows <= limit) return image;
  if (oversize == OversizeImages::refuse) check_image_size(image.cols, image.rows, what);
  cv::Mat smaller;
  cv::resize(image, smaller, fitted_image_size(image.cols, image.rows, limit), 0, 0, cv::INTER_AREA);
  return smaller;
}

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

namespace {

using Bytes = std::string;

unsigned byte_at(const Bytes& b, size_t i) { return static_cast<unsigned char>(b[i]); }

bool starts_with(const Bytes& b, const char* signature, size_t n) { return b.size() >= n && b.compare(0, n, signature, n) == 0; }

[[noreturn]] void truncated(const std::string& what, const std::string& format, const std::string& detail) {
  throw std::runtime_error(what + ": truncated or corrupt " + format + " file (" + detail + ")");
}

// PNG: signature, then chunks (4-byte big-endian length, type, data, CRC) up
// to IEND. libpng checks the CRCs and the compressed data.
void check_png(const Bytes& b, const std::string& what, bool check_size) {
  if (check_size && b.size() >= 24 && b.compare(12, 4, "IHDR") == 0) {  // the size, before anything is decoded
    auto be32 = [&](size_t i) {
      return (static_cast<long>(byte_at(b, i)) << 24) | (byte_at(b, i + 1) << 16) | (byte_at(b, i + 2) << 8) | byte_at(b, i + 3);
    };
    check_image_size(be32(16), be32(20), what);
  }
  size_t at = 8;
  while (true) {
    if (at + 8 > b.size()) truncated(what, "PNG", "ends at byte " + std::to_string(b.size()) + " before its IEND chunk");
    const unsigned long length = (static_cast<unsigned long>(byte_at(b, at)) << 24) | (byte_at(b, at + 1) << 16) |
                                 (byte_at(b, at + 2) << 8) | byte_at(b, at + 3);
    const std::string type = b.substr(at + 4, 4);
    if (length > b.size() || at + 12 + length > b.size())
      truncated(what, "PNG", "chunk " + type + " at byte " + std::to_string(at) + " runs past the end of the file");
    if (type == "IEND") return;
    at += 12 + length;
  }
}

// JPEG: marker segments (FF xx, 2-byte big-endian length) from SOI; after each
// SOS the entropy-coded data up to the next marker that is not a stuffed 00,
// a restart marker or fill; the image is complete at EOI (FF D9). Segments
// are skipped by their lengths, so an EXIF thumbnail's EOI does not count.
void check_jpeg(const Bytes& b, const std::string& what, bool check_size) {
  size_t at = 2;
  const auto early = [&] { truncated(what, "JPEG", "ends at byte " + std::to_string(b.size()) + " before its EOI marker"); };
  while (true) {
    while (at < b.size() && byte_at(b, at) == 0xFF && at + 1 < b.size() && byte_at(b, at + 1) == 0xFF) ++at;  // fill
    if (at + 2 > b.size()) early();
    if (byte_at(b, at) != 0xFF) truncated(what, "JPEG", "no marker at byte " + std::to_string(at));
    const unsigned marker = byte_at(b, at + 1);
    if (marker == 0xD9) return;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // TEM, RSTn: no length
      at += 2;
      continue;
    }
    if (at + 4 > b.size()) early();
    const size_t length = (byte_at(b, at + 2) << 8) | byte_at(b, at + 3);
    if (length < 2) truncated(what, "JPEG", "segment length below 2 at byte " + std::to_string(at));
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (check_size && frame && at + 9 <= b.size())  // SOFn: the size, before anything is decoded
      check_image_size((byte_at(b, at + 7) << 8) | byte_at(b, at + 8), (byte_at(b, at + 5) << 8) | byte_at(b, at + 6), what);
    at += 2 + length;
    if (at > b.size()) early();
    if (marker != 0xDA) continue;  // SOS: the entropy-coded data follows
    while (true) {
      if (at + 2 > b.size()) early();
      if (byte_at(b, at) == 0xFF) {
        const unsigned next = byte_at(b, at + 1);
        if (next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) break;
        at += next == 0xFF ? 1 : 2;
      } else {
        ++at;
      }
    }
  }
}

}  // namespace

cv::Mat decode_image_bytes(const std::string& bytes, const std::string& what, OversizeImages oversize) {
  // Refused from the header, before anything is decoded; an image to be
  // downscaled is decoded whole first (OpenCV's own limit, 2^30 pixels, stays).
  const bool check_size = oversize == OversizeImages::refuse;
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n", 8)) check_png(bytes, what, check_size);
  if (starts_with(bytes, "\xFF\xD8\xFF", 3)) check_jpeg(bytes, what, check_size);
  cv::Mat image;
  if (!bytes.empty()) {
    const cv::Mat buffer(1, static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX)), CV_8U,
                         const_cast<char*>(bytes.data()));
    try {
      image = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
      throw std::runtime_error(what + ": not a readable image (" + e.msg + ")");
    }
  }
  if (image.empty()) throw std::runtime_error(what + ": not a readable image (corrupt or unknown format)");
  return fit_image_limit(image, oversize, what);
}

cv::Mat read_image_file(const std::string& path, OversizeImages oversize) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": no such image file");
  return decode_image_bytes(read_file(path), path, oversize);
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
