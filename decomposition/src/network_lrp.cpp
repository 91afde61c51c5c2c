// LRP rules, composites and the layer-by-layer relevance pass for layered
// networks (docs/design.md 1.7; Bach et al. 2015 eqs. 56, 58, 60).
#include "pixelwise/decomposition/network_lrp.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace pixelwise {
namespace {

std::string format_number(double v) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(v);
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

double parse_double(const std::string& text, const std::string& spec) {
  double v = 0;
  const std::string t = trim(text);
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v))
    throw std::invalid_argument("rule \"" + spec + "\": \"" + t + "\" is not a finite number");
  return v;
}

bool uses_bounds(const RulePart& part) {
  for (const auto& t : part.terms)
    if (t.input == InputModifier::lower_bound || t.input == InputModifier::upper_bound) return true;
  return false;
}

double sign_of(double z) { return z >= 0 ? 1.0 : -1.0; }  // s(0) = +1

// ------------------------------------------------------------ rule views
class WeightedView : public RuleView {
 public:
  WeightedView(const AffineLayer& layer, const TensorShape& in) : layer_(layer), in_(in) {}
  Eigen::RowVectorXd apply(const Eigen::RowVectorXd& a, WeightModifier g) const override {
    return layer_.apply(a, in_, weights(g));
  }
  Eigen::RowVectorXd transposed(const Eigen::RowVectorXd& s, WeightModifier g) const override {
    return layer_.apply_transposed(s, in_, weights(g));
  }
  Eigen::RowVectorXd bias() const override { return layer_.expanded_bias(in_); }

 private:
  const RowMatrixXd& weights(WeightModifier g) const {
    auto& slot = cache_[static_cast<size_t>(g)];
    if (!slot) {
      const RowMatrixXd& W = layer_.weights;
      switch (g) {
        case WeightModifier::identity: slot = std::make_unique<RowMatrixXd>(W); break;
        case WeightModifier::positive: slot = std::make_unique<RowMatrixXd>(W.cwiseMax(0.0)); break;
        case WeightModifier::negative: slot = std::make_unique<RowMatrixXd>(W.cwiseMin(0.0)); break;
        case WeightModifier::square: slot = std::make_unique<RowMatrixXd>(W.cwiseAbs2()); break;
        case WeightModifier::ones:
          slot = std::make_unique<RowMatrixXd>(RowMatrixXd::Ones(W.rows(), W.cols()));
          break;
      }
    }
    return *slot;
  }
  const AffineLayer& layer_;
  TensorShape in_;
  mutable std::array<std::unique_ptr<RowMatrixXd>, 5> cache_;
};

// Pooling windows with unit weights: w = w+ = w^2 = 1, w- = 0, no bias.
class WindowView : public RuleView {
 public:
  WindowView(const PoolLayer& pool, const TensorShape& in) : pool_(pool), in_(in), out_(pool.output_shape(in)) {}
  Eigen::RowVectorXd apply(const Eigen::RowVectorXd& a, WeightModifier g) const override {
    if (g == WeightModifier::negative) return Eigen::RowVectorXd::Zero(out_.size());
    return pool_.window_sum(a, in_);
  }
  Eigen::RowVectorXd transposed(const Eigen::RowVectorXd& s, WeightModifier g) const override {
    if (g == WeightModifier::negative) return Eigen::RowVectorXd::Zero(in_.size());
    return pool_.window_spread(s, in_);
  }
  Eigen::RowVectorXd bias() const override { return Eigen::RowVectorXd::Zero(out_.size()); }

 private:
  const PoolLayer& pool_;
  TensorShape in_, out_;
};

Eigen::RowVectorXd bound_vector(const Eigen::VectorXd& bound, long size, const std::string& rule) {
  if (bound.size() == 1) return Eigen::RowVectorXd::Constant(size, bound[0]);
  if (bound.size() != size)
    throw std::invalid_argument("rule " + rule + ": " + std::to_string(bound.size()) + " bounds for a layer with " +
                                std::to_string(size) + " inputs");
  return bound.transpose();
}

const std::vector<std::string>& selector_names() {
  static const std::vector<std::string> names{"first", "linear", "conv", "sumpool", "maxpool", "pooling", "pixels", "*"};
  return names;
}

bool is_index(const std::string& s) {
  return !s.empty() && s.size() < 7 && s.find_first_not_of("0123456789") == std::string::npos;
}

std::string kind_selector(LayerKind kind) {
  switch (kind) {
    case LayerKind::linear: return "linear";
    case LayerKind::convolution: return "conv";
    case LayerKind::sum_pool: return "sumpool";
    case LayerKind::max_pool: return "maxpool";
    default: return "";
  }
}

}  // namespace

// ------------------------------------------------------------------ rules

// The generic rule (see the header): parts, terms, stabiliser, accounting.
Eigen::RowVectorXd apply_rule(const RuleView& view, const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& R,
                              const LrpRule& rule, const LrpOptions& options, LayerRelevance& account) {
  Eigen::RowVectorXd low, high;
  bool bounded = false;
  for (const auto& part : rule.parts()) bounded = bounded || uses_bounds(part);
  if (bounded) {
    low = bound_vector(rule.lower(), x.size(), rule.name());
    high = bound_vector(rule.upper(), x.size(), rule.name());
    for (long i = 0; i < x.size(); ++i) {
      const double slack = 1e-12 * (std::abs(low[i]) + std::abs(high[i]));
      if (!(x[i] >= low[i] - slack && x[i] <= high[i] + slack))
        throw std::invalid_argument("rule " + rule.name() + ": input " + std::to_string(i) + " = " +
                                    format_number(x[i]) + " lies outside its bounds [" + format_number(low[i]) + ", " +
                                    format_number(high[i]) + "]");
    }
  }
  auto modified_input = [&](InputModifier m) -> Eigen::RowVectorXd {
    switch (m) {
      case InputModifier::identity: return x;
      case InputModifier::positive: return x.cwiseMax(0.0);
      case InputModifier::negative: return x.cwiseMin(0.0);
      case InputModifier::ones: return Eigen::RowVectorXd::Ones(x.size());
      case InputModifier::lower_bound: return low;
      case InputModifier::upper_bound: return high;
    }
    return x;
  };
  const Eigen::RowVectorXd b = view.bias();
  const Eigen::RowVectorXd scale = view.stabiliser_scale();
  Eigen::RowVectorXd lower = Eigen::RowVectorXd::Zero(x.size());
  for (const auto& part : rule.parts()) {
    BiasModifier bias_mod = options.ignore_bias ? BiasModifier::zero : part.bias;
    Eigen::RowVectorXd hb;
    switch (bias_mod) {
      case BiasModifier::identity: hb = b; break;
      case BiasModifier::positive: hb = b.cwiseMax(0.0); break;
      case BiasModifier::negative: hb = b.cwiseMin(0.0); break;
      case BiasModifier::zero: hb = Eigen::RowVectorXd::Zero(b.size()); break;
    }
    std::vector<Eigen::RowVectorXd> inputs;
    Eigen::RowVectorXd z = hb;
    for (const auto& term : part.terms) {
      inputs.push_back(modified_input(term.input));
      z += term.sign * view.apply(inputs.back(), term.weight);
    }
    Eigen::RowVectorXd s(z.size());
    for (long j = 0; j < z.size(); ++j) {
      const double stab = part.epsilon * (scale.size() ? scale[j] : 1.0) * sign_of(z[j]);
      const double den = z[j] + stab;
      const double share = part.coefficient * R[j];
      if (den == 0) {
        s[j] = 0;
        account.unassigned += share;
      } else {
        s[j] = R[j] / den;
        account.absorbed += share * (hb[j] + stab) / den;
      }
    }
    for (size_t t = 0; t < part.terms.size(); ++t)
      lower += (part.coefficient * part.terms[t].sign) *
               inputs[t].cwiseProduct(view.transposed(s, part.terms[t].weight));
  }
  return lower;
}



LrpRule::LrpRule(std::string name, std::vector<RulePart> parts, Eigen::VectorXd lower, Eigen::VectorXd upper)
    : name_(std::move(name)), parts_(std::move(parts)), lower_(std::move(lower)), upper_(std::move(upper)) {
  if (parts_.empty()) throw std::invalid_argument("rule " + name_ + ": no parts");
  double total = 0, magnitude = 0;
  bool bounded = false;
  for (const auto& p : parts_) {
    if (p.terms.empty()) throw std::invalid_argument("rule " + name_ + ": a part without terms");
    if (!(p.epsilon >= 0) || !std::isfinite(p.epsilon))
      throw std::invalid_argument("rule " + name_ + ": epsilon must be a finite number >= 0, got " +
                                  format_number(p.epsilon));
    if (!std::isfinite(p.coefficient)) throw std::invalid_argument("rule " + name_ + ": coefficient not finite");
    total += p.coefficient;
    magnitude += std::abs(p.coefficient);
    bounded = bounded || uses_bounds(p);
  }
  if (std::abs(total - 1) > 1e-12 * std::max(1.0, magnitude))
    throw std::invalid_argument("rule " + name_ + ": the part coefficients sum to " + format_number(total) +
                                ", not 1, so the rule would not pass on the relevance it receives");
  if (bounded) {
    if (lower_.size() == 0 || lower_.size() != upper_.size())
      throw std::invalid_argument("rule " + name_ + ": needs lower and upper bounds of the same size");
    if (!lower_.allFinite() || !upper_.allFinite() || (lower_.array() > upper_.array()).any())
      throw std::invalid_argument("rule " + name_ + ": every lower bound must be finite and <= its upper bound");
  }
}

bool LrpRule::uses_input() const {
  for (const auto& p : parts_)
    for (const auto& t : p.terms)
      if (t.input != InputModifier::ones) return true;
  return false;
}

LrpRule LrpRule::lrp0() { return LrpRule("lrp0", {RulePart{1, {RuleTerm{}}, BiasModifier::identity, 0}}); }

LrpRule LrpRule::epsilon(double eps) {
  if (!(eps >= 0) || !std::isfinite(eps))
    throw std::invalid_argument("epsilon rule: epsilon must be a finite number >= 0, got " + format_number(eps));
  return LrpRule("epsilon:" + format_number(eps), {RulePart{1, {RuleTerm{}}, BiasModifier::identity, eps}});
}

LrpRule LrpRule::alpha_beta(double alpha, double beta) {
  alpha += 0.0;  // -0 -> +0 for the name
  beta += 0.0;
  if (!std::isfinite(alpha) || !std::isfinite(beta) || beta < 0 || std::abs(alpha - beta - 1) > 1e-12 * (1 + std::abs(alpha)))
    throw std::invalid_argument(
        "alpha-beta rule: alpha = " + format_number(alpha) + ", beta = " + format_number(beta) +
        " break the convention used here, alpha - beta = 1 with beta >= 0 (docs/design.md 1.7; e.g. alpha 2, beta 1 or "
        "alpha 1, beta 0). A rule written with alpha + beta = 1 (LRP Toolbox) and alpha = a is alpha = a, beta = a - 1 "
        "here");
  const RulePart positive{alpha,
                          {RuleTerm{1, InputModifier::positive, WeightModifier::positive},
                           RuleTerm{1, InputModifier::negative, WeightModifier::negative}},
                          BiasModifier::positive, 0};
  std::vector<RulePart> parts{positive};
  if (beta != 0)
    parts.push_back(RulePart{-beta,
                             {RuleTerm{1, InputModifier::positive, WeightModifier::negative},
                              RuleTerm{1, InputModifier::negative, WeightModifier::positive}},
                             BiasModifier::negative, 0});
  return LrpRule("alpha-beta:" + format_number(alpha) + "," + format_number(beta), std::move(parts));
}

LrpRule LrpRule::z_plus() {
  LrpRule r = alpha_beta(1, 0);
  r.name_ = "z+";
  return r;
}

LrpRule LrpRule::w_square() {
  return LrpRule("w2", {RulePart{1, {RuleTerm{1, InputModifier::ones, WeightModifier::square}}, BiasModifier::zero, 0}});
}

LrpRule LrpRule::flat() {
  return LrpRule("flat", {RulePart{1, {RuleTerm{1, InputModifier::ones, WeightModifier::ones}}, BiasModifier::zero, 0}});
}

LrpRule LrpRule::z_box(Eigen::VectorXd lower, Eigen::VectorXd upper) {
  std::string name = "zb";
  if (lower.size() == 1 && upper.size() == 1) name += ":" + format_number(lower[0]) + "," + format_number(upper[0]);
  return LrpRule(name,
                 {RulePart{1,
                           {RuleTerm{1, InputModifier::identity, WeightModifier::identity},
                            RuleTerm{-1, InputModifier::lower_bound, WeightModifier::positive},
                            RuleTerm{-1, InputModifier::upper_bound, WeightModifier::negative}},
                           BiasModifier::zero, 0}},
                 std::move(lower), std::move(upper));
}

LrpRule LrpRule::z_box(double lower, double upper) {
  return z_box(Eigen::VectorXd::Constant(1, lower), Eigen::VectorXd::Constant(1, upper));
}

LrpRule LrpRule::parse(const std::string& spec_text, const InputBounds& bounds) {
  const std::string spec = trim(spec_text);
  const size_t colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  std::vector<double> args;
  if (colon != std::string::npos)
    for (const auto& a : split(spec.substr(colon + 1), ',')) args.push_back(parse_double(a, spec));
  auto need = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi)
      throw std::invalid_argument("rule \"" + spec + "\": " + name + " takes " +
                                  (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                                  " numbers, got " + std::to_string(args.size()));
  };
  if (name == "lrp0" || name == "z+" || name == "w2" || name == "flat") {
    need(0, 0);
    return name == "lrp0" ? lrp0() : name == "z+" ? z_plus() : name == "w2" ? w_square() : flat();
  }
  if (name == "epsilon") {
    need(0, 1);
    return epsilon(args.empty() ? 0.01 : args[0]);
  }
  if (name == "alpha-beta") {
    if (args.size() == 1) throw std::invalid_argument("rule \"" + spec + "\": alpha-beta takes ALPHA,BETA");
    need(0, 2);
    return args.empty() ? alpha_beta(2, 1) : alpha_beta(args[0], args[1]);
  }
  if (name == "zb") {
    if (args.size() == 1) throw std::invalid_argument("rule \"" + spec + "\": zb takes LOW,HIGH");
    need(0, 2);
    if (args.empty()) {
      if (!bounds) throw std::invalid_argument("rule \"zb\": the input bounds are unknown here; write zb:LOW,HIGH");
      return z_box(bounds->first, bounds->second);
    }
    return z_box(args[0], args[1]);
  }
  throw std::invalid_argument("unknown LRP rule \"" + spec +
                              "\" (known: lrp0, epsilon[:EPS], alpha-beta[:ALPHA,BETA], z+, w2, flat, zb[:LOW,HIGH])");
}

// ------------------------------------------------------------- composites

Composite::Composite(const LrpRule& rule) { set("*", rule); }

Composite& Composite::set(const std::string& selector, const LrpRule& rule) {
  const bool known = is_index(selector) || std::find(selector_names().begin(), selector_names().end(), selector) !=
                                               selector_names().end();
  if (!known)
    throw std::invalid_argument("composite: unknown layer selector \"" + selector +
                                "\" (known: a layer index, first, linear, conv, sumpool, maxpool, pooling, pixels, *)");
  for (auto& entry : entries_)
    if (entry.first == selector) throw std::invalid_argument("composite: selector \"" + selector + "\" given twice");
  entries_.emplace_back(selector, rule);
  return *this;
}

const std::vector<std::pair<std::string, std::string>>& Composite::presets() {
  // Sum pools get LRP-0 (they follow a Rect in the usual nets, so it conserves);
  // max pools follow "*", i.e. winner-take-all.
  static const std::vector<std::pair<std::string, std::string>> p{
      {"epsilon-plus", "conv=z+;sumpool=lrp0;*=epsilon:0.01"},
      {"epsilon-alpha2-beta1", "conv=alpha-beta:2,1;sumpool=lrp0;*=epsilon:0.01"},
      {"zb-epsilon-plus", "first=zb;conv=z+;sumpool=lrp0;*=epsilon:0.01"},
      {"zb-epsilon-alpha2-beta1", "first=zb;conv=alpha-beta:2,1;sumpool=lrp0;*=epsilon:0.01"},
      {"toolbox-composite", "first=w2;*=epsilon:0.01"},
  };
  return p;
}

Composite Composite::parse(const std::string& spec_text, const InputBounds& bounds) {
  std::string spec = trim(spec_text);
  for (const auto& [name, preset] : presets())
    if (spec == name) spec = preset;
  if (spec.empty()) throw std::invalid_argument("composite: empty rule specification");
  Composite c;
  for (const auto& entry_text : split(spec, ';')) {
    const std::string entry = trim(entry_text);
    if (entry.empty()) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string::npos)
      c.set("*", LrpRule::parse(entry, bounds));
    else
      c.set(trim(entry.substr(0, eq)), LrpRule::parse(entry.substr(eq + 1), bounds));
  }
  if (c.entries_.empty()) throw std::invalid_argument("composite \"" + spec_text + "\": no rules");
  return c;
}

const LrpRule* Composite::rule_for(const Network& network, int k) const {
  const Layer& layer = network.layer(k);
  const std::string kind = kind_selector(layer.kind());
  if (kind.empty()) return nullptr;
  for (const auto& [selector, rule] : entries_)
    if (is_index(selector) && std::stoi(selector) >= network.size())
      throw std::invalid_argument("composite: layer " + selector + " does not exist (the network has " +
                                  std::to_string(network.size()) + " layers)");
  int first = -1;
  for (int i = 0; i < network.size() && first < 0; ++i)
    if (dynamic_cast<const AffineLayer*>(&network.layer(i))) first = i;
  const std::vector<std::string> wanted{std::to_string(k), k == first ? "first" : "", kind, "*"};
  for (const auto& w : wanted) {
    if (w.empty()) continue;
    for (const auto& [selector, rule] : entries_)
      if (selector == w) return &rule;
  }
  throw std::invalid_argument("composite \"" + spec() + "\" gives no rule for layer " + std::to_string(k) + " (" +
                              layer.describe() + "); add an entry for it or \"*=RULE\"");
}

const LrpRule* Composite::rule_for_selector(const std::string& selector) const {
  for (const auto& [s, rule] : entries_)
    if (s == selector) return &rule;
  return nullptr;
}

std::vector<std::string> Composite::selectors() const {
  std::vector<std::string> out;
  for (const auto& entry : entries_) out.push_back(entry.first);
  return out;
}

std::string Composite::spec() const {
  std::string s;
  for (const auto& [selector, rule] : entries_) s += (s.empty() ? "" : ";") + selector + "=" + rule.name();
  return s;
}

// ------------------------------------------------------------- propagation

Relevance propagate_layer(const Layer& layer, const TensorShape& in, const Eigen::RowVectorXd& x,
                          const Eigen::RowVectorXd& y, const Eigen::RowVectorXd& relevance, const LrpRule* rule,
                          const LrpOptions& options) {
  const TensorShape out = layer.output_shape(in);
  if (x.size() != in.size() || y.size() != out.size() || relevance.size() != out.size())
    throw std::invalid_argument(layer.describe() + ": record or relevance does not match the shapes " + in.str() +
                                " -> " + out.str());
  Relevance step;
  step.account.name = layer.describe() + (rule ? " [" + rule->name() + "]" : "");
  const LayerKind kind = layer.kind();
  if (kind == LayerKind::softmax)
    throw std::invalid_argument(
        "SoftMax: relevance cannot pass a softmax; only a trailing SoftMax is allowed, and it is not explained "
        "(the explained score is the pre-softmax one)");
  Eigen::RowVectorXd lower;
  if (kind == LayerKind::relu || kind == LayerKind::tanh || kind == LayerKind::flatten) {
    lower = relevance;  // passed unchanged (docs/design.md 1.7)
  } else {
    if (!rule) throw std::invalid_argument(layer.describe() + ": no relevance rule given");
    if (kind == LayerKind::max_pool && rule->uses_input()) {
      // Winner-take-all; k equal maxima get R_j / k each.
      const auto& pool = static_cast<const MaxPoolLayer&>(layer);
      lower = Eigen::RowVectorXd::Zero(in.size());
      const auto winners = pool.winners(x, y, in);
      for (size_t o = 0; o < winners.size(); ++o) {
        if (winners[o].empty()) {
          step.account.unassigned += relevance[static_cast<long>(o)];
          continue;
        }
        const double share = relevance[static_cast<long>(o)] / static_cast<double>(winners[o].size());
        for (long i : winners[o]) lower[i] += share;
      }
    } else if (const auto* affine = dynamic_cast<const AffineLayer*>(&layer)) {
      lower = apply_rule(WeightedView(*affine, in), x, relevance, *rule, options, step.account);
    } else {
      const auto& pool = dynamic_cast<const PoolLayer&>(layer);
      lower = apply_rule(WindowView(pool, in), x, relevance, *rule, options, step.account);
    }
  }
  step.relevance = lower.transpose();
  close_account(step.account, relevance.sum(), lower.sum());
  return step;
}

std::string NetworkLayerStep::selector() const { return kind_selector(network_.layer(k_).kind()); }

Relevance NetworkLayerStep::relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const {
  Relevance r = propagate_layer(network_.layer(k_), record_.shapes[k_], record_.activations[k_].row(0),
                                record_.activations[k_ + 1].row(0), upper.transpose(), rule, options_);
  r.account.name = std::to_string(k_) + " " + r.account.name;
  return r;
}

Steps network_steps(const Network& network, const Network::Record& record, const LrpOptions& options) {
  const int L = static_cast<int>(record.shapes.size()) - 1;
  if (L < 0 || L > network.size() || static_cast<int>(record.activations.size()) != L + 1)
    throw std::invalid_argument("relevance: the forward record does not belong to this network");
  if (record.activations.front().rows() != 1)
    throw std::invalid_argument("relevance: the forward record must hold exactly one sample");
  Steps steps;
  for (int k = L - 1; k >= 0; --k) steps.push_back(std::make_unique<NetworkLayerStep>(network, k, record, options));
  return steps;
}

NetworkRelevance propagate_relevance(const Network& network, const Network::Record& record,
                                     const Eigen::VectorXd& output_relevance, const Composite& composite,
                                     const LrpOptions& options) {
  const Steps steps = network_steps(network, record, options);
  if (output_relevance.size() != record.shapes.back().size())
    throw std::invalid_argument("relevance: " + std::to_string(output_relevance.size()) +
                                " output relevance values for " + std::to_string(record.shapes.back().size()) +
                                " outputs");
  const int L = static_cast<int>(steps.size());
  NetworkRelevance result;
  result.rules.assign(L, "");
  Propagation p = propagate(steps, output_relevance, [&](const RelevanceStep&, int i) {
    const LrpRule* rule = composite.rule_for(network, L - 1 - i);
    if (rule) result.rules[L - 1 - i] = rule->name();
    return rule;
  });
  result.layers = std::move(p.layers);
  result.input = std::move(p.relevance.back());
  return result;
}

NetworkRelevance explain_lrp(const Network& network, const Eigen::VectorXd& x, const TensorShape& in, int class_index,
                             const Composite& composite, const LrpOptions& options) {
  const Network::Record record = network.forward_record(x.transpose(), in);
  const Eigen::VectorXd scores = record.activations.back().row(0).transpose();
  int predicted;
  scores.maxCoeff(&predicted);
  const int c = class_index < 0 ? predicted : class_index;
  if (c >= scores.size())
    throw std::out_of_range("output " + std::to_string(c) + " does not exist (the network has " +
                            std::to_string(scores.size()) + " outputs)");
  Eigen::VectorXd initial = Eigen::VectorXd::Zero(scores.size());
  initial[c] = scores[c];
  NetworkRelevance result = propagate_relevance(network, record, initial, composite, options);
  result.scores = scores;
  result.predicted = predicted;
  result.class_index = c;
  result.score = scores[c];
  return result;
}

}  // namespace pixelwise
