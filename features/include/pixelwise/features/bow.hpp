#pragma once
// From local features to a Bag-of-Words vector: coding (docs/design.md 1.1),
// pooling over spatial cells (1.2) and normalisation (1.3). The encoding keeps
// the record the relevance rules need: every feature's code, its cells, and
// the pooled mass of every (cell, word).
#include <array>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/features/codebook.hpp"
#include "pixelwise/features/local_features.hpp"

namespace pixelwise {

/// Sparse non-negative codes m(l), one row per feature (CSR layout).
struct Codes {
  int words = 0;
  std::vector<int> offsets{0};  ///< feature l owns entries [offsets[l], offsets[l+1])
  std::vector<int> word;
  std::vector<double> weight;
  int features() const { return static_cast<int>(offsets.size()) - 1; }
};

/// Coding (docs/design.md 1.1), over the k = knn nearest words of a descriptor:
///   "hard": m_d = 1 for the nearest word;
///   "soft": kernel codebook, m_d proportional to exp(-|v - c_d|^2 / (2 sigma^2));
///   "rank": m_d proportional to decay^(-r), r = 0 .. knn-1 the rank of d;
/// soft and rank codes are normalised to sum 1 over the knn words.
enum class CodingType { hard, soft, rank };
const EnumNames<CodingType>& enum_names(CodingType);

struct CodingOptions {
  CodingType type = CodingType::hard;
  int knn = 5;          ///< soft, rank: number of nearest words
  double sigma = 1.0;   ///< soft: kernel width in descriptor units
  double decay = 2.0;   ///< rank: ratio between consecutive ranks' weights (> 1)
  void validate() const;
  int neighbours() const { return type == CodingType::hard ? 1 : knn; }
  /// JSON section "coding" (docs/config.md).
  static const OptionSchema<CodingOptions>& schema();
};

/// Pooling over a spatial cell c holding M_c features (docs/design.md 1.2):
///   "sum":    x_{c,d} = sum_{l in c} m_d(l)
///   "pmeans": x_{c,d} = ((1/M_c) sum_{l in c} m_d(l)^p)^(1/p)
///   "max":    x_{c,d} = max_{l in c} m_d(l)
enum class PoolingType { sum, pmeans, max };
const EnumNames<PoolingType>& enum_names(PoolingType);

struct PoolingOptions {
  PoolingType type = PoolingType::sum;
  /// Spatial pyramid: one grid (columns, rows) per level; {1, 1} is the whole image.
  std::vector<std::array<int, 2>> pyramid{{1, 1}};
  double p = 2.0;       ///< pmeans exponent (>= 1)
  void validate() const;
  int cells() const;
  /// JSON section "pooling".
  static const OptionSchema<PoolingOptions>& schema();
};

/// Normalisation steps (docs/design.md 1.3); "power" is the signed square root.
enum class NormalisationStep { l1, l2, power };
const EnumNames<NormalisationStep>& enum_names(NormalisationStep);

struct NormalisationOptions {
  /// Applied in order; empty = none.
  std::vector<NormalisationStep> steps{NormalisationStep::l1};
  void validate() const;
  /// JSON section "normalisation".
  static const OptionSchema<NormalisationOptions>& schema();
};

void to_json(nlohmann::json& j, const CodingOptions& o);
void from_json(const nlohmann::json& j, CodingOptions& o);
void to_json(nlohmann::json& j, const PoolingOptions& o);
void from_json(const nlohmann::json& j, PoolingOptions& o);
void to_json(nlohmann::json& j, const NormalisationOptions& o);
void from_json(const nlohmann::json& j, NormalisationOptions& o);

Codes encode(const Codebook& codebook, const LocalFeatures& features, const CodingOptions& options);
/// The same coding for descriptors given in double precision (one a row).
Codes encode(const Codebook& codebook, const RowMatrixXd& descriptors, const CodingOptions& options);

/// Spatial cells of every feature: cells_of[l] lists the cell indices (one per
/// pyramid level) of the cell holding the feature's centre.
std::vector<std::vector<int>> assign_cells(const LocalFeatures& features, const PoolingOptions& options);

struct BowEncoding {
  Codes codes;
  std::vector<std::vector<int>> cells_of;  ///< per feature, its cells
  Eigen::VectorXd pooled;                  ///< x before normalisation, cells * V, cell-major
  Eigen::VectorXd histogram;               ///< x after normalisation: what the classifier sees
  int cells = 0;
  PoolingOptions pooling;                  ///< the pooling that made `pooled`
  /// Record for the pooling relevance rules: per bin (c, d), max_{l in c} m_d(l)
  /// (0 when no feature of c has word d).
  Eigen::VectorXd bin_max;
};

BowEncoding pool(Codes codes, std::vector<std::vector<int>> cells_of, int cells, const PoolingOptions& options);
Eigen::VectorXd normalise(const Eigen::VectorXd& x, const NormalisationOptions& options);

}  // namespace pixelwise
