#include "pixelwise/features/bow.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace pixelwise {

const EnumNames<CodingType>& enum_names(CodingType) {
  static const EnumNames<CodingType> names{
      {CodingType::hard, "hard"}, {CodingType::soft, "soft"}, {CodingType::rank, "rank"}};
  return names;
}

const EnumNames<PoolingType>& enum_names(PoolingType) {
  static const EnumNames<PoolingType> names{
      {PoolingType::sum, "sum"}, {PoolingType::pmeans, "pmeans"}, {PoolingType::max, "max"}};
  return names;
}

const EnumNames<NormalisationStep>& enum_names(NormalisationStep) {
  static const EnumNames<NormalisationStep> names{
      {NormalisationStep::l1, "l1"}, {NormalisationStep::l2, "l2"}, {NormalisationStep::power, "power"}};
  return names;
}

const OptionSchema<CodingOptions>& CodingOptions::schema() {
  using F = Fields<CodingOptions>;
  // Only the keys the type uses are written and accepted, so that a setting
  // cannot be silently ignored.
  static const OptionSchema<CodingOptions> s = [] {
    const std::string soft = name_of(CodingType::soft), rank = name_of(CodingType::rank);
    return OptionSchema<CodingOptions>(
        {F::choice("type", [](auto& o) -> auto& { return o.type; }),
         F::integer("knn", [](auto& o) -> auto& { return o.knn; }, 1, 1000, {soft, rank}),
         F::real("sigma", [](auto& o) -> auto& { return o.sigma; }, {0, true}, {soft}),
         F::real("decay", [](auto& o) -> auto& { return o.decay; }, {1}, {rank})},
        "type");
  }();
  return s;
}

const OptionSchema<PoolingOptions>& PoolingOptions::schema() {
  using F = Fields<PoolingOptions>;
  static const OptionSchema<PoolingOptions> s(
      {F::choice("type", [](auto& o) -> auto& { return o.type; }),
       F::pairs("pyramid", [](auto& o) -> auto& { return o.pyramid; }, 1, 64),
       F::real("p", [](auto& o) -> auto& { return o.p; }, {0, true}, {name_of(PoolingType::pmeans)})},
      "type");
  return s;
}

const OptionSchema<NormalisationOptions>& NormalisationOptions::schema() {
  using F = Fields<NormalisationOptions>;
  static const OptionSchema<NormalisationOptions> s({F::choices("steps", [](auto& o) -> auto& { return o.steps; })});
  return s;
}

void CodingOptions::validate() const { schema().check(*this, "coding"); }

void PoolingOptions::validate() const { schema().check(*this, "pooling"); }

int PoolingOptions::cells() const {
  int n = 0;
  for (const auto& level : pyramid) n += level[0] * level[1];
  return n;
}

void NormalisationOptions::validate() const { schema().check(*this, "normalisation"); }

void to_json(nlohmann::json& j, const CodingOptions& o) { j = CodingOptions::schema().write(o); }
void from_json(const nlohmann::json& j, CodingOptions& o) { o = CodingOptions::schema().read(j, "coding"); }
void to_json(nlohmann::json& j, const PoolingOptions& o) { j = PoolingOptions::schema().write(o); }
void from_json(const nlohmann::json& j, PoolingOptions& o) { o = PoolingOptions::schema().read(j, "pooling"); }
void to_json(nlohmann::json& j, const NormalisationOptions& o) { j = NormalisationOptions::schema().write(o); }
void from_json(const nlohmann::json& j, NormalisationOptions& o) {
  o = NormalisationOptions::schema().read(j, "normalisation");
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
      if (options.type == CodingType::soft)  // relative to the nearest word, so that the nearest never underflows
        w[r] = std::exp(-(d2[r] - d2[0]) / (2 * options.sigma * options.sigma));
      else if (options.type == CodingType::rank)
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
  if (options.type == PoolingType::sum) {
    for_each_entry([&](long bin, double m) { e.pooled[bin] += m; });
  } else if (options.type == PoolingType::max) {
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
  for (const NormalisationStep step : options.steps) {
    if (step == NormalisationStep::l1) {
      const double norm = y.lpNorm<1>();
      if (norm > 0) y /= norm;
    } else if (step == NormalisationStep::l2) {
      const double norm = y.norm();
      if (norm > 0) y /= norm;
    } else {  // power: signed square root
      y = y.unaryExpr([](double v) { return std::copysign(std::sqrt(std::abs(v)), v); });
    }
  }
  return y;
}

}  // namespace pixelwise
