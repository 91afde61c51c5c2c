// Every method explains the same decision of the same input: on a colour
// model, lrp, taylor, sensitivity, occlusion and random (explain and evaluate)
// report the same score for the same image and class, the score of the colour
// image the model reads (docs/design.md section 2; a grey copy would be another
// input with another score).
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

fs::path fixtures() { return test::format1_fixtures(); }

// The explained score of an image file, read from explain's JSON.
double explained_score(const std::string& method, const fs::path& image, const std::string& cls) {
  test::ScratchDir out("consistency-" + method);
  const auto run = test::run_cli("explain --model " + (fixtures() / "models" / "colour-opponent").string() +
                                 " --method " + method + " --class " + cls + " --out " + out.path().string() + " " +
                                 image.string());
  BOOST_REQUIRE_MESSAGE(run.exit_code == 0, method << ": " << run.output);
  return test::read_json(out / (image.stem().string() + ".json")).at("score").get<double>();
}

fs::path image_file(const std::string& name) { return fixtures() / "images" / (name + ".ppm"); }

}  // namespace

BOOST_AUTO_TEST_CASE(every_explain_method_explains_the_colour_decision) {
  for (const std::string image : {"fruit", "leaf"}) {
    const double lrp = explained_score("lrp", image_file(image), "fruit");
    // predict reads the colour image as well.
    const auto grey = test::run_cli("predict --json --model " + (fixtures() / "models" / "colour-opponent").string() +
                                    " " + (fixtures() / "images" / (image + ".ppm")).string());
    BOOST_REQUIRE(grey.exit_code == 0);
    const double predicted = nlohmann::json::parse(grey.output).at(0).at("scores").at("fruit").get<double>();
    BOOST_TEST(std::abs(lrp - predicted) <= 1e-12 * std::max(1.0, std::abs(lrp)), image);
    for (const std::string method : {"taylor", "sensitivity", "occlusion", "random"}) {
      const double s = explained_score(method, image_file(image), "fruit");
      BOOST_TEST(std::abs(s - lrp) <= 1e-12 * std::max(1.0, std::abs(lrp)), image << " " << method << ": " << s
                                                                                  << " vs lrp " << lrp);
    }
  }
}

BOOST_AUTO_TEST_CASE(evaluate_scores_the_colour_image) {
  test::ScratchDir data("consistency-data");
  for (const std::string image : {"fruit", "leaf"}) {
    fs::create_directories(data.path() / image);
    fs::copy_file(fixtures() / "images" / (image + ".ppm"), data.path() / image / (image + ".ppm"));
  }
  test::ScratchDir out("consistency-evaluate");
  const auto run = test::run_cli("evaluate --quiet --model " + (fixtures() / "models" / "colour-opponent").string() +
                                 " --data " + data.path().string() + " --class fruit --methods "
                                 "lrp,taylor,sensitivity,occlusion,random --metrics aopc --steps 4 --out " +
                                 (out.path() / "e").string());
  BOOST_REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  const nlohmann::json e = test::read_json(out / "e/evaluation.json");
  BOOST_REQUIRE_EQUAL(e.at("images").size(), 2u);
  for (const auto& record : e.at("images")) {
    const std::string name = record.at("name");
    const double lrp = explained_score("lrp", record.at("source").get<std::string>(), "fruit");
    BOOST_TEST(std::abs(record.at("score").get<double>() - lrp) <= 1e-12 * std::max(1.0, std::abs(lrp)), name);
    for (const auto& [method, m] : record.at("methods").items())
      BOOST_TEST(std::abs(m.at("score").get<double>() - lrp) <= 1e-12 * std::max(1.0, std::abs(lrp)),
                 name << " " << method);
  }
}
