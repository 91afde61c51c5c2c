// The explain command's table of flag scopes: every flag it names is a flag
// of `explain`, every flag of `explain` that does not apply everywhere is in
// it, and a flag outside its scope is refused by name, before any output, on
// every path through the one runner.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>

#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/commands/explain_command.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

BOOST_AUTO_TEST_CASE(the_table_and_the_registered_flags_agree) {
  CLI::App app;
  const Command explain = add_explain_command(app);
  std::set<std::string> registered;
  for (const CLI::Option* option : explain.app->get_options())
    if (option->get_name().rfind("--", 0) == 0) registered.insert(option->get_name());
  const std::set<std::string> everywhere{"--help", "--model", "--out", "--class", "--method",
                                         "--list", "--shard", "--jobs",  "--resume"};
  std::set<std::string> scoped;
  for (const FlagScope& s : explain_flag_scopes()) {
    BOOST_TEST(registered.count(s.flag) == 1u, s.flag);
    BOOST_TEST(scoped.insert(s.flag).second, s.flag << " twice");
    BOOST_TEST(flag_scope_note(s.flag).size() > 3u, s.flag);
  }
  for (const std::string& flag : registered) BOOST_TEST((everywhere.count(flag) + scoped.count(flag)) == 1u, flag);
}

BOOST_AUTO_TEST_CASE(a_flag_outside_its_scope_is_refused_by_name) {
  auto refused = [](const std::set<std::string>& given, ExplainMethod m, const std::string& kind) {
    try {
      check_flag_scopes(given, m, kind);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  BOOST_TEST(refused({"--patch"}, ExplainMethod::lrp, "bow") == "--patch applies to --method occlusion only, not lrp");
  BOOST_TEST(refused({"--input-range"}, ExplainMethod::lrp, "bow") ==
             "--input-range applies to network models only; this model is a bow model");
  BOOST_TEST(refused({"--bias-policy"}, ExplainMethod::lrp, "network") ==
             "--bias-policy applies to BoW models only; this model is a network model");
  BOOST_TEST(refused({"--bias-policy"}, ExplainMethod::taylor, "bow") ==
             "--bias-policy applies to --method lrp only, not taylor");
  BOOST_TEST(refused({"--roots", "--reference"}, ExplainMethod::taylor, "bow").empty());
  BOOST_TEST(refused({"--figure"}, ExplainMethod::sensitivity, "network").empty());
  BOOST_TEST(refused({"--rule", "--ignore-bias"}, ExplainMethod::lrp, "bow").empty());  // the model checks further
  BOOST_TEST(refused({"--jobs", "--list", "--resume"}, ExplainMethod::random, "network").empty());
}

BOOST_AUTO_TEST_CASE(the_cli_refuses_before_any_output) {
  const fs::path model = test::format1_fixtures() / "models" / "grey-hik";
  test::ScratchDir dir("explain-scopes");
  struct Case {
    std::string args, message;
  };
  for (const Case& c : std::vector<Case>{
           {"--method occlusion --bias-policy none", "--bias-policy applies to --method lrp only, not occlusion"},
           {"--method lrp --seed 3", "--seed applies to --method random only, not lrp"},
           {"--method sensitivity --figure", "--figure applies to network models only"},
           {"--method taylor --layers --tiles 20,4", "--layers and --versus do not apply to tiled explanations"},
           {"--method lrp --rule epsilon", "network layers, which only a network classifier has"}}) {
    const auto r = test::run_cli("explain --model " + model.string() + " " + c.args + " --out " +
                                 (dir.path() / "out").string() + " fashion-mnist:test@0");
    BOOST_TEST(r.exit_code == 1, c.args);
    BOOST_TEST(r.output.find(c.message) != std::string::npos, c.args << ": " << r.output);
    BOOST_TEST(!fs::exists(dir.path() / "out"), c.args);
  }
}
