#pragma once
// What the libsvm-backed classifiers share (private to classifiers/src):
// malloc-based allocation for models libsvm frees, the checks of a training
// set, and the precomputed-kernel problem libsvm trains on.
#include <libsvm/svm.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "pixelwise/common/parallel.hpp"
#include "pixelwise/classifiers/svm.hpp"

namespace pixelwise::libsvm_training {

/// libsvm frees model arrays with free(): they must come from malloc.
template <typename T>
T* allocate(size_t n) {
  T* p = static_cast<T*>(std::calloc(std::max<size_t>(n, 1), sizeof(T)));
  if (!p) throw std::bad_alloc();
  return p;
}

/// Checks X and labels (0..classes-1) and returns how many vectors each class has.
inline std::vector<long> check_training_set(const RowMatrixXd& X, const std::vector<int>& labels, int classes) {
  const long n = X.rows();
  if (n == 0) throw std::runtime_error("svm: no training vectors");
  if (static_cast<long>(labels.size()) != n) throw std::invalid_argument("svm: one label per training vector needed");
  if (!X.allFinite()) throw std::runtime_error("svm: training vectors contain NaN or infinite values");
  std::vector<long> counts(classes, 0);
  for (int y : labels) {
    if (y < 0 || y >= classes) throw std::invalid_argument("svm: label out of range");
    ++counts[y];
  }
  for (int c = 0; c < classes; ++c)
    if (counts[c] == 0) throw std::runtime_error("svm: class " + std::to_string(c) + " has no training images");
  return counts;
}

/// The kernel matrix in libsvm's precomputed form (libsvm README,
/// "precomputed kernel"): row i holds node 0 = the 1-based sample index, nodes
/// 1..n the values k(x_i, x_j), and a terminator. Rows are computed on all cores.
struct PrecomputedRows {
  std::vector<svm_node> nodes;
  std::vector<svm_node*> rows;
  double& value(long i, long j) { return rows[i][j + 1].value; }
};

template <typename KernelFn>
PrecomputedRows precomputed_rows(const RowMatrixXd& X, KernelFn&& k) {
  const long n = X.rows();
  PrecomputedRows out{std::vector<svm_node>(static_cast<size_t>(n) * (n + 2)), std::vector<svm_node*>(n)};
  for_each_parallel(n, 0, [&](long i) {
    svm_node* row = &out.nodes[static_cast<size_t>(i) * (n + 2)];
    out.rows[i] = row;
    row[0] = {0, static_cast<double>(i + 1)};
    for (long j = 0; j < n; ++j) row[j + 1] = {static_cast<int>(j + 1), k(X.row(i).data(), X.row(j).data(), X.cols())};
    row[n + 1] = {-1, 0.0};
  });
  return out;
}

/// C-SVC parameters on a precomputed kernel.
inline svm_parameter precomputed_parameters(const SvmOptions& options) {
  svm_parameter param{};
  param.svm_type = C_SVC;
  param.kernel_type = PRECOMPUTED;
  param.cache_size = options.cache_mb;
  param.eps = options.tolerance;
  param.C = options.C;
  param.shrinking = 1;
  param.probability = 0;
  return param;
}

}  // namespace pixelwise::libsvm_training
