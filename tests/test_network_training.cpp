// Training small networks on OpenCV's digits (seeded, softmax cross-entropy,
// Adam or SGD with momentum), the digits data set, and network model
// directories.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/pipelines/model/network_training.hpp"
#include "pixelwise/pipelines/explain/network_explain.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"
#include "test_support.hpp"

using namespace pixelwise;

BOOST_AUTO_TEST_CASE(digits_splits_are_balanced_and_interleaved) {
  const Dataset train = load_network_dataset("digits:train:30");
  BOOST_REQUIRE_EQUAL(train.images.size(), 30u);
  BOOST_TEST(train.classes.size() == 10u);
  for (size_t k = 0; k < train.images.size(); ++k) {
    BOOST_TEST(train.images[k].label == static_cast<int>(k % 10));
    BOOST_TEST(train.images[k].gray.rows == 20);
    BOOST_TEST(train.images[k].gray.cols == 20);
  }
  // Test index k is digit k mod 10 from the fifth row of its block; it differs from every training digit.
  const ImageSample t = load_network_image("digits:test@13");
  BOOST_TEST(t.label == 3);
  BOOST_TEST(t.name == "digits-test-13");
  BOOST_TEST(cv::norm(t.gray, train.images[3].gray) > 0.0);
  // A digit has ink (bright) on a dark background.
  double lo, hi;
  cv::minMaxLoc(t.gray, &lo, &hi);
  BOOST_TEST(lo == 0.0);
  BOOST_TEST(hi > 0.5);
  BOOST_CHECK_THROW(load_network_image("digits:test@1000"), std::runtime_error);
  BOOST_CHECK_THROW(load_network_dataset("digits:valid"), std::runtime_error);
  BOOST_CHECK_THROW(load_network_image("digits:test"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(a_tiny_mlp_learns_digits_quickly_and_reproducibly) {
  const Dataset train = load_network_dataset("digits:train:600");
  const Dataset test = load_network_dataset("digits:test:300");
  NetworkTrainingConfig config;
  config.hidden = {32};
  config.training.epochs = 6;
  config.training.seed = 7;
  TrainingHistory history;
  const NetworkModel model = train_network_model(train, config, nullptr, &history);
  BOOST_REQUIRE_EQUAL(history.loss.size(), 6u);
  BOOST_TEST(history.loss.back() < 0.5 * history.loss.front(), "loss " << history.loss.front() << " -> "
                                                                        << history.loss.back());
  const double accuracy = network_accuracy(model, test);
  BOOST_TEST_MESSAGE("tiny MLP test accuracy " << accuracy);
  BOOST_TEST(accuracy > 0.6);  // chance is 0.1
  // Same seed, same network, bit for bit.
  const NetworkModel again = train_network_model(train, config, nullptr);
  BOOST_TEST(again.network.toolbox_text() == model.network.toolbox_text());
  // Another seed, another network.
  config.training.seed = 8;
  BOOST_TEST(train_network_model(train, config, nullptr).network.toolbox_text() != model.network.toolbox_text());
}

BOOST_AUTO_TEST_CASE(sgd_with_momentum_lowers_the_loss_too) {
  const Dataset train = load_network_dataset("digits:train:300");
  NetworkTrainingConfig config;
  config.hidden = {16};
  config.activation = Activation::tanh;
  config.training.optimizer = Optimizer::sgd;
  config.training.learning_rate = 0.05;
  config.training.epochs = 5;
  TrainingHistory history;
  train_network_model(train, config, nullptr, &history);
  BOOST_TEST(history.loss.back() < 0.7 * history.loss.front());
  config.training.momentum = 1.0;  // outside [0, 1)
  BOOST_CHECK_THROW(train_network_model(train, config, nullptr), std::invalid_argument);
  BOOST_CHECK_THROW(parse_enum<Optimizer>("rmsprop", "optimizer"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(model_directories_round_trip_and_explanations_conserve) {
  const Dataset train = load_network_dataset("digits:train:200");
  NetworkTrainingConfig config;
  config.hidden = {12};
  config.training.epochs = 2;
  NetworkModel model = train_network_model(train, config, nullptr);
  pixelwise::test::ScratchDir dir("network-model");
  model.save(dir / "model");
  BOOST_TEST(NetworkModel::is_network_model(dir / "model"));
  const NetworkModel loaded = NetworkModel::load(dir / "model");
  BOOST_TEST(loaded.network.toolbox_text() == model.network.toolbox_text());
  BOOST_TEST(loaded.classes == model.classes);
  BOOST_TEST(loaded.input.shape.str() == "20x20x1");
  BOOST_CHECK_THROW(NetworkModel::load(dir / "model", std::make_pair(-1.0, 1.0)), std::runtime_error);

  // Explaining a digit: with LRP-0 and biases ignored, pixel sum = score exactly.
  const ImageSample digit = load_network_image("digits:test@4");
  NetworkExplainOptions options;
  options.rule = "lrp0";
  options.ignore_bias = true;
  options.class_index = 4;
  NetworkExplanation e = explain_network(loaded, digit.gray, options, "digit");
  BOOST_TEST(e.class_index == 4);
  BOOST_TEST(std::abs(e.pixel_sum - e.score) <= 1e-9 * std::abs(e.score));
  BOOST_TEST(e.pixels.rows() == 20);
  // The default composite (z^B on the first layer, epsilon above) accounts for everything.
  options = NetworkExplainOptions{};
  e = explain_network(loaded, digit.gray, options, "digit");
  const nlohmann::json j = network_explanation_json(loaded, e);
  BOOST_TEST(j["rule"] == "first=zb:0,1;conv=z+;sumpool=lrp0;*=epsilon:0.01");
  BOOST_TEST(std::abs(j["unaccounted"].get<double>()) <= 1e-9 * std::abs(e.score));
  BOOST_TEST(j["layers"].size() == 3u);
  // A damaged network file is detected.
  {
    std::ofstream f(dir / "model/network.txt", std::ios::app);
    f << "Rect\n";
  }
  BOOST_CHECK_THROW(NetworkModel::load(dir / "model"), std::runtime_error);
  // A 28 x 28 image does not fit a 20 x 20 model.
  BOOST_CHECK_THROW(explain_network(loaded, cv::Mat(28, 28, CV_32FC1, cv::Scalar(0.5)), options, "big"),
                    std::runtime_error);
}
