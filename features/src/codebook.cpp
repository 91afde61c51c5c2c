#include "pixelwise/features/codebook.hpp"

#include "pixelwise/common/errors.hpp"
#include "blas/products.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <limits>
#include <mutex>
#include <new>
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
  // A query keeps its state (heap, visited book) in a searcher; each call of
  // nearest_k uses its own, so that threads may share the codebook. Creating
  // and deleting a searcher edits the forest's list of searchers: guarded.
  std::mutex searchers;
};

const EnumNames<CodebookSearch>& enum_names(CodebookSearch) {
  static const EnumNames<CodebookSearch> names{{CodebookSearch::exact, "exact"}, {CodebookSearch::kdforest, "kdforest"}};
  return names;
}

const OptionSchema<CodebookOptions>& CodebookOptions::schema() {
  using F = Fields<CodebookOptions>;
  constexpr long long int_max = std::numeric_limits<int>::max();
  static const OptionSchema<CodebookOptions> s(
      {F::integer("words", [](auto& o) -> auto& { return o.words; }, 1, int_max),
       F::integer("training_descriptors", [](auto& o) -> auto& { return o.training_descriptors; }, 1, int_max),
       F::integer("seed", [](auto& o) -> auto& { return o.seed; }, 0, std::numeric_limits<std::uint32_t>::max()),
       F::integer("max_iterations", [](auto& o) -> auto& { return o.max_iterations; }, 1, int_max),
       F::choice("search", [](auto& o) -> auto& { return o.search; }),
       F::integer("kdforest_trees", [](auto& o) -> auto& { return o.kdforest_trees; }, 1, int_max),
       F::integer("kdforest_checks", [](auto& o) -> auto& { return o.kdforest_checks; }, 1, int_max)});
  return s;
}

void CodebookOptions::validate() const {
  schema().check(*this, "codebook");
  if (training_descriptors < words) throw std::invalid_argument("codebook: training_descriptors must be >= words");
}

void to_json(nlohmann::json& j, const CodebookOptions& o) { j = CodebookOptions::schema().write(o); }

void from_json(const nlohmann::json& j, CodebookOptions& o) {
  o = CodebookOptions::schema().read(j, "codebook");
  o.validate();
}

Codebook::Codebook(RowMatrixXf centres, const CodebookOptions& options)
    : centres_(std::move(centres)), options_(options) {
  if (centres_.rows() < 1 || centres_.cols() < 1) throw std::invalid_argument("codebook: no centres");
  if (!centres_.allFinite()) throw std::invalid_argument("codebook: centres contain NaN or infinite values");
  if (options_.search == CodebookSearch::kdforest) {
    forest_ = std::make_unique<KdForest>();
    const std::string building = "the kd-forest of a codebook of " + std::to_string(centres_.rows()) + " words";
    // vl_kdforest_new writes into its vl_calloc'd forest unchecked, and
    // vl_kdforest_build allocates every tree's nodes (up to 2 per word) and data
    // index unchecked: asked for first (errors.hpp, reserve_or_throw).
    reserve_or_throw(sizeof(VlKDForest), building);
    forest_->forest.reset(allocated(
        vl_kdforest_new(VL_TYPE_FLOAT, centres_.cols(), options_.kdforest_trees, VlDistanceL2), building));
    reserve_or_throw(static_cast<size_t>(options_.kdforest_trees) * static_cast<size_t>(centres_.rows()) *
                         (2 * sizeof(VlKDTreeNode) + sizeof(VlKDTreeDataIndexEntry)),
                     building);
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

RowMatrixXf sample_rows(const RowMatrixXf& rows, long count, std::uint32_t seed) {
  // Seeded sample without replacement (partial Fisher-Yates), in the rows' order.
  const long n = rows.rows();
  std::vector<long> order(n);
  std::iota(order.begin(), order.end(), 0L);
  const long sample = std::min<long>(n, count);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < sample; ++i) {
    std::uniform_int_distribution<long> pick(i, n - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  std::sort(order.begin(), order.begin() + sample);
  RowMatrixXf data(sample, rows.cols());
  for (long i = 0; i < sample; ++i) data.row(i) = rows.row(order[i]);
  return data;
}

Codebook Codebook::train(const RowMatrixXf& descriptors, const CodebookOptions& options) {
  options.validate();
  const long n = descriptors.rows();
  if (n < options.words)
    throw std::runtime_error("codebook: " + std::to_string(n) + " descriptors are fewer than the " +
                             std::to_string(options.words) + " words asked for");
  const RowMatrixXf data = sample_rows(descriptors, options.training_descriptors, options.seed);

  vl_set_num_threads(1);
  vl_rand_seed(vl_get_rand(), options.seed);
  const std::string building = "k-means of " + std::to_string(options.words) + " words on " +
                               std::to_string(data.rows()) + " descriptors";
  reserve_or_throw(sizeof(VlKMeans), building);  // vl_kmeans_new writes into its vl_calloc'd object unchecked
  std::unique_ptr<VlKMeans, KMeansDeleter> kmeans(allocated(vl_kmeans_new(VL_TYPE_FLOAT, VlDistanceL2), building));
  // Elkan's k-means keeps a lower bound per descriptor and word, the distances
  // between words and per-descriptor bounds and assignments, allocated unchecked.
  const size_t words = static_cast<size_t>(options.words), rows = static_cast<size_t>(data.rows());
  reserve_or_throw(sizeof(float) * (rows * words + 2 * words * words + 2 * rows + words * data.cols()) +
                       2 * sizeof(vl_uint32) * rows,
                   building);
  vl_kmeans_set_algorithm(kmeans.get(), VlKMeansElkan);
  vl_kmeans_set_initialization(kmeans.get(), VlKMeansPlusPlus);
  vl_kmeans_set_max_num_iterations(kmeans.get(), options.max_iterations);
  vl_kmeans_set_verbosity(kmeans.get(), 0);
  vl_kmeans_cluster(kmeans.get(), data.data(), data.cols(), data.rows(), options.words);
  const float* centres = static_cast<const float*>(vl_kmeans_get_centers(kmeans.get()));
  RowMatrixXf result = Eigen::Map<const RowMatrixXf>(centres, options.words, data.cols());
  return Codebook(std::move(result), options);
}

namespace {
// Squared distances of rows [first, first + rows) to all centres, expanded as
// |x|^2 - 2 x.c + |c|^2 in double and clamped at 0.
RowMatrixXd distance_block(const RowMatrixXd& x, const RowMatrixXd& c, const Eigen::VectorXd& c_norms) {
  RowMatrixXd d = (-2.0 * x) * c.transpose();
  d.colwise() += x.rowwise().squaredNorm();
  d.rowwise() += c_norms.transpose();
  return d.cwiseMax(0.0);
}
constexpr long kBlockRows = 512;
}  // namespace

RowMatrixXd Codebook::squared_distances(const RowMatrixXf& descriptors) const {
  if (descriptors.cols() != centres_.cols())
    throw std::invalid_argument("codebook: descriptors have dimension " + std::to_string(descriptors.cols()) +
                                ", the codebook " + std::to_string(centres_.cols()));
  const RowMatrixXd c = centres_.cast<double>();
  return distance_block(descriptors.cast<double>(), c, c.rowwise().squaredNorm());
}

Codebook::Neighbours Codebook::nearest_k(const RowMatrixXd& descriptors, int k) const {
  return nearest_k_of(descriptors, k);
}

Codebook::Neighbours Codebook::nearest_k(const RowMatrixXf& descriptors, int k) const {
  return nearest_k_of(descriptors, k);
}

template <typename Matrix>
Codebook::Neighbours Codebook::nearest_k_of(const Matrix& descriptors, int k) const {
  if (descriptors.cols() != centres_.cols())
    throw std::invalid_argument("codebook: descriptors have dimension " + std::to_string(descriptors.cols()) +
                                ", the codebook " + std::to_string(centres_.cols()));
  if (k < 1 || k > words())
    throw std::invalid_argument("codebook: asked for " + std::to_string(k) + " nearest words of " +
                                std::to_string(words()));
  const long m = descriptors.rows();
  Neighbours out;
  out.k = k;
  out.index.resize(static_cast<size_t>(m) * k);
  out.distance.resize(static_cast<size_t>(m) * k);
  const RowMatrixXd c = centres_.cast<double>();
  std::vector<int> order(words());
  // Keeps the k smallest of `distances` (a row of V values, or k candidates) in (distance, index) order.
  auto select = [&](long row, const double* distances, const int* candidates, int n) {
    order.resize(n);
    std::iota(order.begin(), order.end(), 0);
    auto less = [&](int a, int b) {
      const int ia = candidates ? candidates[a] : a, ib = candidates ? candidates[b] : b;
      return distances[a] < distances[b] || (distances[a] == distances[b] && ia < ib);
    };
    std::partial_sort(order.begin(), order.begin() + k, order.end(), less);
    for (int j = 0; j < k; ++j) {
      out.index[row * k + j] = candidates ? candidates[order[j]] : order[j];
      out.distance[row * k + j] = distances[order[j]];
    }
  };
  if (forest_) {
    std::vector<VlKDForestNeighbor> found(k);
    std::vector<int> candidates(k);
    std::vector<double> distances(k);
    Eigen::Matrix<float, 1, Eigen::Dynamic> query(descriptors.cols());
    struct Searcher {
      KdForest& owner;
      VlKDForestSearcher* searcher;
      explicit Searcher(KdForest& f) : owner(f) {
        std::lock_guard<std::mutex> lock(owner.searchers);
        searcher = allocated(vl_kdforest_new_searcher(owner.forest.get()), "a kd-forest searcher");
      }
      ~Searcher() {
        std::lock_guard<std::mutex> lock(owner.searchers);
        vl_kdforestsearcher_delete(searcher);
      }
    } searcher(*forest_);
    for (long i = 0; i < m; ++i) {
      query = descriptors.row(i).template cast<float>();
      vl_kdforestsearcher_query(searcher.searcher, found.data(), k, query.data());
      for (int j = 0; j < k; ++j) {
        candidates[j] = static_cast<int>(found[j].index);
        distances[j] = (descriptors.row(i).template cast<double>() - c.row(candidates[j])).squaredNorm();
      }
      select(i, distances.data(), candidates.data(), k);
    }
    return out;
  }
  // Exact search at the speed of a float32 matrix product (docs/design.md 1.1).
  // Per block of rows one GEMM gives g(v) = |c_v|^2 - 2 x.c_v in float (|x|^2
  // is the same for every word, so g orders the words as the distance does).
  // Its rounding error is at most E = gamma (|c|max^2 + 2 |x| |c|max), with
  // gamma = 2 (D + 2) 2^-24: twice the textbook bound gamma_(D+2) of a
  // D-term dot product plus the two further roundings, the factor 2 covering
  // the rounding of double descriptors to float. A word among the exact k
  // nearest has g within 2E of the k-th smallest g, so exactly those
  // candidates (almost always k of them) are ranked by the squared distance
  // summed in double, ties to the lower index: the result is the exact
  // search's, at the cost of the GEMM.
  const long d = centres_.cols(), V = words();
  Eigen::VectorXf g_norms(V);
  double c_max = 0;
  for (long v = 0; v < V; ++v) {
    const double norm2 = c.row(v).squaredNorm();
    g_norms[v] = static_cast<float>(norm2);
    c_max = std::max(c_max, std::sqrt(norm2));
  }
  const double gamma = 2.0 * static_cast<double>(d + 2) * std::ldexp(1.0, -24);
  const long block = std::min<long>(kBlockRows, std::max<long>(m, 1));
  RowMatrixXf x_block(block, d), products(block, V);
  std::vector<float> smallest;
  std::vector<int> candidates;
  std::vector<double> exact;
  Eigen::RowVectorXd row(d);
  for (long first = 0; first < m; first += kBlockRows) {
    const long rows = std::min(kBlockRows, m - first);
    const float* x;
    if constexpr (std::is_same_v<typename Matrix::Scalar, float>) {
      x = descriptors.data() + first * d;
    } else {
      x_block.topRows(rows) = descriptors.middleRows(first, rows).template cast<float>();
      x = x_block.data();
    }
    blas::products_with_transposed(x, rows, centres_.data(), V, d, products.data());
    for (long r = 0; r < rows; ++r) {
      float* g = products.row(r).data();
      for (long v = 0; v < V; ++v) g[v] = g_norms[v] - 2.0f * g[v];
      // The k-th smallest g: one pass keeping the k smallest in order (k is a
      // handful for soft and rank coding), most values rejected by one compare.
      smallest.assign(static_cast<size_t>(k), std::numeric_limits<float>::infinity());
      for (long v = 0; v < V; ++v)
        if (g[v] < smallest[k - 1]) {
          int j = k - 1;
          for (; j > 0 && smallest[j - 1] > g[v]; --j) smallest[j] = smallest[j - 1];
          smallest[j] = g[v];
        }
      const float kth_smallest = smallest[k - 1];
      row = descriptors.row(first + r).template cast<double>();
      const double x_norm = row.norm();
      const double threshold = static_cast<double>(kth_smallest) + 2 * gamma * (c_max * c_max + 2 * x_norm * c_max);
      candidates.clear();
      exact.clear();
      for (long v = 0; v < V; ++v)
        if (static_cast<double>(g[v]) <= threshold) {
          candidates.push_back(static_cast<int>(v));
          exact.push_back((row - c.row(v)).squaredNorm());
        }
      select(first + r, exact.data(), candidates.data(), static_cast<int>(candidates.size()));
    }
  }
  return out;
}

std::vector<int> Codebook::nearest(const RowMatrixXf& descriptors) const {
  return nearest_k(descriptors, 1).index;
}

}  // namespace pixelwise
