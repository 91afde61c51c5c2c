#include "pixelwise/features/codebook.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <stdexcept>

extern "C" {
#include <vl/generic.h>
#include <vl/kdtree.h>
#include <vl/kmeans.h>
#include <vl/random.h>
}

namespace pixelwise {

namespace {
struct KMeansDeleter {
  void operator()(VlKMeans* k) const { vl_kmeans_delete(k); }
};
struct KdForestDeleter {
  void operator()(VlKDForest* f) const { vl_kdforest_delete(f); }
};
}  // namespace

// RAII owner of a VLFeat kd-forest built over the centres.
struct Codebook::KdForest {
  std::unique_ptr<VlKDForest, KdForestDeleter> forest;
};

void CodebookOptions::validate() const {
  if (words < 1) throw std::invalid_argument("codebook: words must be >= 1");
  if (training_descriptors < words) throw std::invalid_argument("codebook: training_descriptors must be >= words");
  if (max_iterations < 1) throw std::invalid_argument("codebook: max_iterations must be >= 1");
  if (search != "exact" && search != "kdforest")
    throw std::invalid_argument("codebook: search must be \"exact\" or \"kdforest\", got \"" + search + "\"");
  if (kdforest_trees < 1 || kdforest_checks < 1) throw std::invalid_argument("codebook: kd-forest trees and checks must be >= 1");
}

void to_json(nlohmann::json& j, const CodebookOptions& o) {
  j = {{"words", o.words}, {"training_descriptors", o.training_descriptors}, {"seed", o.seed},
       {"max_iterations", o.max_iterations}, {"search", o.search}, {"kdforest_trees", o.kdforest_trees},
       {"kdforest_checks", o.kdforest_checks}};
}

void from_json(const nlohmann::json& j, CodebookOptions& o) {
  CodebookOptions d;
  o.words = j.value("words", d.words);
  o.training_descriptors = j.value("training_descriptors", d.training_descriptors);
  o.seed = j.value("seed", d.seed);
  o.max_iterations = j.value("max_iterations", d.max_iterations);
  o.search = j.value("search", d.search);
  o.kdforest_trees = j.value("kdforest_trees", d.kdforest_trees);
  o.kdforest_checks = j.value("kdforest_checks", d.kdforest_checks);
  o.validate();
}

Codebook::Codebook(RowMatrixXf centres, const CodebookOptions& options)
    : centres_(std::move(centres)), options_(options) {
  if (centres_.rows() < 1 || centres_.cols() < 1) throw std::invalid_argument("codebook: no centres");
  if (!centres_.allFinite()) throw std::invalid_argument("codebook: centres contain NaN or infinite values");
  if (options_.search == "kdforest") {
    forest_ = std::make_unique<KdForest>();
    forest_->forest.reset(vl_kdforest_new(VL_TYPE_FLOAT, centres_.cols(), options_.kdforest_trees, VlDistanceL2));
    // The forest's random splits are drawn from its own generator, seeded here.
    vl_rand_seed(forest_->forest->rand, options_.seed);
    vl_kdforest_build(forest_->forest.get(), centres_.rows(), centres_.data());
    vl_kdforest_set_max_num_comparisons(forest_->forest.get(), options_.kdforest_checks);
  }
}

Codebook::Codebook() = default;
Codebook::~Codebook() = default;
Codebook::Codebook(Codebook&&) noexcept = default;
Codebook& Codebook::operator=(Codebook&&) noexcept = default;

Codebook Codebook::train(const RowMatrixXf& descriptors, const CodebookOptions& options) {
  options.validate();
  const long n = descriptors.rows();
  if (n < options.words)
    throw std::runtime_error("codebook: " + std::to_string(n) + " descriptors are fewer than the " +
                             std::to_string(options.words) + " words asked for");
  // Seeded sample without replacement (partial Fisher-Yates).
  std::vector<long> order(n);
  std::iota(order.begin(), order.end(), 0L);
  const long sample = std::min<long>(n, options.training_descriptors);
  std::mt19937_64 rng(options.seed);
  for (long i = 0; i < sample; ++i) {
    std::uniform_int_distribution<long> pick(i, n - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  std::sort(order.begin(), order.begin() + sample);
  RowMatrixXf data(sample, descriptors.cols());
  for (long i = 0; i < sample; ++i) data.row(i) = descriptors.row(order[i]);

  vl_set_num_threads(1);
  vl_rand_seed(vl_get_rand(), options.seed);
  std::unique_ptr<VlKMeans, KMeansDeleter> kmeans(vl_kmeans_new(VL_TYPE_FLOAT, VlDistanceL2));
  vl_kmeans_set_algorithm(kmeans.get(), VlKMeansElkan);
  vl_kmeans_set_initialization(kmeans.get(), VlKMeansPlusPlus);
  vl_kmeans_set_max_num_iterations(kmeans.get(), options.max_iterations);
  vl_kmeans_set_verbosity(kmeans.get(), 0);
  vl_kmeans_cluster(kmeans.get(), data.data(), data.cols(), data.rows(), options.words);
  const float* centres = static_cast<const float*>(vl_kmeans_get_centers(kmeans.get()));
  RowMatrixXf result = Eigen::Map<const RowMatrixXf>(centres, options.words, data.cols());
  return Codebook(std::move(result), options);
}

RowMatrixXd Codebook::squared_distances(const RowMatrixXf& descriptors) const {
  if (descriptors.cols() != centres_.cols())
    throw std::invalid_argument("codebook: descriptors have dimension " + std::to_string(descriptors.cols()) +
                                ", the codebook " + std::to_string(centres_.cols()));
  const RowMatrixXd x = descriptors.cast<double>();
  const RowMatrixXd c = centres_.cast<double>();
  RowMatrixXd d = (-2.0 * x) * c.transpose();
  d.colwise() += x.rowwise().squaredNorm();
  d.rowwise() += c.rowwise().squaredNorm().transpose();
  return d.cwiseMax(0.0);
}

std::vector<int> Codebook::nearest(const RowMatrixXf& descriptors) const {
  std::vector<int> result(descriptors.rows());
  if (forest_) {
    if (descriptors.cols() != centres_.cols()) throw std::invalid_argument("codebook: descriptor dimension mismatch");
    for (long i = 0; i < descriptors.rows(); ++i) {
      VlKDForestNeighbor neighbour;
      vl_kdforest_query(forest_->forest.get(), &neighbour, 1, descriptors.row(i).data());
      result[i] = static_cast<int>(neighbour.index);
    }
    return result;
  }
  const RowMatrixXd d = squared_distances(descriptors);
  for (long i = 0; i < d.rows(); ++i) d.row(i).minCoeff(&result[i]);
  return result;
}

}  // namespace pixelwise
