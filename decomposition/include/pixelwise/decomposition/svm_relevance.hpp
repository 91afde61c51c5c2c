#pragma once
// Exact decomposition of an additive-kernel SVM decision onto histogram bins
// (DESIGN.md 1.4): R_d = sum_i alpha_i y_i k_d(x_i,d, x_d) + beta_d.
#include <Eigen/Core>
#include <string>

#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/decomposition/relevance_step.hpp"

namespace pixelwise {

/// Where the bias b goes: nowhere (none), b / V on every bin (uniform), or
/// b / |{d : x_d != 0}| on the bins present in the image (nonzero, default).
enum class BiasPolicy { none, uniform, nonzero };
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

/// The SVM layer of a BoW pipeline as a relevance step (DESIGN.md 1.4) for one
/// explained decision f(x): its input is that decision's relevance (one value),
/// its output the histogram bins. Its record is the decomposition r of f(x)
/// itself, made in the forward pass: the per-bin kernel terms with the bias
/// share of the policy (exact, additive kernels; decompose_svm) or the
/// first-order Taylor terms at a root point (any kernel; taylor.hpp), with
/// what stays at the top as `absorbed`. Relevance R from above gives
/// R_d = (R / f(x)) r_d, which is r_d itself for R = f(x). The bias policy or
/// the Taylor root is this layer's rule, so it takes no LRP rule.
class SvmStep : public RelevanceStep {
 public:
  SvmStep(Relevance decomposition, double score) : record_(std::move(decomposition)), score_(score) {}
  std::string selector() const override { return "svm"; }
  Relevance relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const override;

 private:
  Relevance record_;
  double score_;
};

}  // namespace pixelwise
