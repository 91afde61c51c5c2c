#include "pixelwise/features/fisher.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/features/codebook.hpp"
#include "blas/products.hpp"

extern "C" {
#include <vl/generic.h>
#include <vl/gmm.h>
#include <vl/kmeans.h>
#include <vl/random.h>
}

namespace pixelwise {

namespace {
struct GmmDeleter {
  void operator()(VlGMM* g) const { vl_gmm_delete(g); }
};
struct KMeansDeleter {
  void operator()(VlKMeans* k) const { vl_kmeans_delete(k); }
};
// VLFeat's thresholds in vl_fisher_encode (vl/fisher.c): components with a
// prior below 1e-6 and posteriors below 1e-6 contribute no terms.
constexpr double kMinPrior = 1e-6;
constexpr double kMinPosterior = 1e-6;
// VLFeat bounds every norm it divides by from below by 1e-12.
constexpr double kMinNorm = 1e-12;

double signed_sqrt(double z) { return z >= 0 ? std::sqrt(z) : -std::sqrt(-z); }

void check_cells(const std::vector<std::vector<int>>& cells_of, long features, int cells, const std::string& what) {
  if (static_cast<long>(cells_of.size()) != features)
    throw std::invalid_argument(what + ": " + std::to_string(cells_of.size()) + " cell lists for " +
                                std::to_string(features) + " descriptors");
  for (const auto& list : cells_of)
    for (int c : list)
      if (c < 0 || c >= cells) throw std::invalid_argument(what + ": a cell index lies outside the pyramid");
}
}  // namespace

void Gmm::validate(const std::string& what) const {
  const long K = means.rows(), D = means.cols();
  if (K < 1 || D < 1) throw std::invalid_argument(what + ": empty GMM");
  if (priors.size() != K || variances.rows() != K || variances.cols() != D)
    throw std::invalid_argument(what + ": priors, means and variances of the GMM differ in shape");
  if (!means.allFinite()) throw std::invalid_argument(what + ": a GMM mean is not finite");
  for (long k = 0; k < K; ++k) {
    if (!(std::isfinite(priors[k]) && priors[k] >= 0)) throw std::invalid_argument(what + ": a GMM prior is negative or not finite");
    for (long j = 0; j < D; ++j)
      if (!(std::isfinite(variances(k, j)) && variances(k, j) > 0))
        throw std::invalid_argument(what + ": a GMM variance is not positive and finite");
  }
}

const OptionSchema<GmmOptions>& GmmOptions::schema() {
  using F = Fields<GmmOptions>;
  static const OptionSchema<GmmOptions> s(
      {F::integer("components", [](auto& o) -> auto& { return o.components; }, 1, 65536),
       F::integer("training_descriptors", [](auto& o) -> auto& { return o.training_descriptors; }, 1, 100000000),
       F::integer("seed", [](auto& o) -> auto& { return o.seed; }, 0, std::numeric_limits<std::uint32_t>::max()),
       F::integer("max_iterations", [](auto& o) -> auto& { return o.max_iterations; }, 1, 100000)});
  return s;
}
void GmmOptions::validate() const { schema().check(*this, "gmm"); }
void to_json(nlohmann::json& j, const GmmOptions& o) { j = GmmOptions::schema().write(o); }
void from_json(const nlohmann::json& j, GmmOptions& o) { o = GmmOptions::schema().read(j, "gmm"); }

const EnumNames<MappingType>& enum_names(MappingType) {
  static const EnumNames<MappingType> names{
      {MappingType::histogram, "histogram"}, {MappingType::fisher, "fisher"}, {MappingType::vlad, "vlad"}};
  return names;
}

const OptionSchema<MappingOptions>& MappingOptions::schema() {
  using F = Fields<MappingOptions>;
  // Only the keys the type uses are written and accepted (option_schema.hpp).
  static const OptionSchema<MappingOptions> s = [] {
    const std::string fisher = name_of(MappingType::fisher), vlad = name_of(MappingType::vlad);
    return OptionSchema<MappingOptions>(
        {F::choice("type", [](auto& o) -> auto& { return o.type; }),
         F::flag("square_root", [](auto& o) -> auto& { return o.square_root; }, {fisher, vlad}),
         F::flag("normalised", [](auto& o) -> auto& { return o.normalised; }, {fisher, vlad}),
         F::flag("intra", [](auto& o) -> auto& { return o.intra; }, {vlad})},
        "type");
  }();
  return s;
}
void MappingOptions::validate() const { schema().check(*this, "mapping"); }
void to_json(nlohmann::json& j, const MappingOptions& o) { j = MappingOptions::schema().write(o); }
void from_json(const nlohmann::json& j, MappingOptions& o) { o = MappingOptions::schema().read(j, "mapping"); }

const OptionSchema<PcaOptions>& PcaOptions::schema() {
  using F = Fields<PcaOptions>;
  static const OptionSchema<PcaOptions> s({F::integer("dimensions", [](auto& o) -> auto& { return o.dimensions; }, 0, 100000),
                                           F::flag("whiten", [](auto& o) -> auto& { return o.whiten; })});
  return s;
}
void PcaOptions::validate() const { schema().check(*this, "pca"); }
void to_json(nlohmann::json& j, const PcaOptions& o) { j = PcaOptions::schema().write(o); }
void from_json(const nlohmann::json& j, PcaOptions& o) { o = PcaOptions::schema().read(j, "pca"); }

RowMatrixXd Pca::apply(const RowMatrixXd& rows) const {
  if (empty()) return rows;
  if (rows.cols() != mean.size())
    throw std::invalid_argument("pca: descriptors have dimension " + std::to_string(rows.cols()) + ", the PCA " +
                                std::to_string(mean.size()));
  return (rows.rowwise() - mean) * projection.transpose();
}

Pca fit_pca(const RowMatrixXf& rows, const PcaOptions& options) {
  options.validate();
  Pca pca;
  if (options.dimensions == 0) return pca;
  const long D = rows.cols(), P = options.dimensions;
  if (P > D) throw std::invalid_argument("pca: " + std::to_string(P) + " dimensions asked of descriptors of " +
                                         std::to_string(D));
  if (rows.rows() < 2) throw std::runtime_error("pca: fewer than two descriptors");
  const RowMatrixXd x = rows.cast<double>();
  pca.mean = x.colwise().mean();
  const RowMatrixXd centred = x.rowwise() - pca.mean;
  const Eigen::MatrixXd covariance = (centred.transpose() * centred) / static_cast<double>(x.rows() - 1);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
  if (solver.info() != Eigen::Success) throw std::runtime_error("pca: the eigensolver did not converge");
  // Eigen sorts eigenvalues in increasing order; keep the P largest.
  const double largest = std::max(solver.eigenvalues()[D - 1], 0.0);
  pca.projection.resize(P, D);
  for (long i = 0; i < P; ++i) {
    Eigen::VectorXd v = solver.eigenvectors().col(D - 1 - i);
    Eigen::Index at;
    v.cwiseAbs().maxCoeff(&at);
    if (v[at] < 0) v = -v;  // a fixed sign, so that the same data give the same projection
    if (options.whiten) v /= std::sqrt(std::max(solver.eigenvalues()[D - 1 - i], 0.0) + 1e-12 * largest + 1e-300);
    pca.projection.row(i) = v.transpose();
  }
  return pca;
}

Gmm train_gmm(const RowMatrixXf& descriptors, const GmmOptions& options) {
  options.validate();
  if (descriptors.rows() < options.components)
    throw std::runtime_error("gmm: " + std::to_string(descriptors.rows()) + " descriptors are fewer than the " +
                             std::to_string(options.components) + " components asked for");
  const RowMatrixXd data = sample_rows(descriptors, options.training_descriptors, options.seed).cast<double>();
  const vl_size K = options.components, D = data.cols();
  // One thread and a seeded generator: the result depends on the seed only.
  vl_set_num_threads(1);
  vl_rand_seed(vl_get_rand(), options.seed);
  const std::string building = "a GMM of " + std::to_string(K) + " components on " + std::to_string(data.rows()) +
                               " descriptors of dimension " + std::to_string(D);
  // vl_gmm_new writes into its object and parameter arrays unchecked, and
  // vl_gmm_cluster allocates the posteriors (components x descriptors) and
  // the k-means initialisation's bounds unchecked: asked for first
  // (errors.hpp, reserve_or_throw). 4 KiB stands for the object itself.
  reserve_or_throw(4096 + sizeof(double) * (K + 2 * K * D + D), building);
  std::unique_ptr<VlGMM, GmmDeleter> gmm(allocated(vl_gmm_new(VL_TYPE_DOUBLE, D, K), building));
  const size_t rows = static_cast<size_t>(data.rows());
  reserve_or_throw(sizeof(double) * (2 * rows * K + 2 * K * K + 2 * rows + 2 * K * D) + 2 * sizeof(vl_uint32) * rows,
                   building);
  // The k-means initialisation (docs/design.md 1.8): the same algorithm and
  // seeding as the BoW vocabulary. The GMM borrows it; it is freed here.
  reserve_or_throw(sizeof(VlKMeans), building);  // vl_kmeans_new writes into its vl_calloc'd object unchecked
  std::unique_ptr<VlKMeans, KMeansDeleter> owner(
      allocated(vl_kmeans_new(VL_TYPE_DOUBLE, VlDistanceL2), "the k-means initialisation of " + building));
  VlKMeans* kmeans = owner.get();
  vl_kmeans_set_algorithm(kmeans, VlKMeansElkan);
  vl_kmeans_set_initialization(kmeans, VlKMeansPlusPlus);
  vl_kmeans_set_max_num_iterations(kmeans, options.max_iterations);
  vl_kmeans_set_verbosity(kmeans, 0);
  vl_gmm_set_initialization(gmm.get(), VlGMMKMeans);
  vl_gmm_set_kmeans_init_object(gmm.get(), kmeans);
  vl_gmm_set_max_num_iterations(gmm.get(), options.max_iterations);
  vl_gmm_set_num_repetitions(gmm.get(), 1);
  vl_gmm_set_verbosity(gmm.get(), 0);
  vl_gmm_cluster(gmm.get(), data.data(), data.rows());
  Gmm out;
  out.priors = Eigen::Map<const Eigen::VectorXd>(static_cast<const double*>(vl_gmm_get_priors(gmm.get())), K);
  out.means = Eigen::Map<const RowMatrixXd>(static_cast<const double*>(vl_gmm_get_means(gmm.get())), K, D);
  out.variances = Eigen::Map<const RowMatrixXd>(static_cast<const double*>(vl_gmm_get_covariances(gmm.get())), K, D);
  out.validate("gmm");
  return out;
}

RowMatrixXd gmm_posteriors(const Gmm& gmm, const RowMatrixXd& descriptors) {
  if (descriptors.cols() != gmm.dimension())
    throw std::invalid_argument("gmm: descriptors have dimension " + std::to_string(descriptors.cols()) +
                                ", the GMM " + std::to_string(gmm.dimension()));
  const long M = descriptors.rows(), K = gmm.components(), D = gmm.dimension();
  RowMatrixXd q(M, K);
  if (M == 0) return q;
  // log(prior_k N(x | mu_k, diag sigma2_k)), as VLFeat's
  // vl_get_gmm_data_posteriors computes it (priors below 1e-6 get -inf),
  // with the Mahalanobis distance expanded so that one matrix product (the
  // kernel of nearest-word search, in double) gives every descriptor's
  // against every component:
  //   sum_d (x_d - mu_kd)^2 / s_kd = [x^2, x] . [1 / s_k, -2 mu_k / s_k] + sum_d mu_kd^2 / s_kd.
  RowMatrixXd weights(K, 2 * D);
  Eigen::VectorXd constant(K);
  const double half_dim_log_2pi = static_cast<double>(D) / 2.0 * std::log(2.0 * M_PI);
  for (long k = 0; k < K; ++k) {
    double log_sigma = 0, mean_term = 0;
    for (long d = 0; d < D; ++d) {
      const double s = gmm.variances(k, d), inverse = 1.0 / s;
      log_sigma += std::log(s);
      weights(k, d) = inverse;
      weights(k, D + d) = -2.0 * gmm.means(k, d) * inverse;
      mean_term += gmm.means(k, d) * gmm.means(k, d) * inverse;
    }
    const double log_weight =
        gmm.priors[k] < kMinPrior ? -std::numeric_limits<double>::infinity() : std::log(gmm.priors[k]);
    constant[k] = log_weight - half_dim_log_2pi - 0.5 * log_sigma - 0.5 * mean_term;
  }
  RowMatrixXd features(M, 2 * D);
  features.leftCols(D) = descriptors.array().square().matrix();
  features.rightCols(D) = descriptors;
  blas::products_with_transposed(features.data(), M, weights.data(), K, 2 * D, q.data());
  for (long i = 0; i < M; ++i) {
    auto row = q.row(i);
    row = constant.transpose() - 0.5 * row;
    const double top = row.maxCoeff();
    double sum = 0;
    // std::exp, not Eigen's vectorised exp, which clamps its argument at
    // about -709: a component without weight (-inf) must get exactly 0.
    for (long k = 0; k < K; ++k) sum += row[k] = std::exp(row[k] - top);
    row /= sum;
  }
  return q;
}

void TermEncoding::terms(const Entry& e, const std::function<void(long, double)>& visit) const {
  const long K = components(), D = dimension();
  const long base = e.cell * block() + e.component * D;
  const auto v = descriptors.row(e.feature);
  const auto c = centres.row(e.component);
  if (type == MappingType::vlad) {
    for (long j = 0; j < D; ++j) visit(base + j, e.q * (v[j] - c[j]));
    return;
  }
  // docs/design.md 1.8; VLFeat's prefixes 1/(N sqrt(pi_k)) and 1/(N sqrt(2 pi_k)).
  const double n = cell_count[e.cell];
  const double uprefix = 1 / (n * std::sqrt(priors[e.component]));
  const double vprefix = 1 / (n * std::sqrt(2 * priors[e.component]));
  const auto is = inverse_sigma.row(e.component);
  for (long j = 0; j < D; ++j) {
    const double diff = (v[j] - c[j]) * is[j];
    visit(base + j, e.q * diff * uprefix);
    visit(base + K * D + j, e.q * (diff * diff - 1) * vprefix);
  }
}

Eigen::VectorXd normalise_blocks(const Eigen::VectorXd& sums, MappingType type, int components, int dimension,
                                 const MappingOptions& options) {
  const long block = (type == MappingType::fisher ? 2L : 1L) * components * dimension;
  if (block <= 0 || sums.size() % block != 0)
    throw std::invalid_argument("mapping: the encoding's size is no multiple of its block");
  Eigen::VectorXd y = sums;
  for (long at = 0; at < y.size(); at += block) {
    auto b = y.segment(at, block);
    if (options.square_root)
      for (long d = 0; d < block; ++d) b[d] = signed_sqrt(b[d]);
    if (type == MappingType::vlad && options.intra)
      for (long k = 0; k < components; ++k) {
        auto part = b.segment(k * dimension, dimension);
        part /= std::max(part.norm(), kMinNorm);
      }
    if (options.normalised) b /= std::max(b.norm(), kMinNorm);
  }
  return y;
}

namespace {
// Accumulates every entry's terms into s and applies the normalisations.
void finish(TermEncoding& e) {
  e.sums = Eigen::VectorXd::Zero(e.size());
  for (const auto& entry : e.entries) e.terms(entry, [&](long bin, double z) { e.sums[bin] += z; });
  e.encoded = normalise_blocks(e.sums, e.type, e.components(), e.dimension(), e.options);
}

TermEncoding start(MappingType type, const RowMatrixXd& centres, const RowMatrixXd& descriptors,
                   const std::vector<std::vector<int>>& cells_of, int cells, const MappingOptions& options,
                   const std::string& what) {
  options.validate();
  if (descriptors.cols() != centres.cols())
    throw std::invalid_argument(what + ": descriptors have dimension " + std::to_string(descriptors.cols()) +
                                ", the vocabulary " + std::to_string(centres.cols()));
  if (cells < 1) throw std::invalid_argument(what + ": no pyramid cell");
  check_cells(cells_of, descriptors.rows(), cells, what);
  TermEncoding e;
  e.type = type;
  e.options = options;
  e.options.type = type;
  e.cells = cells;
  e.descriptors = descriptors;
  e.centres = centres;
  e.cell_count.assign(cells, 0);
  for (const auto& list : cells_of)
    for (int c : list) ++e.cell_count[c];
  return e;
}
}  // namespace

TermEncoding fisher_encode(const Gmm& gmm, const RowMatrixXd& descriptors, const std::vector<std::vector<int>>& cells_of,
                           int cells, const MappingOptions& options) {
  gmm.validate("fisher encoding");
  TermEncoding e = start(MappingType::fisher, gmm.means, descriptors, cells_of, cells, options, "fisher encoding");
  e.priors = gmm.priors;
  e.inverse_sigma = gmm.variances.cwiseInverse().cwiseSqrt();
  // A descriptor's posteriors do not depend on its cell (vl_fisher_encode
  // normalises each descriptor's posteriors over all components).
  const RowMatrixXd q = gmm_posteriors(gmm, descriptors);
  for (long l = 0; l < descriptors.rows(); ++l)
    for (int c : cells_of[l])
      for (int k = 0; k < gmm.components(); ++k)
        if (gmm.priors[k] >= kMinPrior && q(l, k) >= kMinPosterior)
          e.entries.push_back({static_cast<int>(l), c, k, q(l, k)});
  finish(e);
  return e;
}

TermEncoding vlad_encode(const RowMatrixXd& centres, const Codes& codes, const RowMatrixXd& descriptors,
                         const std::vector<std::vector<int>>& cells_of, int cells, const MappingOptions& options) {
  TermEncoding e = start(MappingType::vlad, centres, descriptors, cells_of, cells, options, "vlad encoding");
  if (codes.features() != descriptors.rows() || codes.words != centres.rows())
    throw std::invalid_argument("vlad encoding: the codes do not match the descriptors and centres");
  for (long l = 0; l < descriptors.rows(); ++l)
    for (int c : cells_of[l])
      for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k)
        if (codes.weight[k] > 0) e.entries.push_back({static_cast<int>(l), c, codes.word[k], codes.weight[k]});
  finish(e);
  return e;
}

}  // namespace pixelwise
