#include "pixelwise/decomposition/svm_relevance.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace pixelwise {

const EnumNames<BiasPolicy>& enum_names(BiasPolicy) {
  static const EnumNames<BiasPolicy> names{
      {BiasPolicy::none, "none"}, {BiasPolicy::uniform, "uniform"}, {BiasPolicy::nonzero, "nonzero"}};
  return names;
}

BiasPolicy parse_bias_policy(const std::string& name) { return parse_enum<BiasPolicy>(name, "bias policy"); }

std::string bias_policy_name(BiasPolicy policy) { return name_of(policy); }

Relevance decompose_svm(const OneVsRestSvm& svm, int c, const Eigen::VectorXd& x, BiasPolicy policy) {
  return decompose_svm(svm.kernel_terms(c, x), svm.decision(c, x), svm.machine(c).bias(), x, policy);
}

Relevance decompose_svm(Eigen::VectorXd terms, double score, double bias, const Eigen::VectorXd& x,
                           BiasPolicy policy) {
  if (terms.size() != x.size())
    throw std::invalid_argument("svm relevance: " + std::to_string(terms.size()) + " kernel terms for an input of " +
                                std::to_string(x.size()));
  const double b = bias;
  Relevance out;
  out.relevance = std::move(terms);
  const long V = x.size();
  const long present = (x.array() != 0.0).count();
  double shared = 0;
  if (policy == BiasPolicy::uniform && V > 0) {
    out.relevance.array() += b / V;
    shared = b;
  } else if (policy == BiasPolicy::nonzero && present > 0) {
    const double share = b / present;
    for (long d = 0; d < V; ++d)
      if (x[d] != 0.0) out.relevance[d] += share;
    shared = b;
  }
  out.account.name = "svm";
  out.account.absorbed = b - shared;  // policy none (or an empty histogram): the bias stays at the top
  close_account(out.account, score, out.relevance.sum());
  return out;
}

}  // namespace pixelwise
