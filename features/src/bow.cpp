#include "pixelwise/features/bow.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace pixelwise {

namespace {
// Rejects keys of a section that the chosen type does not use, so that a
// setting cannot be silently ignored.
void reject_unused(const nlohmann::json& j, const std::string& section, const std::string& type,
                   const std::vector<std::string>& unused) {
  for (const auto& key : unused)
    if (j.contains(key))
      throw std::invalid_argument(section + ": \"" + key + "\" does not apply to type \"" + type + "\"");
}
}  // namespace

void CodingOptions::validate() const {
  if (type != "hard" && type != "soft" && type != "rank")
    throw std::invalid_argument("coding: unknown type \"" + type + "\" (known: hard, soft, rank)");
  if (knn < 1 || knn > 1000) throw std::invalid_argument("coding: knn must be between 1 and 1000");
  if (!(sigma > 0) || !std::isfinite(sigma)) throw std::invalid_argument("coding: sigma must be a positive number");
  if (!(decay >= 1) || !std::isfinite(decay)) throw std::invalid_argument("coding: decay must be a number >= 1");
}

void PoolingOptions::validate() const {
  if (type != "sum" && type != "pmeans" && type != "max")
    throw std::invalid_argument("pooling: unknown type \"" + type + "\" (known: sum, pmeans, max)");
  if (!(p > 0) || !std::isfinite(p)) throw std::invalid_argument("pooling: p must be a positive number");
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

void to_json(nlohmann::json& j, const CodingOptions& o) {
  j = {{"type", o.type}};
  if (o.type != "hard") j["knn"] = o.knn;
  if (o.type == "soft") j["sigma"] = o.sigma;
  if (o.type == "rank") j["decay"] = o.decay;
}
void from_json(const nlohmann::json& j, CodingOptions& o) {
  CodingOptions d;
  o.type = j.value("type", d.type);
  o.knn = j.value("knn", d.knn);
  o.sigma = j.value("sigma", d.sigma);
  o.decay = j.value("decay", d.decay);
  if (o.type == "hard") reject_unused(j, "coding", o.type, {"knn", "sigma", "decay"});
  if (o.type == "soft") reject_unused(j, "coding", o.type, {"decay"});
  if (o.type == "rank") reject_unused(j, "coding", o.type, {"sigma"});
  o.validate();
}
void to_json(nlohmann::json& j, const PoolingOptions& o) {
  j = {{"type", o.type}, {"pyramid", o.pyramid}};
  if (o.type == "pmeans") j["p"] = o.p;
}
void from_json(const nlohmann::json& j, PoolingOptions& o) {
  PoolingOptions d;
  o.type = j.value("type", d.type);
  o.pyramid = j.value("pyramid", d.pyramid);
  o.p = j.value("p", d.p);
  if (o.type != "pmeans") reject_unused(j, "pooling", o.type, {"p"});
  o.validate();
}
void to_json(nlohmann::json& j, const NormalisationOptions& o) { j = {{"steps", o.steps}}; }
void from_json(const nlohmann::json& j, NormalisationOptions& o) {
  o.steps = j.value("steps", NormalisationOptions{}.steps);
  o.validate();
}

namespace {
template <typename Matrix>
Codes encode_rows(const Codebook& codebook, const Matrix& descriptors, const CodingOptions& options) {
  options.validate();
  const int k = options.neighbours();
  if (k > codebook.words())
    throw std::invalid_argument("coding: knn = " + std::to_string(k) + " exceeds the " +
                                std::to_string(codebook.words()) + " words of the codebook");
  const Codebook::Neighbours nn = codebook.nearest_k(descriptors, k);
  Codes codes;
  codes.words = codebook.words();
  std::vector<double> w(k);
  for (long l = 0; l < descriptors.rows(); ++l) {
    const int* index = &nn.index[l * k];
    const double* d2 = &nn.distance[l * k];
    double total = 0;
    for (int r = 0; r < k; ++r) {
      if (options.type == "soft")  // relative to the nearest word, so that the nearest never underflows
        w[r] = std::exp(-(d2[r] - d2[0]) / (2 * options.sigma * options.sigma));
      else if (options.type == "rank")
        w[r] = std::pow(options.decay, -r);
      else
        w[r] = 1.0;
      total += w[r];
    }
    for (int r = 0; r < k; ++r)
      if (w[r] > 0) {
        codes.word.push_back(index[r]);
        codes.weight.push_back(w[r] / total);
      }
    codes.offsets.push_back(static_cast<int>(codes.word.size()));
  }
  return codes;
}

}  // namespace

Codes encode(const Codebook& codebook, const RowMatrixXd& descriptors, const CodingOptions& options) {
  return encode_rows(codebook, descriptors, options);
}

Codes encode(const Codebook& codebook, const LocalFeatures& features, const CodingOptions& options) {
  return encode_rows(codebook, features.descriptors, options);
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
  const long V = codes.words;
  BowEncoding e;
  e.cells = cells;
  e.pooling = options;
  e.pooled = Eigen::VectorXd::Zero(static_cast<long>(cells) * V);
  e.bin_max = Eigen::VectorXd::Zero(e.pooled.size());
  std::vector<long> members(cells, 0);  // M_c
  // Calls fn(bin, weight) for every code entry of every feature in every cell.
  auto for_each_entry = [&](auto&& fn) {
    for (int l = 0; l < codes.features(); ++l)
      for (int c : cells_of[l])
        for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k) fn(c * V + codes.word[k], codes.weight[k]);
  };
  for (int l = 0; l < codes.features(); ++l)
    for (int c : cells_of[l]) {
      if (c < 0 || c >= cells) throw std::invalid_argument("pooling: cell index out of range");
      ++members[c];
    }
  for_each_entry([&](long bin, double m) { e.bin_max[bin] = std::max(e.bin_max[bin], m); });
  if (options.type == "sum") {
    for_each_entry([&](long bin, double m) { e.pooled[bin] += m; });
  } else if (options.type == "max") {
    e.pooled = e.bin_max;
  } else {  // p-means, computed relative to the bin's maximum so that large p cannot overflow
    for_each_entry([&](long bin, double m) {
      if (m > 0) e.pooled[bin] += std::pow(m / e.bin_max[bin], options.p);
    });
    for (long bin = 0; bin < e.pooled.size(); ++bin)
      if (e.bin_max[bin] > 0)
        e.pooled[bin] = e.bin_max[bin] * std::pow(e.pooled[bin] / static_cast<double>(members[bin / V]), 1.0 / options.p);
  }
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
