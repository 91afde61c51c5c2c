// Layered networks against the LRP Toolbox's own outputs
// (tests/data/lrp_toolbox/README.md): forward passes, input relevance
// maps and per-layer relevance sums for every network and rule there, plus the
// toolbox text format (round trip, older layout, bad input).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

std::string toolbox_dir() { return pixelwise::test::reference_dir() + "/lrp_toolbox"; }

// One row per line of a numeric text file.
std::vector<std::vector<double>> read_rows(const std::string& name) {
  const std::string path = toolbox_dir() + "/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<std::vector<double>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::vector<double> row;
    double v;
    while (s >> v) row.push_back(v);
    if (!row.empty()) rows.push_back(row);
  }
  return rows;
}

Eigen::VectorXd as_vector(const std::vector<double>& v) {
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<long>(v.size()));
}

struct ToolboxNet {
  std::string name, model, inputs;
  TensorShape shape;
  int layers;  // after removing a trailing SoftMax
};

const std::vector<ToolboxNet>& toolbox_nets() {
  static const std::vector<ToolboxNet> nets{
      {"xor", "xor_random.txt", "xor_inputs.txt", {1, 1, 2}, 5},
      {"cnn", "cnn_random.txt", "mnist_inputs_32x32.txt", {32, 32, 1}, 11},
      {"mlp_relu", "mlp_relu.txt", "mnist_inputs_784.txt", {1, 1, 784}, 5},
      {"mlp_tanh", "mlp_tanh.txt", "mnist_inputs_784.txt", {1, 1, 784}, 3},
  };
  return nets;
}

// The toolbox writes alpha-beta with alpha + beta = 1 (beta = 1 - alpha); the
// public convention here is alpha - beta = 1, so toolbox alpha a is (a, a - 1).
LrpRule from_toolbox_alpha(double a) {
  const double toolbox_beta = 1 - a;
  return LrpRule::alpha_beta(a, -toolbox_beta);
}

Composite toolbox_rule(const std::string& rule) {
  // The toolbox's z rule stabilises a SumPool's denominator with 1e-12 s(S_j)
  // (README, "SumPool"), i.e. it is epsilon 1e-12 there and LRP-0 elsewhere.
  if (rule == "z") return Composite().set("sumpool", LrpRule::epsilon(1e-12)).set("*", LrpRule::lrp0());
  if (rule == "epsilon_0.01") return Composite(LrpRule::epsilon(0.01));
  if (rule == "epsilon_1") return Composite(LrpRule::epsilon(1));
  if (rule == "alphabeta_2") return Composite(from_toolbox_alpha(2));
  if (rule == "alphabeta_1") return Composite(from_toolbox_alpha(1));
  if (rule == "ww") return Composite(LrpRule::w_square());
  if (rule == "flat") return Composite(LrpRule::flat());
  if (rule == "composite") return Composite::parse("toolbox-composite");
  throw std::runtime_error("unknown toolbox rule " + rule);
}

const std::vector<std::string> kRules{"z",           "epsilon_0.01", "epsilon_1", "alphabeta_2",
                                      "alphabeta_1", "ww",           "flat",      "composite"};

}  // namespace

BOOST_AUTO_TEST_CASE(toolbox_forward_outputs_are_reproduced) {
  for (const auto& net : toolbox_nets()) {
    const Network network = Network::load_toolbox(toolbox_dir() + "/" + net.model);
    BOOST_TEST(network.score_layers() == net.layers);
    const auto inputs = read_rows(net.inputs);
    const auto expected = read_rows(net.name + "_forward.txt");
    BOOST_REQUIRE_EQUAL(inputs.size(), expected.size());
    for (size_t s = 0; s < inputs.size(); ++s) {
      const Eigen::VectorXd y = network.scores(as_vector(inputs[s]).transpose(), net.shape).row(0).transpose();
      BOOST_REQUIRE_EQUAL(static_cast<size_t>(y.size()), expected[s].size());
      for (long c = 0; c < y.size(); ++c)
        BOOST_TEST(std::abs(y[c] - expected[s][c]) <= 1e-12 * std::abs(expected[s][c]),
                   net.name << " sample " << s << " output " << c << ": " << y[c] << " vs " << expected[s][c]);
    }
  }
}

BOOST_AUTO_TEST_CASE(toolbox_relevance_maps_and_layer_sums_are_reproduced) {
  double worst_map = 0, worst_sum = 0;
  for (const auto& net : toolbox_nets()) {
    const Network network = Network::load_toolbox(toolbox_dir() + "/" + net.model);
    const auto inputs = read_rows(net.inputs);
    const auto forward = read_rows(net.name + "_forward.txt");
    for (const auto& rule : kRules) {
      const std::string stem = net.name + "_" + rule;
      const auto maps = read_rows(stem + ".txt");
      const auto sums = read_rows(stem + "_layersums.txt");  // line k = layer k, one column per sample
      BOOST_REQUIRE_EQUAL(maps.size(), inputs.size());
      BOOST_REQUIRE_EQUAL(sums.size(), static_cast<size_t>(net.layers + 1));
      const Composite composite = toolbox_rule(rule);
      for (size_t s = 0; s < inputs.size(); ++s) {
        const NetworkRelevance r = explain_lrp(network, as_vector(inputs[s]), net.shape, -1, composite);
        // The explained class is the arg max; its score is the initial relevance.
        const Eigen::VectorXd y = as_vector(forward[s]);
        int t;
        y.maxCoeff(&t);
        BOOST_TEST(r.class_index == t);
        // Input map: |R - R_ref| <= 1e-10 max|R_ref| per sample (README, "Precision").
        const Eigen::VectorXd ref = as_vector(maps[s]);
        BOOST_REQUIRE_EQUAL(r.input.size(), ref.size());
        const double scale = ref.cwiseAbs().maxCoeff();
        const double error = (r.input - ref).cwiseAbs().maxCoeff();
        worst_map = std::max(worst_map, error / scale);
        BOOST_TEST(error <= 1e-10 * scale, stem << " sample " << s << ": max |R - R_ref| = " << error
                                                << ", max |R_ref| = " << scale);
        // Layer sums: line k is what layer k passed to its input; line L is Y[t].
        BOOST_REQUIRE_EQUAL(r.layers.size(), static_cast<size_t>(net.layers));
        const double sum_scale = std::max(std::abs(sums[net.layers][s]), std::abs(y[t]));
        for (int k = 0; k <= net.layers; ++k) {
          const double expected = sums[k][s];
          const double got = k == net.layers ? r.layers.front().relevance_in
                                             : r.layers[net.layers - 1 - k].relevance_out;
          const double tolerance = 1e-10 * std::max(std::abs(expected), sum_scale);
          worst_sum = std::max(worst_sum, std::abs(got - expected) / std::max(std::abs(expected), sum_scale));
          BOOST_TEST(std::abs(got - expected) <= tolerance,
                     stem << " sample " << s << " layersum " << k << ": " << got << " vs " << expected);
        }
        BOOST_TEST(std::abs(r.input_sum() - sums[0][s]) <= 1e-10 * sum_scale);
        // Every layer's account closes up to rounding.
        for (const auto& layer : r.layers)
          BOOST_TEST(std::abs(layer.unaccounted()) <= 1e-9 * std::max(1.0, std::abs(layer.relevance_in)),
                     stem << " " << layer.name << " unaccounted " << layer.unaccounted());
      }
    }
  }
  BOOST_TEST_MESSAGE("worst relative map error " << worst_map << ", worst layer-sum error " << worst_sum);
}

BOOST_AUTO_TEST_CASE(toolbox_alpha_beta_convention_is_rejected_with_a_clear_message) {
  // The toolbox's alpha = 2 written literally as (alpha, beta) = (2, -1).
  try {
    LrpRule::alpha_beta(2, -1);
    BOOST_FAIL("alpha 2, beta -1 was accepted");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("alpha - beta = 1") != std::string::npos);
    BOOST_TEST(what.find("alpha = a, beta = a - 1") != std::string::npos);
  }
  BOOST_CHECK_THROW(LrpRule::alpha_beta(0.5, 0.5), std::invalid_argument);  // alpha + beta = 1 but not - = 1
  BOOST_CHECK_THROW(LrpRule::parse("alpha-beta:0.7,0.3"), std::invalid_argument);
  BOOST_CHECK_THROW(LrpRule::parse("alpha-beta:0.5,-0.5"), std::invalid_argument);
  BOOST_CHECK_NO_THROW(LrpRule::parse("alpha-beta:3,2"));
  BOOST_TEST(from_toolbox_alpha(2).name() == "alpha-beta:2,1");
  BOOST_TEST(from_toolbox_alpha(1).name() == "alpha-beta:1,0");
}

BOOST_AUTO_TEST_CASE(toolbox_text_round_trips_exactly) {
  for (const auto& net : toolbox_nets()) {
    const std::string path = toolbox_dir() + "/" + net.model;
    const Network a = Network::load_toolbox(path);
    const std::string text = a.toolbox_text();
    const Network b = Network::parse_toolbox(text, "round trip of " + net.model);
    BOOST_REQUIRE_EQUAL(a.size(), b.size());
    for (int k = 0; k < a.size(); ++k) {
      BOOST_TEST(a.layer(k).describe() == b.layer(k).describe());
      if (const auto* la = dynamic_cast<const AffineLayer*>(&a.layer(k))) {
        const auto& lb = dynamic_cast<const AffineLayer&>(b.layer(k));
        BOOST_TEST((la->weights.array() == lb.weights.array()).all());  // bit for bit
        BOOST_TEST((la->bias.array() == lb.bias.array()).all());
      }
    }
    BOOST_TEST(b.toolbox_text() == text);
    // The original files are written with Python's repr, also the shortest
    // round-trip form, so the text is reproduced byte for byte (up to the
    // final newline conventions of the header lines).
    std::ifstream in(path);
    std::stringstream original;
    original << in.rdbuf();
    BOOST_TEST(text == original.str(), net.model << " is not reproduced byte for byte");
  }
}

BOOST_AUTO_TEST_CASE(toolbox_reader_reads_the_older_linear_layout_and_allows_trailing_blank_lines) {
  const Network net = Network::parse_toolbox("Linear 3 2\n1 2\n3 4\n5 6\n0.5 -0.5  \nRect\t\n\n \t\n\n", "old layout");
  BOOST_REQUIRE_EQUAL(net.size(), 2);
  const auto& lin = dynamic_cast<const LinearLayer&>(net.layer(0));
  RowMatrixXd expected(3, 2);
  expected << 1, 2, 3, 4, 5, 6;
  BOOST_TEST((lin.weights.array() == expected.array()).all());
  // y = x W + b for x = (1, 0, -1): (1 - 5 + 0.5, 2 - 6 - 0.5) -> Rect -> (0, 0); and x = (1, 1, 1).
  RowMatrixXd x(2, 3);
  x << 1, 0, -1, 1, 1, 1;
  const RowMatrixXd y = net.forward(x, {1, 1, 3});
  BOOST_TEST(y(0, 0) == 0.0);
  BOOST_TEST(y(0, 1) == 0.0);
  BOOST_TEST(y(1, 0) == 9.5);
  BOOST_TEST(y(1, 1) == 11.5);
}

BOOST_AUTO_TEST_CASE(toolbox_reader_rejects_bad_files_naming_the_line) {
  auto message = [](const std::string& text) {
    try {
      Network::parse_toolbox(text, "bad.txt");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BOOST_TEST(message("Linear 2 2\n1 2 3\n0 0\n").find("bad.txt: line 2: Linear expects 4 weights") == 0);
  BOOST_TEST(message("Linear 2 2\n1 2 3 4\n0\n").find("line 3: Linear expects 2 biases") != std::string::npos);
  BOOST_TEST(message("Linear 2 2\n1 2 3 4\n").find("line 3: missing the line with the biases") != std::string::npos);
  BOOST_TEST(message("Dense 2 2\n").find("line 1: unknown layer \"Dense\"") != std::string::npos);
  BOOST_TEST(message("Linear 2 x\n").find("line 1: Linear: n \"x\" is not a positive whole number") !=
             std::string::npos);
  BOOST_TEST(message("Linear 1 1\nabc\n0\n").find("line 2: \"abc\" among the weights is not a finite number") !=
             std::string::npos);
  BOOST_TEST(message("Convolution 2 2 1 1 0 1\n").find("s0 \"0\" is not a positive whole number") !=
             std::string::npos);
  BOOST_TEST(message("Rect 3\n").find("line 1: Rect takes 0 numbers") != std::string::npos);
  BOOST_TEST(message("").find("no layers") != std::string::npos);
  // docs/errors.md, "Inputs": nothing but blank lines after the layers; a blank line is not an end marker.
  BOOST_TEST(message("Rect\n\nthis is not a layer\n").find("bad.txt: line 2: blank line among the layers") == 0);
  BOOST_TEST(message("Rect\n  \nTanh\n").find("bad.txt: line 2: blank line among the layers") == 0);
  BOOST_TEST(message("Linear 1 1\n\n2\n0\n").find("bad.txt: line 2:") == 0);
  BOOST_TEST(message("Rect\nTanh\n%%\n").find("bad.txt: line 3: unknown layer \"%%\"") == 0);
  BOOST_CHECK_THROW(Network::load_toolbox(toolbox_dir() + "/no_such_model.txt"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(shape_mismatch_is_reported_with_the_layer) {
  const Network network = Network::load_toolbox(toolbox_dir() + "/cnn_random.txt");
  try {
    network.scores(RowMatrixXd::Zero(1, 28 * 28), {28, 28, 1});
    BOOST_FAIL("a 28x28 input was accepted by a 32x32 network");
  } catch (const std::invalid_argument& e) {
    // 28 -> 24 -> 12 -> 8 -> 4 -> 1 (conv 4x4) -> SumPool 2x2 cannot take 1x1.
    BOOST_TEST(std::string(e.what()).find("layer 8 (SumPool 2x2, stride 2x2: input 1x1x100 is smaller than the window)") !=
               std::string::npos, e.what());
  }
}
