// Baselines for layered networks (docs/design.md 1.7): whole-network first-order
// Taylor decomposition at a root point (the root search of the kernel SVMs,
// docs/design.md 1.4, taylor.hpp; paper Fig 11), and sensitivity (squared gradient).
#include <cmath>
#include <limits>
#include <stdexcept>

#include "pixelwise/decomposition/network_lrp.hpp"

namespace pixelwise {
namespace {

bool opposite(double a, double b) { return (a > 0 && b < 0) || (a < 0 && b > 0); }

}  // namespace

NetworkTaylorDecomposition taylor_decompose_network(const Network& network, const Eigen::VectorXd& x,
                                                    const TensorShape& in, int class_index,
                                                    const NetworkTaylorOptions& options) {
  options.root_search.validate();
  NetworkTaylorDecomposition t;
  t.scores = network.scores(x.transpose(), in).row(0).transpose();
  t.scores.maxCoeff(&t.predicted);
  t.class_index = class_index < 0 ? t.predicted : class_index;
  if (t.class_index >= t.scores.size())
    throw std::out_of_range("output " + std::to_string(t.class_index) + " does not exist (the network has " +
                            std::to_string(t.scores.size()) + " outputs)");
  const int c = t.class_index;
  auto f = [&](const Eigen::VectorXd& v) { return network.scores(v.transpose(), in)(0, c); };
  auto gradient = [&](const Eigen::VectorXd& v) -> Eigen::VectorXd {
    return network.gradient(v.transpose(), in, c).row(0).transpose();
  };
  t.score = t.scores[c];
  const double tol = options.root_search.tolerance;

  // Candidate reference points, each with a name for the report.
  std::vector<std::pair<std::string, Eigen::VectorXd>> candidates;
  for (size_t r = 0; r < options.references.size(); ++r) {
    if (options.references[r].size() != x.size())
      throw std::invalid_argument("Taylor decomposition: reference point " + std::to_string(r) + " has " +
                                  std::to_string(options.references[r].size()) + " values, the input " +
                                  std::to_string(x.size()));
    candidates.emplace_back("reference " + std::to_string(r), options.references[r]);
  }
  if (options.bounds) {
    const auto [low, high] = *options.bounds;
    for (double level : {low, high, 0.5 * (low + high)})
      candidates.emplace_back("constant input " + std::to_string(level), Eigen::VectorXd::Constant(x.size(), level));
  }

  bool found = false;
  double best_distance = std::numeric_limits<double>::infinity();
  auto consider = [&](const std::string& name, const Eigen::VectorXd& ref, double fref) {
    const SegmentRoot root = find_root_on_segment(f, x, t.score, ref, fref, options.root_search);
    const double d = (root.point - x).norm();
    if (d < best_distance) {
      best_distance = d;
      t.root = root.point;
      t.root_score = root.score;
      t.reference = name;
      found = true;
    }
  };
  if (std::abs(t.score) <= tol) {
    consider("the input itself (f(x) = 0)", x, t.score);
  } else {
    for (const auto& [name, ref] : candidates) {
      const double fref = f(ref);
      if (opposite(t.score, fref) || std::abs(fref) <= tol) consider(name, ref, fref);
    }
    if (options.search_gradient_direction) {
      // Walk against the score's sign along the gradient, doubling the step
      // from where the linearisation at x reaches 0.
      const Eigen::VectorXd g = gradient(x);
      const double gn = g.norm();
      if (gn > 0) {
        const Eigen::VectorXd direction = (t.score > 0 ? -1.0 : 1.0) * g / gn;
        double step = std::abs(t.score) / gn;
        for (int k = 0; k < 40; ++k, step *= 2) {
          const Eigen::VectorXd ref = x + step * direction;
          const double fref = f(ref);
          if (opposite(t.score, fref) || std::abs(fref) <= tol) {
            consider("gradient direction, distance " + std::to_string(step), ref, fref);
            break;
          }
        }
      }
    }
  }
  if (!found)
    throw std::runtime_error("Taylor decomposition: no reference point with a score of the opposite sign of f(x) = " +
                             std::to_string(t.score) + " was found; give reference points");
  t.gradient = gradient(t.root);
  t.relevance = t.gradient.cwiseProduct(x - t.root);
  return t;
}

Eigen::VectorXd sensitivity(const Network& network, const Eigen::VectorXd& x, const TensorShape& in, int class_index) {
  int c = class_index;
  if (c < 0) network.scores(x.transpose(), in).row(0).maxCoeff(&c);
  return network.gradient(x.transpose(), in, c).row(0).transpose().cwiseAbs2();
}

}  // namespace pixelwise
