// The BoW layers below the classifier take rules the way network layers do
// (docs/design.md section 2): `--rule pooling=RULE;pixels=flat` on any BoW model,
// composed with the network rules of a network classifier; loss reported as
// absorbed, conservation kept; a rule a layer cannot take is refused before
// any output.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

nlohmann::json explain_json(const std::string& model, const std::string& rule, const test::ScratchDir& out) {
  const auto run = test::run_cli("explain --model " + (test::format1_fixtures() / "models" / model).string() +
                                 " --rule \"" + rule + "\" --out " + (out.path() / "e").string() +
                                 " fashion-mnist:test@0");
  BOOST_REQUIRE_MESSAGE(run.exit_code == 0, rule << ": " << run.output);
  return test::read_json(out / "e/fashion-mnist-test-0.json");
}

const nlohmann::json& layer_named(const nlohmann::json& j, const std::string& start) {
  for (const auto& layer : j.at("layers"))
    if (layer.at("name").get<std::string>().rfind(start, 0) == 0) return layer;
  BOOST_FAIL("no layer " << start);
  return j;
}

void check_conserved(const nlohmann::json& j) {
  const double score = j.at("score"), total = j.at("pixel_sum").get<double>() + j.at("absorbed").get<double>() +
                                                 j.at("unassigned").get<double>();
  BOOST_TEST(std::abs(total - score) <= 1e-9 * std::max(1.0, std::abs(score)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(svm_model_pooling_takes_epsilon_and_reports_the_loss) {
  test::ScratchDir out("bow-rules");
  const nlohmann::json plain = explain_json("grey-hik", "pooling=lrp0", out);
  BOOST_TEST(layer_named(plain, "pooling").at("name") == "pooling");  // LRP-0 is the pooling layer's own rule
  BOOST_TEST(layer_named(plain, "pooling").at("absorbed") == 0.0);
  test::ScratchDir out2("bow-rules-eps");
  const nlohmann::json eps = explain_json("grey-hik", "pooling=epsilon:0.5", out2);
  const nlohmann::json& pooling = layer_named(eps, "pooling");
  BOOST_TEST(pooling.at("name") == "pooling [epsilon:0.5]");
  BOOST_TEST(pooling.at("absorbed").get<double>() != 0.0);
  BOOST_TEST(std::abs(pooling.at("unaccounted").get<double>()) <= 1e-12);
  BOOST_TEST(eps.at("score") == plain.at("score"));  // the same decision
  check_conserved(plain);
  check_conserved(eps);
  // The library path equals the CLI's: the pooling step with the same rule.
  const BowModel model = BowModel::load((test::format1_fixtures() / "models" / "grey-hik").string());
  ExplainOptions options;
  options.rule = "pooling=epsilon:0.5";
  const ImageSample image = load_image_reference("fashion-mnist:test@0");
  const BowExplanation e = explain(model, model.input(image), -1, options, image.source);
  BOOST_TEST(std::abs(e.layers[1].absorbed - pooling.at("absorbed").get<double>()) <= 1e-12);
  // pixels=flat is the pixel layer's own rule: the same map as without it.
  test::ScratchDir out3("bow-rules-flat");
  BOOST_TEST(explain_json("grey-hik", "pixels=flat", out3).at("pixel_sum") == plain.at("pixel_sum"));
}

BOOST_AUTO_TEST_CASE(network_classifier_composes_network_and_bow_rules) {
  test::ScratchDir out("bow-rules-network");
  const nlohmann::json j = explain_json("grey-network", "pooling=epsilon:0.5;*=epsilon:0.01", out);
  BOOST_TEST(layer_named(j, "pooling").at("name") == "pooling [epsilon:0.5]");
  for (const auto& rule : j.at("layer_rules"))
    if (!rule.get<std::string>().empty()) BOOST_TEST(rule == "epsilon:0.01");
  check_conserved(j);
}

BOOST_AUTO_TEST_CASE(rules_a_layer_cannot_take_are_refused_before_any_output) {
  test::ScratchDir out("bow-rules-bad");
  const std::string none = (out.path() / "none").string();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"grey-hik", "pixels=lrp0"},            // the pixel layer takes the flat rule only
      {"grey-hik", "linear=epsilon"},         // an SVM has no network layers
      {"grey-hik", "lrp0"},                   // "*" names network layers
      {"grey-network", "pixels=z+"},
      {"grey-hik", "pooling=bogus"}};
  const std::vector<std::string> words{"flat", "network classifiers", "network classifiers", "flat", "bogus"};
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto r = test::run_cli("explain --model " + (test::format1_fixtures() / "models" / cases[i].first).string() +
                                 " --rule \"" + cases[i].second + "\" --out " + none + " fashion-mnist:test@0");
    BOOST_TEST(r.exit_code == 1, cases[i].second);
    BOOST_TEST(r.output.find(words[i]) != std::string::npos, cases[i].second << ": " << r.output);
    BOOST_TEST(!fs::exists(none), cases[i].second);
  }
}
