#pragma once
// Spectral relevance analysis, SpRAy (Lapuschkin, Wäldchen, Binder, Montavon,
// Samek, Müller, "Unmasking Clever Hans predictors and assessing what machines
// really learn", Nature Communications 10:1096, 2019; docs/design.md 7): what a
// classifier relies on across a data set, found by clustering the heatmaps of
// one class.
//
// For heatmaps R^(1..N) (any sizes):
//   1. each is downsampled to rows x cols by summing relevance over blocks
//      (a source pixel split between blocks counts in proportion to its
//      overlap with each; the sum of the map is kept), then normalised
//      (none, divided by max |R| or by sum |R|) and flattened to x_i;
//   2. affinity: the symmetric k-nearest-neighbour graph of the x_i
//      (Euclidean; ties by index), A_ij = 1 if j is among the k nearest of i
//      or i among those of j, else 0; A_ii = 0;
//   3. L = I - D^-1/2 A D^-1/2 (D the degrees), its eigenvalues
//      lambda_1 <= lambda_2 <= ... and eigenvectors u_1, u_2, ...;
//   4. the number of clusters K: given, or the k in 1 .. m maximising the
//      eigengap lambda_{k+1} - lambda_k (m = min(max_clusters, N - 1));
//   5. the spectral embedding: the rows of [u_1 .. u_K], each scaled to unit
//      length (Ng, Jordan, Weiss 2002); k-means on them (k-means++ starts,
//      seeded restarts, the lowest within-cluster sum of squares kept);
//   6. the 2-D display embedding: (u_2, u_3), each eigenvector's sign fixed so
//      that its largest-magnitude entry is positive.
// Clusters are numbered by size (largest first; ties by their first image).
// Per cluster: its size, the mean of its members' normalised downsampled
// heatmaps, and its members nearest (Euclidean) to that mean, nearest first.
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "pixelwise/common/matrix.hpp"
#include "pixelwise/common/option_schema.hpp"

namespace pixelwise {

enum class SprayNormalisation { none, max_abs, sum_abs };
const EnumNames<SprayNormalisation>& enum_names(SprayNormalisation);

struct SprayOptions {
  int rows = 16, cols = 16;  ///< downsampled heatmap size
  SprayNormalisation normalisation = SprayNormalisation::max_abs;
  int neighbours = 0;        ///< k of the k-nearest-neighbour graph; 0: min(10, N - 1)
  int clusters = 0;          ///< K; 0: from the largest eigengap
  int max_clusters = 10;     ///< the eigengap is sought among lambda_1 .. lambda_{max_clusters + 1}
  std::uint64_t seed = 1;    ///< k-means starts
  int restarts = 10;         ///< k-means runs (the best kept)
  int nearest = 8;           ///< members listed per cluster
  void validate() const;     ///< throws std::invalid_argument naming the setting
};

struct SprayCluster {
  long size = 0;
  RowMatrixXd mean_heatmap;   ///< rows x cols, of the normalised downsampled heatmaps
  std::vector<long> nearest;  ///< member indices, nearest to mean_heatmap first
};

struct SprayResult {
  int neighbours = 0;                  ///< k used
  int clusters = 0;                    ///< K used
  bool clusters_from_eigengap = false; ///< K chosen by the eigengap (not given)
  Eigen::VectorXd eigenvalues;         ///< the smallest min(N, max(max_clusters, K) + 1), ascending
  std::vector<int> assignment;         ///< cluster of each heatmap
  Eigen::MatrixXd embedding;           ///< N x 2 display coordinates (u_2, u_3; 0 where N is too small)
  std::vector<SprayCluster> per_cluster;
};

/// Relevance summed over a rows x cols grid of blocks of `relevance`
/// (fractional block edges: a pixel counts in proportion to its overlap).
RowMatrixXd downsample_relevance(const RowMatrixXd& relevance, int rows, int cols);

/// The symmetric k-nearest-neighbour affinity of the rows of `points` (step 2).
Eigen::MatrixXd knn_affinity(const Eigen::MatrixXd& points, int k);

/// Eigenvalues (ascending) and eigenvectors (columns) of the normalised
/// Laplacian of a symmetric non-negative affinity without isolated nodes.
struct Spectrum {
  Eigen::VectorXd values;
  Eigen::MatrixXd vectors;
};
Spectrum normalised_laplacian_spectrum(const Eigen::MatrixXd& affinity);

/// The k in 1 .. min(max_clusters, n - 1) maximising values[k] - values[k - 1]
/// (0-based storage of lambda_1 ..); the first such k on ties; 1 when n < 2.
int largest_eigengap(const Eigen::VectorXd& ascending, int max_clusters);

/// k-means of the rows of `points` (k-means++ starts, `restarts` seeded runs,
/// the lowest within-cluster sum of squares kept); clusters numbered by size.
std::vector<int> kmeans(const Eigen::MatrixXd& points, int k, std::uint64_t seed, int restarts);

/// Steps 4 to 6 and the per-cluster summary on given features (rows) and affinity.
SprayResult spray_features(const Eigen::MatrixXd& features, const SprayOptions& options, int rows, int cols);

/// SpRAy on heatmaps (steps 1 to 6). Throws std::invalid_argument for fewer
/// than two heatmaps, an empty or non-finite one, or bad options.
SprayResult spray(const std::vector<RowMatrixXd>& heatmaps, const SprayOptions& options);

/// Adjusted Rand index of two labelings of the same items (Hubert and Arabie
/// 1985): 1 for the same partition, about 0 for independent ones; 1 when both
/// put every item in one group.
double adjusted_rand_index(const std::vector<int>& a, const std::vector<int>& b);

}  // namespace pixelwise
