#pragma once
// Relevance for layered networks (docs/design.md 1.7; Bach et al. 2015, eqs. 56,
// 58, 60): LRP rules built from small parts, composites (a rule per layer),
// whole-network Taylor decomposition at a root point, and sensitivity.
//
// A rule for an affine map z_j = sum_i x_i w_ij + b_j is a list of parts. A
// part p has a coefficient c_p, terms t (a sign, an input modifier a_t and a
// weight modifier g_t), a bias modifier h and a stabiliser eps:
//
//   z^p_j = sum_t sign_t sum_i a_t(x)_i g_t(w)_ij + h(b)_j
//   R_i   = sum_p c_p sum_t sign_t a_t(x)_i sum_j g_t(w)_ij R_j / (z^p_j + eps s(z^p_j))
//
// with s(0) = +1. The part coefficients sum to 1. A part whose denominator is
// exactly 0 passes nothing for that j: its share c_p R_j is reported as
// unassigned; the bias share c_p R_j (h(b)_j + eps s) / (z^p_j + eps s) is
// reported as absorbed.
//   LRP-0        one part: (x, w), bias b, eps 0
//   epsilon      one part: (x, w), bias b, eps
//   alpha-beta   c = alpha: (x+, w+) + (x-, w-), bias b+;  c = -beta: (x+, w-) + (x-, w+), bias b-
//                (public convention alpha - beta = 1, beta >= 0; z+ is alpha 1, beta 0)
//   w^2          one part: (1, w^2), no bias;  flat: (1, 1), no bias
//   z^B          one part: (x, w) - (l, w+) - (h, w-), no bias (inputs bounded in [l, h])
//
// Pooling layers are seen by the rules as affine maps with unit weights and no
// bias: sum pooling uses the unscaled window sum S_j (its 1/sqrt(h*w) factor
// only scales forward values, as in the LRP Toolbox), so epsilon is added to
// S_j. Max pooling is winner-take-all for rules that read the input (ties
// split equally) and uniform over the window for w^2 and flat. Rect, Tanh and
// Flatten pass relevance unchanged; a SoftMax can only be the last layer and
// is not explained (the explained score is pre-softmax).
#include <Eigen/Core>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/decomposition/accounting.hpp"
#include "pixelwise/decomposition/relevance_step.hpp"
#include "pixelwise/decomposition/taylor.hpp"

namespace pixelwise {

enum class InputModifier { identity, positive, negative, ones, lower_bound, upper_bound };
enum class WeightModifier { identity, positive, negative, square, ones };
enum class BiasModifier { identity, positive, negative, zero };

struct RuleTerm {
  double sign = 1;
  InputModifier input = InputModifier::identity;
  WeightModifier weight = WeightModifier::identity;
};

struct RulePart {
  double coefficient = 1;
  std::vector<RuleTerm> terms;
  BiasModifier bias = BiasModifier::identity;
  double epsilon = 0;
};

/// Value bounds [low, high] of a network's input (for z^B).
using InputBounds = std::optional<std::pair<double, double>>;

class LrpRule {
 public:
  /// A rule from parts. `lower` and `upper` are the z^B bounds (one value for
  /// every input, or one per input), needed only when a term reads them.
  /// Throws std::invalid_argument when the coefficients do not sum to 1.
  LrpRule(std::string name, std::vector<RulePart> parts, Eigen::VectorXd lower = {}, Eigen::VectorXd upper = {});

  static LrpRule lrp0();
  static LrpRule epsilon(double eps);
  /// Public convention alpha - beta = 1, beta >= 0; anything else is rejected.
  static LrpRule alpha_beta(double alpha, double beta);
  static LrpRule z_plus();
  static LrpRule w_square();
  static LrpRule flat();
  static LrpRule z_box(Eigen::VectorXd lower, Eigen::VectorXd upper);
  static LrpRule z_box(double lower, double upper);

  /// "lrp0", "epsilon[:EPS]" (default 0.01), "alpha-beta[:ALPHA,BETA]" (default
  /// 2,1), "z+", "w2", "flat", "zb[:LOW,HIGH]" (default: `bounds`).
  static LrpRule parse(const std::string& spec, const InputBounds& bounds = {});

  const std::string& name() const { return name_; }
  const std::vector<RulePart>& parts() const { return parts_; }
  /// false for rules that ignore the input values (w^2, flat).
  bool uses_input() const;
  const Eigen::VectorXd& lower() const { return lower_; }
  const Eigen::VectorXd& upper() const { return upper_; }

 private:
  std::string name_;
  std::vector<RulePart> parts_;
  Eigen::VectorXd lower_, upper_;
};

/// Which rule each layer uses. Selectors: a layer index, "first" (the first
/// Linear or Convolution), "linear", "conv", "sumpool", "maxpool", "*".
/// Precedence: index, first, kind, "*". The BoW layers below a classifier
/// (bow_relevance.hpp) take theirs by the selectors "pooling" and "pixels",
/// which "*" does not cover: a composite of network rules leaves them their own.
class Composite {
 public:
  Composite() = default;
  explicit Composite(const LrpRule& rule);
  Composite& set(const std::string& selector, const LrpRule& rule);

  /// A preset name (presets()), a rule spec (for every layer) or
  /// "SELECTOR=RULE;SELECTOR=RULE;...". `bounds` fills in "zb" without numbers.
  static Composite parse(const std::string& spec, const InputBounds& bounds = {});
  /// Preset names with their specs.
  static const std::vector<std::pair<std::string, std::string>>& presets();

  /// The rule of layer k; nullptr for layers that need none (Rect, Tanh,
  /// Flatten, SoftMax). Throws when an affine or pooling layer has no rule.
  const LrpRule* rule_for(const Network& network, int k) const;
  /// The rule set for exactly this selector (no "*" fallback); nullptr if none.
  const LrpRule* rule_for_selector(const std::string& selector) const;
  /// The selectors set, in order.
  std::vector<std::string> selectors() const;
  /// "SELECTOR=RULE;..." in the order the entries were set.
  std::string spec() const;

 private:
  std::vector<std::pair<std::string, LrpRule>> entries_;
};

struct LrpOptions {
  bool ignore_bias = false;  ///< drop every bias from the denominators (default: absorbed and reported)
};

/// An affine map as the rules see it: z = A_g(a) for a modified input a and
/// modified weights g, its transpose, and the bias of every output unit. Dense
/// and convolutional layers, pooling windows and the BoW pooling layer
/// (bow_relevance.hpp) are views, so one apply_rule serves them all.
class RuleView {
 public:
  virtual ~RuleView() = default;
  virtual Eigen::RowVectorXd apply(const Eigen::RowVectorXd& a, WeightModifier g) const = 0;
  virtual Eigen::RowVectorXd transposed(const Eigen::RowVectorXd& s, WeightModifier g) const = 0;
  virtual Eigen::RowVectorXd bias() const = 0;
  /// Scale of the stabiliser per output unit: the rule adds eps * scale_j *
  /// sign(z_j) to z_j. Empty (the default) means scale 1 for every unit; the
  /// Fisher/VLAD mapping scales eps by the mean |z| of each dimension
  /// (docs/design.md 1.8).
  virtual Eigen::RowVectorXd stabiliser_scale() const { return {}; }
};

/// The generic rule (see the top of this header) on a view with input x and
/// output relevance R: the relevance of every input; adds what the rule
/// absorbed and could not pass to `account`.
Eigen::RowVectorXd apply_rule(const RuleView& view, const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& R,
                              const LrpRule& rule, const LrpOptions& options, LayerRelevance& account);

/// One layer's relevance rule: x is the layer's input (one sample), y its
/// output, `relevance` the relevance of its output. `rule` may be nullptr for
/// layers that pass relevance unchanged. The account is closed.
Relevance propagate_layer(const Layer& layer, const TensorShape& in, const Eigen::RowVectorXd& x,
                          const Eigen::RowVectorXd& y, const Eigen::RowVectorXd& relevance, const LrpRule* rule,
                          const LrpOptions& options = {});

/// Layer k of a network bound to its forward record of one sample: the
/// relevance step of the layer contract (relevance_step.hpp). Its account is
/// named "k <layer> [rule]".
class NetworkLayerStep : public RelevanceStep {
 public:
  NetworkLayerStep(const Network& network, int k, const Network::Record& record, const LrpOptions& options)
      : network_(network), k_(k), record_(record), options_(options) {}
  std::string selector() const override;
  Relevance relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const override;

 private:
  const Network& network_;
  int k_;
  const Network::Record& record_;
  LrpOptions options_;
};

/// The steps of a network's layers for one forward record, top layer first.
Steps network_steps(const Network& network, const Network::Record& record, const LrpOptions& options = {});

struct NetworkRelevance {
  Eigen::VectorXd scores;  ///< pre-softmax outputs
  int predicted = 0;       ///< arg max of scores
  int class_index = 0;     ///< the explained output
  double score = 0;        ///< scores[class_index]
  Eigen::VectorXd input;   ///< relevance of every input value (NHWC order)
  /// One entry per layer, top layer first: the sum it received, passed on,
  /// absorbed (bias, epsilon) and could not pass (zero denominators).
  std::vector<LayerRelevance> layers;
  std::vector<std::string> rules;  ///< rule name per layer in network order ("" for pass-through layers)
  double input_sum() const { return input.sum(); }
};

/// Relevance of the given output relevance (one value per score) carried down
/// to the input through a record of one sample (Network::forward_record).
/// Use this when relevance comes from above the network (e.g. a BoW pipeline).
NetworkRelevance propagate_relevance(const Network& network, const Network::Record& record,
                                     const Eigen::VectorXd& output_relevance, const Composite& composite,
                                     const LrpOptions& options = {});

/// Explains output `class_index` (-1: the arg max) for one input x of shape
/// `in`: the initial relevance is the score at that output, 0 elsewhere.
NetworkRelevance explain_lrp(const Network& network, const Eigen::VectorXd& x, const TensorShape& in,
                             int class_index, const Composite& composite, const LrpOptions& options = {});

struct NetworkTaylorOptions {
  /// Candidate reference points x' (same size as x); those with f(x') of the
  /// opposite sign of f(x) give a root on the segment x' -> x.
  std::vector<Eigen::VectorXd> references;
  /// Also try the constant inputs low, high and (low + high)/2.
  InputBounds bounds;
  /// Also walk from x against the gradient (doubling steps) until f changes sign.
  bool search_gradient_direction = true;
  /// Tolerance and scan of the root search on each segment (find_root_on_segment, taylor.hpp).
  TaylorOptions root_search;
};

struct NetworkTaylorDecomposition {
  Eigen::VectorXd scores;
  int predicted = 0, class_index = 0;
  double score = 0;          ///< f(x)
  Eigen::VectorXd root;      ///< x0 with |f(x0)| <= tolerance, the root closest to x among those found
  double root_score = 0;     ///< f(x0)
  Eigen::VectorXd gradient;  ///< df/dx at x0
  Eigen::VectorXd relevance; ///< R_i = df/dx_i(x0) (x_i - x0_i)
  std::string reference;     ///< which candidate gave the root
  /// f(x) - f(x0) - sum_i R_i: the higher-order Taylor terms.
  double remainder() const { return score - root_score - relevance.sum(); }
};

/// First-order Taylor decomposition of f = score of `class_index` (-1: arg max)
/// at a root point (docs/design.md 1.4 and 1.7; paper Fig 11): every candidate with
/// a score of the opposite sign gives the root nearest to x on its segment
/// (find_root_on_segment); the root closest to x wins. Throws
/// std::runtime_error when no candidate has a score of the opposite sign.
NetworkTaylorDecomposition taylor_decompose_network(const Network& network, const Eigen::VectorXd& x,
                                                    const TensorShape& in, int class_index,
                                                    const NetworkTaylorOptions& options = {});

/// Sensitivity baseline: (d f / d x_i)^2 at x.
Eigen::VectorXd sensitivity(const Network& network, const Eigen::VectorXd& x, const TensorShape& in, int class_index);

}  // namespace pixelwise
