// End to end on real Fashion-MNIST images: training, conservation of every
// explanation, exact model round trips, and the command line with bad input.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "test_support.hpp"
#include "tiny_bow.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {


// Trains one small model per kernel once for the whole suite.
struct Models {
  Dataset train = load_dataset("fashion-mnist:train:150");
  Dataset test = load_dataset("fashion-mnist:test:8");
  std::map<std::string, BowModel> by_kernel;
  Models() {
    for (const char* k : {"linear", "hik", "chi2"}) by_kernel.emplace(k, BowModel::train(test::tiny_config(k), train, nullptr));
  }
};
Models& models() {
  static Models m;
  return m;
}

bool folder_is_empty_or_missing(const std::string& dir) { return !fs::exists(dir) || fs::is_empty(dir); }

}  // namespace

BOOST_AUTO_TEST_CASE(explanations_conserve_the_score_for_every_kernel_and_policy) {
  for (auto& [kernel, model] : models().by_kernel) {
    for (const auto& image : models().test.images) {
      for (int c : {-1, (image.label + 1) % 10}) {  // the predicted class, and another one
        BOOST_TEST_CONTEXT(kernel << " " << image.name << " class " << c) {
          const BowExplanation nonzero = explain(model, image.gray, c, BiasPolicy::nonzero, image.name);
          const double tol = 1e-9 * std::max(1.0, std::abs(nonzero.score));
          BOOST_TEST(std::abs(nonzero.pixel_sum - nonzero.score) <= tol);
          for (const auto& layer : nonzero.layers) {
            BOOST_TEST(std::abs(layer.relevance_out - nonzero.score) <= tol, layer.name);
            BOOST_TEST(layer.absorbed == 0.0);
            BOOST_TEST(layer.unassigned == 0.0);
          }
          const BowExplanation none = explain(model, image.gray, c, BiasPolicy::none, image.name);
          BOOST_TEST(std::abs(none.pixel_sum - (none.score - none.bias)) <= tol);
          BOOST_TEST(std::abs(none.layers[0].absorbed - none.bias) <= 1e-15);
          // Uniform: the bias share of bins absent from the image is reported as unassigned.
          const BowExplanation uniform = explain(model, image.gray, c, BiasPolicy::uniform, image.name);
          BOOST_TEST(uniform.layers[1].unassigned != 0.0);
          BOOST_TEST(std::abs(uniform.pixel_sum - (uniform.score - uniform.layers[1].unassigned)) <= tol);
          // The pixel map is the descriptor relevance spread: positive and negative evidence both occur.
          BOOST_TEST(nonzero.pixels.rows() == 28);
          BOOST_TEST(nonzero.pixels.cols() == 28);
          BOOST_TEST(nonzero.pixels.allFinite());
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(model_decisions_are_libsvm_decisions_and_better_than_chance) {
  for (auto& [kernel, model] : models().by_kernel) {
    int correct = 0;
    for (const auto& image : models().test.images) {
      const auto f = model.forward(image.gray, image.name);
      // The direct kernel sum is libsvm's to the last bit; the scores of the
      // pipeline's per-dimension tables (additive_tables.hpp) equal it to rounding.
      const Eigen::VectorXd exact = test::svm_of(model).decisions(f.encoding.histogram);
      for (int c = 0; c < 10; ++c) {
        BOOST_TEST(exact[c] == test::svm_of(model).libsvm_decision(c, f.encoding.histogram));
        BOOST_TEST(std::abs(f.scores[c] - exact[c]) <= 1e-12 * std::max(1.0, std::abs(exact[c])));
      }
      int best;
      f.scores.maxCoeff(&best);
      correct += best == image.label;
    }
    BOOST_TEST(correct >= 3, kernel << " " << correct << "/8 (chance 0.8)");
  }
}

BOOST_AUTO_TEST_CASE(a_saved_and_reloaded_model_gives_the_same_decisions_to_the_last_bit) {
  test::ScratchDir dir("model");
  for (auto& [kernel, model] : models().by_kernel) {
    const std::string path = dir / kernel;
    model.save(path);
    const BowModel again = BowModel::load(path);
    BOOST_TEST(again.classes == model.classes);
    BOOST_TEST(again.config.to_json() == model.config.to_json());
    for (const auto& image : models().test.images) {
      const auto a = model.forward(image.gray, image.name), b = again.forward(image.gray, image.name);
      for (int c = 0; c < 10; ++c) BOOST_TEST(a.scores[c] == b.scores[c]);
      const BowExplanation ea = explain(model, image.gray, -1, BiasPolicy::nonzero, image.name);
      const BowExplanation eb = explain(again, image.gray, -1, BiasPolicy::nonzero, image.name);
      BOOST_TEST((ea.pixels.array() == eb.pixels.array()).all());
    }
    // Saving again over an existing model directory replaces it completely.
    model.save(path);
    BOOST_TEST(test::svm_of(BowModel::load(path)).support_vectors().rows() == test::svm_of(model).support_vectors().rows());
  }
  const std::string foreign = dir / "foreign";
  fs::create_directories(foreign);
  { std::ofstream(foreign + "/precious.txt") << "user data"; }
  BOOST_CHECK_THROW(models().by_kernel.at("hik").save(foreign), std::runtime_error);
  BOOST_TEST(fs::exists(foreign + "/precious.txt"));
}

BOOST_AUTO_TEST_CASE(configuration_errors_are_named) {
  BOOST_CHECK_THROW(PipelineConfig::parse(nlohmann::json::parse(R"({"svm": {"kernal": "hik"}})")), std::invalid_argument);
  BOOST_CHECK_THROW(PipelineConfig::parse(nlohmann::json::parse(R"({"codebok": {}})")), std::invalid_argument);
  BOOST_CHECK_THROW(PipelineConfig::parse(nlohmann::json::parse(R"({"svm": {"kernel": "gaussian-ish"}})")), std::invalid_argument);
  BOOST_CHECK_THROW(PipelineConfig::parse(nlohmann::json::parse(R"({"descriptor": {"step": 0}})")), std::invalid_argument);
  BOOST_CHECK_THROW(PipelineConfig::parse(nlohmann::json::parse(R"({"codebook": {"words": "many"}})")), std::invalid_argument);
  BOOST_CHECK_THROW(load_dataset("fashion-mnist:validation"), std::runtime_error);
  BOOST_CHECK_THROW(load_dataset("fashion-mnist:train:0"), std::runtime_error);
  BOOST_CHECK_THROW(load_image_reference("fashion-mnist:test@10000"), std::runtime_error);
  // The demo configuration shipped with the project is valid.
  BOOST_CHECK_NO_THROW(PipelineConfig::load(test::source_dir() + "/configs/demo.json"));
}

BOOST_AUTO_TEST_CASE(pipeline_option_names_round_trip_and_bad_values_name_their_key) {
  for (Multiclass m : enum_names(Multiclass{}).values()) BOOST_TEST((parse_enum<Multiclass>(name_of(m), "multiclass") == m));
  for (Combine c : enum_names(Combine{}).values()) BOOST_TEST((parse_enum<Combine>(name_of(c), "combine") == c));
  BOOST_TEST(enum_names(Multiclass{}).choices() == "one_vs_rest, one_vs_one");
  BOOST_TEST(enum_names(Combine{}).choices() == "concatenate, sum_of_kernels");
  const auto message = [](const std::string& text) {
    try {
      PipelineConfig::parse(nlohmann::json::parse(text));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  BOOST_TEST(message(R"({"svm": {"kernel": "hik", "multiclass": "all_pairs"}})") ==
             "config section \"svm\": unknown multiclass \"all_pairs\" (known: one_vs_rest, one_vs_one)");
  BOOST_TEST(message(R"({"combine": "product"})") ==
             "config: unknown combine \"product\" (known: concatenate, sum_of_kernels)");
  BOOST_TEST(message(R"({"descriptor": {"step": 4294967300}})").find("\"descriptor\": step must be a positive integer") !=
             std::string::npos);
  BOOST_TEST(message(R"({"descriptor": {"step": 2.5}})").find("step must be a positive integer, got 2.5") != std::string::npos);
  BOOST_TEST(message(R"({"descriptor": {"bin_sizes": [4294967300]}})").find("bin_sizes must be an integer in [1, 256]") !=
             std::string::npos);
  BOOST_TEST(message(R"({"codebook": {"words": 4294967312}})").find("\"codebook\": words must be a positive integer") !=
             std::string::npos);
  BOOST_TEST(message(R"({"pooling": {"pyramid": [[1, 1, 1]]}})").find("\"pooling\": pyramid") != std::string::npos);
  BOOST_TEST(message(R"({"channels": [{"coding": {"type": "hard", "knn": 2}}]})").find("channels[0]") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_configuration_written_by_to_json_parses_back_equal) {
  const std::vector<std::string> configs{
      "{}",
      R"({"descriptor": {"type": "sift", "colour": "opponent", "levels": 4, "weighting": "gaussian"},
          "codebook": {"words": 20, "search": "kdforest", "seed": 4294967295},
          "coding": {"type": "soft", "knn": 3, "sigma": 0.5}, "pooling": {"type": "pmeans", "p": 3, "pyramid": [[1, 1], [2, 2]]},
          "normalisation": {"steps": ["power", "l2"]}, "svm": {"kernel": "chi2", "multiclass": "one_vs_one"}})",
      R"({"combine": "sum_of_kernels", "svm": {"kernel": "hik"},
          "channels": [{"name": "a", "weight": 0.5, "normalisation": {"steps": []}},
                       {"descriptor": {"colour": "rgb", "planes": "separate"}, "coding": {"type": "rank", "decay": 3}}]})",
      R"({"network": {"hidden": [8], "activation": "tanh"}})"};
  for (const auto& text : configs) {
    const PipelineConfig c = PipelineConfig::parse(nlohmann::json::parse(text));
    const nlohmann::json written = c.to_json();
    const PipelineConfig back = PipelineConfig::parse(written);
    BOOST_TEST(back.to_json().dump() == written.dump(), text);
    BOOST_TEST(back.classifier->kind() == c.classifier->kind());
    BOOST_TEST((back.combine == c.combine));
    BOOST_TEST(back.channel_list().size() == c.channel_list().size());
  }
  const PipelineConfig ovo = PipelineConfig::parse(nlohmann::json::parse(configs[1]));
  BOOST_TEST(ovo.classifier->kind() == "one_vs_one_svm");
  BOOST_TEST((ovo.section<SvmSection>()->multiclass() == Multiclass::one_vs_one));
  BOOST_TEST((ovo.coding.type == CodingType::soft && ovo.pooling.type == PoolingType::pmeans));
  BOOST_TEST((ovo.descriptor.type == DescriptorType::sift && ovo.descriptor.colour == ColourSpace::opponent));
  BOOST_TEST(ovo.to_json()["svm"]["multiclass"] == "one_vs_one");
  BOOST_TEST(ovo.to_json()["normalisation"]["steps"] == nlohmann::json::parse(R"(["power", "l2"])"));
  BOOST_TEST(PipelineConfig::parse(nlohmann::json::parse(configs[2])).to_json()["combine"] == "sum_of_kernels");
}

BOOST_AUTO_TEST_CASE(layer_accounts_are_written_as_relevance_out_and_the_old_key_is_read) {
  LayerRelevance layer;
  layer.name = "pooling";
  layer.relevance_in = 2.5;
  layer.relevance_out = 2.25;
  layer.absorbed = 0.125;
  layer.unassigned = 0.0625;
  const nlohmann::json j = layer;
  BOOST_TEST(j.contains("relevance_out"));
  BOOST_TEST(!j.contains("relevance_sum"));
  BOOST_TEST(j.at("relevance_out").get<double>() == 2.25);
  const auto back = j.get<LayerRelevance>();
  BOOST_TEST(back.relevance_out == 2.25);
  BOOST_TEST(back.unaccounted() == layer.unaccounted());
  // Files written before the rename.
  nlohmann::json old = j;
  old.erase("relevance_out");
  old["relevance_sum"] = 2.25;
  BOOST_TEST(old.get<LayerRelevance>().relevance_out == 2.25);
  BOOST_TEST(nlohmann::json(old.get<LayerRelevance>()).dump() == j.dump());
}

// ---- the command line ----

struct CliModel {
  test::ScratchDir dir{"cli"};
  std::string model = dir / "model";
  CliModel() {
    const std::string config = dir / "config.json";
    std::ofstream(config) << test::tiny_config("hik").to_json().dump();
    const auto r = test::run_cli("train --quiet --config " + config + " --data fashion-mnist:train:150 --out " + model);
    if (r.exit_code != 0) throw std::runtime_error("training through the CLI failed: " + r.output);
  }
};
CliModel& cli_model() {
  static CliModel m;
  return m;
}

BOOST_AUTO_TEST_CASE(cli_explain_writes_npy_png_json_matching_the_library) {
  const std::string out = cli_model().dir / "explained";
  const auto r = test::run_cli("explain --model " + cli_model().model + " --out " + out +
                               " --layers fashion-mnist:test@0 fashion-mnist:test@3");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const BowModel model = BowModel::load(cli_model().model);
  for (const char* index : {"0", "3"}) {
    const std::string stem = out + "/fashion-mnist-test-" + index;
    const ImageSample image = load_image_reference(std::string("fashion-mnist:test@") + index);
    const BowExplanation e = explain(model, image.gray, -1, BiasPolicy::nonzero, image.name);
    const RowMatrixXd npy = parse_npy_f8(read_file(stem + ".npy"), stem + ".npy");
    BOOST_TEST((npy.array() == e.pixels.array()).all());  // the file holds the exact float64 map
    const nlohmann::json j = test::read_json(stem + ".json");
    BOOST_TEST(j["class"] == model.classes[e.class_index]);
    BOOST_TEST(j["score"].get<double>() == e.score);
    BOOST_TEST(j["pixel_sum"].get<double>() == e.pixel_sum);
    BOOST_TEST(std::abs(j["residual"].get<double>()) <= 1e-9 * std::max(1.0, std::abs(e.score)));
    BOOST_TEST(j["layers"].size() == 3u);
    BOOST_TEST(j["layers"][0]["name"] == "svm");
    BOOST_TEST(j["layers"][0]["relevance_out"].get<double>() == e.layers[0].relevance_out);
    BOOST_TEST(!j["layers"][0].contains("relevance_sum"));
    BOOST_TEST(j["descriptor_relevance"].size() == static_cast<size_t>(e.features.size()));
    const cv::Mat png = cv::imread(stem + ".png");
    BOOST_TEST(png.rows >= 112);
    BOOST_TEST(png.rows % 28 == 0);
  }
  // --class and --bias-policy none: the map explains score - b.
  const auto other = test::run_cli("explain --model " + cli_model().model + " --out " + out +
                                   " --class trouser --bias-policy none fashion-mnist:test@0");
  BOOST_REQUIRE_MESSAGE(other.exit_code == 0, other.output);
  const nlohmann::json j = test::read_json(out + "/fashion-mnist-test-0.json");
  BOOST_TEST(j["class"] == "trouser");
  BOOST_TEST(std::abs(j["pixel_sum"].get<double>() - (j["score"].get<double>() - j["bias"].get<double>())) <= 1e-9);
}

BOOST_AUTO_TEST_CASE(cli_explains_a_keypoint_model_with_gradient_spreading_and_conserves) {
  // Keypoint SIFT (first octave -1, so that a 28 x 28 image has keypoints)
  // explained with --pixel-rule gradient (docs/design.md 1.9): the residual the
  // JSON reports is rounding only, the map is the library's with gradient
  // weights and not the uniform one.
  test::ScratchDir dir("cli-keypoints");
  nlohmann::json config = test::tiny_config_json("hik");
  config["descriptor"] = {{"type", "sift"}, {"first_octave", -1}};
  config["codebook"]["words"] = 16;
  const std::string config_file = dir / "config.json", model = dir / "model", out = dir / "out";
  std::ofstream(config_file) << config.dump();
  const auto trained = test::run_cli("train --quiet --config " + config_file + " --data fashion-mnist:train:150 --out " + model);
  BOOST_REQUIRE_MESSAGE(trained.exit_code == 0, trained.output);
  const auto r = test::run_cli("explain --model " + model + " --out " + out +
                               " --pixel-rule gradient --layers fashion-mnist:test@0 fashion-mnist:test@3");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const BowModel loaded = BowModel::load(model);
  BOOST_REQUIRE(loaded.channels.front().descriptor.type == DescriptorType::sift);
  for (const char* index : {"0", "3"}) {
    const std::string stem = out + "/fashion-mnist-test-" + index;
    const ImageSample image = load_image_reference(std::string("fashion-mnist:test@") + index);
    const nlohmann::json j = test::read_json(stem + ".json");
    const double score = j["score"].get<double>();
    BOOST_TEST(std::abs(j["residual"].get<double>()) <= 1e-9 * std::max(1.0, std::abs(score)));
    BOOST_TEST(std::abs(j["pixel_sum"].get<double>() - score) <= 1e-9 * std::max(1.0, std::abs(score)));
    const nlohmann::json& pixels = j["layers"].back();
    BOOST_TEST(pixels["name"].get<std::string>().find("pixels") != std::string::npos);
    BOOST_TEST(std::abs(pixels["relevance_out"].get<double>() - pixels["relevance_in"].get<double>()) <=
               1e-9 * std::max(1.0, std::abs(score)));
    ExplainOptions gradient, uniform;
    gradient.pixel_rule = WeightingType::gradient;
    uniform.pixel_rule = WeightingType::uniform;
    const BowExplanation e = explain(loaded, image.gray, -1, gradient, image.name);
    BOOST_REQUIRE(e.features.size() > 0);
    const RowMatrixXd npy = parse_npy_f8(read_file(stem + ".npy"), stem + ".npy");
    BOOST_TEST((npy.array() == e.pixels.array()).all());
    BOOST_TEST((npy - explain(loaded, image.gray, -1, uniform, image.name).pixels).cwiseAbs().maxCoeff() >
               1e-6 * npy.cwiseAbs().maxCoeff());
  }
}

BOOST_AUTO_TEST_CASE(cli_predict_json_matches_the_library) {
  const auto r = test::run_cli("predict --json --model " + cli_model().model + " fashion-mnist:test@5");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const nlohmann::json j = nlohmann::json::parse(r.output);
  const BowModel model = BowModel::load(cli_model().model);
  const auto f = model.forward(load_image_reference("fashion-mnist:test@5").gray, "x");
  for (int c = 0; c < 10; ++c) BOOST_TEST(j[0]["scores"][model.classes[c]].get<double>() == f.scores[c]);
}

BOOST_AUTO_TEST_CASE(cli_bad_input_fails_cleanly_naming_the_input) {
  const test::ScratchDir dir("bad");
  const std::string model = cli_model().model;
  const std::string corrupt = dir / "corrupt.png", small = dir / "small.png";
  std::ofstream(corrupt) << "not an image at all";
  cv::imwrite(small, cv::Mat(10, 10, CV_8U, cv::Scalar(128)));
  fs::create_directories(dir / "empty-data");
  // A damaged copy of the model (one byte changed) and one with a file missing.
  const std::string damaged = dir / "damaged", missing = dir / "missing";
  fs::copy(model, damaged);
  fs::copy(model, missing);
  {
    std::string bytes = read_file(damaged + "/svm-0.model");
    bytes[bytes.size() / 2] ^= 1;
    std::ofstream(damaged + "/svm-0.model", std::ios::binary) << bytes;
  }
  fs::remove(missing + "/codebook.npy");

  struct Case {
    std::string arguments, must_name;
  };
  const std::string out = dir / "out";
  const std::vector<Case> cases{
      {"explain --model " + model + " --out " + out + " fashion-mnist:test@0 " + dir / "absent.png", "absent.png"},
      {"explain --model " + model + " --out " + out + " fashion-mnist:test@0 " + corrupt, "corrupt.png"},
      {"explain --model " + model + " --out " + out + " " + small, "small.png"},
      {"explain --model " + damaged + " --out " + out + " fashion-mnist:test@0", "svm-0.model"},
      {"explain --model " + missing + " --out " + out + " fashion-mnist:test@0", "codebook.npy"},
      {"explain --model " + model + " --class zebra --out " + out + " fashion-mnist:test@0", "zebra"},
      {"explain --model " + dir / "no-model" + " --out " + out + " fashion-mnist:test@0", "no-model"},
      {"predict --model " + model + " " + corrupt, "corrupt.png"},
      {"train --config " + test::source_dir() + "/configs/demo.json --data " + dir / "empty-data" + " --out " + out,
       "empty-data"},
      {"train --config " + dir / "absent.json" + " --data fashion-mnist:train:10 --out " + out, "absent.json"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.arguments) {
      const auto r = test::run_cli(c.arguments);
      BOOST_TEST(r.exit_code != 0);
      BOOST_TEST(r.output.find("error") != std::string::npos, r.output);
      BOOST_TEST(r.output.find(c.must_name) != std::string::npos, r.output);
      BOOST_TEST(folder_is_empty_or_missing(out), "output written despite the error");
    }
  }
}
