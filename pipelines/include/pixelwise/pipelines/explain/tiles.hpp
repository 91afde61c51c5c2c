#pragma once
// Tiled explanations (docs/design.md 1.6; the paper's PASCAL VOC figures used
// 102 x 102 tiles at an offset of 34): every tile is classified and explained
// on its own, and a pixel's relevance is the mean of the relevance the tiles
// covering it give it. Each tile's explanation conserves what an explanation
// of a whole image conserves; the averaged map does not add up to a score.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pixelwise/common/parallel.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"

namespace pixelwise {

struct TileOptions {
  int size = 102;   ///< side of a square tile (clipped to the image's sides)
  int offset = 34;  ///< step between neighbouring tiles
  void validate() const;
  /// "SIZE,OFFSET", e.g. "102,34".
  static TileOptions parse(const std::string& spec);
};

struct Tile {
  int x = 0, y = 0, width = 0, height = 0;
};

/// Tiles of width min(size, W) and height min(size, H) whose left edges are
/// 0, offset, 2 offset, ... as long as the tile fits, plus one flush with the
/// right edge when those miss it (so every pixel is covered); rows likewise.
/// Row-major order (top row first).
std::vector<Tile> tile_layout(int width, int height, const TileOptions& options);

/// Per pixel, the mean of maps[t](y - tile.y, x - tile.x) over the tiles t
/// covering it (0 where none does); `coverage`, if given, gets the number of
/// covering tiles.
RowMatrixXd average_over_tiles(int width, int height, const std::vector<Tile>& tiles,
                               const std::vector<RowMatrixXd>& maps, RowMatrixXd* coverage = nullptr);

struct TiledExplanation {
  TileOptions options;
  int class_index = 0;       ///< explained in every tile
  int predicted = 0;         ///< of the whole image
  int versus = -1;
  double score = 0;          ///< the whole image's score of the explained class (for comparison)
  Eigen::VectorXd scores;    ///< the whole image's scores
  std::vector<Tile> tiles;
  /// One explanation per tile, of the tile's own score (descriptor frames and
  /// their relevance dropped to save memory; pixel maps kept).
  std::vector<BowExplanation> explanations;
  RowMatrixXd pixels;        ///< H x W, the average over covering tiles
  RowMatrixXd coverage;      ///< H x W, number of covering tiles
};

/// Explains class `class_index` (-1: the class predicted for the whole image)
/// in every tile of `image`, with the same options as explain().
/// `interrupt`, if set, is called before each tile and may throw to stop.
TiledExplanation explain_tiled(const BowModel& model, const cv::Mat& image, int class_index,
                               const ExplainOptions& options, const TileOptions& tiles, const std::string& what,
                               int versus = -1, const InterruptCheck& interrupt = {});

/// The whole image's class and scores, and per tile its rectangle and its
/// explanation's account (explanation_json).
nlohmann::json tiled_explanation_json(const BowModel& model, const TiledExplanation& t);

}  // namespace pixelwise
