#include "pixelwise/features/bow.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace pixelwise {

void CodingOptions::validate() const {
  if (type != "hard") throw std::invalid_argument("coding: unknown type \"" + type + "\" (known: hard)");
}

void PoolingOptions::validate() const {
  if (type != "sum") throw std::invalid_argument("pooling: unknown type \"" + type + "\" (known: sum)");
  if (pyramid.empty()) throw std::invalid_argument("pooling: the pyramid needs at least one level");
  for (const auto& level : pyramid)
    if (level[0] < 1 || level[1] < 1 || level[0] > 64 || level[1] > 64)
      throw std::invalid_argument("pooling: pyramid grids must be between 1 and 64 cells per side");
}

int PoolingOptions::cells() const {
  int n = 0;
  for (const auto& level : pyramid) n += level[0] * level[1];
  return n;
}

void NormalisationOptions::validate() const {
  for (const auto& s : steps)
    if (s != "l1" && s != "l2" && s != "power")
      throw std::invalid_argument("normalisation: unknown step \"" + s + "\" (known: l1, l2, power)");
}

void to_json(nlohmann::json& j, const CodingOptions& o) { j = {{"type", o.type}}; }
void from_json(const nlohmann::json& j, CodingOptions& o) {
  o.type = j.value("type", CodingOptions{}.type);
  o.validate();
}
void to_json(nlohmann::json& j, const PoolingOptions& o) { j = {{"type", o.type}, {"pyramid", o.pyramid}}; }
void from_json(const nlohmann::json& j, PoolingOptions& o) {
  PoolingOptions d;
  o.type = j.value("type", d.type);
  o.pyramid = j.value("pyramid", d.pyramid);
  o.validate();
}
void to_json(nlohmann::json& j, const NormalisationOptions& o) { j = {{"steps", o.steps}}; }
void from_json(const nlohmann::json& j, NormalisationOptions& o) {
  o.steps = j.value("steps", NormalisationOptions{}.steps);
  o.validate();
}

Codes encode(const Codebook& codebook, const LocalFeatures& features, const CodingOptions& options) {
  options.validate();
  Codes codes;
  codes.words = codebook.words();
  const std::vector<int> nearest = codebook.nearest(features.descriptors);
  for (int word : nearest) {
    codes.word.push_back(word);
    codes.weight.push_back(1.0);
    codes.offsets.push_back(static_cast<int>(codes.word.size()));
  }
  return codes;
}

std::vector<std::vector<int>> assign_cells(const LocalFeatures& features, const PoolingOptions& options) {
  options.validate();
  std::vector<std::vector<int>> cells_of(features.size());
  for (int l = 0; l < features.size(); ++l) {
    const Frame& f = features.frames[l];
    int first_cell = 0;
    for (const auto& level : options.pyramid) {
      // A feature belongs to the cell holding its centre (x >= w/2 is right).
      const int cx = std::clamp(static_cast<int>(std::floor(f.x * level[0] / features.image_width)), 0, level[0] - 1);
      const int cy = std::clamp(static_cast<int>(std::floor(f.y * level[1] / features.image_height)), 0, level[1] - 1);
      cells_of[l].push_back(first_cell + cy * level[0] + cx);
      first_cell += level[0] * level[1];
    }
  }
  return cells_of;
}

BowEncoding pool(Codes codes, std::vector<std::vector<int>> cells_of, int cells, const PoolingOptions& options) {
  options.validate();
  if (static_cast<int>(cells_of.size()) != codes.features())
    throw std::invalid_argument("pooling: codes and cell assignment disagree on the number of features");
  BowEncoding e;
  e.cells = cells;
  e.pooled = Eigen::VectorXd::Zero(static_cast<long>(cells) * codes.words);
  for (int l = 0; l < codes.features(); ++l)
    for (int c : cells_of[l])
      for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k)
        e.pooled[static_cast<long>(c) * codes.words + codes.word[k]] += codes.weight[k];
  e.codes = std::move(codes);
  e.cells_of = std::move(cells_of);
  return e;
}

Eigen::VectorXd normalise(const Eigen::VectorXd& x, const NormalisationOptions& options) {
  options.validate();
  Eigen::VectorXd y = x;
  for (const auto& step : options.steps) {
    if (step == "l1") {
      const double norm = y.lpNorm<1>();
      if (norm > 0) y /= norm;
    } else if (step == "l2") {
      const double norm = y.norm();
      if (norm > 0) y /= norm;
    } else {  // power: signed square root
      y = y.unaryExpr([](double v) { return std::copysign(std::sqrt(std::abs(v)), v); });
    }
  }
  return y;
}

}  // namespace pixelwise
