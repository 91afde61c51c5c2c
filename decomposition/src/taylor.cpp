#include "pixelwise/decomposition/taylor.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "pixelwise/classifiers/kernel_gradients.hpp"

namespace pixelwise {
namespace {

std::string number(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

bool opposite_signs(double a, double b) { return (a > 0 && b < 0) || (a < 0 && b > 0); }

}  // namespace

void TaylorOptions::validate() const {
  if (!(tolerance >= 0) || !std::isfinite(tolerance))
    throw std::invalid_argument("Taylor root search: the tolerance must be a number >= 0");
  if (scan_steps < 1) throw std::invalid_argument("Taylor root search: scan_steps must be at least 1");
  if (roots < 1) throw std::invalid_argument("Taylor root search: the number of references to try must be at least 1");
}

SegmentRoot find_root_on_segment(const std::function<double(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x,
                                 double fx, const Eigen::VectorXd& reference, double f_reference,
                                 const TaylorOptions& options) {
  options.validate();
  if (x.size() != reference.size())
    throw std::invalid_argument("root search: the reference point has dimension " + std::to_string(reference.size()) +
                                ", the input " + std::to_string(x.size()));
  const double tol = options.tolerance;
  auto at = [&](double a) -> Eigen::VectorXd { return a * x + (1.0 - a) * reference; };
  SegmentRoot r;
  if (std::abs(fx) <= tol) {  // x is itself a root
    r.point = x;
    r.a = 1;
    r.score = fx;
    return r;
  }
  if (!opposite_signs(fx, f_reference) && !(std::abs(f_reference) <= tol))
    throw std::runtime_error("root search: f(x) = " + number(fx) + " and f(reference) = " + number(f_reference) +
                             " do not have opposite signs, so the segment between them need not hold a root");
  const bool positive = fx > 0;
  // 1. Scan from x (a = 1) towards x' (a = 0) for the first step whose end
  //    has the other sign (or is already within the tolerance).
  double hi = 1.0, lo = 0.0;  // f(at(hi)) has the sign of f(x), f(at(lo)) the other
  for (int k = 1; k <= options.scan_steps; ++k) {
    const double a = k == options.scan_steps ? 0.0 : 1.0 - static_cast<double>(k) / options.scan_steps;
    double fa = f_reference;
    if (k < options.scan_steps) {
      fa = f(at(a));
      ++r.evaluations;
    }
    if (std::abs(fa) <= tol) {
      r.point = k == options.scan_steps ? reference : at(a);
      r.a = a;
      r.score = fa;
      return r;
    }
    if ((fa > 0) != positive) {
      lo = a;
      break;
    }
    hi = a;
  }
  // 2. Bisection of [lo, hi] until |f| <= tolerance.
  double best = std::abs(fx);
  for (;;) {
    const double mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi))
      throw std::runtime_error("root search: |f| on the segment stays at " + number(best) + ", above the tolerance " +
                               number(tol) + ", where double precision cannot halve the segment any further (a = " +
                               number(mid) + "); choose a larger tolerance");
    Eigen::VectorXd p = at(mid);
    const double fm = f(p);
    ++r.evaluations;
    best = std::min(best, std::abs(fm));
    if (std::abs(fm) <= tol) {
      r.point = std::move(p);
      r.a = mid;
      r.score = fm;
      return r;
    }
    if ((fm > 0) == positive)
      hi = mid;
    else
      lo = mid;
  }
}

SvmTaylorRelevance taylor_decompose_svm(const OneVsRestSvm& svm, int c, const Eigen::VectorXd& x,
                                        const ReferencePoints& references, const TaylorOptions& options) {
  options.validate();
  const BinaryMachine& m = svm.machine(c);
  if (x.size() != svm.dimension())
    throw std::invalid_argument("Taylor decomposition: input has dimension " + std::to_string(x.size()) +
                                ", the model expects " + std::to_string(svm.dimension()));
  const long candidates = references.points.rows();
  if (candidates == 0) throw std::runtime_error("Taylor decomposition: no reference point given (" + references.kind + ")");
  if (references.points.cols() != x.size())
    throw std::invalid_argument("Taylor decomposition: the reference points (" + references.kind + ") have dimension " +
                                std::to_string(references.points.cols()) + ", the model expects " +
                                std::to_string(x.size()));
  if (static_cast<long>(references.names.size()) != candidates)
    throw std::invalid_argument("Taylor decomposition: one name per reference point needed");

  // f_c with machine c's support vectors only; the same operations in the same
  // order as OneVsRestSvm::decision, so the values are identical.
  const Kernel& kernel = svm.kernel_function();
  auto f = [&](const Eigen::VectorXd& p) {
    double sum = 0;
    for (size_t i = 0; i < m.support.size(); ++i)
      sum += m.coef[i] * kernel(svm.support_vectors().row(m.support[i]).data(), p.data(), p.size());
    return sum - m.rho;
  };

  SvmTaylorRelevance out;
  out.score = f(x);
  // The nearest candidates whose score has the opposite sign (options.roots of
  // them); of their roots, the one nearest to x is kept.
  std::vector<std::pair<double, long>> order(candidates);
  for (long r = 0; r < candidates; ++r) order[r] = {(references.points.row(r).transpose() - x).squaredNorm(), r};
  std::sort(order.begin(), order.end());
  std::vector<std::pair<long, double>> chosen;  // (row, score)
  if (std::abs(out.score) <= options.tolerance) {
    const long r = order.front().second;  // x is itself a root; the reference is not used
    chosen.emplace_back(r, f(references.points.row(r).transpose()));
  } else {
    for (const auto& [distance, r] : order) {
      const double fr = f(references.points.row(r).transpose());
      ++out.evaluations;
      if (opposite_signs(out.score, fr)) chosen.emplace_back(r, fr);
      if (static_cast<int>(chosen.size()) == options.roots) break;
    }
  }
  if (chosen.empty())
    throw std::runtime_error(
        "Taylor decomposition: f(x) = " + number(out.score) + ", and " +
        (candidates == 1 ? "the " + references.kind + " (" + references.names[0] + ") has a score of the same sign (" +
                               number(f(references.points.row(0).transpose())) + ")"
                         : "none of the " + std::to_string(candidates) + " " + references.kind +
                               " has a score of the opposite sign") +
        ", so there is no root between them; choose another reference");
  out.root_distance = std::numeric_limits<double>::infinity();
  for (const auto& [r, fr] : chosen) {
    const Eigen::VectorXd reference = references.points.row(r).transpose();
    const SegmentRoot root = find_root_on_segment(f, x, out.score, reference, fr, options);
    out.evaluations += root.evaluations;
    const double distance = (x - root.point).norm();
    if (!(distance < out.root_distance)) continue;
    out.reference = reference;
    out.reference_name = references.names[r];
    out.reference_score = fr;
    out.reference_distance = (x - reference).norm();
    out.root = root.point;
    out.a = root.a;
    out.root_score = root.score;
    out.root_distance = distance;
  }
  out.gradient = decision_gradient(svm, c, out.root);

  // R_d = df/dx_d(x0) (x_d - x0_d); a dimension that does not move contributes
  // nothing, whatever the gradient there (Hellinger: infinite at 0).
  out.relevance = Eigen::VectorXd::Zero(x.size());
  for (long d = 0; d < x.size(); ++d) {
    const double step = x[d] - out.root[d];
    if (step == 0.0) continue;
    out.relevance[d] = out.gradient[d] * step;
    if (!std::isfinite(out.relevance[d]))
      throw std::runtime_error("Taylor decomposition: the gradient at the root is not finite in dimension " +
                               std::to_string(d) + " (kernel " + kernel.describe() + ")");
  }
  out.first_order_sum = out.relevance.sum();
  out.layer.name = "svm";
  out.layer.relevance_in = out.score;
  out.layer.relevance_out = out.first_order_sum;
  out.layer.absorbed = out.residual();  // f(x0) + higher-order terms stay at the top
  return out;
}

}  // namespace pixelwise
