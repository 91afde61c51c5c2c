#pragma once
// Localisation benchmarks with ground truth: generated scenes whose
// object masks are known, for measuring whether a heatmap points at the object
// (metrics.hpp), and data sets with masks.
//
// Two generators, both seeded (same options, same files, byte for byte):
//
//   "fashion"  Fashion-MNIST items (Debian's dataset-fashion-mnist) pasted onto
//              grey crops of OpenCV's sample photographs (opencv-doc). A scene
//              holds 1 .. max_objects items at random positions (boxes do not
//              overlap) and scales; a positive scene ("<target>") holds exactly
//              one item of the target class, a negative ("other") only items of
//              other classes. An item's pixels are those of grey level > 0.1
//              after scaling (the black background of Fashion-MNIST is left
//              out); they replace the photo's pixels. The mask is the target
//              item's pixels. Training scenes take items from the Fashion-MNIST
//              training split and crops of one half of the photos, test scenes
//              items from the test split and the other half of the photos.
//   "shapes"   The paper's synthetic shapes task: decide whether an image holds
//              a circle among squares and triangles. Filled shapes of random
//              size, position, rotation and grey level (at least 0.25 from the
//              background) on a noisy uniform background; a positive scene
//              ("circle") holds one circle and 1 .. max_objects - 1 other
//              shapes, a negative ("other") 2 .. max_objects squares and
//              triangles. The mask is the circle's pixels.
//   "watermark" A Clever Hans benchmark (Lapuschkin et al., Nature
//              Communications 2019; docs/design.md 7): the fashion scenes, where
//              the share `tag_rate` of the target class's training scenes
//              carries a small tag (paste_tag) in a random corner; in the
//              test split half of the scenes of each class carry it. A
//              classifier that learns the tag as evidence for the target is
//              a Clever Hans predictor; the tag's mask is recorded with each
//              tagged scene.
//
// Folder layout (a plain class-folder data set for each split, so that
// `pixelwise train --data OUT/train` works unchanged):
//   OUT/scenes.json                          settings and one record per scene
//   OUT/train/<class>/<NNNNN>.png            scenes (8-bit grey)
//   OUT/test/<class>/<NNNNN>.png
//   OUT/masks/<split>/<class>/<NNNNN>.png    masks (255 = object; all 0 for negatives)
//   OUT/tags/<split>/<class>/<NNNNN>.png     watermark: tag masks of the tagged scenes
// A watermark scene's record in scenes.json has "tagged" and "tag" (the tag
// mask's file, null when untagged).
//
// Data sets with masks (for `pixelwise evaluate`):
//   scenes:OUT:SPLIT[:LIMIT]   a generated benchmark (masks from OUT/masks)
//   any other spec             as load_dataset / the network data sets; masks
//                              can then be derived as the pixels brighter than a
//                              threshold (Fashion-MNIST: the item on black).
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/decomposition/metrics.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"

namespace pixelwise {

class ExplainableModel;  // explain/explanation.hpp

/// The generators above, one name each across the CLI (--kind), scenes.json
/// ("kind") and Python (kind=).
enum class SceneKind { fashion, shapes, watermark };

inline const EnumNames<SceneKind>& enum_names(SceneKind) {
  static const EnumNames<SceneKind> names{
      {SceneKind::fashion, "fashion"}, {SceneKind::shapes, "shapes"}, {SceneKind::watermark, "watermark"}};
  return names;
}

/// The two splits of a benchmark ("train", "test": folder names, scenes.json
/// and Python's split=).
enum class SceneSplit { train, test };

inline const EnumNames<SceneSplit>& enum_names(SceneSplit) {
  static const EnumNames<SceneSplit> names{{SceneSplit::train, "train"}, {SceneSplit::test, "test"}};
  return names;
}

struct SceneOptions {
  SceneKind kind = SceneKind::fashion;
  int size = 80;                 ///< scenes are size x size pixels
  int train = 400, test = 100;   ///< scenes per split (half positive, half negative)
  std::uint64_t seed = 1;
  int max_objects = 3;           ///< objects per scene at most
  // fashion and watermark:
  std::string target = "trouser";  ///< Fashion-MNIST class to detect (watermark: the tagged class)
  double min_scale = 0.9, max_scale = 1.4;  ///< item side = 28 * scale
  std::string photos_dir;          ///< empty: opencv_samples_dir()
  // watermark:
  double tag_rate = 0.3;           ///< share of the target class's training scenes with the tag
  int tag_scale = 1;               ///< the tag pattern enlarged by this integer factor (1: 7 x 11 pixels)
  // shapes:
  double min_radius = 0.08, max_radius = 0.16;  ///< shape radius as a fraction of size

  void validate() const;
  nlohmann::json to_json() const;
  /// The two class names in data-set order (sorted, as folders are read): the target and "other".
  std::vector<std::string> classes() const;
  std::string target_class() const { return kind == SceneKind::shapes ? "circle" : target; }
};

/// /usr/share/doc/opencv-doc/examples/data unless PIXELWISE_OPENCV_SAMPLES names another folder.
std::string opencv_samples_dir();
/// The watermark tag's size in pixels at scale 1, and the largest scale.
constexpr int kTagRows = 7, kTagCols = 11, kMaxTagScale = 4;
/// Draws the watermark tag, enlarged `scale` times (nearest neighbour), into
/// `gray` (CV_32FC1) in a corner (0 top left, 1 top right, 2 bottom left,
/// 3 bottom right), 2 pixels from the edges; returns its mask.
MaskArray paste_tag(cv::Mat& gray, int corner, int scale = 1);

/// The sample photographs the fashion scenes use as backgrounds, per split.
const std::vector<std::string>& scene_photos(SceneSplit split);

/// One generated scene.
struct Scene {
  cv::Mat gray;      ///< CV_32FC1 in [0, 1]
  MaskArray mask;    ///< the target object's pixels (all false for a negative scene)
  int label = 0;     ///< index into SceneOptions::classes()
  bool tagged = false;  ///< watermark: the scene carries the tag
  MaskArray tag;        ///< the tag's pixels (all false without it)
  nlohmann::json objects = nlohmann::json::array();  ///< {class, x, y, width, height, ...} per object
};

/// Scene `index` of a split, a pure function of (options, split, index).
Scene generate_scene(const SceneOptions& options, SceneSplit split, int index);

/// Writes the benchmark folder (all scenes of both splits, masks, scenes.json).
/// Refuses to write into a folder that exists and is neither empty nor an
/// older benchmark; a failure leaves no partial folder behind.
void make_scenes(const SceneOptions& options, const std::string& out, std::ostream* log);

/// A data set with an optional ground-truth mask per image.
struct MaskedDataset {
  Dataset data;
  std::vector<std::optional<MaskArray>> masks;  ///< one per image; nullopt: no mask
  std::string mask_source;                      ///< how the masks were made, for reports
  std::string target;                           ///< scenes: the class the masks belong to
  /// Watermark scenes: per image whether it carries the tag and the tag's
  /// mask (nullopt when untagged); empty for other data sets.
  std::vector<bool> tagged;
  std::vector<std::optional<MaskArray>> tags;
  int tag_scale = 1;                            ///< watermark scenes: the tag's scale (paste_tag)
};

/// `spec` as described above. `foreground` >= 0 derives a mask for every image
/// without one: the pixels of grey level > foreground (images whose mask would
/// be empty get none). `loader` reads specs that are not scenes (e.g.
/// load_dataset or load_network_dataset; none: load_dataset).
MaskedDataset load_masked_dataset(const std::string& spec, double foreground,
                                  const std::function<Dataset(const std::string&)>& loader = nullptr);
/// The same, other specs read as `model` reads its inputs (ExplainableModel::read_dataset).
MaskedDataset load_masked_dataset(const std::string& spec, double foreground, const ExplainableModel& model);

/// Reads a mask image (8-bit, > 127 is inside); `what` names it in errors.
MaskArray load_mask(const std::string& path, int rows, int cols);

}  // namespace pixelwise
