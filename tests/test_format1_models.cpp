// Model directories of format version 1, written by pixelwise 0.1.0 before the
// layer-contract redesign (tests/data/format1: the models, the images and the
// explanations that version wrote; make_fixtures.sh made them). Every later
// version must load them and explain the same decisions with the same maps.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "pixelwise/pipelines/io/npy.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

fs::path fixtures() { return test::format1_fixtures(); }

RowMatrixXd read_npy(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, path.string() << ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy_f8(bytes, path.string());
}

// Explains the images again with the arguments that made `expected` and
// compares every output: the map to 1e-12 max |R|, every number in the JSON
// (scores, per-layer accounts, bin and descriptor relevance) to 1e-12 of its
// scale, and every other field exactly.
void compare_numbers(const nlohmann::json& want, const nlohmann::json& got, double scale, const std::string& where) {
  if (want.is_number()) {
    BOOST_REQUIRE_MESSAGE(got.is_number(), where << ": not a number: " << got.dump());
    const double a = want.get<double>(), b = got.get<double>();
    BOOST_TEST(std::abs(a - b) <= 1e-12 * std::max(1.0, scale), where << ": " << a << " became " << b);
  } else if (want.is_object()) {
    for (const auto& [key, value] : want.items()) {
      // The per-layer account key has one name now; the old one is read back as the same quantity.
      const std::string now = key == "relevance_sum" ? "relevance_out" : key;
      const bool has = got.contains(now) || got.contains(key);
      BOOST_TEST(has, where << ": field " << key << " is gone");
      if (has) compare_numbers(value, got.contains(now) ? got.at(now) : got.at(key), scale, where + "." + key);
    }
  } else if (want.is_array()) {
    BOOST_REQUIRE_MESSAGE(got.is_array() && got.size() == want.size(), where << ": array size differs");
    for (size_t i = 0; i < want.size(); ++i) compare_numbers(want[i], got[i], scale, where + "[" + std::to_string(i) + "]");
  } else {
    BOOST_TEST(want == got, where << ": " << want.dump() << " became " << got.dump());
  }
}

void check_case(const std::string& model, const std::string& expected, const std::string& arguments,
                const std::vector<std::string>& images) {
  test::ScratchDir out("format1-" + expected);
  std::string refs;
  for (const auto& image : images)
    refs += " " + (image.find(':') == std::string::npos ? (fixtures() / image).string() : image);
  const auto run = test::run_cli("explain --model " + (fixtures() / "models" / model).string() + " --out " +
                                 out.path().string() + " --layers " + arguments + refs);
  BOOST_REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(fixtures() / "expected" / expected)) {
    if (entry.path().extension() != ".npy") continue;
    const std::string stem = entry.path().stem().string();
    const RowMatrixXd want = read_npy(entry.path()), got = read_npy(out.path() / (stem + ".npy"));
    BOOST_REQUIRE(want.rows() == got.rows() && want.cols() == got.cols());
    const double scale = want.cwiseAbs().maxCoeff();
    BOOST_TEST((want - got).cwiseAbs().maxCoeff() <= 1e-12 * std::max(scale, 1e-300), expected << "/" << stem);
    nlohmann::json a = test::read_json((fixtures() / "expected" / expected / (stem + ".json")).string());
    nlohmann::json b = test::read_json((out.path() / (stem + ".json")).string());
    a.erase("image");  // the path of the image differs between machines
    b.erase("image");
    compare_numbers(a, b, std::abs(a.at("score").get<double>()) + scale, expected + "/" + stem);
    ++compared;
  }
  BOOST_TEST(compared == static_cast<int>(images.size()), expected << ": " << compared << " maps compared");
}

const std::vector<std::string> kGrey{"fashion-mnist:test@0", "fashion-mnist:test@1"};

}  // namespace

BOOST_AUTO_TEST_CASE(one_vs_rest_hik_explains_as_before) {
  check_case("grey-hik", "grey-hik", "", kGrey);
  check_case("grey-hik", "grey-hik-none-class3", "--class 3 --bias-policy none", kGrey);
}

BOOST_AUTO_TEST_CASE(rbf_taylor_explains_as_before) { check_case("grey-rbf", "grey-rbf-taylor", "--method taylor", kGrey); }

BOOST_AUTO_TEST_CASE(one_vs_one_explains_as_before) {
  check_case("grey-ovo", "grey-ovo", "", kGrey);
  check_case("grey-ovo", "grey-ovo-versus", "--class 9 --versus 5", kGrey);
}

BOOST_AUTO_TEST_CASE(kernel_map_explains_as_before) { check_case("grey-kernel-map", "grey-kernel-map", "", kGrey); }

BOOST_AUTO_TEST_CASE(network_on_histograms_explains_as_before) { check_case("grey-network", "grey-network", "", kGrey); }

BOOST_AUTO_TEST_CASE(colour_channels_explain_as_before) {
  check_case("colour-opponent", "colour-opponent", "--class fruit", {"images/fruit.ppm", "images/leaf.ppm"});
}
