#pragma once
// The contract every layer keeps (docs/design.md section 2), for BoW stages and
// network layers alike:
//   forward(input) -> output, plus a record of what the layer's rule needs;
//   relevance(record, upper relevance, rule) -> lower relevance, plus what the
//   step absorbed (a bias, a stabiliser) or could not pass on (unassigned).
// A RelevanceStep is a layer bound to the record of one forward pass. An
// explanation is the loop `propagate` over steps, top layer first; it is the
// one place where the per-layer accounts (relevance_in, relevance_out,
// absorbed, unassigned) are closed.
#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pixelwise/decomposition/accounting.hpp"

namespace pixelwise {

class LrpRule;

/// What one step passes to the layer below, with its account. A pixel map is
/// carried as a row-major H x W vector.
struct Relevance {
  Eigen::VectorXd relevance;
  LayerRelevance account;
  /// Optional breakdown of the step into parts (e.g. the channels of a
  /// multi-channel BoW pipeline), each with its own closed account and its
  /// share of the lower relevance.
  struct Part {
    LayerRelevance account;
    Eigen::VectorXd relevance;
  };
  std::vector<Part> parts;
  /// A step that is itself a chain (a network classifier on BoW histograms)
  /// reports its layers here, top first, instead of one account.
  std::vector<LayerRelevance> layers;
};

/// Sets account.relevance_in and relevance_out from what a step received and
/// passed on; absorbed and unassigned are the step's own.
void close_account(LayerRelevance& account, double received, double passed_on);

class RelevanceStep {
 public:
  virtual ~RelevanceStep() = default;
  /// Composite selector of this kind of layer ("linear", "conv", "sumpool",
  /// "maxpool", "pooling", "pixels", "classifier"); "" for a layer that takes
  /// no rule (Rect, Tanh, Flatten).
  virtual std::string selector() const = 0;
  /// The lower relevance of `upper` under `rule` (nullptr: the layer's own
  /// rule). Fills the account's name, absorbed and unassigned; `propagate`
  /// closes in and out.
  virtual Relevance relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const = 0;
};

using Steps = std::vector<std::unique_ptr<RelevanceStep>>;

/// A classifier layer on a BoW histogram as a relevance step (docs/design.md 1.4,
/// 1.7) for one explained decision f(x): its input is that decision's
/// relevance (one value), its output the histogram bins. Its record is the
/// classifier's decomposition r of f(x) itself, made with the forward pass:
/// the per-bin kernel terms with the bias share of the policy (exact, additive
/// kernels), the first-order Taylor terms at a root point (any kernel), or a
/// network's LRP pass (then `layers` holds its layer accounts). Relevance R
/// from above gives (R / f(x)) r -- every rule is linear in the relevance it
/// passes -- which is r itself for R = f(x). The bias policy, the Taylor root
/// or the network composite is the classifier's rule, chosen with the
/// decomposition, so the step takes no further rule.
class ClassifierStep : public RelevanceStep {
 public:
  ClassifierStep(Relevance decomposition, double score) : record_(std::move(decomposition)), score_(score) {}
  std::string selector() const override { return "classifier"; }
  Relevance relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const override;

 private:
  Relevance record_;
  double score_;
};

/// The rule of step k (top first), or nullptr for its own.
using RuleChoice = std::function<const LrpRule*(const RelevanceStep& step, int k)>;

struct Propagation {
  /// relevance[0] is the top relevance given, relevance[k + 1] what step k passed down.
  std::vector<Eigen::VectorXd> relevance;
  std::vector<LayerRelevance> layers;           ///< one per step (or a chain step's layers), top first
  std::vector<std::vector<Relevance::Part>> parts;  ///< per step, its parts (often none)
  const Eigen::VectorXd& lowest() const { return relevance.back(); }
};

/// Carries `top` down through `steps` (top first).
Propagation propagate(const Steps& steps, Eigen::VectorXd top, const RuleChoice& rules = {});

}  // namespace pixelwise
