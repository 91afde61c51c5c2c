#include "pixelwise/pipelines/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "pixelwise/features/image.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

constexpr const char* kFashionPrefix = "fashion-mnist";

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

std::string read_gz(const std::string& path) {
  if (!fs::is_regular_file(path))
    throw std::runtime_error(path + ": missing (install Debian's dataset-fashion-mnist or set PIXELWISE_FASHION_MNIST_DIR)");
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) throw std::runtime_error(path + ": cannot open");
  std::string data;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(file.get(), buffer, sizeof buffer)) > 0) data.append(buffer, n);
  if (n < 0) throw std::runtime_error(path + ": corrupt gzip data");
  return data;
}

unsigned big_endian(const std::string& data, size_t offset) {
  unsigned v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(data[offset + i]);
  return v;
}

// IDX format: magic (0x0000 08 ndim), ndim big-endian sizes, then uint8 data.
struct Idx {
  std::vector<unsigned> shape;
  std::string data;
};

Idx parse_idx(const std::string& bytes, const std::string& what, unsigned dimensions) {
  if (bytes.size() < 4 + 4 * dimensions) throw std::runtime_error(what + ": truncated IDX header");
  if (big_endian(bytes, 0) != (0x0800u | dimensions)) throw std::runtime_error(what + ": not an IDX uint8 file of the expected rank");
  Idx idx;
  size_t count = 1;
  for (unsigned d = 0; d < dimensions; ++d) {
    idx.shape.push_back(big_endian(bytes, 4 + 4 * d));
    count *= idx.shape.back();
  }
  const size_t start = 4 + 4 * dimensions;
  if (bytes.size() - start != count)
    throw std::runtime_error(what + ": IDX data has " + std::to_string(bytes.size() - start) + " bytes, the header announces " +
                             std::to_string(count));
  idx.data = bytes.substr(start);
  return idx;
}

std::string split_prefix(const std::string& split, const std::string& what) {
  if (split == "train") return "train";
  if (split == "test") return "t10k";
  throw std::runtime_error(what + ": unknown Fashion-MNIST split \"" + split + "\" (train or test)");
}

long parse_count(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), ::isdigit))
    throw std::runtime_error(what + ": \"" + text + "\" is not a non-negative whole number");
  return std::stol(text);
}

// Reads images [first, first + count) of a Fashion-MNIST split.
std::vector<ImageSample> read_fashion(const std::string& split, long first, long count, const std::string& what) {
  const std::string dir = fashion_mnist_dir();
  const std::string prefix = dir + "/" + split_prefix(split, what);
  const std::string image_path = prefix + "-images-idx3-ubyte.gz", label_path = prefix + "-labels-idx1-ubyte.gz";
  const Idx images = parse_idx(read_gz(image_path), image_path, 3);
  const Idx labels = parse_idx(read_gz(label_path), label_path, 1);
  if (images.shape[0] != labels.shape[0]) throw std::runtime_error(prefix + ": image and label counts differ");
  const long available = images.shape[0];
  if (first >= available)
    throw std::runtime_error(what + ": index " + std::to_string(first) + " out of range (the split has " +
                             std::to_string(available) + " images)");
  count = std::min(count, available - first);
  const int rows = static_cast<int>(images.shape[1]), cols = static_cast<int>(images.shape[2]);
  std::vector<ImageSample> out;
  for (long i = first; i < first + count; ++i) {
    cv::Mat bytes(rows, cols, CV_8U, const_cast<char*>(images.data.data() + static_cast<size_t>(i) * rows * cols));
    ImageSample s;
    s.name = std::string(kFashionPrefix) + "-" + split + "-" + std::to_string(i);
    s.source = std::string(kFashionPrefix) + ":" + split + "@" + std::to_string(i);
    s.gray = to_gray_float(bytes, s.name);  // copies
    s.label = static_cast<unsigned char>(labels.data[i]);
    if (s.label >= static_cast<int>(fashion_mnist_classes().size()))
      throw std::runtime_error(label_path + ": label out of range");
    out.push_back(std::move(s));
  }
  return out;
}

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  for (const char* known : {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pbm", ".tif", ".tiff", ".webp"})
    if (ext == known) return true;
  return false;
}

Dataset load_folder(const std::string& spec) {
  if (!fs::is_directory(spec))
    throw std::runtime_error(spec + ": not a data set (neither fashion-mnist:SPLIT[:LIMIT] nor a folder)");
  Dataset d;
  d.spec = spec;
  std::vector<fs::path> class_dirs;
  for (const auto& entry : fs::directory_iterator(spec))
    if (entry.is_directory()) class_dirs.push_back(entry.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  if (class_dirs.empty()) throw std::runtime_error(spec + ": empty data set (no class sub-folders)");
  for (const auto& dir : class_dirs) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw std::runtime_error(dir.string() + ": class folder holds no images");
    const int label = static_cast<int>(d.classes.size());
    d.classes.push_back(dir.filename().string());
    for (const auto& f : files) {
      ImageSample s;
      s.name = dir.filename().string() + "-" + f.stem().string();
      s.source = f.string();
      s.gray = load_gray_image(f.string());
      s.label = label;
      d.images.push_back(std::move(s));
    }
  }
  return d;
}

}  // namespace

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names{"t-shirt", "trouser", "pullover", "dress", "coat",
                                              "sandal",  "shirt",   "sneaker",  "bag",   "ankle-boot"};
  return names;
}

std::string fashion_mnist_dir() {
  const char* dir = std::getenv("PIXELWISE_FASHION_MNIST_DIR");
  return dir && *dir ? dir : "/usr/share/datasets/fashion-mnist";
}

Dataset load_dataset(const std::string& spec) {
  const std::string prefix = std::string(kFashionPrefix) + ":";
  if (spec.rfind(prefix, 0) != 0) return load_folder(spec);
  const std::string rest = spec.substr(prefix.size());
  const size_t colon = rest.find(':');
  const std::string split = rest.substr(0, colon);
  split_prefix(split, spec);
  const long limit = colon == std::string::npos ? 1L << 40 : parse_count(rest.substr(colon + 1), spec);
  if (limit == 0) throw std::runtime_error(spec + ": empty data set (limit 0)");
  Dataset d;
  d.spec = spec;
  d.classes = fashion_mnist_classes();
  d.images = read_fashion(split, 0, limit, spec);
  return d;
}

ImageSample load_image_reference(const std::string& reference) {
  const std::string prefix = std::string(kFashionPrefix) + ":";
  if (reference.rfind(prefix, 0) == 0) {
    const std::string rest = reference.substr(prefix.size());
    const size_t at = rest.find('@');
    if (at == std::string::npos)
      throw std::runtime_error(reference + ": an image reference into Fashion-MNIST is fashion-mnist:SPLIT@INDEX");
    const std::string split = rest.substr(0, at);
    split_prefix(split, reference);
    return std::move(read_fashion(split, parse_count(rest.substr(at + 1), reference), 1, reference).front());
  }
  ImageSample s;
  s.name = fs::path(reference).stem().string();
  s.source = reference;
  s.gray = load_gray_image(reference);
  return s;
}

}  // namespace pixelwise
