// The watermark (Clever Hans) scenes and `pixelwise analyse` end to end:
// the scenes' tags where the generator says, the analysis's heatmaps equal to
// single explanations, its measures recomputed by hand from them, its report
// in headless Chromium (as the evaluation report, test_report.cpp), and bad
// input refused without output.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <regex>

#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/evaluation/analysis.hpp"
#include "browser_check.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

using test::body_attribute;

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Small watermark scenes: 64 x 64, items up to 1.2 x 28 pixels.
const char* kSceneFlags = " --size 64 --max-scale 1.2 --seed 3 --quiet";

// One shared benchmark and model for the cases below (built once).
struct Fixture {
  test::ScratchDir dir{"analysis"};
  std::string scenes = dir / "scenes", model = dir / "model";
  Fixture() {
    auto r = test::run_cli("make-scenes --kind watermark --class trouser --rate 0.5 --train 60 --test 24" +
                           std::string(kSceneFlags) + " --out " + quote(scenes));
    if (r.exit_code != 0) throw std::runtime_error(r.output);
    std::ofstream(dir / "config.json") << R"({"descriptor": {"step": 3, "bin_sizes": [4, 6]},
      "codebook": {"words": 24, "training_descriptors": 4000, "seed": 1},
      "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]}, "svm": {"kernel": "hik", "C": 10}})";
    r = test::run_cli("train --quiet --config " + quote(dir / "config.json") + " --data " + quote(scenes + "/train") +
                      " --out " + quote(model));
    if (r.exit_code != 0) throw std::runtime_error(r.output);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

}  // namespace

BOOST_AUTO_TEST_CASE(watermark_scenes_carry_the_tag_where_recorded) {
  const Fixture& f = fixture();
  const nlohmann::json manifest = test::read_json(f.scenes + "/scenes.json");
  BOOST_TEST(manifest.at("options").at("kind").get<std::string>() == "watermark");
  BOOST_TEST(manifest.at("options").at("tag_rate").get<double>() == 0.5);
  // Rate 0.5: positive training scene j is tagged when floor((j + 1) / 2) > floor(j / 2), i.e. j odd:
  // scenes 2, 6, 10, ... (index 2j); no negative training scene; in the test split
  // scenes 0, 1, 4, 5, 8, 9, ... (pairs alternate).
  long tagged_train = 0, tagged_test = 0;
  for (const auto& r : manifest.at("scenes")) {
    const int i = r.at("index").get<int>();
    const bool positive = r.at("class").get<std::string>() == "trouser";
    const bool expected = r.at("split") == "train" ? positive && (i / 2) % 2 == 1 : (i / 2) % 2 == 0;
    BOOST_TEST(r.at("tagged").get<bool>() == expected, r.at("file"));
    BOOST_TEST(r.at("tag").is_null() == !expected);
    (r.at("split") == "train" ? tagged_train : tagged_test) += expected;
    if (!expected) continue;
    // The tag: 7 x 11 pixels, 2 from the edges of its corner, the fixed pattern (border white).
    const cv::Mat tag = cv::imread(f.scenes + "/" + r.at("tag").get<std::string>(), cv::IMREAD_GRAYSCALE);
    const cv::Mat image = cv::imread(f.scenes + "/" + r.at("file").get<std::string>(), cv::IMREAD_GRAYSCALE);
    const cv::Rect box = cv::boundingRect(tag);
    BOOST_TEST(cv::countNonZero(tag) == 77);
    BOOST_TEST((box.width == 11 && box.height == 7));
    BOOST_TEST((box.x == 2 || box.x == 64 - 2 - 11));
    BOOST_TEST((box.y == 2 || box.y == 64 - 2 - 7));
    BOOST_TEST(image.at<uchar>(box.y, box.x) == 255);           // border
    BOOST_TEST(image.at<uchar>(box.y + 1, box.x + 1) == 0);     // inside the border
    BOOST_TEST(image.at<uchar>(box.y + 2, box.x + 2) == 255);   // the pattern's first stroke
    // The object mask leaves the tag out.
    const cv::Mat mask = cv::imread(f.scenes + "/" + r.at("mask").get<std::string>(), cv::IMREAD_GRAYSCALE);
    BOOST_TEST(cv::countNonZero(mask & tag) == 0);
  }
  BOOST_TEST(tagged_train == 15);  // 30 positive training scenes, every other one
  BOOST_TEST(tagged_test == 12);
  // Read back as a data set with masks: the flags and tag masks in file order.
  const MaskedDataset d = load_masked_dataset("scenes:" + f.scenes + ":test", -1);
  BOOST_TEST(d.tagged.size() == 24u);
  BOOST_TEST(d.tags.size() == 24u);
  long n = 0;
  for (size_t i = 0; i < d.tagged.size(); ++i) {
    n += d.tagged[i];
    BOOST_TEST(d.tags[i].has_value() == static_cast<bool>(d.tagged[i]));
    if (d.tags[i]) BOOST_TEST(d.tags[i]->count() == 77);
  }
  BOOST_TEST(n == 12);
  // A plain fashion benchmark has no tags.
  BOOST_TEST(load_masked_dataset("fashion-mnist:test:3", -1).tagged.empty());
}

BOOST_AUTO_TEST_CASE(watermark_scene_is_the_fashion_scene_plus_the_tag) {
  SceneOptions o;
  o.kind = SceneKind::watermark;
  o.size = 64;
  o.max_scale = 1.2;
  o.seed = 5;
  o.target = "bag";
  SceneOptions plain = o;
  plain.kind = SceneKind::fashion;
  for (int i : {0, 1, 4}) {  // tagged test scenes
    const Scene w = generate_scene(o, SceneSplit::test, i), f = generate_scene(plain, SceneSplit::test, i);
    BOOST_TEST_REQUIRE(w.tagged);
    BOOST_TEST(w.tag.count() == kTagRows * kTagCols);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x)
        if (!w.tag(y, x)) BOOST_TEST(w.gray.at<float>(y, x) == f.gray.at<float>(y, x));
    BOOST_TEST(w.label == f.label);
    BOOST_TEST(((w.mask && w.tag).count() == 0));
  }
  BOOST_TEST(!generate_scene(o, SceneSplit::test, 2).tagged);
  o.tag_rate = 0;
  for (int i = 0; i < 40; ++i) BOOST_TEST(!generate_scene(o, SceneSplit::train, i).tagged);
  o.tag_rate = 1;
  for (int i = 0; i < 10; ++i) BOOST_TEST(generate_scene(o, SceneSplit::train, i).tagged == (i % 2 == 0));
  // paste_tag: the corners.
  cv::Mat g(20, 20, CV_32FC1, cv::Scalar(0.5));
  const MaskArray m = paste_tag(g, 3);
  BOOST_TEST(m(20 - 2 - 1, 20 - 2 - 1));
  BOOST_TEST(!m(20 - 2, 20 - 2));
  BOOST_TEST(m.count() == 77);
  // Scale 2: every pattern pixel a 2 x 2 block, 14 x 22 pixels in all.
  cv::Mat h(40, 40, CV_32FC1, cv::Scalar(0.5));
  const MaskArray m2 = paste_tag(h, 0, 2);
  BOOST_TEST(m2.count() == 4 * 77);
  BOOST_TEST((m2(2, 2) && m2(2 + 13, 2 + 21) && !m2(2 + 14, 2) && !m2(2, 2 + 22)));
  BOOST_TEST(h.at<float>(2 + 2, 2 + 2) == 0.0f);   // pattern row 1, column 1 (black)
  BOOST_TEST(h.at<float>(2 + 4, 2 + 5) == 1.0f);   // pattern row 2, column 2 (white)
  BOOST_CHECK_THROW(paste_tag(h, 0, 5), std::invalid_argument);
  SceneOptions big = o;
  big.tag_rate = 0.3;
  big.tag_scale = 2;
  big.size = 80;
  const Scene b = generate_scene(big, SceneSplit::test, 0);
  BOOST_TEST(b.tag.count() == 4 * 77);
  cv::Mat tiny(10, 10, CV_32FC1);
  BOOST_CHECK_THROW(paste_tag(tiny, 0), std::invalid_argument);
  o.tag_rate = 1.5;
  BOOST_CHECK_THROW(o.validate(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(analysis_heatmaps_and_measures_recomputed) {
  const Fixture& f = fixture();
  const auto model = load_explainable_model(f.model);
  const MaskedDataset data = load_masked_dataset("scenes:" + f.scenes + ":test", -1);
  AnalysisOptions o;
  o.classes = {"trouser"};
  o.seed = 4;
  o.spray.neighbours = 3;
  const Analysis a = analyse(*model, data, o, nullptr);
  BOOST_TEST_REQUIRE(a.classes.size() == 1u);
  const ClassAnalysis& c = a.classes[0];
  BOOST_TEST(c.images.size() == 12u);  // the even test scenes hold a trouser
  const nlohmann::json& r = a.json.at("classes").at(0);
  BOOST_TEST(r.at("images").size() == 12u);
  BOOST_TEST(r.at("neighbours").get<int>() == 3);
  BOOST_TEST(r.at("eigenvalues").size() == 11u);
  long total = 0;
  for (const auto& k : r.at("per_cluster")) total += k.at("size").get<long>();
  BOOST_TEST(total == 12);
  // Each heatmap is the single explanation of its image for its class, seeded by its index.
  ExplainSettings settings;
  settings.seed = 4;
  std::vector<int> predicted(data.data.images.size());
  for (size_t i = 0; i < data.data.images.size(); ++i)
    model->all_scores(model->input(data.data.images[i]), "").maxCoeff(&predicted[i]);
  const int trouser = model->class_index("trouser");
  for (size_t k = 0; k < c.images.size(); ++k) {
    const long i = c.images[k];
    const Explanation e = explain_with(*model, model->input(data.data.images[i]), trouser, ExplainMethod::lrp, settings,
                                       image_seed(4, i), "");
    BOOST_TEST((e.pixels - c.heatmaps[k]).cwiseAbs().maxCoeff() == 0.0);
    const nlohmann::json& rec = r.at("images").at(k);
    BOOST_TEST(rec.at("index").get<long>() == i);
    BOOST_TEST(rec.at("source").get<std::string>() == data.data.images[i].source);
    BOOST_TEST(rec.at("cluster").get<int>() == c.spray.assignment[k]);
    BOOST_TEST(rec.at("tagged").get<bool>() == static_cast<bool>(data.tagged[i]));
    if (data.tagged[i]) {
      // Positive relevance on the tag over all positive relevance, by hand.
      const RowMatrixXd pos = e.pixels.cwiseMax(0.0);
      double inside = 0;
      for (int y = 0; y < pos.rows(); ++y)
        for (int x = 0; x < pos.cols(); ++x) inside += (*data.tags[i])(y, x) ? pos(y, x) : 0.0;
      BOOST_TEST(std::abs(rec.at("tag_mass").get<double>() - inside / pos.sum()) < 1e-12);
    }
  }
  // Accuracy on tagged and untagged images, recounted.
  const nlohmann::json& w = r.at("watermark");
  long right[2] = {0, 0}, all[2] = {0, 0};
  for (size_t i = 0; i < data.data.images.size(); ++i) {
    ++all[data.tagged[i]];
    right[data.tagged[i]] += predicted[i] == data.data.images[i].label;
  }
  BOOST_TEST(w.at("accuracy").at("tagged_images").get<long>() == 12);
  BOOST_TEST(w.at("accuracy").at("tagged").get<double>() == static_cast<double>(right[1]) / all[1]);
  BOOST_TEST(w.at("accuracy").at("untagged").get<double>() == static_cast<double>(right[0]) / all[0]);
  // The tag flip, redone: untagged others not predicted trouser, the tag pasted in the seeded corner.
  long candidates = 0, flips = 0;
  for (size_t i = 0; i < data.data.images.size(); ++i) {
    if (data.tagged[i] || data.data.images[i].label == trouser || predicted[i] == trouser) continue;
    ++candidates;
    cv::Mat g = data.data.images[i].gray.clone();
    paste_tag(g, static_cast<int>(image_seed(4, static_cast<long>(i)) % 4));
    int p;
    model->all_scores(g, "").maxCoeff(&p);
    flips += p == trouser;
  }
  BOOST_TEST(w.at("tag_flip").at("images").get<long>() == candidates);
  BOOST_TEST(w.at("tag_flip").at("flipped").get<long>() == flips);
  BOOST_TEST(std::abs(w.at("tag_area_fraction").get<double>() - 77.0 / (64 * 64)) < 1e-15);
  // The best cluster's adjusted Rand index is the largest over the clusters.
  double best = -2;
  for (const auto& k : w.at("clusters")) best = std::max(best, k.at("adjusted_rand_index").get<double>());
  BOOST_TEST(w.at("best_cluster").at("adjusted_rand_index").get<double>() == best);
  // Purity and the tagged-majority split, recounted from the assignment.
  std::vector<long> size(c.spray.clusters, 0), tagged_in(c.spray.clusters, 0);
  for (size_t k = 0; k < c.images.size(); ++k) {
    ++size[c.spray.assignment[k]];
    tagged_in[c.spray.assignment[k]] += data.tagged[c.images[k]];
  }
  long pure = 0;
  std::vector<int> split, flag, corner;
  const nlohmann::json scenes_records = test::read_json(f.scenes + "/scenes.json").at("scenes");
  for (int k = 0; k < c.spray.clusters; ++k) pure += std::max(tagged_in[k], size[k] - tagged_in[k]);
  for (size_t k = 0; k < c.images.size(); ++k) {
    const int cl = c.spray.assignment[k];
    split.push_back(2 * tagged_in[cl] > size[cl]);
    flag.push_back(data.tagged[c.images[k]]);
    int q = 0;
    for (const auto& s : scenes_records)
      if (s.at("split") == "test" && f.scenes + "/" + s.at("file").get<std::string>() == data.data.images[c.images[k]].source &&
          s.at("tagged").get<bool>())
        q = 1 + s.at("objects").back().at("tag").at("corner").get<int>();
    corner.push_back(q);
  }
  BOOST_TEST(w.at("purity").get<double>() == static_cast<double>(pure) / 12);
  BOOST_TEST(w.at("majority_split").at("adjusted_rand_index").get<double>() == adjusted_rand_index(split, flag));
  BOOST_TEST(w.at("adjusted_rand_index_corners").get<double>() == adjusted_rand_index(c.spray.assignment, corner));
  // Same seed, same analysis (apart from the time taken).
  nlohmann::json again = analyse(*model, data, o, nullptr).json, first = a.json;
  again.erase("seconds");
  first.erase("seconds");
  again["settings"].erase("execution");
  first["settings"].erase("execution");
  BOOST_TEST(again == first);
}

BOOST_AUTO_TEST_CASE(analyse_command_and_its_report_in_headless_chromium) {
  const Fixture& f = fixture();
  const std::string out = f.dir / "analysis";
  auto r = test::run_cli("analyse --quiet --model " + quote(f.model) + " --data " + quote("scenes:" + f.scenes + ":test") +
                         " --clusters 2 --nearest 3 --out " + quote(out));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  BOOST_TEST(r.output.find("tag flip rate") != std::string::npos, r.output);
  const nlohmann::json j = test::read_json(out + "/analysis.json");
  BOOST_TEST(j.at("format").get<std::string>() == "pixelwise-analysis");
  BOOST_TEST_REQUIRE(j.at("classes").size() == 2u);  // every class: other, trouser
  long expected_images = 0;
  for (const auto& c : j.at("classes")) {
    BOOST_TEST(c.at("clusters").get<int>() == 2);
    BOOST_TEST(!c.at("clusters_from_eigengap").get<bool>());
    expected_images += 2;  // eigenvalues, embedding
    for (const auto& k : c.at("per_cluster")) {
      BOOST_TEST(k.at("mean_heatmap").size() == 16u);
      expected_images += 1 + 2 * static_cast<long>(k.at("nearest").size());
      BOOST_TEST(k.at("nearest").size() == std::min<size_t>(3, k.at("size").get<size_t>()));
    }
    BOOST_TEST(c.contains("watermark") == (c.at("class").get<std::string>() == "trouser"));
  }
  const std::string index = out + "/report/index.html";
  const std::string html = read_file(index);
  BOOST_TEST(std::stol(body_attribute(html, "data-expected-images")) == expected_images);
  const long expected_tables = std::stol(body_attribute(html, "data-expected-tables"));
  BOOST_TEST(expected_tables == 2 + 1 + 1);  // clusters per class, watermark measures, settings
  const std::string url = "file://" + fs::absolute(index).string();
  const auto dom = test::run_command(test::browser_command(f.dir / "profile", "--dump-dom " + quote(url)) + " 2>/dev/null");
  BOOST_TEST_REQUIRE(dom.exit_code == 0);
  test::check_report_dom(dom.output, expected_images, expected_tables);
  BOOST_TEST(dom.output.find("<table id=\"watermark-trouser\"") != std::string::npos);
  // A second run replaces the folder.
  r = test::run_cli("analyse --quiet --model " + quote(f.model) + " --data " + quote("scenes:" + f.scenes + ":test:8") +
                    " --class other --out " + quote(out));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  BOOST_TEST(test::read_json(out + "/analysis.json").at("classes").size() == 1u);
}

BOOST_AUTO_TEST_CASE(analyse_and_make_scenes_reject_bad_input_without_output) {
  const Fixture& f = fixture();
  const std::string data = " --data " + quote("scenes:" + f.scenes + ":test");
  const std::string model = " --model " + quote(f.model);
  struct Case {
    std::string args;
    int status;
    std::string named;
  };
  const std::vector<Case> cases{
      {model + data + " --clusters 0", 2, "--clusters 0"},
      {model + data + " --clusters two", 2, "--clusters two"},
      {model + data + " --method nope", 2, "nope"},
      {model + data + " --normalise max", 2, "max"},
      {model + data + " --size 0", 2, "--size 0"},
      {model + data + " --jobs -1", 2, "--jobs -1"},
      {model + data + " --class hat", 1, "hat"},
      {model + data + " --class trouser,1", 1, "given twice"},
      {model + data + " --clusters 13 --class trouser", 1, "--clusters 13"},
      {model + " --data " + quote("scenes:" + f.scenes + ":test:1") + " --class trouser", 1, "at least two"},
      {" --model " + quote(f.dir / "none") + data, 1, "none"},
  };
  for (const Case& c : cases) {
    const std::string out = f.dir / "bad-analysis";
    const auto r = test::run_cli("analyse --quiet" + c.args + " --out " + quote(out));
    BOOST_TEST(r.exit_code == c.status, c.args << ": " << r.output);
    BOOST_TEST(r.output.find(c.named) != std::string::npos, c.args << ": " << r.output);
    BOOST_TEST(!fs::exists(out), c.args);
  }
  // An existing folder that is not an analysis is refused before any work.
  const fs::path occupied = f.dir / "occupied";
  fs::create_directories(occupied);
  std::ofstream(occupied / "keep.txt") << "x";
  auto r = test::run_cli("analyse --quiet" + model + data + " --out " + quote(occupied.string()));
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(fs::exists(occupied / "keep.txt"));
  for (const std::string bad : {" --kind watermark --rate 1.5", " --kind fashion --class bag", " --kind fashion --rate 0.1",
                                " --kind watermark --target bag", " --kind watermark --tag-scale 0",
                                " --kind fashion --tag-scale 2", " --kind stripes"}) {
    r = test::run_cli("make-scenes" + bad + " --out " + quote(f.dir / "bad-scenes"));
    BOOST_TEST(r.exit_code == 2, bad << ": " << r.output);
    BOOST_TEST(!fs::exists(f.dir / "bad-scenes"), bad);
  }
  r = test::run_cli("make-scenes --kind watermark --class hat --out " + quote(f.dir / "bad-scenes"));
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.output.find("hat") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(f.dir / "bad-scenes"));
}
