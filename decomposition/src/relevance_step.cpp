#include "pixelwise/decomposition/relevance_step.hpp"

#include <stdexcept>
#include <utility>

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

}  // namespace pixelwise
