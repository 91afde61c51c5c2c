#include "pixelwise/pipelines/explain/tiles.hpp"

#include <algorithm>
#include <stdexcept>

namespace pixelwise {
namespace {

// Start positions along one side (tile_layout).
std::vector<int> starts(int length, int size, int offset) {
  const int side = std::min(size, length);
  std::vector<int> out;
  for (int p = 0; p + side <= length; p += offset) out.push_back(p);
  if (out.back() + side < length) out.push_back(length - side);
  return out;
}

}  // namespace

void TileOptions::validate() const {
  if (size < 1) throw std::invalid_argument("tiles: the size must be at least 1 pixel, got " + std::to_string(size));
  if (offset < 1) throw std::invalid_argument("tiles: the offset must be at least 1 pixel, got " + std::to_string(offset));
}

TileOptions TileOptions::parse(const std::string& spec) {
  const auto comma = spec.find(',');
  TileOptions o;
  try {
    if (comma == std::string::npos) throw std::invalid_argument("no comma");
    size_t used = 0;
    o.size = std::stoi(spec.substr(0, comma), &used);
    if (used != comma) throw std::invalid_argument("size");
    const std::string rest = spec.substr(comma + 1);
    o.offset = std::stoi(rest, &used);
    if (used != rest.size()) throw std::invalid_argument("offset");
  } catch (const std::exception&) {
    throw std::invalid_argument("tiles \"" + spec + "\": expected SIZE,OFFSET in pixels, e.g. 102,34");
  }
  o.validate();
  return o;
}

std::vector<Tile> tile_layout(int width, int height, const TileOptions& options) {
  options.validate();
  if (width < 1 || height < 1) throw std::invalid_argument("tiles: empty image");
  std::vector<Tile> tiles;
  const int w = std::min(options.size, width), h = std::min(options.size, height);
  for (int y : starts(height, options.size, options.offset))
    for (int x : starts(width, options.size, options.offset)) tiles.push_back({x, y, w, h});
  return tiles;
}

RowMatrixXd average_over_tiles(int width, int height, const std::vector<Tile>& tiles,
                               const std::vector<RowMatrixXd>& maps, RowMatrixXd* coverage) {
  if (tiles.size() != maps.size()) throw std::invalid_argument("tiles: one map per tile needed");
  RowMatrixXd sum = RowMatrixXd::Zero(height, width), count = RowMatrixXd::Zero(height, width);
  for (size_t t = 0; t < tiles.size(); ++t) {
    const Tile& tile = tiles[t];
    if (tile.x < 0 || tile.y < 0 || tile.width < 1 || tile.height < 1 || tile.x + tile.width > width ||
        tile.y + tile.height > height)
      throw std::invalid_argument("tiles: tile " + std::to_string(t) + " lies outside the image");
    if (maps[t].rows() != tile.height || maps[t].cols() != tile.width)
      throw std::invalid_argument("tiles: the map of tile " + std::to_string(t) + " does not have the tile's size");
    sum.block(tile.y, tile.x, tile.height, tile.width) += maps[t];
    count.block(tile.y, tile.x, tile.height, tile.width).array() += 1.0;
  }
  RowMatrixXd mean = (count.array() > 0).select(sum.array() / count.array().max(1.0), 0.0);
  if (coverage) *coverage = std::move(count);
  return mean;
}

TiledExplanation explain_tiled(const BowModel& model, const cv::Mat& image, int class_index,
                               const ExplainOptions& options, const TileOptions& tile_options, const std::string& what,
                               int versus, const InterruptCheck& interrupt) {
  TiledExplanation out;
  out.options = tile_options;
  out.versus = versus;
  out.tiles = tile_layout(image.cols, image.rows, tile_options);
  // The explained class is the same in every tile: the given one, or the one
  // predicted for the whole image.
  out.scores = model.forward(image, what).scores;
  out.scores.maxCoeff(&out.predicted);
  out.class_index = class_index < 0 ? out.predicted : class_index;
  model.check_class(out.class_index);
  out.score = out.scores[out.class_index];
  std::vector<RowMatrixXd> maps;
  for (const Tile& tile : out.tiles) {
    if (interrupt) interrupt();
    const cv::Mat crop = image(cv::Rect(tile.x, tile.y, tile.width, tile.height)).clone();
    const std::string name = what + " tile (" + std::to_string(tile.x) + ", " + std::to_string(tile.y) + ", " +
                             std::to_string(tile.width) + " x " + std::to_string(tile.height) + ")";
    BowExplanation e = explain(model, crop, out.class_index, options, name, versus);
    e.features = {};
    e.feature_relevance.resize(0);
    e.level_relevance.resize(0, 0);
    maps.push_back(e.pixels);
    out.explanations.push_back(std::move(e));
  }
  out.pixels = average_over_tiles(image.cols, image.rows, out.tiles, maps, &out.coverage);
  return out;
}

nlohmann::json tiled_explanation_json(const BowModel& model, const TiledExplanation& t) {
  nlohmann::json scores = nlohmann::json::object();
  for (int c = 0; c < static_cast<int>(model.classes.size()); ++c) scores[model.classes[c]] = t.scores[c];
  nlohmann::json tiles = nlohmann::json::array();
  for (size_t i = 0; i < t.tiles.size(); ++i) {
    nlohmann::json j = explanation_json(model, t.explanations[i]);
    j["x"] = t.tiles[i].x;
    j["y"] = t.tiles[i].y;
    j["width"] = t.tiles[i].width;
    j["height"] = t.tiles[i].height;
    tiles.push_back(std::move(j));
  }
  nlohmann::json j = {{"class", model.classes[t.class_index]},
                      {"class_index", t.class_index},
                      {"predicted", model.classes[t.predicted]},
                      {"score", t.score},
                      {"scores", scores},
                      {"method", name_of(t.explanations.empty() ? ExplainMethod::lrp : t.explanations.front().method)},
                      {"image_size", {t.pixels.rows(), t.pixels.cols()}},
                      {"tile_size", t.options.size},
                      {"tile_offset", t.options.offset},
                      {"coverage", {{"min", t.coverage.minCoeff()}, {"max", t.coverage.maxCoeff()}}},
                      {"pixel_sum", t.pixels.sum()},
                      {"tiles", tiles}};
  if (t.versus >= 0) j["versus"] = model.classes[t.versus];
  return j;
}

}  // namespace pixelwise
