#include "pixelwise/classifiers/additive_tables.hpp"
#include "pixelwise/common/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "pixelwise/classifiers/svm.hpp"

namespace pixelwise {
namespace {

// r(u) = sign(u) sqrt|u|: the Hellinger term is r(u) r(v) (kernels.hpp).
double signed_sqrt(double u) { return u == 0.0 ? 0.0 : std::copysign(std::sqrt(std::abs(u)), u); }

}  // namespace

Eigen::VectorXd AdditiveEvaluation::class_terms(int c, long dimension) const {
  if (c < 0 || c >= terms.cols()) throw std::out_of_range("additive evaluation: class " + std::to_string(c) + " out of range");
  Eigen::VectorXd full = Eigen::VectorXd::Zero(dimension);
  for (size_t j = 0; j < bins.size(); ++j) full[bins[j]] = terms(static_cast<long>(j), c);
  return full;
}

AdditiveTables::AdditiveTables(KernelType kernel, const RowMatrixXd& sv, const std::vector<BinaryMachine>& machines,
                               long block)
    : kernel_(kernel), dimension_(sv.cols()), classes_(static_cast<int>(machines.size())), block_(block) {
  if (!is_additive(kernel))
    throw std::invalid_argument("additive tables: kernel " + kernel_name(kernel) + " is not additive");
  if (block < 1) throw std::invalid_argument("additive tables: the block size must be positive");
  const long D = dimension_, C = classes_;
  for (const auto& m : machines) rho_.push_back(m.rho);

  if (kernel == KernelType::linear || kernel == KernelType::hellinger) {
    weight_.assign(static_cast<size_t>(D * C), 0.0);
    for (long c = 0; c < C; ++c)
      for (size_t i = 0; i < machines[c].support.size(); ++i) {
        const double a = machines[c].coef[i];
        const double* v = sv.row(machines[c].support[i]).data();
        for (long d = 0; d < D; ++d)
          weight_[d * C + c] += a * (kernel == KernelType::linear ? v[d] : signed_sqrt(v[d]));
      }
    return;
  }

  // hik and chi2: the nonzero entries by dimension, each row once (the
  // machines share them), with every row's coefficient in every machine.
  const long U = sv.rows();
  const bool narrow = narrow_rows_ = U <= 65536;
  column_start_.assign(D + 1, 0);
  for (long u = 0; u < U; ++u)
    for (long d = 0; d < D; ++d) column_start_[d + 1] += sv(u, d) != 0.0;
  std::partial_sum(column_start_.begin(), column_start_.end(), column_start_.begin());
  const long total = column_start_[D];
  column_value_.resize(total);
  if (narrow)
    row16_.resize(total);
  else
    row32_.resize(total);
  negative_.assign(D, 0);
  std::vector<long> fill(column_start_.begin(), column_start_.end() - 1);
  for (long u = 0; u < U; ++u)
    for (long d = 0; d < D; ++d)
      if (sv(u, d) != 0.0) {
        negative_[d] |= sv(u, d) < 0.0;
        column_value_[fill[d]] = sv(u, d);
        if (narrow)
          row16_[fill[d]++] = static_cast<std::uint16_t>(u);
        else
          row32_[fill[d]++] = static_cast<std::uint32_t>(u);
      }
  row_coef_.assign(static_cast<size_t>(U * C), 0.0);
  coef_sum_.assign(C, 0.0);
  for (long c = 0; c < C; ++c)
    for (size_t i = 0; i < machines[c].support.size(); ++i) {
      row_coef_[machines[c].support[i] * C + c] += machines[c].coef[i];
      coef_sum_[c] += machines[c].coef[i];
    }
  if (kernel == KernelType::chi2) {
    negative_.clear();  // chi2 takes non-negative histograms only (kernels.hpp)
    return;
  }

  // Histogram intersection: every column sorted by value, then its
  // checkpoints: before entry e_k = min(k block, n), per machine, the sum of
  // coef * value over the entries before e_k and the sum of coef over the
  // entries from e_k on.
  block_start_.assign(D + 1, 0);
  for (long d = 0; d < D; ++d)
    block_start_[d + 1] = block_start_[d] + (column_start_[d + 1] - column_start_[d] + block - 1) / block;
  block_first_.assign(static_cast<size_t>(block_start_[D]), 0.0);
  checkpoint_.assign(static_cast<size_t>(checkpoint_offset(D)), 0.0);
  // Sorting is most of the cost: blocks of columns on all cores.
  auto sort_columns = [&](long first, long last) {
    std::vector<std::pair<double, std::uint32_t>> column;
    for (long d = first; d < last; ++d) {
      const long s = column_start_[d], n = column_start_[d + 1] - s;
      column.resize(n);
      for (long k = 0; k < n; ++k) column[k] = {column_value_[s + k], narrow ? row16_[s + k] : row32_[s + k]};
      std::sort(column.begin(), column.end());
      for (long k = 0; k < n; ++k) {
        column_value_[s + k] = column[k].first;
        if (narrow)
          row16_[s + k] = static_cast<std::uint16_t>(column[k].second);
        else
          row32_[s + k] = column[k].second;
      }
      for (long k = 0; k * block < n; ++k) block_first_[block_start_[d] + k] = column[k * block].first;
      // Sums over all the entries before (coef * value, forwards) and from
      // (coef, backwards) every checkpoint, so that each is a plain sum of
      // the entries it covers.
      const long checkpoints = (n + block - 1) / block + 1;
      double* check = &checkpoint_[checkpoint_offset(d)];
      std::vector<double> below(C, 0.0), above(C, 0.0);
      for (long k = 0; k < checkpoints; ++k) {
        const long e = std::min(k * block, n);
        if (k > 0)
          for (long j = std::min((k - 1) * block, n); j < e; ++j) {
            const double* a = &row_coef_[static_cast<size_t>(column[j].second) * C];
            for (long c = 0; c < C; ++c) below[c] += a[c] * column[j].first;
          }
        std::copy(below.begin(), below.end(), check + k * 2 * C);
      }
      for (long k = checkpoints - 1; k >= 0; --k) {
        const long e = std::min(k * block, n);
        if (k < checkpoints - 1)
          for (long j = std::min((k + 1) * block, n) - 1; j >= e; --j) {
            const double* a = &row_coef_[static_cast<size_t>(column[j].second) * C];
            for (long c = 0; c < C; ++c) above[c] += a[c];
          }
        std::copy(above.begin(), above.end(), check + k * 2 * C + C);
      }
    }
  };
  const long threads = std::max(1L, std::min<long>(available_cores(), total / 100000 + 1));
  std::vector<std::thread> pool;
  for (long t = 0; t < threads; ++t) pool.emplace_back(sort_columns, D * t / threads, D * (t + 1) / threads);
  for (auto& th : pool) th.join();
}

template <typename Row>
void AdditiveTables::intersection_terms(const std::vector<Row>& rows, long d, double s, double* t, double* a) const {
  const long C = classes_, first = column_start_[d], n = column_start_[d + 1] - first;
  const double* value = column_value_.data() + first;
  const Row* row = rows.data() + first;
  // r = number of sorted values <= s: they contribute coef * v, the others
  // coef * s. First among the blocks' first values (a few cache lines), then
  // within the one block whose values straddle s: fewer memory accesses than
  // one search over the column.
  const double* firsts = block_first_.data() + block_start_[d];
  const long q = std::upper_bound(firsts, firsts + (block_start_[d + 1] - block_start_[d]), s) - firsts;
  long r = 0;
  if (q > 0) {
    const long lo = (q - 1) * block_, hi = std::min(q * block_, n);
    r = std::upper_bound(value + lo, value + hi, s) - value;
  }
  // The nearer checkpoint e_k, and the entries between it and r added to or
  // removed from its sums: t accumulates sum coef * v over the values <= s,
  // a sum coef over the values > s.
  const long k = std::min((r + block_ / 2) / block_, (n + block_ - 1) / block_);
  const long e = std::min(k * block_, n);
  const double* check = &checkpoint_[checkpoint_offset(d) + k * 2 * C];
  std::copy(check, check + C, t);
  std::copy(check + C, check + 2 * C, a);
  if (e <= r) {
    for (long j = e; j < r; ++j) {  // values <= s the checkpoint counts among those above it
      const double* coef = &row_coef_[static_cast<size_t>(row[j]) * C];
      for (long c = 0; c < C; ++c) {
        t[c] += coef[c] * value[j];
        a[c] -= coef[c];
      }
    }
  } else {
    for (long j = r; j < e; ++j) {  // values > s the checkpoint counts among those below it
      const double* coef = &row_coef_[static_cast<size_t>(row[j]) * C];
      for (long c = 0; c < C; ++c) {
        t[c] -= coef[c] * value[j];
        a[c] += coef[c];
      }
    }
  }
  const double* all = &checkpoint_[checkpoint_offset(d) + C];  // checkpoint 0: every entry's coef
  for (long c = 0; c < C; ++c) {
    t[c] += s * a[c];
    // The support vectors whose value in d is 0: min(0, s) = s when s < 0;
    // their coefficients are the machine's minus those of the column's entries.
    if (s < 0) t[c] += s * (coef_sum_[c] - all[c]);
  }
}

template <typename Row>
void AdditiveTables::chi2_terms(const std::vector<Row>& rows, long d, double s, double* t) const {
  const long C = classes_;
  for (long k = column_start_[d]; k < column_start_[d + 1]; ++k) {
    const double term = kernel_term(KernelType::chi2, column_value_[k], s);
    const double* a = &row_coef_[static_cast<size_t>(rows[k]) * C];
    for (long c = 0; c < C; ++c) t[c] += a[c] * term;
  }
}

AdditiveEvaluation AdditiveTables::evaluate(const Eigen::VectorXd& x) const {
  if (x.size() != dimension_)
    throw std::invalid_argument("svm: input has dimension " + std::to_string(x.size()) + ", the model expects " +
                                std::to_string(dimension_));
  const long D = dimension_, C = classes_;
  AdditiveEvaluation out;
  for (long d = 0; d < D; ++d)
    if (x[d] != 0.0 || (!negative_.empty() && negative_[d])) out.bins.push_back(d);
  const long n = static_cast<long>(out.bins.size());
  out.terms = RowMatrixXd::Zero(n, C);
  std::vector<double> scratch(C);
  const bool narrow = narrow_rows_;
  for (long j = 0; j < n; ++j) {
    const long d = out.bins[j];
    const double s = x[d];
    double* t = out.terms.row(j).data();
    switch (kernel_) {
      case KernelType::linear:
      case KernelType::hellinger: {
        const double r = kernel_ == KernelType::linear ? s : signed_sqrt(s);
        for (long c = 0; c < C; ++c) t[c] = weight_[d * C + c] * r;
        break;
      }
      case KernelType::intersection:
        if (narrow)
          intersection_terms(row16_, d, s, t, scratch.data());
        else
          intersection_terms(row32_, d, s, t, scratch.data());
        break;
      case KernelType::chi2:
        if (narrow)
          chi2_terms(row16_, d, s, t);
        else
          chi2_terms(row32_, d, s, t);
        break;
      default:
        throw std::logic_error("additive tables: kernel is not additive");
    }
  }
  out.scores.resize(C);
  for (long c = 0; c < C; ++c) {
    double sum = 0;
    for (long j = 0; j < n; ++j) sum += out.terms(j, c);
    out.scores[c] = sum - rho_[c];
  }
  return out;
}

std::size_t AdditiveTables::bytes() const {
  return negative_.size() +
         sizeof(double) * (rho_.size() + weight_.size() + column_value_.size() + row_coef_.size() + checkpoint_.size() + block_first_.size() +
                           coef_sum_.size()) +
         sizeof(long) * (column_start_.size() + block_start_.size()) + sizeof(std::uint16_t) * row16_.size() +
         sizeof(std::uint32_t) * row32_.size();
}

}  // namespace pixelwise
