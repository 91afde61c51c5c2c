// LRP rules for layered networks (docs/design.md 1.7): a slow, matrix-form
// reference of every rule compared with the fast implementation on random
// layers, tiny cases computed by hand, conservation, LRP = gradient x input,
// composites and the explanation of any output.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

using test::random_matrix;

Eigen::RowVectorXd random_row(long n, std::mt19937_64& rng, double lo = -1, double hi = 1) {
  return random_matrix(1, n, rng, lo, hi).row(0);
}

// ------------------------------------------------ slow, matrix-form reference
// Every layer written as an explicit in x out matrix of connections.
struct Dense {
  RowMatrixXd W;          // weight of connection i -> j (pooling: 1, the unscaled window sum)
  RowMatrixXd connected;  // 1 where input i feeds output j
  Eigen::VectorXd b;      // bias of output j
};

Dense dense_of(const Layer& layer, const TensorShape& in) {
  const TensorShape out = layer.output_shape(in);
  Dense d{RowMatrixXd::Zero(in.size(), out.size()), RowMatrixXd::Zero(in.size(), out.size()),
          Eigen::VectorXd::Zero(out.size())};
  if (const auto* lin = dynamic_cast<const LinearLayer*>(&layer)) {
    d.W = lin->weights;
    d.connected.setOnes();
    d.b = lin->bias;
  } else if (const auto* conv = dynamic_cast<const ConvolutionLayer*>(&layer)) {
    for (int oi = 0; oi < out.height; ++oi)
      for (int oj = 0; oj < out.width; ++oj)
        for (int k = 0; k < conv->filters; ++k) {
          const long j = (static_cast<long>(oi) * out.width + oj) * conv->filters + k;
          d.b[j] = conv->bias[k];
          for (int a = 0; a < conv->filter_height; ++a)
            for (int bb = 0; bb < conv->filter_width; ++bb)
              for (int c = 0; c < conv->depth; ++c) {
                const long i = (static_cast<long>(oi * conv->stride_rows + a) * in.width + oj * conv->stride_cols + bb) *
                                   in.channels + c;
                d.W(i, j) = conv->weights((a * conv->filter_width + bb) * conv->depth + c, k);
                d.connected(i, j) = 1;
              }
        }
  } else {
    const auto& pool = dynamic_cast<const PoolLayer&>(layer);
    for (int oi = 0; oi < out.height; ++oi)
      for (int oj = 0; oj < out.width; ++oj)
        for (int c = 0; c < in.channels; ++c) {
          const long j = (static_cast<long>(oi) * out.width + oj) * in.channels + c;
          for (int a = 0; a < pool.pool_height; ++a)
            for (int bb = 0; bb < pool.pool_width; ++bb) {
              const long i = (static_cast<long>(oi * pool.stride_rows + a) * in.width + oj * pool.stride_cols + bb) *
                                 in.channels + c;
              d.W(i, j) = 1;
              d.connected(i, j) = 1;
            }
        }
  }
  return d;
}

struct SlowResult {
  Eigen::RowVectorXd relevance;
  double absorbed = 0, unassigned = 0;
};

struct RuleSpec {
  std::string name;  // lrp0, epsilon, alpha-beta, w2, flat, zb, wta
  double p1 = 0, p2 = 0;
};

double s(double z) { return z >= 0 ? 1.0 : -1.0; }

// The formulas of docs/design.md 1.7 and the toolbox README, one connection at a time.
SlowResult slow_rule(const Dense& D, const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& R, const RuleSpec& rule,
                     bool ignore_bias) {
  const long I = D.W.rows(), J = D.W.cols();
  SlowResult out{Eigen::RowVectorXd::Zero(I)};
  for (long j = 0; j < J; ++j) {
    const double b = ignore_bias ? 0.0 : D.b[j];
    if (rule.name == "lrp0" || rule.name == "epsilon") {
      const double eps = rule.name == "epsilon" ? rule.p1 : 0.0;
      double z = b;
      for (long i = 0; i < I; ++i) z += D.connected(i, j) * x[i] * D.W(i, j);
      const double den = z + eps * s(z);
      if (den == 0) {
        out.unassigned += R[j];
        continue;
      }
      for (long i = 0; i < I; ++i) out.relevance[i] += D.connected(i, j) * x[i] * D.W(i, j) / den * R[j];
      out.absorbed += R[j] * (b + eps * s(z)) / den;
    } else if (rule.name == "alpha-beta") {
      const double alpha = rule.p1, beta = rule.p2;
      double zp = std::max(b, 0.0), zn = std::min(b, 0.0);
      for (long i = 0; i < I; ++i) {
        const double zij = D.connected(i, j) * x[i] * D.W(i, j);
        zp += std::max(zij, 0.0);
        zn += std::min(zij, 0.0);
      }
      for (long i = 0; i < I; ++i) {
        const double zij = D.connected(i, j) * x[i] * D.W(i, j);
        if (zp != 0) out.relevance[i] += alpha * std::max(zij, 0.0) / zp * R[j];
        if (zn != 0) out.relevance[i] -= beta * std::min(zij, 0.0) / zn * R[j];
      }
      if (zp != 0) out.absorbed += alpha * R[j] * std::max(b, 0.0) / zp; else out.unassigned += alpha * R[j];
      if (beta != 0) {
        if (zn != 0) out.absorbed -= beta * R[j] * std::min(b, 0.0) / zn; else out.unassigned -= beta * R[j];
      }
    } else if (rule.name == "w2" || rule.name == "flat") {
      double total = 0;
      for (long i = 0; i < I; ++i)
        total += D.connected(i, j) * (rule.name == "w2" ? D.W(i, j) * D.W(i, j) : 1.0);
      if (total == 0) {
        out.unassigned += R[j];
        continue;
      }
      for (long i = 0; i < I; ++i)
        out.relevance[i] += D.connected(i, j) * (rule.name == "w2" ? D.W(i, j) * D.W(i, j) : 1.0) / total * R[j];
    } else if (rule.name == "zb") {
      const double l = rule.p1, h = rule.p2;
      double z = 0;
      auto zij = [&](long i) {
        const double w = D.W(i, j);
        return D.connected(i, j) * (x[i] * w - l * std::max(w, 0.0) - h * std::min(w, 0.0));
      };
      for (long i = 0; i < I; ++i) z += zij(i);
      if (z == 0) {
        out.unassigned += R[j];
        continue;
      }
      for (long i = 0; i < I; ++i) out.relevance[i] += zij(i) / z * R[j];
    } else if (rule.name == "wta") {
      double top = -INFINITY;
      for (long i = 0; i < I; ++i)
        if (D.connected(i, j)) top = std::max(top, x[i]);
      int count = 0;
      for (long i = 0; i < I; ++i) count += D.connected(i, j) && x[i] == top;
      for (long i = 0; i < I; ++i)
        if (D.connected(i, j) && x[i] == top) out.relevance[i] += R[j] / count;
    } else {
      throw std::runtime_error("slow_rule: unknown rule " + rule.name);
    }
  }
  return out;
}

LrpRule fast_rule(const RuleSpec& r) {
  if (r.name == "lrp0") return LrpRule::lrp0();
  if (r.name == "epsilon") return LrpRule::epsilon(r.p1);
  if (r.name == "alpha-beta") return LrpRule::alpha_beta(r.p1, r.p2);
  if (r.name == "w2") return LrpRule::w_square();
  if (r.name == "flat") return LrpRule::flat();
  if (r.name == "zb") return LrpRule::z_box(r.p1, r.p2);
  throw std::runtime_error("fast_rule: unknown rule " + r.name);
}

struct Case {
  std::string name;
  std::unique_ptr<Layer> layer;
  TensorShape in;
  Eigen::RowVectorXd x;
};

std::vector<Case> random_layers(std::mt19937_64& rng) {
  std::vector<Case> cases;
  cases.push_back({"linear 7 -> 5",
                   std::make_unique<LinearLayer>(random_matrix(7, 5, rng), random_row(5, rng, -0.5, 0.5).transpose()),
                   {1, 1, 7}, random_row(7, rng)});
  {
    // Non-negative input and a unit whose weights are all positive: its
    // negative part has a zero denominator (alpha-beta then leaves beta R_j unassigned).
    RowMatrixXd W = random_matrix(6, 4, rng);
    W.col(0) = W.col(0).cwiseAbs();
    Eigen::VectorXd b = random_row(4, rng, -0.5, 0.5).transpose();
    b[0] = 0.3;
    cases.push_back({"linear 6 -> 4, x >= 0", std::make_unique<LinearLayer>(W, b), {2, 3, 1}, random_row(6, rng, 0, 1)});
  }
  // Rows 0..6 are covered by the stride-2 windows, row 7 is not.
  cases.push_back({"conv 3x2x2 -> 3 stride 2x1 on 8x6x2",
                   std::make_unique<ConvolutionLayer>(3, 2, 2, 3, 2, 1, random_matrix(12, 3, rng),
                                                      random_row(3, rng, -0.5, 0.5).transpose()),
                   {8, 6, 2}, random_row(96, rng)});
  cases.push_back({"sum pool 2x3 stride 2x1 on 5x6x2", std::make_unique<SumPoolLayer>(2, 3, 2, 1), {5, 6, 2},
                   random_row(60, rng)});
  {
    // Small integers, so that overlapping windows hold tied maxima.
    std::uniform_int_distribution<int> level(-1, 1);
    Eigen::RowVectorXd x(32);
    for (long i = 0; i < x.size(); ++i) x[i] = level(rng);
    cases.push_back({"max pool 2x2 stride 1x1 on 4x4x2 with ties", std::make_unique<MaxPoolLayer>(2, 2, 1, 1),
                     {4, 4, 2}, x});
  }
  return cases;
}

const std::vector<RuleSpec>& all_rules() {
  static const std::vector<RuleSpec> rules{{"lrp0"},           {"epsilon", 0.1},   {"alpha-beta", 2, 1},
                                           {"alpha-beta", 1, 0}, {"alpha-beta", 3, 2}, {"w2"},
                                           {"flat"},           {"zb", -1, 1}};
  return rules;
}

Relevance step_of(const Layer& layer, const TensorShape& in, const Eigen::RowVectorXd& x,
                  const Eigen::RowVectorXd& R, const LrpRule& rule, bool ignore_bias = false) {
  const Eigen::RowVectorXd y = layer.forward(x, in).row(0);
  return propagate_layer(layer, in, x, y, R, &rule, LrpOptions{ignore_bias});
}

}  // namespace

BOOST_AUTO_TEST_CASE(fast_rules_match_the_slow_matrix_form_on_random_layers) {
  std::mt19937_64 rng(20240501);
  int compared = 0;
  for (const auto& c : random_layers(rng)) {
    const TensorShape out = c.layer->output_shape(c.in);
    const Eigen::RowVectorXd R = random_row(out.size(), rng);
    const Dense D = dense_of(*c.layer, c.in);
    for (const auto& spec : all_rules())
      for (bool ignore_bias : {false, true}) {
        const Relevance fast = step_of(*c.layer, c.in, c.x, R, fast_rule(spec), ignore_bias);
        // Max pooling: rules that read the input are winner-take-all.
        const bool wta = c.layer->kind() == LayerKind::max_pool && spec.name != "w2" && spec.name != "flat";
        const SlowResult slow = slow_rule(D, c.x, R, wta ? RuleSpec{"wta"} : spec, ignore_bias);
        const double scale = std::max(1.0, slow.relevance.cwiseAbs().maxCoeff());
        const std::string what = c.name + " / " + fast_rule(spec).name() + (ignore_bias ? " / bias ignored" : "");
        BOOST_TEST((fast.relevance - slow.relevance).cwiseAbs().maxCoeff() <= 1e-12 * scale, what);
        BOOST_TEST(std::abs(fast.account.absorbed - slow.absorbed) <= 1e-12 * scale, what);
        BOOST_TEST(std::abs(fast.account.unassigned - slow.unassigned) <= 1e-12 * scale, what);
        BOOST_TEST(std::abs(fast.account.relevance_in - R.sum()) <= 1e-12 * scale, what);
        BOOST_TEST(std::abs(fast.account.unaccounted()) <= 1e-12 * scale, what);
        ++compared;
      }
    // The unassigned case really occurs where it was built in.
    if (c.name == "linear 6 -> 4, x >= 0") {
      const Relevance ab = step_of(*c.layer, c.in, c.x, R, LrpRule::alpha_beta(2, 1));
      BOOST_TEST(std::abs(ab.account.unassigned - (-1.0 * R[0])) <= 1e-15);
    }
  }
  BOOST_TEST(compared == 5 * 8 * 2);
}

BOOST_AUTO_TEST_CASE(conv_rows_no_window_covers_get_no_relevance) {
  std::mt19937_64 rng(7);
  const ConvolutionLayer conv(3, 2, 2, 3, 2, 1, random_matrix(12, 3, rng), Eigen::VectorXd::Zero(3));
  const TensorShape in{8, 6, 2};
  const Eigen::RowVectorXd x = random_row(96, rng);
  const Eigen::RowVectorXd R = random_row(conv.output_shape(in).size(), rng);
  for (const auto& spec : all_rules()) {
    const Relevance step = step_of(conv, in, x, R, fast_rule(spec));
    BOOST_TEST(step.relevance.tail(12).cwiseAbs().maxCoeff() == 0.0);  // row 7: 6 columns x 2 channels
    BOOST_TEST(step.relevance.head(84).cwiseAbs().maxCoeff() > 0.0);
  }
}

// ------------------------------------------------------ tiny cases by hand
// x = (1, 2), W = [[1, -1], [2, 1]] (rows = inputs), b = (1, -0.5), R_out = (3, 1).
// z_ij: (1, -1; 4, 2); z_j = (1 + 4 + 1, -1 + 2 - 0.5) = (6, 0.5).
namespace {

struct Tiny {
  LinearLayer layer{(RowMatrixXd(2, 2) << 1, -1, 2, 1).finished(), Eigen::Vector2d(1, -0.5)};
  TensorShape in{1, 1, 2};
  Eigen::RowVectorXd x = Eigen::RowVector2d(1, 2);
  Eigen::RowVectorXd R = Eigen::RowVector2d(3, 1);
};

void check_close(const Eigen::RowVectorXd& got, std::initializer_list<double> expected, const std::string& what) {
  BOOST_REQUIRE_EQUAL(got.size(), static_cast<long>(expected.size()));
  long i = 0;
  for (double e : expected) {
    BOOST_TEST(std::abs(got[i] - e) <= 1e-14 * std::max(1.0, std::abs(e)), what << " [" << i << "]: " << got[i]
                                                                               << " vs " << e);
    ++i;
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(hand_computed_lrp0_and_epsilon) {
  Tiny t;
  // LRP-0: R_0 = 1/6*3 + (-1)/0.5*1 = -1.5; R_1 = 4/6*3 + 2/0.5*1 = 6.
  Relevance s = step_of(t.layer, t.in, t.x, t.R, LrpRule::lrp0());
  check_close(s.relevance, {-1.5, 6}, "lrp0");
  BOOST_TEST(std::abs(s.account.absorbed - (3 * 1.0 / 6 + 1 * -0.5 / 0.5)) <= 1e-15);  // -0.5
  // epsilon 0.5: denominators 6.5 and 1: R_0 = 3/6.5 - 1 = -7/13, R_1 = 12/6.5 + 2 = 50/13.
  s = step_of(t.layer, t.in, t.x, t.R, LrpRule::epsilon(0.5));
  check_close(s.relevance, {-7.0 / 13, 50.0 / 13}, "epsilon 0.5");
  // Bias ignored: z = (5, 1): R_0 = 3/5 - 1 = -0.4, R_1 = 12/5 + 2 = 4.4 (conserves).
  s = step_of(t.layer, t.in, t.x, t.R, LrpRule::lrp0(), true);
  check_close(s.relevance, {-0.4, 4.4}, "lrp0, bias ignored");
  BOOST_TEST(s.account.absorbed == 0.0);
  // A zero denominator (b_1 = -1 makes z_1 = 0) passes nothing: R_1 = 1 unassigned.
  const LinearLayer zero_den((RowMatrixXd(2, 2) << 1, -1, 2, 1).finished(), Eigen::Vector2d(1, -1));
  s = step_of(zero_den, t.in, t.x, t.R, LrpRule::lrp0());
  check_close(s.relevance, {0.5, 2}, "lrp0, z_1 = 0");
  BOOST_TEST(s.account.unassigned == 1.0);
  // epsilon uses s(0) = +1 there: denominator 0 + 0.5.
  s = step_of(zero_den, t.in, t.x, t.R, LrpRule::epsilon(0.5));
  check_close(s.relevance, {3.0 / 6.5 - 2, 12 / 6.5 + 4}, "epsilon, z_1 = 0");
}

BOOST_AUTO_TEST_CASE(hand_computed_alpha_beta_and_z_plus) {
  Tiny t;
  // z+ parts: j0: 1 + 4 + b+ 1 = 6; j1: 2 + b+ 0 = 2. z- parts: j0: none, b- 0 -> 0; j1: -1 + b- (-0.5) = -1.5.
  // alpha 2, beta 1: R_0 = 2*(1/6*3) - 1*((-1)/(-1.5)*1) = 1 - 2/3 = 1/3; R_1 = 2*(4/6*3 + 2/2*1) = 6.
  Relevance s = step_of(t.layer, t.in, t.x, t.R, LrpRule::alpha_beta(2, 1));
  check_close(s.relevance, {1.0 / 3, 6}, "alpha-beta 2,1");
  // j0's negative part has a zero denominator: -beta R_0 = -3 unassigned; absorbed 2*3/6 - 1*(-0.5)/(-1.5) = 2/3.
  BOOST_TEST(std::abs(s.account.unassigned - (-3.0)) <= 1e-15);
  BOOST_TEST(std::abs(s.account.absorbed - 2.0 / 3) <= 1e-15);
  // z+ = alpha 1, beta 0: R_0 = 1/6*3 = 0.5; R_1 = 4/6*3 + 2/2*1 = 3.
  s = step_of(t.layer, t.in, t.x, t.R, LrpRule::z_plus());
  check_close(s.relevance, {0.5, 3}, "z+");
  check_close(step_of(t.layer, t.in, t.x, t.R, LrpRule::alpha_beta(1, 0)).relevance, {0.5, 3}, "alpha-beta 1,0");
}

BOOST_AUTO_TEST_CASE(hand_computed_w_square_flat_and_z_box) {
  Tiny t;
  // w^2 = (1, 1; 4, 1), column sums 5 and 2: R_0 = 3/5 + 1/2 = 1.1; R_1 = 12/5 + 1/2 = 2.9.
  check_close(step_of(t.layer, t.in, t.x, t.R, LrpRule::w_square()).relevance, {1.1, 2.9}, "w2");
  // flat: (3 + 1) / 2 each.
  check_close(step_of(t.layer, t.in, t.x, t.R, LrpRule::flat()).relevance, {2, 2}, "flat");
  // z^B with l = 0, h = 2: z_ij = x_i w_ij - l w+_ij - h w-_ij = (1, -1 + 2; 4, 2) = (1, 1; 4, 2),
  // z = (5, 3): R_0 = 3/5 + 1/3 = 14/15; R_1 = 12/5 + 2/3 = 46/15.
  check_close(step_of(t.layer, t.in, t.x, t.R, LrpRule::z_box(0, 2)).relevance, {14.0 / 15, 46.0 / 15}, "zb 0,2");
  // An input outside the bounds is an error naming it.
  try {
    step_of(t.layer, t.in, t.x, t.R, LrpRule::z_box(0, 1.5));
    BOOST_FAIL("an input above the upper bound was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("input 1 = 2 lies outside its bounds [0, 1.5]") != std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_CASE(hand_computed_convolution_and_pooling) {
  // 1 x 3 x 1 input (1, 2, 3), one 1 x 2 filter (1, -1), no bias: outputs (-1, -1).
  const ConvolutionLayer conv(1, 2, 1, 1, 1, 1, (RowMatrixXd(2, 1) << 1, -1).finished(), Eigen::VectorXd::Zero(1));
  const TensorShape in{1, 3, 1};
  const Eigen::RowVectorXd x = Eigen::RowVector3d(1, 2, 3);
  // LRP-0 with R_out = (1, 2): window 0: (1, -2)/(-1) * 1 = (-1, 2); window 1: (2, -3)/(-1) * 2 = (-4, 6).
  check_close(step_of(conv, in, x, Eigen::RowVector2d(1, 2), LrpRule::lrp0()).relevance, {-1, -2, 6}, "conv lrp0");

  // 2 x 3 x 1 input ((1, 3, 3), (0, 2, 3)), windows 2 x 2 stride 1: window sums 6 and 11, maxima 3 and 3.
  const TensorShape pin{2, 3, 1};
  const Eigen::RowVectorXd px = (Eigen::RowVectorXd(6) << 1, 3, 3, 0, 2, 3).finished();
  const Eigen::RowVectorXd pR = Eigen::RowVector2d(6, 9);
  const MaxPoolLayer maxpool(2, 2, 1, 1);
  // Window 0's maximum is at (0,1); window 1 has three tied maxima at (0,1), (0,2), (1,2): 9/3 each.
  check_close(step_of(maxpool, pin, px, pR, LrpRule::epsilon(0.01)).relevance, {0, 6 + 3, 3, 0, 0, 3}, "max pool");
  // Input-free rules spread uniformly: 6/4 over window 0, 9/4 over window 1.
  check_close(step_of(maxpool, pin, px, pR, LrpRule::flat()).relevance, {1.5, 1.5 + 2.25, 2.25, 1.5, 1.5 + 2.25, 2.25},
              "max pool flat");
  // Sum pooling: forward = window sum / sqrt(4) = (3, 5.5); LRP-0 works on the
  // unscaled sums: window 0: x/6 * 6, window 1: x/11 * 9.
  const SumPoolLayer sumpool(2, 2, 1, 1);
  const Eigen::RowVectorXd y = sumpool.forward(px, pin).row(0);
  BOOST_TEST(y[0] == 3.0);
  BOOST_TEST(y[1] == 5.5);
  check_close(step_of(sumpool, pin, px, pR, LrpRule::lrp0()).relevance,
              {1, 3 + 27.0 / 11, 27.0 / 11, 0, 2 + 18.0 / 11, 27.0 / 11}, "sum pool lrp0");
  // epsilon is added to the unscaled sum: window 0: x/(6 + 1) * 6.
  const Eigen::RowVectorXd eps = step_of(sumpool, pin, px, pR, LrpRule::epsilon(1)).relevance;
  BOOST_TEST(std::abs(eps[0] - 6.0 / 7) <= 1e-15);
}

// ---------------------------------------------------------- whole networks
namespace {

// A ReLU MLP and a ReLU CNN with every layer kind; biases scaled by `bias`.
Network relu_mlp(std::mt19937_64& rng, double bias) {
  Network net;
  net.add(std::make_unique<LinearLayer>(random_matrix(20, 15, rng), bias * random_row(15, rng).transpose()));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::relu));
  net.add(std::make_unique<LinearLayer>(random_matrix(15, 10, rng), bias * random_row(10, rng).transpose()));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::relu));
  net.add(std::make_unique<LinearLayer>(random_matrix(10, 4, rng), bias * random_row(4, rng).transpose()));
  return net;
}

Network relu_cnn(std::mt19937_64& rng, double bias) {
  Network net;  // 10x10x2 -> 8x8x4 -> 4x4x4 -> 3x3x6 -> 2x2x6 -> 24 -> 3
  net.add(std::make_unique<ConvolutionLayer>(3, 3, 2, 4, 1, 1, random_matrix(18, 4, rng),
                                             bias * random_row(4, rng).transpose()));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::relu));
  net.add(std::make_unique<SumPoolLayer>(2, 2, 2, 2));
  net.add(std::make_unique<ConvolutionLayer>(2, 2, 4, 6, 1, 1, random_matrix(16, 6, rng),
                                             bias * random_row(6, rng).transpose()));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::relu));
  net.add(std::make_unique<MaxPoolLayer>(2, 2, 1, 1));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::flatten));
  net.add(std::make_unique<LinearLayer>(random_matrix(24, 3, rng), bias * random_row(3, rng).transpose()));
  return net;
}

const TensorShape kMlpInput{1, 1, 20}, kCnnInput{10, 10, 2};

}  // namespace

BOOST_AUTO_TEST_CASE(lrp0_and_alpha_beta_conserve_without_biases) {
  std::mt19937_64 rng(99);
  const Network mlp = relu_mlp(rng, 0.0), cnn = relu_cnn(rng, 0.0);
  for (int trial = 0; trial < 3; ++trial) {
    const Eigen::VectorXd xm = random_row(20, rng).transpose(), xc = random_row(200, rng).transpose();
    // Sum pools follow a Rect (inputs >= 0, no negative part): LRP-0 there.
    for (const std::string rule : {"lrp0", "epsilon:0", "alpha-beta:2,1", "alpha-beta:1,0", "z+", "w2", "flat"}) {
      for (int c = 0; c < 3; ++c) {  // every output, not only the arg max
        const NetworkRelevance m = explain_lrp(mlp, xm, kMlpInput, c, Composite::parse(rule));
        BOOST_TEST(std::abs(m.input_sum() - m.score) <= 1e-9 * std::abs(m.score), "mlp " << rule);
        // w2 and flat also pass relevance to units whose inputs are all 0, so
        // they must be used on the sum pools too.
        const bool input_free = rule == "w2" || rule == "flat";
        const NetworkRelevance n =
            explain_lrp(cnn, xc, kCnnInput, c, Composite::parse(input_free ? rule : "sumpool=lrp0;*=" + rule));
        BOOST_TEST(std::abs(n.input_sum() - n.score) <= 1e-9 * std::abs(n.score), "cnn " << rule);
        for (const auto& layer : n.layers) {
          BOOST_TEST(layer.absorbed == 0.0);
          BOOST_TEST(layer.unassigned == 0.0);
        }
        BOOST_TEST(n.class_index == c);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(w_square_and_flat_conserve_even_with_biases) {
  std::mt19937_64 rng(5);
  const Network cnn = relu_cnn(rng, 0.5);
  const Eigen::VectorXd x = random_row(200, rng).transpose();
  for (const std::string rule : {"w2", "flat"}) {
    const NetworkRelevance r = explain_lrp(cnn, x, kCnnInput, -1, Composite::parse(rule));
    BOOST_TEST(std::abs(r.input_sum() - r.score) <= 1e-12 * std::abs(r.score), rule);
  }
  // With biases, LRP-0 does not conserve, and the account says where it went.
  const NetworkRelevance r = explain_lrp(cnn, x, kCnnInput, -1, Composite::parse("lrp0"));
  double absorbed = 0, unassigned = 0;
  for (const auto& layer : r.layers) {
    absorbed += layer.absorbed;
    unassigned += layer.unassigned;
  }
  BOOST_TEST(std::abs(absorbed) > 1e-3 * std::abs(r.score));
  BOOST_TEST(std::abs(r.score - r.input_sum() - absorbed - unassigned) <= 1e-10 * std::abs(r.score));
  // Ignoring the biases, LRP-0 conserves again.
  const NetworkRelevance ig = explain_lrp(cnn, x, kCnnInput, -1, Composite::parse("lrp0"), LrpOptions{true});
  BOOST_TEST(std::abs(ig.input_sum() - ig.score) <= 1e-9 * std::abs(ig.score));
}

BOOST_AUTO_TEST_CASE(tiny_epsilon_without_bias_is_gradient_times_input) {
  std::mt19937_64 rng(11);
  const Network mlp = relu_mlp(rng, 0.0), cnn = relu_cnn(rng, 0.0);
  for (int trial = 0; trial < 3; ++trial) {
    for (const auto* net : {&mlp, &cnn}) {
      const TensorShape in = net == &mlp ? kMlpInput : kCnnInput;
      const Eigen::VectorXd x = random_row(in.size(), rng).transpose();
      for (int c = 0; c < 3; ++c) {
        const NetworkRelevance r = explain_lrp(*net, x, in, c, Composite(LrpRule::epsilon(1e-12)));
        const Eigen::VectorXd gx = net->gradient(x.transpose(), in, c).row(0).transpose().cwiseProduct(x);
        const double scale = gx.cwiseAbs().maxCoeff();
        BOOST_TEST(scale > 0);
        BOOST_TEST((r.input - gx).cwiseAbs().maxCoeff() <= 1e-8 * scale);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(composites_pick_a_rule_per_layer) {
  std::mt19937_64 rng(3);
  const Network cnn = relu_cnn(rng, 0.1);
  const Composite c = Composite::parse("first=zb:-1,1;conv=alpha-beta:2,1;sumpool=lrp0;7=flat;*=epsilon:0.1");
  const Eigen::VectorXd x = random_row(200, rng).transpose();
  const NetworkRelevance r = explain_lrp(cnn, x, kCnnInput, 1, c);
  const std::vector<std::string> expected{"zb:-1,1", "", "lrp0", "alpha-beta:2,1", "", "epsilon:0.1", "", "flat"};
  BOOST_TEST(r.rules == expected, boost::test_tools::per_element());
  BOOST_TEST(r.layers.size() == 8u);
  BOOST_TEST(r.layers.front().name == "7 Linear 24 -> 3 [flat]");
  BOOST_TEST(r.layers.back().name == "0 Convolution 3x3x2 -> 4, stride 1x1 [zb:-1,1]");
  // The same thing layer by layer equals the composite.
  const Network::Record record = cnn.forward_record(x.transpose(), kCnnInput);
  Eigen::RowVectorXd R = Eigen::RowVectorXd::Zero(3);
  R[1] = r.score;
  for (int k = 7; k >= 0; --k) {
    const LrpRule* rule = c.rule_for(cnn, k);
    R = propagate_layer(cnn.layer(k), record.shapes[k], record.activations[k].row(0), record.activations[k + 1].row(0),
                        R, rule)
            .relevance;
  }
  BOOST_TEST((R.transpose() - r.input).cwiseAbs().maxCoeff() == 0.0);
  // Presets: "zb" takes the bounds given.
  const Composite preset = Composite::parse("zb-epsilon-alpha2-beta1", std::make_pair(-1.0, 1.0));
  BOOST_TEST(preset.spec() == "first=zb:-1,1;conv=alpha-beta:2,1;sumpool=lrp0;*=epsilon:0.01");
  BOOST_TEST(Composite::parse("toolbox-composite").spec() == "first=w2;*=epsilon:0.01");
  BOOST_TEST(Composite::parse("epsilon:0.25").spec() == "*=epsilon:0.25");
}

BOOST_AUTO_TEST_CASE(bad_rules_and_composites_are_clear_errors) {
  std::mt19937_64 rng(3);
  const Network cnn = relu_cnn(rng, 0.1);
  auto message = [&](const std::string& spec) {
    try {
      const Composite c = Composite::parse(spec);
      for (int k = 0; k < cnn.size(); ++k) c.rule_for(cnn, k);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BOOST_TEST(message("epsilon:-1").find("epsilon must be a finite number >= 0") != std::string::npos);
  BOOST_TEST(message("alpha-beta:2").find("alpha-beta takes ALPHA,BETA") != std::string::npos);
  BOOST_TEST(message("alpha-beta:2,-1").find("alpha - beta = 1") != std::string::npos);
  BOOST_TEST(message("gamma:0.25").find("unknown LRP rule \"gamma:0.25\"") != std::string::npos);
  BOOST_TEST(message("zb").find("write zb:LOW,HIGH") != std::string::npos);
  BOOST_TEST(message("dense=lrp0").find("unknown layer selector \"dense\"") != std::string::npos);
  BOOST_TEST(message("conv=lrp0;conv=flat").find("given twice") != std::string::npos);
  BOOST_TEST(message("conv=lrp0").find("gives no rule for layer 2 (SumPool 2x2, stride 2x2)") != std::string::npos);
  BOOST_TEST(message("12=lrp0;*=flat").find("layer 12 does not exist") != std::string::npos);
  BOOST_TEST(message("").find("empty rule specification") != std::string::npos);
  BOOST_CHECK_THROW(LrpRule("custom", {RulePart{0.5, {RuleTerm{}}, BiasModifier::zero, 0}}), std::invalid_argument);
  BOOST_CHECK_THROW(explain_lrp(cnn, Eigen::VectorXd::Zero(200), kCnnInput, 3, Composite::parse("lrp0")),
                    std::out_of_range);
}

BOOST_AUTO_TEST_CASE(a_custom_rule_from_parts_equals_the_built_in_one) {
  // Zennit-style composition: epsilon written out by hand.
  const LrpRule custom("my-epsilon", {RulePart{1, {RuleTerm{1, InputModifier::identity, WeightModifier::identity}},
                                               BiasModifier::identity, 0.5}});
  Tiny t;
  check_close(step_of(t.layer, t.in, t.x, t.R, custom).relevance, {-7.0 / 13, 50.0 / 13}, "custom epsilon");
}

BOOST_AUTO_TEST_CASE(softmax_is_stripped_and_not_explained_in_the_middle) {
  std::mt19937_64 rng(8);
  Network net = relu_mlp(rng, 0.2);
  const Eigen::VectorXd x = random_row(20, rng).transpose();
  const NetworkRelevance before = explain_lrp(net, x, kMlpInput, -1, Composite::parse("lrp0"));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::softmax));
  BOOST_TEST(net.score_layers() == 5);
  const NetworkRelevance after = explain_lrp(net, x, kMlpInput, -1, Composite::parse("lrp0"));
  BOOST_TEST(after.score == before.score);  // pre-softmax score
  BOOST_TEST((after.input - before.input).cwiseAbs().maxCoeff() == 0.0);
  net.add(std::make_unique<LinearLayer>(random_matrix(4, 2, rng), Eigen::VectorXd::Zero(2)));
  BOOST_CHECK_THROW(explain_lrp(net, x, kMlpInput, -1, Composite::parse("lrp0")), std::invalid_argument);
}
