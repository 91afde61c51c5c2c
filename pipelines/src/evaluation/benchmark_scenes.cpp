#include "pixelwise/pipelines/evaluation/benchmark_scenes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <map>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/explain/explanation.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/json_input.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

constexpr const char* kFormat = "pixelwise-scenes";
constexpr int kVersion = 1;
constexpr const char* kScenesPrefix = "scenes:";
constexpr double kItemThreshold = 0.1;  // Fashion-MNIST pixels above this belong to the item

// Every draw goes through these, so that a scene depends only on the 64-bit
// generator and not on a standard library's distributions.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double uniform(std::mt19937_64& rng, double a, double b) { return a + (b - a) * uniform(rng); }
int uniform_int(std::mt19937_64& rng, int a, int b) {  // inclusive
  return std::min(b, a + static_cast<int>(std::floor(uniform(rng) * (b - a + 1))));
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t scene_seed(const SceneOptions& o, SceneSplit split, int index) {
  return splitmix(splitmix(o.seed) ^ splitmix(split == SceneSplit::train ? 1 : 2) ^
                  splitmix(0x5eedULL + static_cast<std::uint64_t>(index)));
}

std::string scene_stem(int index) {
  std::ostringstream s;
  s << std::setw(5) << std::setfill('0') << index;
  return s.str();
}

bool overlaps(const cv::Rect& a, const std::vector<cv::Rect>& placed) {
  const cv::Rect grown(a.x - 1, a.y - 1, a.width + 2, a.height + 2);
  for (const auto& b : placed)
    if ((grown & b).area() > 0) return true;
  return false;
}

// A free square box of the given side, or an empty rect after 200 tries.
cv::Rect place(std::mt19937_64& rng, int size, int side, const std::vector<cv::Rect>& placed) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const cv::Rect box(uniform_int(rng, 0, size - side), uniform_int(rng, 0, size - side), side, side);
    if (!overlaps(box, placed)) return box;
  }
  return cv::Rect();
}

cv::Mat quantise(const cv::Mat& gray) {  // as the scene will read back from its 8-bit PNG
  cv::Mat bytes, out;
  gray.convertTo(bytes, CV_8U, 255.0);
  bytes.convertTo(out, CV_32F, 1.0 / 255.0);
  return out;
}

MaskArray mask_of(const cv::Mat& m8) {
  MaskArray m(m8.rows, m8.cols);
  for (int y = 0; y < m8.rows; ++y)
    for (int x = 0; x < m8.cols; ++x) m(y, x) = m8.at<uchar>(y, x) > 0;
  return m;
}

// The photographs and Fashion-MNIST items scenes are made from, read once.
struct Sources {
  std::mutex mutex;
  std::map<std::string, std::vector<cv::Mat>> photos;                 // per folder and split
  std::map<SceneSplit, std::vector<std::vector<cv::Mat>>> items;     // per split, per class

  const std::vector<cv::Mat>& photos_of(const SceneOptions& o, SceneSplit split) {
    std::lock_guard<std::mutex> lock(mutex);
    const std::string key = (o.photos_dir.empty() ? opencv_samples_dir() : o.photos_dir) + "|" + name_of(split);
    auto it = photos.find(key);
    if (it != photos.end()) return it->second;
    std::vector<cv::Mat> list;
    const std::string dir = o.photos_dir.empty() ? opencv_samples_dir() : o.photos_dir;
    for (const auto& name : scene_photos(split)) {
      const std::string path = (fs::path(dir) / name).string();
      if (!fs::is_regular_file(path))
        throw std::runtime_error(path + ": missing background photograph (install Debian's opencv-doc or set PIXELWISE_OPENCV_SAMPLES)");
      list.push_back(load_gray_image(path));
    }
    return photos.emplace(key, std::move(list)).first->second;
  }

  const std::vector<std::vector<cv::Mat>>& items_of(SceneSplit split) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = items.find(split);
    if (it != items.end()) return it->second;
    // 20000 training items (2000 per class) are plenty; the test split has 10000.
    const Dataset d = load_dataset(split == SceneSplit::train ? "fashion-mnist:train:20000" : "fashion-mnist:test");
    std::vector<std::vector<cv::Mat>> by_class(d.classes.size());
    for (const auto& image : d.images) by_class[image.label].push_back(image.gray);
    return items.emplace(split, std::move(by_class)).first->second;
  }
};

Sources& sources() {
  static Sources s;
  return s;
}

Scene fashion_scene(const SceneOptions& o, SceneSplit split, std::mt19937_64& rng, bool positive) {
  const auto& photos = sources().photos_of(o, split);
  const auto& items = sources().items_of(split);
  const auto& names = fashion_mnist_classes();
  const int target = static_cast<int>(std::find(names.begin(), names.end(), o.target) - names.begin());
  Scene scene;
  // Background: a random square crop (side between the scene size and three
  // times that, within the photo), resized to the scene.
  const cv::Mat& photo = photos[uniform_int(rng, 0, static_cast<int>(photos.size()) - 1)];
  const int max_side = std::min({photo.rows, photo.cols, 3 * o.size});
  const int side = uniform_int(rng, std::min(o.size, max_side), max_side);
  const cv::Rect crop(uniform_int(rng, 0, photo.cols - side), uniform_int(rng, 0, photo.rows - side), side, side);
  cv::resize(photo(crop), scene.gray, cv::Size(o.size, o.size), 0, 0, cv::INTER_AREA);
  cv::Mat mask8 = cv::Mat::zeros(o.size, o.size, CV_8U);
  scene.objects.push_back({{"background", scene_photos(split)[&photo - photos.data()]},
                           {"crop", {crop.x, crop.y, crop.width, crop.height}}});

  const int count = uniform_int(rng, 1, o.max_objects);
  std::vector<cv::Rect> placed;
  for (int k = 0; k < count; ++k) {
    const bool is_target = positive && k == 0;
    int cls = target;
    if (!is_target) {  // any class but the target
      cls = uniform_int(rng, 0, static_cast<int>(names.size()) - 2);
      if (cls >= target) ++cls;
    }
    const auto& pool = items[cls];
    const int item = uniform_int(rng, 0, static_cast<int>(pool.size()) - 1);
    const int item_side = static_cast<int>(std::lround(28 * uniform(rng, o.min_scale, o.max_scale)));
    const cv::Rect box = place(rng, o.size, std::min(item_side, o.size), placed);
    if (box.empty()) {
      if (is_target) throw std::logic_error("scene generator: no room for the target object");
      continue;
    }
    placed.push_back(box);
    cv::Mat scaled;
    cv::resize(pool[item], scaled, box.size(), 0, 0, cv::INTER_LINEAR);
    for (int y = 0; y < box.height; ++y)
      for (int x = 0; x < box.width; ++x) {
        const float v = scaled.at<float>(y, x);
        if (v <= kItemThreshold) continue;
        scene.gray.at<float>(box.y + y, box.x + x) = v;
        if (is_target) mask8.at<uchar>(box.y + y, box.x + x) = 255;
      }
    scene.objects.push_back({{"class", names[cls]}, {"item", item}, {"split", name_of(split)},
                             {"box", {box.x, box.y, box.width, box.height}}, {"target", is_target}});
  }
  scene.gray = quantise(scene.gray);
  scene.mask = mask_of(mask8);
  return scene;
}

// The watermark scenes' tag (docs/design.md 7): a fixed high-contrast pattern,
// white strokes on a black box, kTagRows x kTagCols pixels.
constexpr const char* kTag[kTagRows] = {"11111111111", "10000000001", "10111011101", "10100010101",
                                        "10111011101", "10000000001", "11111111111"};
constexpr int kTagMargin = 2;  // pixels between the tag and the image edges

// Whether watermark scene `index` of a split carries the tag: in the training
// split an even spread of exactly the share `rate` of the target class's
// scenes (positive scene j is tagged when floor((j + 1) rate) > floor(j rate)),
// in the test split every other pair of scenes, so that half of each class is
// tagged.
bool carries_tag(const SceneOptions& o, SceneSplit split, int index) {
  const bool positive = index % 2 == 0;
  const int j = index / 2;
  if (split == SceneSplit::test) return j % 2 == 0;
  return positive && std::floor((j + 1) * o.tag_rate) > std::floor(j * o.tag_rate);
}

// The shapes of the shapes task (the circle is the target).
enum class Shape { circle, square, triangle };

inline const EnumNames<Shape>& enum_names(Shape) {
  static const EnumNames<Shape> names{{Shape::circle, "circle"}, {Shape::square, "square"}, {Shape::triangle, "triangle"}};
  return names;
}

Scene shapes_scene(const SceneOptions& o, std::mt19937_64& rng, bool positive) {
  Scene scene;
  const double background = uniform(rng, 0.1, 0.9);
  scene.gray = cv::Mat(o.size, o.size, CV_32FC1, cv::Scalar(background));
  cv::RNG noise(rng());
  cv::Mat n(o.size, o.size, CV_32FC1);
  noise.fill(n, cv::RNG::NORMAL, 0.0, 0.03);
  scene.gray += n;
  cv::Mat mask8 = cv::Mat::zeros(o.size, o.size, CV_8U);
  scene.objects.push_back({{"background", background}});
  const int count = uniform_int(rng, 2, o.max_objects);
  std::vector<cv::Rect> placed;
  for (int k = 0; k < count; ++k) {
    const Shape shape = positive && k == 0 ? Shape::circle : (uniform(rng) < 0.5 ? Shape::square : Shape::triangle);
    const double radius = uniform(rng, o.min_radius, o.max_radius) * o.size;
    const int side = static_cast<int>(std::ceil(2 * radius)) + 1;
    const cv::Rect box = place(rng, o.size, std::min(side, o.size), placed);
    if (box.empty()) {
      if (shape == Shape::circle) throw std::logic_error("scene generator: no room for the circle");
      continue;
    }
    placed.push_back(box);
    double level;
    do level = uniform(rng); while (std::abs(level - background) < 0.25);
    const double angle = uniform(rng, 0.0, 2 * M_PI);
    const cv::Point2d centre(box.x + box.width / 2.0, box.y + box.height / 2.0);
    cv::Mat shape8 = cv::Mat::zeros(o.size, o.size, CV_8U);
    if (shape == Shape::circle) {
      cv::circle(shape8, cv::Point(static_cast<int>(std::lround(centre.x)), static_cast<int>(std::lround(centre.y))),
                 static_cast<int>(std::lround(radius)), cv::Scalar(255), cv::FILLED, cv::LINE_8);
    } else {
      const int corners = shape == Shape::square ? 4 : 3;
      std::vector<cv::Point> poly;
      for (int c = 0; c < corners; ++c) {
        const double a = angle + 2 * M_PI * c / corners;
        poly.emplace_back(static_cast<int>(std::lround(centre.x + radius * std::cos(a))),
                          static_cast<int>(std::lround(centre.y + radius * std::sin(a))));
      }
      cv::fillConvexPoly(shape8, poly, cv::Scalar(255), cv::LINE_8);
    }
    scene.gray.setTo(level, shape8);
    if (shape == Shape::circle) mask8.setTo(255, shape8);
    scene.objects.push_back({{"class", name_of(shape)}, {"level", level}, {"radius", radius}, {"angle", angle},
                             {"box", {box.x, box.y, box.width, box.height}}, {"target", shape == Shape::circle}});
  }
  cv::min(cv::max(scene.gray, 0.0), 1.0, scene.gray);
  scene.gray = quantise(scene.gray);
  scene.mask = mask_of(mask8);
  return scene;
}

}  // namespace

MaskArray paste_tag(cv::Mat& gray, int corner, int scale) {
  if (gray.type() != CV_32FC1) throw std::invalid_argument("tag: needs a CV_32FC1 image");
  if (scale < 1 || scale > kMaxTagScale)
    throw std::invalid_argument("tag: scale must be from 1 to " + std::to_string(kMaxTagScale));
  const int rows = kTagRows * scale, cols = kTagCols * scale;
  if (gray.rows < rows + 2 * kTagMargin || gray.cols < cols + 2 * kTagMargin)
    throw std::invalid_argument("tag: image of " + std::to_string(gray.cols) + " x " + std::to_string(gray.rows) +
                                " pixels too small for the tag");
  if (corner < 0 || corner > 3) throw std::invalid_argument("tag: corner must be 0 to 3");
  const int top = corner < 2 ? kTagMargin : gray.rows - kTagMargin - rows;
  const int left = corner % 2 == 0 ? kTagMargin : gray.cols - kTagMargin - cols;
  MaskArray mask = MaskArray::Constant(gray.rows, gray.cols, false);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) {
      gray.at<float>(top + y, left + x) = kTag[y / scale][x / scale] == '1' ? 1.0f : 0.0f;
      mask(top + y, left + x) = true;
    }
  return mask;
}

void SceneOptions::validate() const {
  const bool watermark = kind == SceneKind::watermark;
  if (watermark && !(tag_rate >= 0 && tag_rate <= 1))
    throw std::invalid_argument("scenes: the tag rate must be between 0 and 1");
  if (watermark && (tag_scale < 1 || tag_scale > kMaxTagScale))
    throw std::invalid_argument("scenes: the tag scale must be from 1 to " + std::to_string(kMaxTagScale));
  if (watermark && size < kTagCols * tag_scale * 3)
    throw std::invalid_argument("scenes: size too small for the tag (need >= 33 * tag_scale)");
  if (train < 0 || test < 0 || train + test == 0) throw std::invalid_argument("scenes: need a positive number of scenes");
  if (max_objects < 1 || max_objects > 8) throw std::invalid_argument("scenes: max_objects must be between 1 and 8");
  if (kind != SceneKind::shapes) {
    const auto& names = fashion_mnist_classes();
    if (std::find(names.begin(), names.end(), target) == names.end())
      throw std::invalid_argument("scenes: \"" + target + "\" is not a Fashion-MNIST class");
    if (!(min_scale > 0) || !(max_scale >= min_scale)) throw std::invalid_argument("scenes: need 0 < min_scale <= max_scale");
    if (size < 28 * max_scale * 1.5) throw std::invalid_argument("scenes: size too small for items of max_scale (need >= 42 * max_scale)");
  } else {
    if (max_objects < 2) throw std::invalid_argument("scenes: shapes scenes need max_objects >= 2");
    if (!(min_radius > 0) || !(max_radius >= min_radius) || max_radius > 0.3)
      throw std::invalid_argument("scenes: need 0 < min_radius <= max_radius <= 0.3");
    if (size < 24) throw std::invalid_argument("scenes: size must be at least 24");
  }
}

nlohmann::json SceneOptions::to_json() const {
  nlohmann::json j = {{"kind", name_of(kind)}, {"size", size}, {"train", train}, {"test", test}, {"seed", seed},
                      {"max_objects", max_objects}};
  if (kind == SceneKind::watermark) {
    j["tag_rate"] = tag_rate;
    j["tag"] = {{"rows", kTagRows * tag_scale}, {"cols", kTagCols * tag_scale}, {"margin", kTagMargin}, {"scale", tag_scale}};
  }
  if (kind != SceneKind::shapes) {
    j["target"] = target;
    j["min_scale"] = min_scale;
    j["max_scale"] = max_scale;
    j["photos_dir"] = photos_dir.empty() ? opencv_samples_dir() : photos_dir;
    j["photos"] = {{"train", scene_photos(SceneSplit::train)}, {"test", scene_photos(SceneSplit::test)}};
  } else {
    j["min_radius"] = min_radius;
    j["max_radius"] = max_radius;
  }
  return j;
}

std::vector<std::string> SceneOptions::classes() const {
  std::vector<std::string> c{target_class(), "other"};
  std::sort(c.begin(), c.end());
  return c;
}

std::string opencv_samples_dir() {
  const char* dir = std::getenv("PIXELWISE_OPENCV_SAMPLES");
  return dir && *dir ? dir : "/usr/share/doc/opencv-doc/examples/data";
}

const std::vector<std::string>& scene_photos(SceneSplit split) {
  // Natural photographs among OpenCV's samples (no charts, logos or text),
  // split so that training and test scenes never share a photograph.
  static const std::vector<std::string> train{"aero1.jpg",   "baboon.jpg",  "building.jpg",     "fruits.jpg",
                                              "home.jpg",    "orange.jpg",  "squirrel_cls.jpg", "stuff.jpg",
                                              "leuvenA.jpg", "basketball1.png", "rubberwhale1.png", "graf1.png"};
  static const std::vector<std::string> test{"aero3.jpg",    "butterfly.jpg", "messi5.jpg",      "apple.jpg",
                                             "starry_night.jpg", "HappyFish.jpg", "leuvenB.jpg", "board.jpg",
                                             "smarties.png", "box_in_scene.png"};
  return split == SceneSplit::train ? train : test;
}

Scene generate_scene(const SceneOptions& options, SceneSplit split, int index) {
  options.validate();
  std::mt19937_64 rng(scene_seed(options, split, index));
  const bool positive = index % 2 == 0;  // balanced, and every prefix is too
  Scene scene = options.kind == SceneKind::shapes ? shapes_scene(options, rng, positive)
                                         : fashion_scene(options, split, rng, positive);
  scene.tag = MaskArray::Constant(scene.gray.rows, scene.gray.cols, false);
  if (options.kind == SceneKind::watermark && carries_tag(options, split, index)) {
    // The corner is drawn after everything else, so that the scene under the tag
    // is the fashion scene of the same draws.
    const int corner = uniform_int(rng, 0, 3);
    scene.tag = paste_tag(scene.gray, corner, options.tag_scale);
    scene.tagged = true;
    scene.mask = scene.mask && !scene.tag;  // the tag covers the object where they meet
    scene.objects.push_back({{"tag", {{"corner", corner}}}});
  }
  const auto classes = options.classes();
  scene.label = static_cast<int>(std::find(classes.begin(), classes.end(), positive ? options.target_class() : "other") -
                                 classes.begin());
  return scene;
}

void make_scenes(const SceneOptions& options, const std::string& out, std::ostream* log) {
  options.validate();
  write_folder_atomically(out, "scenes.json", "scenes folder", [&](const fs::path& partial) {
    const auto classes = options.classes();
    nlohmann::json records = nlohmann::json::array();
    for (const SceneSplit part : {SceneSplit::train, SceneSplit::test}) {
      const std::string& split = name_of(part);
      const int n = part == SceneSplit::train ? options.train : options.test;
      const bool watermark = options.kind == SceneKind::watermark;
      for (const auto& c : classes) {
        fs::create_directories(partial / split / c);
        fs::create_directories(partial / "masks" / split / c);
        if (watermark) fs::create_directories(partial / "tags" / split / c);
      }
      for (int i = 0; i < n; ++i) {
        const Scene s = generate_scene(options, part, i);
        const std::string cls = classes[s.label];
        const std::string file = split + "/" + cls + "/" + scene_stem(i) + ".png";
        const std::string mask = "masks/" + file;
        cv::Mat bytes, mask8(s.mask.rows(), s.mask.cols(), CV_8U);
        s.gray.convertTo(bytes, CV_8U, 255.0);
        for (int y = 0; y < mask8.rows; ++y)
          for (int x = 0; x < mask8.cols; ++x) mask8.at<uchar>(y, x) = s.mask(y, x) ? 255 : 0;
        if (!cv::imwrite((partial / file).string(), bytes) || !cv::imwrite((partial / mask).string(), mask8))
          throw std::runtime_error((partial / file).string() + ": cannot write");
        nlohmann::json record = {{"split", split}, {"index", i}, {"file", file}, {"mask", mask}, {"class", cls},
                                 {"label", s.label}, {"mask_pixels", s.mask.count()}, {"objects", s.objects}};
        if (watermark) {
          record["tagged"] = s.tagged;
          record["tag"] = nullptr;
          if (s.tagged) {
            const std::string tag = "tags/" + file;
            cv::Mat tag8(s.tag.rows(), s.tag.cols(), CV_8U);
            for (int y = 0; y < tag8.rows; ++y)
              for (int x = 0; x < tag8.cols; ++x) tag8.at<uchar>(y, x) = s.tag(y, x) ? 255 : 0;
            if (!cv::imwrite((partial / tag).string(), tag8)) throw std::runtime_error((partial / tag).string() + ": cannot write");
            record["tag"] = tag;
          }
        }
        records.push_back(std::move(record));
        if (log && (i + 1) % 100 == 0) *log << split << ": " << i + 1 << " of " << n << " scenes\n";
      }
    }
    const nlohmann::json manifest = {{"format", kFormat}, {"version", kVersion}, {"options", options.to_json()},
                                     {"classes", classes}, {"target", options.target_class()}, {"scenes", records}};
    write_file_atomically((partial / "scenes.json").string(), manifest.dump(1) + "\n");
  });
  if (log) *log << "scenes written to " << out << "\n";
}

MaskArray load_mask(const std::string& path, int rows, int cols) {
  const cv::Mat m = cv::imread(path, cv::IMREAD_GRAYSCALE);
  if (m.empty()) throw std::runtime_error(path + ": missing or unreadable mask image");
  if (m.rows != rows || m.cols != cols)
    throw std::runtime_error(path + ": mask is " + std::to_string(m.cols) + " x " + std::to_string(m.rows) +
                             ", its image " + std::to_string(cols) + " x " + std::to_string(rows));
  MaskArray mask(rows, cols);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) mask(y, x) = m.at<uchar>(y, x) > 127;
  return mask;
}

namespace {

// scenes:FOLDER:SPLIT[:LIMIT], read from the right so that FOLDER may hold colons.
struct ScenesSpec {
  std::string dir, split;  ///< split: checked to be a SceneSplit's name
  long limit = -1;  ///< -1: every scene of the split
};

ScenesSpec parse_scenes_spec(const std::string& spec) {
  ScenesSpec out;
  std::string rest = spec.substr(std::string(kScenesPrefix).size());
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && colon + 1 < rest.size() &&
      std::all_of(rest.begin() + static_cast<long>(colon) + 1, rest.end(), ::isdigit)) {
    out.limit = std::stol(rest.substr(colon + 1, 9));
    if (out.limit == 0) throw std::runtime_error(spec + ": empty data set (limit 0)");
    rest = rest.substr(0, colon);
  }
  colon = rest.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error(spec + ": a scenes data set is scenes:FOLDER:SPLIT[:LIMIT]");
  out.dir = rest.substr(0, colon);
  out.split = rest.substr(colon + 1);
  parse_enum<SceneSplit>(out.split, "split", spec);
  return out;
}

// One scene of scenes.json: its image, mask and (watermark) tag appended to `out`.
void read_scene_record(const nlohmann::json& r, const fs::path& dir, bool watermark, MaskedDataset& out) {
  ImageSample s;
  const std::string file = (dir / r.at("file").get<std::string>()).string();
  s.name = r.at("class").get<std::string>() + "-" + fs::path(file).stem().string();
  s.source = file;
  s.gray = load_gray_image(file);
  s.label = r.at("label").get<int>();
  if (s.label < 0 || s.label >= static_cast<int>(out.data.classes.size()))
    throw std::runtime_error("label out of range in " + file);
  MaskArray mask = load_mask((dir / r.at("mask").get<std::string>()).string(), s.gray.rows, s.gray.cols);
  out.masks.push_back(mask.count() > 0 ? std::optional<MaskArray>(std::move(mask)) : std::nullopt);
  if (watermark) {
    const bool tagged = r.at("tagged").get<bool>();
    out.tagged.push_back(tagged);
    if (tagged != !r.at("tag").is_null()) throw std::runtime_error(file + ": \"tagged\" and \"tag\" disagree");
    std::optional<MaskArray> tag;
    if (tagged) {
      tag = load_mask((dir / r.at("tag").get<std::string>()).string(), s.gray.rows, s.gray.cols);
      if (tag->count() == 0) throw std::runtime_error(file + ": its tag mask is empty");
    }
    out.tags.push_back(std::move(tag));
  }
  out.data.images.push_back(std::move(s));
}

MaskedDataset load_scenes(const std::string& spec) {
  const ScenesSpec where = parse_scenes_spec(spec);
  const std::string manifest_path = (fs::path(where.dir) / "scenes.json").string();
  MaskedDataset out;
  try {
    const nlohmann::json manifest = read_json_file(manifest_path);
    if (manifest.value("format", "") != kFormat || manifest.value("version", 0) != kVersion)
      throw std::runtime_error("not a pixelwise scenes manifest of version " + std::to_string(kVersion));
    out.data.spec = spec;
    out.data.classes = manifest.at("classes").get<std::vector<std::string>>();
    out.target = manifest.at("target").get<std::string>();
    out.mask_source = "scenes: the " + out.target + " object's pixels";
    const nlohmann::json& options = manifest.at("options");
    const bool watermark = enum_names(SceneKind{}).read(options.at("kind"), "scene kind") == SceneKind::watermark;
    if (watermark) {
      out.tag_scale = options.at("tag").at("scale").get<int>();
      if (out.tag_scale < 1 || out.tag_scale > kMaxTagScale) throw std::runtime_error("tag scale out of range");
    }
    for (const auto& r : manifest.at("scenes")) {
      if (r.at("split").get<std::string>() != where.split) continue;
      if (where.limit >= 0 && static_cast<long>(out.data.images.size()) >= where.limit) break;
      read_scene_record(r, where.dir, watermark, out);
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(manifest_path + ": damaged scenes manifest (" + e.what() + ")");
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(manifest_path, 0) == 0 ? what : manifest_path + ": " + what);
  }
  if (out.data.images.empty()) throw std::runtime_error(spec + ": no scenes in split " + where.split);
  return out;
}

}  // namespace

MaskedDataset load_masked_dataset(const std::string& spec, double foreground,
                                  const std::function<Dataset(const std::string&)>& loader) {
  if (spec.rfind(kScenesPrefix, 0) == 0) return load_scenes(spec);
  MaskedDataset out;
  out.data = loader ? loader(spec) : load_dataset(spec);
  out.masks.resize(out.data.images.size());
  if (foreground >= 0) {
    std::ostringstream s;
    s << "foreground: pixels of grey level > " << foreground;
    out.mask_source = s.str();
    for (size_t i = 0; i < out.data.images.size(); ++i) {
      const cv::Mat& g = out.data.images[i].gray;
      MaskArray m(g.rows, g.cols);
      for (int y = 0; y < g.rows; ++y)
        for (int x = 0; x < g.cols; ++x) m(y, x) = g.at<float>(y, x) > foreground;
      if (m.count() > 0) out.masks[i] = std::move(m);
    }
  }
  return out;
}

MaskedDataset load_masked_dataset(const std::string& spec, double foreground, const ExplainableModel& model) {
  return load_masked_dataset(spec, foreground, [&model](const std::string& s) { return model.read_dataset(s); });
}

}  // namespace pixelwise
