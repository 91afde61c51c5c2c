#include "pixelwise/pipelines/io/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/files.hpp"
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

// The parsed files of a split. A batch reads many single images of a split,
// so the last few splits read are kept (keyed by path, size and modification
// time: a changed file is read again); the test split is 8 MB, the train 47 MB.
struct FashionFiles {
  Idx images, labels;
};
std::shared_ptr<const FashionFiles> fashion_files(const std::string& image_path, const std::string& label_path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const FashionFiles>> cache;
  std::string key;
  for (const std::string& path : {image_path, label_path}) {
    std::error_code error;
    const auto size = fs::file_size(path, error);
    const auto time = fs::last_write_time(path, error).time_since_epoch().count();
    key += path + "|" + std::to_string(error ? 0 : size) + "|" + std::to_string(error ? 0 : time) + "|";
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto found = cache.find(key);
    if (found != cache.end()) return found->second;
  }
  auto files = std::make_shared<FashionFiles>();
  files->images = parse_idx(read_gz(image_path), image_path, 3);
  files->labels = parse_idx(read_gz(label_path), label_path, 1);
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() >= 4) cache.clear();
  cache[key] = files;
  return files;
}

// Reads images [first, first + count) of a Fashion-MNIST split.
std::vector<ImageSample> read_fashion(const std::string& split, long first, long count, const std::string& what) {
  const std::string dir = fashion_mnist_dir();
  const std::string prefix = dir + "/" + split_prefix(split, what);
  const std::string image_path = prefix + "-images-idx3-ubyte.gz", label_path = prefix + "-labels-idx1-ubyte.gz";
  const std::shared_ptr<const FashionFiles> files = fashion_files(image_path, label_path);
  const Idx& images = files->images;
  const Idx& labels = files->labels;
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

// Grey pixels, and the colour ones when the file has colour.
void read_pixels(const std::string& path, ImageSample& s, OversizeImages oversize) {
  const cv::Mat raw = read_image_file(path, oversize);
  s.gray = to_gray_float(raw, path);
  if (raw.channels() >= 3) s.colour = to_colour_float(raw, path);
}

// voc:ROOT:CLASS:SPLIT[:LIMIT], read from the right so that ROOT may hold ':'.
Dataset load_voc(const std::string& spec, OversizeImages oversize) {
  std::vector<std::string> parts;
  std::string rest = spec.substr(4);
  for (size_t at; (at = rest.rfind(':')) != std::string::npos && parts.size() < 3; rest.erase(at))
    parts.insert(parts.begin(), rest.substr(at + 1));
  parts.insert(parts.begin(), rest);
  long limit = 1L << 40;
  if (parts.size() == 4 && !parts.back().empty() && std::all_of(parts.back().begin(), parts.back().end(), ::isdigit)) {
    limit = parse_count(parts.back(), spec);
    parts.pop_back();
    if (limit == 0) throw std::runtime_error(spec + ": empty data set (limit 0)");
  } else if (parts.size() == 4) {  // no limit: the last three parts are CLASS and SPLIT after a ROOT with ':'
    parts = {parts[0] + ":" + parts[1], parts[2], parts[3]};
  }
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty())
    throw std::runtime_error(spec + ": a PASCAL VOC data set is voc:ROOT:CLASS:SPLIT[:LIMIT]");
  const fs::path root = parts[0];
  const std::string cls = parts[1], split = parts[2];
  const fs::path list = root / "ImageSets" / "Main" / (cls + "_" + split + ".txt");
  if (!fs::is_regular_file(list)) throw std::runtime_error(list.string() + ": missing (no class " + cls + " or split " + split + ")");
  std::istringstream lines(read_file(list.string()));
  Dataset d;
  d.spec = spec;
  d.classes = {"not-" + cls, cls};
  std::string line;
  for (int number = 1; std::getline(lines, line) && static_cast<long>(d.images.size()) < limit; ++number) {
    std::istringstream fields(line);
    std::string id, label, extra;
    if (!(fields >> id)) continue;  // blank line
    if (!(fields >> label) || (fields >> extra) || (label != "1" && label != "-1" && label != "0"))
      throw std::runtime_error(list.string() + ":" + std::to_string(number) + ": expected \"ID 1\", \"ID -1\" or \"ID 0\"");
    if (label == "0") continue;  // difficult: not used for training
    ImageSample s;
    s.name = id;
    s.source = (root / "JPEGImages" / (id + ".jpg")).string();
    read_pixels(s.source, s, oversize);
    s.label = label == "1" ? 1 : 0;
    d.images.push_back(std::move(s));
  }
  if (d.images.empty()) throw std::runtime_error(list.string() + ": empty data set (no image labelled 1 or -1)");
  return d;
}

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  for (const char* known : {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pbm", ".tif", ".tiff", ".webp"})
    if (ext == known) return true;
  return false;
}

Dataset load_folder(const std::string& spec, OversizeImages oversize) {
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
      read_pixels(f.string(), s, oversize);
      s.label = label;
      d.images.push_back(std::move(s));
    }
  }
  return d;
}

// Data set and image reference kinds that other readers take (the digits:
// network models, scenes: evaluate). Given to this reader they are refused by
// name, rather than taken for a folder or file that does not exist
// (docs/errors.md, "What is checked up front").
void refuse_other_kinds(const std::string& spec, const char* words) {
  struct Kind {
    const char *prefix, *readers;
  };
  static const Kind kinds[] = {
      {"digits:", "network models only (train-network; explain and evaluate with a network model; NetworkModel in "
                  "Python)"},
      {"scenes:", "evaluate only (scenes with masks, made by make-scenes)"}};
  for (const Kind& kind : kinds)
    if (spec.rfind(kind.prefix, 0) == 0 && !fs::exists(spec))
      throw InputError(spec + ": " + kind.prefix + " " + words + " are read by " + kind.readers +
                       "; this model or command reads fashion-mnist:, voc: and image folders or files");
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

Dataset load_dataset(const std::string& spec, OversizeImages oversize) {
  const std::string prefix = std::string(kFashionPrefix) + ":";
  if (spec.rfind("voc:", 0) == 0) return load_voc(spec, oversize);
  refuse_other_kinds(spec, "data sets");
  if (spec.rfind(prefix, 0) != 0) return load_folder(spec, oversize);
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

ImageSample load_image_reference(const std::string& reference, OversizeImages oversize) {
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
  refuse_other_kinds(reference, "image references");
  ImageSample s;
  s.name = fs::path(reference).stem().string();
  s.source = reference;
  read_pixels(reference, s, oversize);
  return s;
}

}  // namespace pixelwise
