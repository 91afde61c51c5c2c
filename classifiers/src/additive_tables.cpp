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

AdditiveTables::AdditiveTables(KernelType kernel, const RowMatrixXd& sv, const std::vector<BinaryMachine>& machines)
    : kernel_(kernel), dimension_(sv.cols()), classes_(static_cast<int>(machines.size())) {
  if (!is_additive(kernel))
    throw std::invalid_argument("additive tables: kernel " + kernel_name(kernel) + " is not additive");
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

  if (kernel == KernelType::chi2) {
    const long U = sv.rows();
    column_start_.assign(D + 1, 0);
    for (long u = 0; u < U; ++u)
      for (long d = 0; d < D; ++d) column_start_[d + 1] += sv(u, d) != 0.0;
    std::partial_sum(column_start_.begin(), column_start_.end(), column_start_.begin());
    column_row_.resize(column_start_[D]);
    column_value_.resize(column_start_[D]);
    std::vector<long> fill(column_start_.begin(), column_start_.end() - 1);
    for (long u = 0; u < U; ++u)
      for (long d = 0; d < D; ++d)
        if (sv(u, d) != 0.0) {
          column_row_[fill[d]] = static_cast<int>(u);
          column_value_[fill[d]++] = sv(u, d);
        }
    row_coef_.assign(static_cast<size_t>(U * C), 0.0);
    for (long c = 0; c < C; ++c)
      for (size_t i = 0; i < machines[c].support.size(); ++i)
        row_coef_[machines[c].support[i] * C + c] += machines[c].coef[i];
    return;
  }

  // Histogram intersection: per dimension and machine, the nonzero values
  // sorted, with prefix sums of coef * value and suffix sums of coef. The
  // tables of one dimension lie together (g = d * classes + c), as a pass
  // reads all machines' tables of each visited dimension.
  start_.assign(static_cast<size_t>(D * C + 1), 0);
  for (long c = 0; c < C; ++c)
    for (int u : machines[c].support) {
      const double* v = sv.row(u).data();
      for (long d = 0; d < D; ++d) start_[d * C + c + 1] += v[d] != 0.0;
    }
  std::partial_sum(start_.begin(), start_.end(), start_.begin());
  const long total = start_.back();
  value_.resize(total);
  std::vector<double> coef(total);
  below_.resize(total + D * C);
  above_.resize(total + D * C);
  zero_coef_.assign(static_cast<size_t>(D * C), 0.0);
  negative_.assign(D, 0);
  std::vector<long> fill(start_.begin(), start_.end() - 1);
  std::vector<double> coef_sum(C, 0.0);
  for (long c = 0; c < C; ++c)
    for (size_t i = 0; i < machines[c].support.size(); ++i) {
      const double a = machines[c].coef[i];
      coef_sum[c] += a;
      const double* v = sv.row(machines[c].support[i]).data();
      for (long d = 0; d < D; ++d)
        if (v[d] != 0.0) {
          negative_[d] |= v[d] < 0.0;
          value_[fill[d * C + c]] = v[d];
          coef[fill[d * C + c]++] = a;
        }
    }
  // Sorting is most of the cost: blocks of tables on all cores.
  auto sort_tables = [&](long first, long last) {
    std::vector<std::pair<double, double>> column;
    for (long g = first; g < last; ++g) {
      const long s = start_[g], n = start_[g + 1] - s;
      column.resize(n);
      for (long k = 0; k < n; ++k) column[k] = {value_[s + k], coef[s + k]};
      std::sort(column.begin(), column.end());
      double* below = &below_[s + g];
      double* above = &above_[s + g];
      below[0] = 0;
      for (long k = 0; k < n; ++k) {
        value_[s + k] = column[k].first;
        below[k + 1] = below[k] + column[k].second * column[k].first;
      }
      above[n] = 0;
      for (long k = n - 1; k >= 0; --k) above[k] = above[k + 1] + column[k].second;
      zero_coef_[g] = coef_sum[g % C] - above[0];
    }
  };
  const long tables = D * C;
  const long threads = std::max(1L, std::min<long>(available_cores(), total / 100000 + 1));
  std::vector<std::thread> pool;
  for (long t = 0; t < threads; ++t) pool.emplace_back(sort_tables, tables * t / threads, tables * (t + 1) / threads);
  for (auto& th : pool) th.join();
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
        for (long c = 0; c < C; ++c) {
          const long g = d * C + c, first = start_[g], last = start_[g + 1];
          // r = number of sorted values <= s: they contribute v, the others s.
          const long r = std::upper_bound(value_.begin() + first, value_.begin() + last, s) - (value_.begin() + first);
          t[c] = below_[first + g + r] + s * above_[first + g + r];
          if (s < 0) t[c] += s * zero_coef_[g];
        }
        break;
      case KernelType::chi2:
        for (long k = column_start_[d]; k < column_start_[d + 1]; ++k) {
          const double term = kernel_term(KernelType::chi2, column_value_[k], s);
          const double* a = &row_coef_[static_cast<size_t>(column_row_[k]) * C];
          for (long c = 0; c < C; ++c) t[c] += a[c] * term;
        }
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
  return negative_.size() + sizeof(double) * (rho_.size() + weight_.size() + value_.size() + below_.size() + above_.size() +
                           zero_coef_.size() + column_value_.size() + row_coef_.size()) +
         sizeof(long) * (start_.size() + column_start_.size()) + sizeof(int) * column_row_.size();
}

}  // namespace pixelwise
