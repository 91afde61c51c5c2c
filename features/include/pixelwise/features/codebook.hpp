#pragma once
// Visual vocabulary: k-means centres learnt with VLFeat, and nearest-word
// search (exact, or approximate with VLFeat's kd-forest).
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pixelwise/features/local_features.hpp"

namespace pixelwise {

/// Nearest-word search: exact, or approximate with VLFeat's kd-forest.
enum class CodebookSearch { exact, kdforest };
const EnumNames<CodebookSearch>& enum_names(CodebookSearch);

struct CodebookOptions {
  int words = 200;                      ///< vocabulary size V
  int training_descriptors = 100000;    ///< descriptors sampled (seeded) for k-means
  std::uint32_t seed = 1;               ///< seeds the sampling and k-means++ initialisation
  int max_iterations = 100;
  CodebookSearch search = CodebookSearch::exact;
  int kdforest_trees = 4;
  int kdforest_checks = 256;            ///< maximum comparisons per kd-forest query

  void validate() const;
  /// JSON section "codebook".
  static const OptionSchema<CodebookOptions>& schema();
};

void to_json(nlohmann::json& j, const CodebookOptions& o);
void from_json(const nlohmann::json& j, CodebookOptions& o);

/// A seeded sample of min(count, rows) rows without replacement, kept in
/// their original order (the training sample of k-means and of the GMM).
RowMatrixXf sample_rows(const RowMatrixXf& rows, long count, std::uint32_t seed);

class Codebook {
 public:
  Codebook();
  /// Takes the centres (V x D); `search` as in CodebookOptions.
  Codebook(RowMatrixXf centres, const CodebookOptions& options);
  ~Codebook();
  Codebook(Codebook&&) noexcept;
  Codebook& operator=(Codebook&&) noexcept;

  /// k-means (VLFeat, Elkan, k-means++ initialisation, single-threaded so the
  /// result depends on the seed only) on a seeded sample of the rows.
  static Codebook train(const RowMatrixXf& descriptors, const CodebookOptions& options);

  int words() const { return static_cast<int>(centres_.rows()); }
  int dimension() const { return static_cast<int>(centres_.cols()); }
  const RowMatrixXf& centres() const { return centres_; }
  const CodebookOptions& options() const { return options_; }

  /// Index of the nearest centre (squared Euclidean distance) for every row;
  /// exact search breaks ties towards the lower index.
  std::vector<int> nearest(const RowMatrixXf& descriptors) const;
  /// Squared distances of every row to every centre (M x V), in double.
  RowMatrixXd squared_distances(const RowMatrixXf& descriptors) const;

  /// The k nearest centres of every row, nearest first (ties: lower index
  /// first), with squared distances in double. Exact search works through the
  /// rows in blocks, so memory stays O(block * V); kd-forest search returns
  /// VLFeat's approximate neighbours with their distances recomputed in double.
  struct Neighbours {
    int k = 0;
    std::vector<int> index;         ///< row-major M x k
    std::vector<double> distance;   ///< squared Euclidean, same layout
  };
  Neighbours nearest_k(const RowMatrixXd& descriptors, int k) const;
  /// The same for float descriptors, converted to double block by block.
  Neighbours nearest_k(const RowMatrixXf& descriptors, int k) const;

 private:
  struct KdForest;
  template <typename Matrix>
  Neighbours nearest_k_of(const Matrix& descriptors, int k) const;
  RowMatrixXf centres_;
  CodebookOptions options_;
  std::unique_ptr<KdForest> forest_;
};

}  // namespace pixelwise
