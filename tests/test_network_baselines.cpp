// Gradients of layered networks (checked by finite differences), the
// whole-network Taylor decomposition at a root point found by bisection, and
// the sensitivity baseline (docs/design.md 1.7; paper Fig 11).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

using test::random_matrix;

Eigen::VectorXd random_vector(long n, std::mt19937_64& rng) { return random_matrix(n, 1, rng).col(0); }

// Every layer kind, strided, with a smooth activation (tanh) and a Rect:
// 9x8x2 -> conv 3x3 s(2,1) -> 4x6x3 -> tanh -> sumpool 2x2 s2 -> 2x3x3 -> conv 1x2 -> 2x2x4 -> rect
// -> maxpool 2x1 s1 -> 1x2x4 -> flatten -> 8 -> linear -> 3 -> softmax.
Network every_layer_net(std::mt19937_64& rng) {
  Network net;
  net.add(std::make_unique<ConvolutionLayer>(3, 3, 2, 3, 2, 1, random_matrix(18, 3, rng), random_vector(3, rng)));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::tanh));
  net.add(std::make_unique<SumPoolLayer>(2, 2, 2, 2));
  net.add(std::make_unique<ConvolutionLayer>(1, 2, 3, 4, 1, 1, random_matrix(6, 4, rng), random_vector(4, rng)));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::relu));
  net.add(std::make_unique<MaxPoolLayer>(2, 1, 1, 1));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::flatten));
  net.add(std::make_unique<LinearLayer>(random_matrix(8, 3, rng), random_vector(3, rng)));
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::softmax));
  return net;
}

const TensorShape kInput{9, 8, 2};

}  // namespace

BOOST_AUTO_TEST_CASE(input_gradients_match_finite_differences) {
  std::mt19937_64 rng(17);
  const Network net = every_layer_net(rng);
  BOOST_TEST(net.score_layers() == 8);
  for (int trial = 0; trial < 3; ++trial) {
    const Eigen::VectorXd x = random_vector(kInput.size(), rng);
    for (int c = 0; c < 3; ++c) {
      const Eigen::VectorXd g = net.gradient(x.transpose(), kInput, c).row(0).transpose();
      const double h = 1e-6;
      for (long i = 0; i < x.size(); i += 7) {
        Eigen::VectorXd xp = x, xm = x;
        xp[i] += h;
        xm[i] -= h;
        const double numeric =
            (net.scores(xp.transpose(), kInput)(0, c) - net.scores(xm.transpose(), kInput)(0, c)) / (2 * h);
        BOOST_TEST(std::abs(numeric - g[i]) <= 1e-6 * std::max(1.0, std::abs(g[i])), "input " << i << " class " << c);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(parameter_gradients_match_finite_differences) {
  std::mt19937_64 rng(23);
  Network net = every_layer_net(rng);
  const RowMatrixXd x = random_matrix(4, kInput.size(), rng);
  const std::vector<int> labels{0, 2, 1, 2};
  auto loss = [&](const Network& n) { return softmax_cross_entropy(n.scores(x, kInput), labels, nullptr); };
  const Network::Record record = net.forward_record(x, kInput);
  RowMatrixXd d_scores;
  softmax_cross_entropy(record.activations.back(), labels, &d_scores);
  std::vector<ParameterGradient> grads(net.score_layers());
  for (int k = 0; k < net.score_layers(); ++k)
    if (const auto* a = dynamic_cast<const AffineLayer*>(&net.layer(k))) {
      grads[k].weights = RowMatrixXd::Zero(a->weights.rows(), a->weights.cols());
      grads[k].bias = Eigen::VectorXd::Zero(a->bias.size());
    }
  net.backward(record, d_scores, &grads);
  int checked = 0;
  for (int k : {0, 3, 7}) {
    auto& layer = dynamic_cast<AffineLayer&>(net.layer(k));
    for (long i = 0; i < layer.weights.size(); i += 5) {
      const double keep = layer.weights.data()[i], h = 1e-6;
      layer.weights.data()[i] = keep + h;
      const double up = loss(net);
      layer.weights.data()[i] = keep - h;
      const double down = loss(net);
      layer.weights.data()[i] = keep;
      BOOST_TEST(std::abs((up - down) / (2 * h) - grads[k].weights.data()[i]) <= 1e-7, "layer " << k << " w " << i);
      ++checked;
    }
    for (long j = 0; j < layer.bias.size(); ++j) {
      const double keep = layer.bias[j], h = 1e-6;
      layer.bias[j] = keep + h;
      const double up = loss(net);
      layer.bias[j] = keep - h;
      const double down = loss(net);
      layer.bias[j] = keep;
      BOOST_TEST(std::abs((up - down) / (2 * h) - grads[k].bias[j]) <= 1e-7, "layer " << k << " b " << j);
    }
  }
  BOOST_TEST(checked > 10);
}

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_by_hand) {
  // scores (0, ln 3): p = (1/4, 3/4); label 1: loss -ln(3/4); gradient p - onehot = (1/4, -1/4).
  RowMatrixXd scores(1, 2);
  scores << 0, std::log(3.0);
  RowMatrixXd g;
  const double loss = softmax_cross_entropy(scores, {1}, &g);
  BOOST_TEST(std::abs(loss + std::log(0.75)) <= 1e-15);
  BOOST_TEST(std::abs(g(0, 0) - 0.25) <= 1e-15);
  BOOST_TEST(std::abs(g(0, 1) + 0.25) <= 1e-15);
  BOOST_CHECK_THROW(softmax_cross_entropy(scores, {2}, nullptr), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(taylor_decomposition_of_a_linear_function_by_hand) {
  // f(x) = x_0 + x_1 - 1 at x = (1, 2): f = 2. Reference (0, 0): f = -1.
  // The root on the segment t x: 3t - 1 = 0, t = 1/3, x0 = (1/3, 2/3);
  // R = w (x - x0) = (2/3, 4/3), summing to f(x) exactly.
  Network net;
  net.add(std::make_unique<LinearLayer>((RowMatrixXd(2, 1) << 1, 1).finished(), Eigen::VectorXd::Constant(1, -1)));
  NetworkTaylorOptions options;
  options.references = {Eigen::Vector2d(0, 0)};
  options.search_gradient_direction = false;
  options.root_search.tolerance = 1e-14;
  const NetworkTaylorDecomposition t = taylor_decompose_network(net, Eigen::Vector2d(1, 2), {1, 1, 2}, 0, options);
  BOOST_TEST(t.score == 2.0);
  BOOST_TEST(std::abs(t.root[0] - 1.0 / 3) <= 1e-14);
  BOOST_TEST(std::abs(t.root[1] - 2.0 / 3) <= 1e-14);
  BOOST_TEST(std::abs(t.root_score) <= 1e-14);
  BOOST_TEST(std::abs(t.relevance[0] - 2.0 / 3) <= 1e-14);
  BOOST_TEST(std::abs(t.relevance[1] - 4.0 / 3) <= 1e-14);
  BOOST_TEST(std::abs(t.remainder()) <= 1e-14);
  BOOST_TEST(t.reference == "reference 0");
  // A reference of the same sign is no use: nothing else to try, a clear error.
  options.references = {Eigen::Vector2d(5, 5)};
  try {
    taylor_decompose_network(net, Eigen::Vector2d(1, 2), {1, 1, 2}, 0, options);
    BOOST_FAIL("no root, but no error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("no reference point with a score of the opposite sign") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(taylor_decomposition_of_a_network_uses_the_nearest_root) {
  std::mt19937_64 rng(31);
  const Network net = every_layer_net(rng);
  int decomposed = 0;
  for (int trial = 0; trial < 4; ++trial) {
    const Eigen::VectorXd x = random_vector(kInput.size(), rng);
    for (int c = 0; c < 3; ++c) {
      NetworkTaylorOptions options;
      options.bounds = std::make_pair(-1.0, 1.0);
      const NetworkTaylorDecomposition t = taylor_decompose_network(net, x, kInput, c, options);
      ++decomposed;
      const double f = t.score;
      BOOST_TEST(f == net.scores(x.transpose(), kInput)(0, c));
      // A root: |f(x0)| within the root search's tolerance.
      BOOST_TEST(std::abs(t.root_score) <= options.root_search.tolerance);
      BOOST_TEST(t.root_score == net.scores(t.root.transpose(), kInput)(0, c));
      // R_i = df/dx_i(x0) (x_i - x0_i), with the gradient at the root.
      const Eigen::VectorXd g = net.gradient(t.root.transpose(), kInput, c).row(0).transpose();
      BOOST_TEST((t.gradient - g).cwiseAbs().maxCoeff() == 0.0);
      BOOST_TEST((t.relevance - g.cwiseProduct(x - t.root)).cwiseAbs().maxCoeff() == 0.0);
      // The root lies on a segment from x to a candidate, and no candidate's
      // root is closer: the constant inputs' roots are at least as far.
      for (double level : {-1.0, 0.0, 1.0}) {
        const Eigen::VectorXd ref = Eigen::VectorXd::Constant(x.size(), level);
        const double fr = net.scores(ref.transpose(), kInput)(0, c);
        if ((fr > 0) != (f > 0)) {
          NetworkTaylorOptions only;
          only.references = {ref};
          only.search_gradient_direction = false;
          const NetworkTaylorDecomposition other = taylor_decompose_network(net, x, kInput, c, only);
          BOOST_TEST((t.root - x).norm() <= (other.root - x).norm() + 1e-12);
        }
      }
    }
  }
  BOOST_TEST(decomposed == 12);
}

BOOST_AUTO_TEST_CASE(sensitivity_is_the_squared_gradient) {
  // f = 1 x_0 - 2 x_1 (class 0) and 3 x_0 (class 1): sensitivities (1, 4) and (9, 0).
  Network net;
  net.add(std::make_unique<LinearLayer>((RowMatrixXd(2, 2) << 1, 3, -2, 0).finished(), Eigen::Vector2d(0.5, 0)));
  const Eigen::VectorXd s0 = sensitivity(net, Eigen::Vector2d(1, 1), {1, 1, 2}, 0);
  BOOST_TEST(s0[0] == 1.0);
  BOOST_TEST(s0[1] == 4.0);
  const Eigen::VectorXd s1 = sensitivity(net, Eigen::Vector2d(1, 1), {1, 1, 2}, -1);  // arg max: 3 > -0.5
  BOOST_TEST(s1[0] == 9.0);
  BOOST_TEST(s1[1] == 0.0);
}
