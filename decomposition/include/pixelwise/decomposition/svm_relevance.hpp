#pragma once
// Exact decomposition of an additive-kernel SVM decision onto histogram bins
// (docs/design.md 1.4): R_d = sum_i alpha_i y_i k_d(x_i,d, x_d) + beta_d.
#include <Eigen/Core>
#include <string>

#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/decomposition/relevance_step.hpp"

namespace pixelwise {

/// Where the bias b goes: nowhere (none), b / V on every bin (uniform), or
/// b / |{d : x_d != 0}| on the bins present in the image (nonzero, default).
enum class BiasPolicy { none, uniform, nonzero };
const EnumNames<BiasPolicy>& enum_names(BiasPolicy);
BiasPolicy parse_bias_policy(const std::string& name);
std::string bias_policy_name(BiasPolicy policy);

/// One value per histogram dimension; account "svm" (in: f(x); absorbed: the bias
/// the policy does not share).
Relevance decompose_svm(const OneVsRestSvm& svm, int c, const Eigen::VectorXd& x, BiasPolicy policy);
/// The same from a forward record: terms_d = sum_i coef_i k_d(x_i,d, x_d) and
/// the decision f(x) = score of a machine with bias b, e.g. the per-bin terms
/// of OneVsRestSvm::evaluate_additive, computed in the pass that gave the score.
Relevance decompose_svm(Eigen::VectorXd terms, double score, double bias, const Eigen::VectorXd& x,
                           BiasPolicy policy);


}  // namespace pixelwise
