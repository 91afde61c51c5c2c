#include "pixelwise/classifiers/homkermap_svm.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/parallel.hpp"

extern "C" {
#include <vl/generic.h>
#include <vl/homkermap.h>
#include <vl/random.h>
#include <vl/svm.h>
}

namespace pixelwise {

void FeatureMapOptions::validate() const {
  if (kernel != KernelType::chi2 && kernel != KernelType::intersection && kernel != KernelType::linear)
    throw std::invalid_argument("feature map: kernel must be \"chi2\", \"hik\" or \"linear\", got \"" +
                                name_of(kernel) + "\"");
  if (order < 0 || order > 20) throw std::invalid_argument("feature map: order must be between 0 and 20");
  if (kernel == KernelType::linear && (order != 0 || period != 0))
    throw std::invalid_argument("feature map: the linear kernel's map is the identity; it takes no order or period");
  if (!(period >= 0) || !std::isfinite(period)) throw std::invalid_argument("feature map: period must be >= 0 (0: automatic)");
}

void LinearSvmOptions::validate() const {
  if (!(C > 0) || !std::isfinite(C)) throw std::invalid_argument("linear svm: C must be a positive number");
  if (!(epsilon > 0)) throw std::invalid_argument("linear svm: epsilon must be positive");
  if (max_passes < 1) throw std::invalid_argument("linear svm: max_passes must be >= 1");
  if (threads < 0) throw std::invalid_argument("linear svm: threads must be 0 (all cores) or more");
}

struct HomogeneousKernelMap::Map {
  VlHomogeneousKernelMap* map = nullptr;
  ~Map() {
    if (map) vl_homogeneouskernelmap_delete(map);
  }
};

HomogeneousKernelMap::HomogeneousKernelMap(const FeatureMapOptions& options) : options_(options), map_(new Map) {
  options_.validate();
  if (options_.kernel == KernelType::linear) return;  // psi(s) = s: nothing to tabulate
  // VLFeat's automatic period is requested with a negative value.
  map_->map = allocated(vl_homogeneouskernelmap_new(
                            options_.kernel == KernelType::chi2 ? VlHomogeneousKernelChi2 : VlHomogeneousKernelIntersection,
                            1.0, static_cast<vl_size>(options_.order), options_.period > 0 ? options_.period : -1.0,
                            VlHomogeneousKernelMapWindowRectangular),
                        "a homogeneous kernel map of order " + std::to_string(options_.order));
}
HomogeneousKernelMap::~HomogeneousKernelMap() = default;
HomogeneousKernelMap::HomogeneousKernelMap(HomogeneousKernelMap&&) noexcept = default;
HomogeneousKernelMap& HomogeneousKernelMap::operator=(HomogeneousKernelMap&&) noexcept = default;

void HomogeneousKernelMap::map(double s, double* out) const {
  if (s == 0.0) {  // psi(0) = 0: absent bins carry nothing
    for (int j = 0; j < expansion(); ++j) out[j] = 0.0;
    return;
  }
  if (!map_->map) {  // the linear kernel's identity map
    out[0] = s;
    return;
  }
  vl_homogeneouskernelmap_evaluate_d(map_->map, out, 1, s);
}

Eigen::VectorXd HomogeneousKernelMap::map(const Eigen::VectorXd& x) const {
  const int e = expansion();
  Eigen::VectorXd out(x.size() * e);
  for (long d = 0; d < x.size(); ++d) map(x[d], out.data() + d * e);
  return out;
}

MappedLinearSvm::MappedLinearSvm(FeatureMapOptions map, RowMatrixXd weights, Eigen::VectorXd bias)
    : map_(map), weights_(std::move(weights)), bias_(std::move(bias)) {
  if (weights_.rows() != bias_.size()) throw std::invalid_argument("linear svm: one bias per class needed");
  if (weights_.cols() % map_.expansion() != 0)
    throw std::invalid_argument("linear svm: weights are not a whole number of mapped bins");
  if (!weights_.allFinite() || !bias_.allFinite()) throw std::invalid_argument("linear svm: weights must be finite");
}

namespace {

// The training data as VLFeat's SDCA solver sees it: psi(x_i), mapped once
// and kept sparse (psi(0) = 0, so only the nonzero bins of each row), which
// every class's solver then reads. SDCA touches one row per iteration, many
// passes over the data: mapping once and skipping the zeros is what makes
// large training sets affordable (docs/performance.md).
struct MappedData {
  int expansion = 0;
  std::vector<long> row_start;  // rows' first entries in bins; n + 1 offsets
  std::vector<long> bins;       // nonzero bins d of each row, increasing
  std::vector<double> psi;      // expansion values for each entry of bins

  MappedData(const RowMatrixXd& X, const HomogeneousKernelMap& map) : expansion(map.expansion()) {
    const long nonzero = (X.array() != 0.0).count();
    row_start.reserve(static_cast<size_t>(X.rows()) + 1);
    bins.reserve(static_cast<size_t>(nonzero));
    psi.resize(static_cast<size_t>(nonzero * expansion));
    row_start.push_back(0);
    for (long i = 0; i < X.rows(); ++i) {
      for (long d = 0; d < X.cols(); ++d)
        if (X(i, d) != 0.0) {
          map.map(X(i, d), psi.data() + bins.size() * expansion);
          bins.push_back(d);
        }
      row_start.push_back(static_cast<long>(bins.size()));
    }
  }
};

double inner_product(const void* data, vl_uindex element, double* model) {  // VLFeat's type; model is read only
  const MappedData& m = *static_cast<const MappedData*>(data);
  const int e = m.expansion;
  double sum = 0;
  for (long k = m.row_start[element]; k < m.row_start[element + 1]; ++k) {
    const double* w = model + m.bins[k] * e;
    const double* psi = m.psi.data() + k * e;
    for (int j = 0; j < e; ++j) sum += w[j] * psi[j];
  }
  return sum;
}

void accumulate(const void* data, vl_uindex element, double* model, double multiplier) {
  const MappedData& m = *static_cast<const MappedData*>(data);
  const int e = m.expansion;
  for (long k = m.row_start[element]; k < m.row_start[element + 1]; ++k) {
    double* w = model + m.bins[k] * e;
    const double* psi = m.psi.data() + k * e;
    for (int j = 0; j < e; ++j) w[j] += multiplier * psi[j];
  }
}

struct SvmDeleter {
  void operator()(VlSvm* s) const { vl_svm_delete(s); }
};

}  // namespace

MappedLinearSvm MappedLinearSvm::train(const RowMatrixXd& X, const std::vector<int>& labels, int classes,
                                       const FeatureMapOptions& map_options, const LinearSvmOptions& options) {
  options.validate();
  const HomogeneousKernelMap map(map_options);
  const long n = X.rows(), D = X.cols(), e = map.expansion();
  if (n == 0) throw std::runtime_error("linear svm: no training vectors");
  if (static_cast<long>(labels.size()) != n) throw std::invalid_argument("linear svm: one label per training vector needed");
  if (!X.allFinite()) throw std::runtime_error("linear svm: training vectors contain NaN or infinite values");
  if (classes < 2) throw std::invalid_argument("linear svm: at least two classes are needed");
  for (int y : labels)
    if (y < 0 || y >= classes) throw std::invalid_argument("linear svm: label out of range");
  const MappedData data(X, map);
  RowMatrixXd weights(classes, D * e);
  Eigen::VectorXd bias(classes);
  // One machine per class on the threads: each solver has its own state and
  // seeds the random generator of its thread (VLFeat's is per thread), so the
  // weights do not depend on the threads.
  for_each_parallel(classes, options.threads, [&](long c) {
    std::vector<double> y(n);
    for (long i = 0; i < n; ++i) y[i] = labels[i] == c ? 1.0 : -1.0;
    // SVM objective lambda/2 |w|^2 + 1/N sum_i hinge: lambda = 1 / (C N) matches libsvm's C.
    const std::string building = "the linear SVM of class " + std::to_string(c) + " (" + std::to_string(n) +
                                 " vectors of dimension " + std::to_string(D * e) + ")";
    // The solver's object, weights and dual variables: vl_svm_new... writes
    // into them unchecked (errors.hpp, reserve_or_throw; 4 KiB for the object).
    reserve_or_throw(4096 + sizeof(double) * (static_cast<size_t>(D * e) + 2 * static_cast<size_t>(n)), building);
    std::unique_ptr<VlSvm, SvmDeleter> svm(allocated(
        vl_svm_new_with_abstract_data(VlSvmSolverSdca, const_cast<MappedData*>(&data), static_cast<vl_size>(D * e),
                                      static_cast<vl_size>(n), y.data(), 1.0 / (options.C * n)),
        building));
    vl_svm_set_data_functions(svm.get(), &inner_product, &accumulate);
    vl_svm_set_epsilon(svm.get(), options.epsilon);
    vl_svm_set_max_num_iterations(svm.get(), static_cast<vl_size>(options.max_passes * n));
    vl_rand_seed(vl_get_rand(), options.seed + static_cast<std::uint32_t>(c));  // SDCA's update order
    vl_svm_train(svm.get());
    weights.row(c) = Eigen::Map<const Eigen::RowVectorXd>(vl_svm_get_model(svm.get()), D * e);
    bias[c] = vl_svm_get_bias(svm.get());
  });
  return MappedLinearSvm(map_options, std::move(weights), std::move(bias));
}

AdditiveEvaluation MappedLinearSvm::evaluate(const Eigen::VectorXd& x) const {
  if (x.size() != dimension())
    throw std::invalid_argument("linear svm: input has dimension " + std::to_string(x.size()) + ", the model expects " +
                                std::to_string(dimension()));
  const int e = map_.expansion();
  const long C = classes();
  AdditiveEvaluation out;
  for (long d = 0; d < x.size(); ++d)
    if (x[d] != 0.0) out.bins.push_back(d);
  out.terms = RowMatrixXd::Zero(static_cast<long>(out.bins.size()), C);
  double psi[64];
  for (size_t j = 0; j < out.bins.size(); ++j) {
    const long d = out.bins[j];
    map_.map(x[d], psi);
    // A bin's relevance: the sum over its expanded dimensions.
    for (long c = 0; c < C; ++c) {
      const double* w = weights_.row(c).data() + d * e;
      double h = 0;
      for (int k = 0; k < e; ++k) h += w[k] * psi[k];
      out.terms(static_cast<long>(j), c) = h;
    }
  }
  out.scores.resize(C);
  for (long c = 0; c < C; ++c) out.scores[c] = out.terms.col(c).sum() + bias_[c];
  return out;
}

Eigen::VectorXd MappedLinearSvm::decisions(const Eigen::VectorXd& x) const {
  if (x.size() != dimension()) throw std::invalid_argument("linear svm: input dimension differs from the model's");
  return weights_ * map_.map(x) + bias_;
}

}  // namespace pixelwise
