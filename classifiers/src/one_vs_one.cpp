#include "pixelwise/classifiers/one_vs_one.hpp"

#include "libsvm_training.hpp"
#include "pixelwise/classifiers/randomisation.hpp"

#include <libsvm/svm.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <stdexcept>

namespace pixelwise {
namespace {

using namespace libsvm_training;


// Index of pair (a, b), a < b in libsvm's order (a = 0..K-1, b = a+1..K-1).
int pair_index(int a, int b, int K) { return a * K - a * (a + 1) / 2 + (b - a - 1); }

}  // namespace

OneVsOneSvm OneVsOneSvm::train(const RowMatrixXd& X, const std::vector<int>& labels, int classes,
                               const SvmOptions& options) {
  options.validate();
  const KernelType kernel = options.kernel;
  const long n = X.rows();
  check_training_set(X, labels, classes);
  PrecomputedRows rows =
      precomputed_rows(X, [&](const double* u, const double* v, long d) { return kernel_value(kernel, u, v, d); });
  std::vector<double> y(n);
  for (long i = 0; i < n; ++i) y[i] = labels[i];

  const svm_parameter param = precomputed_parameters(options);
  svm_problem problem{static_cast<int>(n), y.data(), rows.rows.data()};
  if (const char* error = svm_check_parameter(&problem, &param))
    throw std::runtime_error(std::string("svm: libsvm rejected the parameters: ") + error);
  LibsvmModel trained(svm_train(&problem, &param));
  const svm_model* m = trained.get();

  OneVsOneSvm out;
  out.kernel_ = kernel;
  out.classes_ = classes;
  std::map<int, int> table_row;  // training index -> table row, in training order
  for (int k = 0; k < m->l; ++k) table_row.emplace(m->sv_indices[k] - 1, 0);
  out.table_.resize(static_cast<long>(table_row.size()), X.cols());
  int next = 0;
  for (auto& [sample, row] : table_row) {
    row = next;
    out.table_.row(next++) = X.row(sample);
  }
  out.label_.assign(m->label, m->label + m->nr_class);
  out.count_.assign(m->nSV, m->nSV + m->nr_class);
  for (int k = 0; k < m->l; ++k) out.rows_.push_back(table_row[m->sv_indices[k] - 1]);
  out.coef_.resize(classes - 1, m->l);
  for (int r = 0; r < classes - 1; ++r)
    for (int k = 0; k < m->l; ++k) out.coef_(r, k) = m->sv_coef[r][k];
  out.rho_.assign(m->rho, m->rho + classes * (classes - 1) / 2);
  return out;
}

LibsvmModel OneVsOneSvm::to_libsvm() const {
  const int K = classes_, l = static_cast<int>(rows_.size());
  svm_model* model = allocate<svm_model>(1);
  LibsvmModel owner(model);
  model->param.svm_type = C_SVC;
  model->param.kernel_type = PRECOMPUTED;
  model->nr_class = K;
  model->l = l;
  model->free_sv = 1;  // libsvm then frees SV[0], the block of all nodes
  model->SV = allocate<svm_node*>(l);
  svm_node* block = allocate<svm_node>(2 * static_cast<size_t>(l));
  for (int k = 0; k < l; ++k) {
    block[2 * k] = {0, static_cast<double>(rows_[k] + 1)};
    block[2 * k + 1] = {-1, 0.0};
    model->SV[k] = &block[2 * k];
  }
  if (l == 0) std::free(block);
  model->sv_coef = allocate<double*>(K - 1);
  for (int r = 0; r < K - 1; ++r) {
    model->sv_coef[r] = allocate<double>(l);
    for (int k = 0; k < l; ++k) model->sv_coef[r][k] = coef_(r, k);
  }
  model->rho = allocate<double>(rho_.size());
  std::copy(rho_.begin(), rho_.end(), model->rho);
  model->label = allocate<int>(K);
  std::copy(label_.begin(), label_.end(), model->label);
  model->nSV = allocate<int>(K);
  std::copy(count_.begin(), count_.end(), model->nSV);
  return owner;
}

void OneVsOneSvm::save(const std::string& path) const { to_libsvm().save(path); }

OneVsOneSvm OneVsOneSvm::load(KernelType kernel, RowMatrixXd support_vectors, int classes,
                              const std::string& model_file) {
  LibsvmModel model = LibsvmModel::load(model_file);
  const svm_model* m = model.get();
  if (m->param.svm_type != C_SVC || m->param.kernel_type != PRECOMPUTED || m->nr_class != classes || m->l < 1)
    throw std::runtime_error(model_file + ": expected a " + std::to_string(classes) +
                             "-class C-SVC model with a precomputed kernel");
  if (!m->label || !m->nSV) throw std::runtime_error(model_file + ": labels or support-vector counts are missing");
  OneVsOneSvm out;
  out.kernel_ = kernel;
  out.classes_ = classes;
  out.label_.assign(m->label, m->label + classes);
  std::vector<int> sorted = out.label_;
  std::sort(sorted.begin(), sorted.end());
  for (int c = 0; c < classes; ++c)
    if (sorted[c] != c) throw std::runtime_error(model_file + ": labels must be 0 .. " + std::to_string(classes - 1));
  out.count_.assign(m->nSV, m->nSV + classes);
  long total = 0;
  for (int c : out.count_) total += c;
  if (total != m->l) throw std::runtime_error(model_file + ": support-vector counts do not add up");
  for (int k = 0; k < m->l; ++k) {
    const double index = m->SV[k][0].value;
    if (m->SV[k][0].index != 0 || index != std::floor(index) || index < 1 || index > support_vectors.rows())
      throw std::runtime_error(model_file + ": support vector " + std::to_string(k) +
                               " does not name a row of the support-vector table");
    out.rows_.push_back(static_cast<int>(index) - 1);
  }
  out.coef_.resize(classes - 1, m->l);
  for (int r = 0; r < classes - 1; ++r)
    for (int k = 0; k < m->l; ++k) out.coef_(r, k) = m->sv_coef[r][k];
  out.rho_.assign(m->rho, m->rho + classes * (classes - 1) / 2);
  if (!out.coef_.allFinite() || !std::all_of(out.rho_.begin(), out.rho_.end(), [](double r) { return std::isfinite(r); }))
    throw std::runtime_error(model_file + ": coefficients or rho are not finite");
  if (!support_vectors.allFinite()) throw std::runtime_error(model_file + ": support vectors are not finite");
  out.table_ = std::move(support_vectors);
  return out;
}

void OneVsOneSvm::check_class(int c) const {
  if (c < 0 || c >= classes_)
    throw std::out_of_range("class index " + std::to_string(c) + " out of range (model has " +
                            std::to_string(classes_) + " classes)");
}

BinaryMachine OneVsOneSvm::pairwise(int c, int other) const {
  check_class(c);
  check_class(other);
  if (c == other) throw std::invalid_argument("a pairwise decision needs two different classes");
  const int K = classes_;
  const int i = static_cast<int>(std::find(label_.begin(), label_.end(), c) - label_.begin());
  const int j = static_cast<int>(std::find(label_.begin(), label_.end(), other) - label_.begin());
  const int a = std::min(i, j), b = std::max(i, j);
  // libsvm (svm_predict_values): f_ab = sum_{SV of a} coef[b-1] k + sum_{SV of b} coef[a] k - rho_ab, > 0 votes a.
  std::vector<int> start(K, 0);
  for (int q = 1; q < K; ++q) start[q] = start[q - 1] + count_[q - 1];
  const double sign = i == a ? 1.0 : -1.0;
  BinaryMachine m;
  for (int k = 0; k < count_[a]; ++k) {
    m.support.push_back(rows_[start[a] + k]);
    m.coef.push_back(sign * coef_(b - 1, start[a] + k));
  }
  for (int k = 0; k < count_[b]; ++k) {
    m.support.push_back(rows_[start[b] + k]);
    m.coef.push_back(sign * coef_(a, start[b] + k));
  }
  m.rho = sign * rho_[pair_index(a, b, K)];
  return m;
}

BinaryMachine OneVsOneSvm::summed(int c) const {
  check_class(c);
  std::map<int, double> coef;
  BinaryMachine sum;
  for (int other = 0; other < classes_; ++other) {
    if (other == c) continue;
    const BinaryMachine m = pairwise(c, other);
    for (size_t k = 0; k < m.support.size(); ++k) coef[m.support[k]] += m.coef[k];
    sum.rho += m.rho;
  }
  for (const auto& [row, value] : coef) {
    sum.support.push_back(row);
    sum.coef.push_back(value);
  }
  return sum;
}

OneVsRestSvm OneVsOneSvm::summed_machines() const {
  std::vector<BinaryMachine> machines;
  for (int c = 0; c < classes_; ++c) machines.push_back(summed(c));
  return OneVsRestSvm(kernel_, table_, std::move(machines));
}

OneVsRestSvm OneVsOneSvm::pairwise_machine(int c, int other) const {
  return OneVsRestSvm(kernel_, table_, {pairwise(c, other)});
}

int OneVsOneSvm::libsvm_predict(const Eigen::VectorXd& x, std::vector<double>* decision_values) const {
  if (x.size() != table_.cols())
    throw std::invalid_argument("svm: input has dimension " + std::to_string(x.size()) + ", the model expects " +
                                std::to_string(table_.cols()));
  const LibsvmModel model = to_libsvm();
  std::vector<svm_node> nodes(table_.rows() + 2);
  nodes[0] = {0, 0.0};
  for (long u = 0; u < table_.rows(); ++u)
    nodes[u + 1] = {static_cast<int>(u + 1), kernel_value(kernel_, table_.row(u).data(), x.data(), x.size())};
  nodes[table_.rows() + 1] = {-1, 0.0};
  std::vector<double> values(rho_.size());
  const double label = svm_predict_values(model.get(), nodes.data(), values.data());
  if (decision_values) *decision_values = values;
  return static_cast<int>(label);
}

OneVsOneSvm OneVsOneSvm::with_permuted_coefficients(std::uint64_t seed) const {
  const int K = classes_;
  std::vector<int> start(K, 0);
  for (int q = 1; q < K; ++q) start[q] = start[q - 1] + count_[q - 1];
  OneVsOneSvm out = *this;
  // The pair (a, b), a < b, holds coef(b-1, SVs of a) and coef(a, SVs of b)
  // (libsvm's layout, as in pairwise()); the pairs partition coef_.
  for (int a = 0; a < K; ++a)
    for (int b = a + 1; b < K; ++b) {
      std::vector<std::pair<int, int>> cells;
      for (int k = 0; k < count_[a]; ++k) cells.emplace_back(b - 1, start[a] + k);
      for (int k = 0; k < count_[b]; ++k) cells.emplace_back(a, start[b] + k);
      const std::vector<long> p = seeded_permutation(static_cast<long>(cells.size()),
                                                     randomisation_seed(seed, 0, pair_index(a, b, K)));
      for (size_t i = 0; i < cells.size(); ++i) {
        const auto& from = cells[static_cast<size_t>(p[i])];
        out.coef_(cells[i].first, cells[i].second) = coef_(from.first, from.second);
      }
    }
  return out;
}

}  // namespace pixelwise
