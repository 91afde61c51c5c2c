#include "pixelwise/decomposition/relevance_step.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "pixelwise/decomposition/network_lrp.hpp"

namespace pixelwise {

void close_account(LayerRelevance& account, double received, double passed_on) {
  account.relevance_in = received;
  account.relevance_out = passed_on;
}

Propagation propagate(const Steps& steps, Eigen::VectorXd top, const RuleChoice& rules) {
  Propagation p;
  p.relevance.reserve(steps.size() + 1);
  p.relevance.push_back(std::move(top));
  for (size_t k = 0; k < steps.size(); ++k) {
    const RelevanceStep& step = *steps[k];
    const LrpRule* rule = rules ? rules(step, static_cast<int>(k)) : nullptr;
    Relevance r = step.relevance(p.relevance.back(), rule);
    if (r.layers.empty()) {
      close_account(r.account, p.relevance.back().sum(), r.relevance.sum());
      p.layers.push_back(std::move(r.account));
    } else {
      // A chain step closed its layers' accounts itself (it is a propagation).
      for (auto& layer : r.layers) p.layers.push_back(std::move(layer));
    }
    p.parts.push_back(std::move(r.parts));
    p.relevance.push_back(std::move(r.relevance));
  }
  return p;
}

Relevance ClassifierStep::relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const {
  if (rule)
    throw std::invalid_argument("the classifier layer is decomposed by its own rule (bias policy, Taylor root or "
                                "network composite); it takes no further rule \"" + rule->name() + "\"");
  if (upper.size() != 1)
    throw std::invalid_argument("classifier relevance: one explained decision expected, got " +
                                std::to_string(upper.size()) + " values");
  Relevance out = record_;
  if (upper[0] == score_) return out;
  // Relevance other than f(x) scales the decomposition; a zero score has none to scale.
  const double scale = score_ != 0 ? upper[0] / score_ : 0.0;
  auto scaled = [&](LayerRelevance& a) {
    a.relevance_in *= scale;
    a.relevance_out *= scale;
    a.absorbed *= scale;
    a.unassigned *= scale;
  };
  out.relevance *= scale;
  scaled(out.account);
  for (auto& layer : out.layers) scaled(layer);
  if (score_ == 0) (out.layers.empty() ? out.account : out.layers.front()).unassigned += upper[0];
  return out;
}
}  // namespace pixelwise
