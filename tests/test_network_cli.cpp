// The pixelwise command with networks: train-network on digits, explain a
// network model directory and an LRP Toolbox text file (against the
// toolbox's own relevance map), and clear errors with no output.
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;
using pixelwise::test::run_cli;

namespace {

std::vector<double> reference_row(const std::string& name, size_t row) {
  std::ifstream in(pixelwise::test::reference_dir() + "/lrp_toolbox/" + name);
  std::string line;
  for (size_t r = 0; r <= row; ++r) std::getline(in, line);
  std::istringstream s(line);
  std::vector<double> values;
  double v;
  while (s >> v) values.push_back(v);
  return values;
}

}  // namespace

BOOST_AUTO_TEST_CASE(train_a_network_on_digits_and_explain_digits) {
  pixelwise::test::ScratchDir dir("network-cli");
  const std::string model = dir / "model";
  auto r = run_cli("train-network --data digits:train:500 --test-data digits:test:200 --hidden 24 --epochs 4 "
                   "--seed 3 --quiet --out \"" + model + "\"");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const size_t at = r.output.find("test accuracy ");
  BOOST_REQUIRE(at != std::string::npos);
  const double accuracy = std::stod(r.output.substr(at + 14));
  BOOST_TEST(accuracy > 0.5, r.output);
  const nlohmann::json manifest = pixelwise::test::read_json(model + "/manifest.json");
  BOOST_TEST(manifest["format"] == "pixelwise-network-model");
  BOOST_TEST(std::abs(manifest["training"]["test_accuracy"].get<double>() - accuracy) < 1e-4);

  // Digit 3 (test index 3) for its own class and for class 8, with figures.
  const std::string own = dir / "own", other = dir / "other";
  r = run_cli("explain --model \"" + model + "\" --class 3 --figure --out \"" + own + "\" digits:test@3 digits:test@13");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  r = run_cli("explain --model \"" + model + "\" --class 8 --figure --out \"" + other + "\" digits:test@3");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  for (const std::string& folder : {own, other}) {
    const nlohmann::json j = pixelwise::test::read_json(folder + "/digits-test-3.json");
    BOOST_TEST(j["class"] == (folder == own ? "3" : "8"));
    BOOST_TEST(j["method"] == "lrp");
    BOOST_TEST(j["layers"].size() == 3u);
    const RowMatrixXd R = parse_npy_f8(read_file(folder + "/digits-test-3.npy"), "npy");
    BOOST_TEST(R.rows() == 20);
    BOOST_TEST(R.cols() == 20);
    BOOST_TEST(std::abs(R.sum() - j["pixel_sum"].get<double>()) <= 1e-9 * std::max(1.0, std::abs(R.sum())));
    BOOST_TEST(std::abs(j["unaccounted"].get<double>()) <= 1e-9 * std::max(1.0, std::abs(j["score"].get<double>())));
    const cv::Mat figure = cv::imread(folder + "/digits-test-3-figure.png");
    BOOST_TEST(figure.rows == 140);             // 20 px enlarged 7 times
    BOOST_TEST(figure.cols == 2 * 140 + 6);     // input | heatmap
    BOOST_TEST(fs::exists(folder + "/digits-test-3.png"));
  }
  BOOST_TEST(fs::exists(own + "/digits-test-13.npy"));

  // Taylor decomposition: root point and its gradient are written too.
  r = run_cli("explain --model \"" + model + "\" --method taylor --figure --out \"" + dir / "taylor" +
              "\" digits:test@3");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const nlohmann::json t = pixelwise::test::read_json(dir / "taylor/digits-test-3.json");
  BOOST_TEST(std::abs(t["root_score"].get<double>()) <= 1e-6 * std::abs(t["score"].get<double>()));
  BOOST_TEST(fs::exists(dir / "taylor/digits-test-3-root.npy"));
  BOOST_TEST(cv::imread(dir / "taylor/digits-test-3-figure.png").cols == 4 * 140 + 3 * 6);
}

BOOST_AUTO_TEST_CASE(explain_a_toolbox_text_file_like_the_toolbox) {
  pixelwise::test::ScratchDir dir("network-cli-toolbox");
  // MNIST test image 0 as a PNG: the toolbox input is p / 127.5 - 1.
  const std::vector<double> x = reference_row("mnist_inputs_784.txt", 0);
  BOOST_REQUIRE_EQUAL(x.size(), 784u);
  cv::Mat bytes(28, 28, CV_8U);
  for (int i = 0; i < 784; ++i) bytes.at<uchar>(i / 28, i % 28) = static_cast<uchar>(std::lround((x[i] + 1) * 127.5));
  cv::imwrite(dir / "seven.png", bytes);
  const std::string model = pixelwise::test::reference_dir() + "/lrp_toolbox/mlp_relu.txt";
  auto r = run_cli("explain --model \"" + model + "\" --rule epsilon:0.01 --out \"" + dir / "out" + "\" \"" +
                   dir / "seven.png" + "\"");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const RowMatrixXd R = parse_npy_f8(read_file(dir / "out/seven.npy"), "npy");
  const std::vector<double> expected = reference_row("mlp_relu_epsilon_0.01.txt", 0);
  double scale = 0, error = 0;
  for (int i = 0; i < 784; ++i) {
    scale = std::max(scale, std::abs(expected[i]));
    error = std::max(error, std::abs(R(i / 28, i % 28) - expected[i]));
  }
  // The image path goes through 8-bit pixels and float32 grey levels, so the
  // input differs from the toolbox's float64 one by ~1e-7 (the library test
  // compares at 1e-10 with the exact inputs).
  BOOST_TEST(error <= 1e-5 * scale, "max error " << error << " of " << scale);
  const nlohmann::json j = pixelwise::test::read_json(dir / "out/seven.json");
  // The toolbox explains the arg max of its (random, untrained) network.
  const std::vector<double> y = reference_row("mlp_relu_forward.txt", 0);
  const long t = std::max_element(y.begin(), y.end()) - y.begin();
  BOOST_TEST(j["class"] == std::to_string(t));
  BOOST_TEST(std::abs(j["score"].get<double>() - y[t]) <= 1e-6 * std::abs(y[t]));  // float32 grey input
  BOOST_TEST(j["rule"] == "*=epsilon:0.01");
}

BOOST_AUTO_TEST_CASE(bad_network_requests_fail_cleanly_without_output) {
  pixelwise::test::ScratchDir dir("network-cli-errors");
  const std::string model = pixelwise::test::reference_dir() + "/lrp_toolbox/mlp_relu.txt";
  auto r = run_cli("explain --model \"" + model + "\" --rule alpha-beta:2,-1 --out \"" + dir / "out" + "\" digits:test@0");
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.output.find("alpha - beta = 1") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir / "out"));
  // A 20 x 20 digit does not fit a 784-input network.
  r = run_cli("explain --model \"" + model + "\" --out \"" + dir / "out" + "\" digits:test@0");
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.output.find("takes 784 inputs, got 20x20x1") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir / "out"));
  // Network options with a BoW model are refused rather than ignored: --input-range at once; --rule once the
  // model is read (it applies to BoW models whose classifier is a network; SVM models: test_bow_network.cpp).
  r = run_cli("explain --model \"" + dir / "bow-model" + "\" --input-range 0,1 --out \"" + dir / "out" + "\" digits:test@0");
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.output.find("--input-range applies to network models only") != std::string::npos, r.output);
  r = run_cli("train-network --data digits:train:50 --hidden 0 --out \"" + dir / "m" + "\"");
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.output.find("not a positive layer size") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir / "m"));
}
