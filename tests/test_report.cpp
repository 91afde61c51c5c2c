// The evaluation command end to end on a generated benchmark, and its HTML
// report loaded in a real headless browser (Debian's chromium): every image
// must load and every table must be there.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/montage.hpp"
#include "browser_check.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

using test::body_attribute;
using test::browser_command;

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Runs a shell command, returns its exit code and standard output.
test::CommandResult run(const std::string& command) { return test::run_command(command + " 2>/dev/null"); }

long count_of(const std::string& text, const std::string& pattern) {
  const std::regex r(pattern);
  return std::distance(std::sregex_iterator(text.begin(), text.end(), r), std::sregex_iterator());
}

}  // namespace

BOOST_AUTO_TEST_CASE(evaluation_report_opens_in_headless_chromium) {
  test::ScratchDir dir("report");
  // 1. A small shapes benchmark and a tiny BoW detector trained on it.
  auto r = test::run_cli("make-scenes --kind shapes --size 48 --train 60 --test 4 --seed 2 --quiet --out " + quote(dir / "scenes"));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  std::ofstream(dir / "config.json") << R"({"descriptor": {"step": 3, "bin_sizes": [4, 6]},
    "codebook": {"words": 24, "training_descriptors": 4000, "seed": 1},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]}, "svm": {"kernel": "hik", "C": 10}})";
  r = test::run_cli("train --quiet --config " + quote(dir / "config.json") + " --data " + quote(dir / "scenes/train") +
                    " --out " + quote(dir / "model"));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);

  // 2. The evaluation: positive test scenes, the circle class explained.
  const std::string eval = dir / "eval";
  r = test::run_cli("evaluate --quiet --model " + quote(dir / "model") + " --data " + quote("scenes:" + (dir / "scenes") + ":test") +
                    " --label circle --class circle --methods lrp,taylor,occlusion,sensitivity,random --steps 12"
                    " --flip-steps 8 --report-images 2 --out " + quote(eval) +
                    " --metrics aopc,lerf,pixel-flipping,mass,rank,pointing,conservation,faithfulness-correlation,"
                    "sensitivity-n,infidelity,max-sensitivity,sparseness,complexity --correlation-subsets 12"
                    " --sensitivity-n-points 4 --sensitivity-n-subsets 6 --infidelity-samples 8 --max-sensitivity-samples 2");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  BOOST_TEST(r.output.find("AOPC-MoRF") != std::string::npos);
  const nlohmann::json j = test::read_json(eval + "/evaluation.json");
  BOOST_TEST(j.at("images").size() == 2u);  // test scenes 0 and 2 hold a circle
  for (const auto& rec : j.at("images")) {
    BOOST_TEST(rec.at("class").get<std::string>() == "circle");
    for (const char* m : {"lrp", "taylor", "occlusion", "sensitivity", "random"}) {
      const auto& v = rec.at("methods").at(m);
      BOOST_TEST(v.at("curves").at("aopc").at("scores").size() <= 13u, m);
      BOOST_TEST(v.at("curves").at("aopc").at("scores").front().get<double>() == rec.at("score").get<double>(), m);
      BOOST_TEST(v.at("mass").get<double>() >= 0.0, m);
      BOOST_TEST(v.at("mass").get<double>() <= 1.0, m);
      BOOST_TEST(v.at("seconds").get<double>() > 0.0, m);
    }
    // Faithfulness, robustness, complexity: in range, costs as set.
    for (const char* m : {"lrp", "taylor", "occlusion", "sensitivity", "random"}) {
      const auto& v = rec.at("methods").at(m);
      BOOST_TEST(std::abs(v.at("faithfulness-correlation").get<double>()) <= 1.0, m);
      BOOST_TEST(v.at("metric_evaluations").at("faithfulness-correlation").get<long>() == 13, m);
      BOOST_TEST(v.at("sensitivity-n").at("sizes") == nlohmann::json({1, 12, 150, 1843}), m);  // 0.8 x 48 x 48 = 1843
      BOOST_TEST(v.at("metric_evaluations").at("sensitivity-n").get<long>() == 4 * 6 + 1, m);
      BOOST_TEST(v.at("relative_infidelity").get<double>() >= 0.0, m);
      BOOST_TEST(v.at("relative_infidelity").get<double>() <= 1.0, m);
      BOOST_TEST(v.at("infidelity").get<double>() >= 0.0, m);
      BOOST_TEST(v.at("sparseness").get<double>() >= 0.0, m);
      BOOST_TEST(v.at("sparseness").get<double>() < 1.0, m);
      BOOST_TEST(v.at("complexity").get<double>() <= std::log(48.0 * 48.0) + 1e-12, m);
    }
    // The random map ignores the input: max-sensitivity 0. LRP's moves with it.
    BOOST_TEST(rec.at("methods").at("random").at("max-sensitivity").get<double>() == 0.0);
    BOOST_TEST(rec.at("methods").at("lrp").at("max-sensitivity").get<double>() > 0.0);
    BOOST_TEST(rec.at("methods").at("occlusion").at("metric_evaluations").at("max-sensitivity").get<long>() == 2 * 50);
    // LRP conserves the score down to the pixels (bias policy nonzero).
    BOOST_TEST(std::abs(rec.at("methods").at("lrp").at("residual").get<double>()) < 1e-9);
    // Occlusion on 48 x 48: patch 12, stride 6: origins 0, 6, ..., 36 (7 per axis).
    BOOST_TEST(rec.at("methods").at("occlusion").at("evaluations").get<long>() == 50);
  }
  BOOST_TEST(j.at("chance").at("mask_fraction").at("count").get<long>() == 2);
  const auto& curve = j.at("summary").at("lrp").at("sensitivity-n");
  BOOST_TEST(curve.at("sizes") == nlohmann::json({1, 12, 150, 1843}));
  // At n = 80 % of the pixels replaced by noise this tiny detector's score no
  // longer depends on which fifth remains (every drop equal): undefined, null.
  BOOST_TEST(curve.at("count") == nlohmann::json({2, 2, 2, 0}));
  BOOST_TEST(curve.at("mean")[3].is_null());
  // The mean curve is the mean of the images' curves, point by point.
  for (size_t k = 0; k < 3; ++k) {
    double sum = 0;
    for (const auto& rec : j.at("images"))
      sum += rec.at("methods").at("lrp").at("sensitivity-n").at("correlations")[k].get<double>();
    BOOST_TEST(std::abs(curve.at("mean")[k].get<double>() - sum / 2) < 1e-12, "point " << k);
    BOOST_TEST(std::abs(curve.at("mean")[k].get<double>()) <= 1.0);
  }
  BOOST_TEST(j.at("summary").at("random").at("max-sensitivity").at("mean").get<double>() == 0.0);
  BOOST_TEST(j.at("settings").at("infidelity").at("samples").get<int>() == 8);
  BOOST_TEST(r.output.find("faith-corr") != std::string::npos);

  // 3. The report in a real browser: all images load, all tables are there.
  const std::string index = eval + "/report/index.html";
  BOOST_TEST_REQUIRE(fs::is_regular_file(index));
  const std::string html = read_file(index);
  const long expected_images = std::stol(body_attribute(html, "data-expected-images"));
  const long expected_tables = std::stol(body_attribute(html, "data-expected-tables"));
  // 4 curve charts + per image: original, 5 methods x (heatmap, overlay), a MoRF chart.
  BOOST_TEST(expected_images == 4 + 2 * (1 + 5 * 2 + 1));
  // faithfulness, faithfulness-metrics, localisation, conservation, heatmaps, settings
  BOOST_TEST(expected_tables == 6);
  for (const auto& src : std::vector<std::string>{"img/curve-aopc.svg", "img/curve-lerf.svg", "img/curve-pixel-flipping.svg",
                                                  "img/curve-sensitivity-n.svg"})
    BOOST_TEST(fs::is_regular_file(eval + "/report/" + src), src);

  const std::string url = "file://" + fs::absolute(index).string();
  const auto dom = run(browser_command(dir / "profile-dom", "--dump-dom " + quote(url)));
  BOOST_TEST_REQUIRE(dom.exit_code == 0);
  test::check_report_dom(dom.output, expected_images, expected_tables);
  BOOST_TEST(count_of(dom.output, "<img ") == expected_images);
  for (const char* id : {"faithfulness", "faithfulness-metrics", "localisation", "conservation", "heatmaps", "settings"})
    BOOST_TEST(dom.output.find(std::string("<table id=\"") + id + "\"") != std::string::npos, id);
  // The faithfulness-metrics table: a row per method, a column per metric (6) plus method and images.
  const size_t table = dom.output.find("<table id=\"faithfulness-metrics\"");
  const std::string metrics_table = dom.output.substr(table, dom.output.find("</table>", table) - table);
  BOOST_TEST(count_of(metrics_table, "<th>") == 8);
  BOOST_TEST(count_of(metrics_table, "<tr>") == 1 + 5);
  BOOST_TEST(metrics_table.find("faithfulness correlation") != std::string::npos);
  BOOST_TEST(metrics_table.find("max-sensitivity") != std::string::npos);
  BOOST_TEST(dom.output.find("<h2>Sensitivity-n</h2>") != std::string::npos);
  BOOST_TEST(dom.output.find("chance (mask fraction)") != std::string::npos);

  // A screenshot is not blank: the page rendered.
  const std::string shot = dir / "page.png";
  const auto s = run(browser_command(dir / "profile-shot", "--window-size=1200,2000 --screenshot=" + quote(shot) + " " + quote(url)));
  BOOST_TEST_REQUIRE(s.exit_code == 0);
  BOOST_TEST_REQUIRE(fs::is_regular_file(shot));
  BOOST_TEST(fs::file_size(shot) > 20000u);
}

BOOST_AUTO_TEST_CASE(evaluate_and_baseline_explain_reject_bad_input_without_output) {
  test::ScratchDir dir("report-bad");
  auto r = test::run_cli("evaluate --model " + quote(dir / "no-model") + " --data fashion-mnist:test:2 --out " + quote(dir / "out"));
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.output.find("no-model") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir / "out"));
  r = test::run_cli("make-scenes --kind fashion --target hat --out " + quote(dir / "scenes"));
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.output.find("hat") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir / "scenes"));
}

// The sanity checks' part of the report (docs/evaluation.md "Sanity checks"):
// the MPRT table and similarity curves, the data randomisation table, and the
// row of heatmaps per randomisation stage, opened in headless Chromium.
BOOST_AUTO_TEST_CASE(sanity_check_report_opens_in_headless_chromium) {
  test::ScratchDir dir("report-sanity");
  auto r = test::run_cli("make-scenes --kind shapes --size 48 --train 60 --test 2 --seed 2 --quiet --out " + quote(dir / "scenes"));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  std::ofstream(dir / "config.json") << R"({"descriptor": {"step": 3, "bin_sizes": [4, 6]},
    "codebook": {"words": 24, "training_descriptors": 4000, "seed": 1},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]}, "svm": {"kernel": "hik", "C": 10}})";
  for (const std::string& extra : {std::string(), std::string(" --permute-labels")}) {
    r = test::run_cli("train --quiet" + extra + " --config " + quote(dir / "config.json") + " --data " +
                      quote(dir / "scenes/train") + " --out " + quote(dir / (extra.empty() ? "model" : "permuted")));
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  }
  const std::string eval = dir / "eval";
  r = test::run_cli("evaluate --quiet --model " + quote(dir / "model") + " --data " + quote("scenes:" + (dir / "scenes") + ":test") +
                    " --methods lrp,random --metrics mprt,data-randomisation --randomised-model " + quote(dir / "permuted") +
                    " --mprt-seed 2 --top-k 0.05 --report-images 1 --out " + quote(eval));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  BOOST_TEST(r.output.find("mprt lrp: Spearman by stage") != std::string::npos, r.output);
  const nlohmann::json j = test::read_json(eval + "/evaluation.json");
  BOOST_TEST(j.at("settings").at("sanity_checks").at("top_k").get<double>() == 0.05);
  BOOST_TEST(j.at("settings").at("sanity_checks").at("mprt").at("stages").size() == 2u);

  const std::string index = eval + "/report/index.html";
  const std::string html = read_file(index);
  const long expected_images = std::stol(body_attribute(html, "data-expected-images"));
  const long expected_tables = std::stol(body_attribute(html, "data-expected-tables"));
  // Heatmap table: original + 2 methods x (heatmap, overlay); 2 MPRT curves;
  // sanity heatmaps: 2 methods x (the model's, 2 stages, permuted labels).
  BOOST_TEST(expected_images == 5 + 2 + 2 * 4);
  // faithfulness, heatmaps, mprt, data-randomisation, sanity-heatmaps, settings
  BOOST_TEST(expected_tables == 6);
  for (const char* src : {"img/mprt-0-lrp.svg", "img/mprt-0-random.svg"})
    BOOST_TEST(fs::is_regular_file(eval + "/report/" + src), src);
  long stage_maps = 0, label_maps = 0;
  for (const auto& f : fs::directory_iterator(eval + "/report/img")) {
    const std::string name = f.path().filename().string();
    stage_maps += name.find("-mprt-") != std::string::npos;
    label_maps += name.find("-permuted-labels.png") != std::string::npos;
  }
  BOOST_TEST(stage_maps == 2 * 2);  // 2 methods x 2 stages
  BOOST_TEST(label_maps == 2);
  const std::string url = "file://" + fs::absolute(index).string();
  const auto dom = run(browser_command(dir / "profile-dom", "--dump-dom " + quote(url)));
  BOOST_TEST_REQUIRE(dom.exit_code == 0);
  test::check_report_dom(dom.output, expected_images, expected_tables);
  for (const char* id : {"mprt", "data-randomisation", "sanity-heatmaps"})
    BOOST_TEST(dom.output.find(std::string("<table id=\"") + id + "\"") != std::string::npos, id);
  BOOST_TEST(dom.output.find("Sanity checks") != std::string::npos);
}

// Figures: panels in rows of `columns`, enlarged with their pixels kept.
BOOST_AUTO_TEST_CASE(montage_grid_by_hand) {
  std::vector<cv::Mat> panels;
  for (int i = 0; i < 5; ++i) panels.emplace_back(10, 10, CV_8UC3, cv::Scalar(10 * i, 0, 0));
  panels[4].at<cv::Vec3b>(9, 9) = cv::Vec3b(0, 0, 200);  // the last pixel of the last panel
  const cv::Mat g = grid(panels, {}, 2, 3);
  // Rows of 2, 2 and 1 panels of 30 x 30, 8 pixels apart.
  BOOST_TEST(g.cols == 2 * 30 + 8);
  BOOST_TEST(g.rows == 3 * 30 + 2 * 8);
  BOOST_TEST(g.at<cv::Vec3b>(0, 38)[0] == 10);            // row 0, panel 1
  BOOST_TEST(g.at<cv::Vec3b>(38, 0)[0] == 20);            // row 1, panel 2
  BOOST_TEST(g.at<cv::Vec3b>(76 + 29, 29)[2] == 200);     // the enlarged 3 x 3 block of that pixel
  BOOST_TEST(g.at<cv::Vec3b>(76 + 27, 27)[2] == 200);
  BOOST_TEST(g.at<cv::Vec3b>(76 + 26, 26)[2] == 0);
  BOOST_TEST(g.at<cv::Vec3b>(76, 38)[0] == 255);          // white beside the short last row
  // One row by default; labels one per panel.
  BOOST_TEST(grid(panels, {}).rows == 10);
  BOOST_CHECK_THROW(grid(panels, {"a", "b"}, 2, 1), std::invalid_argument);
  BOOST_CHECK_THROW(grid(panels, {}, -1, 1), std::invalid_argument);
  BOOST_CHECK_THROW(grid(panels, {}, 2, 0), std::invalid_argument);
  const cv::Mat labelled = grid(panels, {"a", "b", "c", "d", "e"}, 3, 1);
  BOOST_TEST(labelled.rows > 2 * 10 + 8);  // a label band above each row
}
