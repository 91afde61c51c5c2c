#pragma once
// Fisher vectors and VLAD as mapping layers (docs/design.md 1.8): a GMM
// vocabulary (VLFeat vl_gmm), and encodings whose every dimension is a sum of
// per-descriptor terms z_ld. The encoding keeps, as its record, what the
// relevance rule needs to recompute every term: the descriptors, the
// assignments (posteriors or codes) of each descriptor in each of its cells,
// the vocabulary, and the sums s_d.
#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pixelwise/common/matrix.hpp"
#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/features/bow.hpp"

namespace pixelwise {

/// A Gaussian mixture with diagonal covariances: K priors, K x D means and
/// K x D variances (VLFeat's "covariances").
struct Gmm {
  Eigen::VectorXd priors;
  RowMatrixXd means;
  RowMatrixXd variances;
  int components() const { return static_cast<int>(means.rows()); }
  int dimension() const { return static_cast<int>(means.cols()); }
  /// Shapes agree, priors are finite and non-negative, variances finite and
  /// positive; the message names `what`.
  void validate(const std::string& what) const;
};

struct GmmOptions {
  int components = 16;                  ///< K
  int training_descriptors = 100000;    ///< descriptors sampled (seeded) for EM
  std::uint32_t seed = 1;               ///< seeds the sampling and the k-means initialisation
  int max_iterations = 100;             ///< EM iterations (VLFeat's maximum)
  void validate() const;
  /// JSON section "gmm".
  static const OptionSchema<GmmOptions>& schema();
};

void to_json(nlohmann::json& j, const GmmOptions& o);
void from_json(const nlohmann::json& j, GmmOptions& o);

/// EM for a diagonal GMM (VLFeat vl_gmm, initialised by k-means: Elkan,
/// k-means++ seeding, one thread so that the result depends on the seed only)
/// on a seeded sample of the rows.
Gmm train_gmm(const RowMatrixXf& descriptors, const GmmOptions& options);

/// Posteriors q_lk of every row (M x K), computed by VLFeat's
/// vl_get_gmm_data_posteriors_d, the function vl_fisher_encode uses.
RowMatrixXd gmm_posteriors(const Gmm& gmm, const RowMatrixXd& descriptors);

/// Descriptor PCA before a Fisher or VLAD mapping (JSON section "pca"):
/// dimensions 0 keeps the descriptors as they are. Relevance passes through
/// it unchanged, since the descriptor is the unit that carries relevance
/// (docs/design.md 1.8).
struct PcaOptions {
  int dimensions = 0;   ///< P, the number of principal components kept (0: no PCA)
  bool whiten = false;  ///< divide component i by sqrt(eigenvalue_i + 1e-12 * largest eigenvalue)
  void validate() const;
  static const OptionSchema<PcaOptions>& schema();
};

void to_json(nlohmann::json& j, const PcaOptions& o);
void from_json(const nlohmann::json& j, PcaOptions& o);

/// y = projection (v - mean): P x D rows of unit principal directions
/// (largest eigenvalue first, sign fixed so that the largest entry of a row
/// is positive), scaled when whitened.
struct Pca {
  Eigen::RowVectorXd mean;
  RowMatrixXd projection;
  bool empty() const { return projection.size() == 0; }
  /// The rows projected (M x P); the rows themselves when empty().
  RowMatrixXd apply(const RowMatrixXd& rows) const;
};

/// PCA of the rows (Eigen's self-adjoint eigensolver on their covariance).
Pca fit_pca(const RowMatrixXf& rows, const PcaOptions& options);

/// The mapping from local features to the classifier's vector
/// (docs/design.md 1.1-1.2 and 1.8).
enum class MappingType { histogram, fisher, vlad };
const EnumNames<MappingType>& enum_names(MappingType);

/// JSON section "mapping". square_root and normalised are VLFeat's
/// VL_FISHER_FLAG_SQUARE_ROOT / _NORMALIZED (both: "improved") and
/// VL_VLAD_FLAG_SQUARE_ROOT / not VL_VLAD_FLAG_UNNORMALIZED; intra is
/// VL_VLAD_FLAG_NORMALIZE_COMPONENTS. They apply to each pyramid cell's block.
struct MappingOptions {
  MappingType type = MappingType::histogram;
  bool square_root = true;
  bool normalised = true;
  bool intra = true;
  void validate() const;
  static const OptionSchema<MappingOptions>& schema();
};

void to_json(nlohmann::json& j, const MappingOptions& o);
void from_json(const nlohmann::json& j, MappingOptions& o);

/// The record of a Fisher-vector or VLAD encoding of one image (docs/design.md 1.8).
/// Dimension d of a cell's block, in VLFeat's layout:
///   Fisher: block = 2 K D; d = k D + j (mean part), K D + k D + j (variance part);
///   VLAD:   block = K D;   d = k D + j.
/// Bin b of the whole vector is cell b / block, dimension b % block.
struct TermEncoding {
  MappingType type = MappingType::fisher;
  MappingOptions options;
  int cells = 0;
  RowMatrixXd descriptors;    ///< M x D
  RowMatrixXd centres;        ///< K x D: GMM means (Fisher) or codebook centres (VLAD)
  RowMatrixXd inverse_sigma;  ///< K x D, 1 / sqrt(variance) (Fisher only)
  Eigen::VectorXd priors;     ///< K (Fisher only)
  /// A descriptor's assignment to a component in one of its cells: the
  /// posterior (Fisher; entries below VLFeat's thresholds are left out) or
  /// the code weight (VLAD).
  struct Entry {
    int feature = 0, cell = 0, component = 0;
    double q = 0;
  };
  std::vector<Entry> entries;
  std::vector<int> cell_count;  ///< N_c: descriptors in cell c
  Eigen::VectorXd sums;         ///< s_d = sum_l z_ld, cells * block
  Eigen::VectorXd encoded;      ///< after square root and normalisations: what the classifier sees

  int components() const { return static_cast<int>(centres.rows()); }
  int dimension() const { return static_cast<int>(centres.cols()); }
  int features() const { return static_cast<int>(descriptors.rows()); }
  long block() const { return (type == MappingType::fisher ? 2L : 1L) * components() * dimension(); }
  long size() const { return cells * block(); }
  /// Calls visit(bin, z) for every term z_ld of one entry (all its dimensions).
  void terms(const Entry& e, const std::function<void(long, double)>& visit) const;
};

/// Fisher vector per pyramid cell (vl_fisher_encode on the descriptors of the
/// cell, with posteriors q_lk >= 1e-6 and components with prior >= 1e-6 only,
/// as VLFeat does):
///   z_l,(k,j,mean) = q_lk (v_lj - mu_kj) / sigma_kj / (N_c sqrt(pi_k))
///   z_l,(k,j,var)  = q_lk (((v_lj - mu_kj) / sigma_kj)^2 - 1) / (N_c sqrt(2 pi_k))
TermEncoding fisher_encode(const Gmm& gmm, const RowMatrixXd& descriptors, const std::vector<std::vector<int>>& cells_of,
                           int cells, const MappingOptions& options);

/// VLAD per pyramid cell (vl_vlad_encode): z_l,(k,j) = m_k(l) (v_lj - c_kj) with
/// the codes m(l) of the coding (hard: nearest centre; soft: kernel codebook).
TermEncoding vlad_encode(const RowMatrixXd& centres, const Codes& codes, const RowMatrixXd& descriptors,
                         const std::vector<std::vector<int>>& cells_of, int cells, const MappingOptions& options);

/// The square root and normalisations of `options` applied to each cell's
/// block of s (VLFeat's order: square root, then per-component L2 for VLAD,
/// then L2 of the block, each norm bounded below by 1e-12).
Eigen::VectorXd normalise_blocks(const Eigen::VectorXd& sums, MappingType type, int components, int dimension,
                                 const MappingOptions& options);

}  // namespace pixelwise
