// A BoW pipeline whose classifier is a set of linear SVMs on VLFeat's
// homogeneous kernel map (training sets too large for a kernel
// matrix; classifiers/homkermap_svm.hpp, docs/config.md "svm.feature_map"):
// trained on real Fashion-MNIST images as accurately as the exact kernel SVM,
// bin relevance equal to a slow per-bin reference (w_{c,d} . psi(x_d)),
// conservation down to the pixels, bit-identical explanations after save and
// reload, damaged files named, the CLI, and what does not apply refused.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "pixelwise/common/manifest_file.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

// Dense SIFT every 3 pixels, 32 words, 1x1 + 2x2 pyramid: 160-D histograms.
std::string config_text(const std::string& kernel, const std::string& feature_map) {
  return R"({
    "descriptor": {"type": "dsift", "step": 3, "bin_sizes": [4]},
    "codebook": {"words": 32, "training_descriptors": 8000, "seed": 2, "max_iterations": 30},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "normalisation": {"steps": ["l1"]},
    "svm": {"kernel": ")" +
         kernel + R"(", "C": 10)" + (feature_map.empty() ? "" : ", \"feature_map\": " + feature_map) + "}}";
}

PipelineConfig config_of(const std::string& text) { return PipelineConfig::parse(nlohmann::json::parse(text)); }

const Dataset& train_data() { return test::cached_dataset("fashion-mnist:train:400"); }
const Dataset& test_data() { return test::cached_dataset("fashion-mnist:test:300"); }
const BowModel& mapped(const std::string& kernel) {
  static const BowModel hik = BowModel::train(config_of(config_text("hik", R"({"order": 2})")), train_data(), nullptr);
  static const BowModel chi2 = BowModel::train(config_of(config_text("chi2", R"({"order": 1})")), train_data(), nullptr);
  return kernel == "hik" ? hik : chi2;
}

double accuracy(const BowModel& model) {
  long correct = 0;
  for (const auto& image : test_data().images) {
    int best;
    model.forward(image.gray, image.name).scores.maxCoeff(&best);
    correct += best == image.label;
  }
  return static_cast<double>(correct) / static_cast<double>(test_data().images.size());
}

}  // namespace

BOOST_AUTO_TEST_CASE(kernel_map_svms_classify_as_well_as_the_exact_kernel_svms) {
  for (const std::string kernel : {"hik", "chi2"}) {
    const BowModel& model = mapped(kernel);
    BOOST_REQUIRE(model.classifier_as<KernelMapSvmClassifier>());
    BOOST_TEST(model.classifier->kind() == "kernel_map_svm");
    // The same codebook (same seed and data), the exact kernel SVM on the same histograms.
    const BowModel exact = BowModel::train(config_of(config_text(kernel, "")), train_data(), nullptr);
    BOOST_TEST((exact.codebooks[0].centres() == model.codebooks[0].centres()));
    const double a = accuracy(model), b = accuracy(exact);
    BOOST_TEST_MESSAGE(kernel << ": kernel map " << a << ", exact " << b);
    BOOST_TEST(a > 0.6, kernel << " map accuracy " << a);  // 10 classes: chance is 0.1
    BOOST_TEST(std::abs(a - b) <= 0.04, kernel << ": map " << a << " vs exact " << b);
    BOOST_TEST(model.training_info["training_accuracy"].get<double>() > 0.7);
  }
}

BOOST_AUTO_TEST_CASE(bin_relevance_matches_a_slow_reference_and_is_conserved_to_the_pixels) {
  for (const std::string kernel : {"hik", "chi2"}) {
    const BowModel& model = mapped(kernel);
    const MappedLinearSvm& svm = model.classifier_as<KernelMapSvmClassifier>()->svm();
    const int e = 2 * svm.feature_map().options().order + 1;
    for (int i = 0; i < 6; ++i) {
      const ImageSample& image = test_data().images[i];
      ExplainOptions none;
      none.policy = BiasPolicy::none;
      const BowExplanation x = explain(model, image.gray, -1, none, image.name);
      const Eigen::VectorXd h = model.histogram(image.gray, image.name);
      // Slow reference: R_d = sum_j w_{c,d,j} psi_j(x_d), psi from VLFeat one value at a time.
      double score = svm.bias()[x.class_index];
      for (long d = 0; d < h.size(); ++d) {
        double psi[64];
        svm.feature_map().map(h[d], psi);
        double r = 0;
        for (int j = 0; j < e; ++j) r += svm.weights()(x.class_index, d * e + j) * psi[j];
        score += r;
        BOOST_TEST(std::abs(x.bin_relevance[d] - r) <= 1e-13, kernel << " image " << i << " bin " << d);
        if (h[d] == 0.0) BOOST_TEST(x.bin_relevance[d] == 0.0);
      }
      BOOST_TEST(std::abs(x.score - score) <= 1e-12);
      // Policy none: the bias is what the heatmap leaves out; nonzero: all of f on the pixels.
      BOOST_TEST(std::abs(x.residual() - svm.bias()[x.class_index]) <= 1e-12, kernel << " image " << i);
      const BowExplanation all = explain(model, image.gray, -1, BiasPolicy::nonzero, image.name);
      BOOST_TEST(std::abs(all.pixel_sum - all.score) <= 1e-12 * std::max(1.0, std::abs(all.score)));
      const nlohmann::json j = explanation_json(model, all);
      BOOST_TEST(j["classifier"] == "kernel-map svm");
      BOOST_TEST(std::abs(j["unaccounted"].get<double>()) <= 1e-12);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_saved_and_reloaded_kernel_map_model_explains_to_the_last_bit) {
  test::ScratchDir dir("bow-kernel-map-save");
  const std::string path = dir / "model";
  const BowModel& model = mapped("hik");
  model.save(path);
  const nlohmann::json manifest = test::read_json(path + "/manifest.json");
  BOOST_TEST(manifest["files"].contains("mapped_svm.npy"));
  BOOST_TEST(!manifest["files"].contains("support_vectors.npy"));
  BOOST_TEST(manifest["pipeline"]["svm"]["feature_map"]["order"] == 2);
  const BowModel again = BowModel::load(path);
  BOOST_TEST(again.config.to_json() == model.config.to_json());
  BOOST_TEST((again.classifier_as<KernelMapSvmClassifier>()->svm().weights() == model.classifier_as<KernelMapSvmClassifier>()->svm().weights()));
  for (int i = 10; i < 13; ++i) {
    const ImageSample& image = test_data().images[i];
    const BowExplanation a = explain(model, image.gray, -1, BiasPolicy::nonzero, image.name);
    const BowExplanation b = explain(again, image.gray, -1, BiasPolicy::nonzero, image.name);
    BOOST_TEST((a.scores.array() == b.scores.array()).all());
    BOOST_TEST((a.pixels.array() == b.pixels.array()).all(), "image " << i);
  }

  // A table of the wrong shape (with a matching checksum) is named.
  RowMatrixXd table(10, 7);
  table.setOnes();
  const std::string bytes = npy_bytes(table);
  write_file_atomically(path + "/mapped_svm.npy", bytes);
  nlohmann::json edited = manifest;
  edited["files"]["mapped_svm.npy"] = {{"bytes", bytes.size()}, {"crc32", crc32_of(bytes)}};
  write_manifest(path, edited.dump(2));  // with its checksum (docs/errors.md, "Model directories")
  const std::string shape = test::error_of([&] { BowModel::load(path); });
  BOOST_TEST(shape.find("mapped_svm.npy: 10 x 7, the pipeline needs 10 x 801") != std::string::npos, shape);
  // A damaged file (size or checksum) is named.
  std::ofstream(path + "/mapped_svm.npy", std::ios::app) << " ";
  const std::string damaged = test::error_of([&] { BowModel::load(path); });
  BOOST_TEST(damaged.find("mapped_svm.npy: damaged") != std::string::npos, damaged);
}

BOOST_AUTO_TEST_CASE(what_needs_kernel_svms_is_refused_with_a_reason) {
  const BowModel& model = mapped("chi2");
  const ImageSample& image = test_data().images[0];
  ExplainOptions taylor;
  taylor.method = ExplainMethod::taylor;
  BOOST_CHECK_EXCEPTION(explain(model, image.gray, -1, taylor, "x"), std::invalid_argument,
                        [](const auto& e) { return std::string(e.what()).find("kernel map") != std::string::npos; });
  BOOST_CHECK_THROW(explain(model, image.gray, 0, ExplainOptions{}, "x", 1), std::invalid_argument);  // versus
  BOOST_CHECK_EXCEPTION(bow_sensitivity(model, image.gray, 0, "img"), std::invalid_argument,
                        [](const auto& e) { return std::string(e.what()).find("img: ") == 0; });
  // The evaluation offers LRP and the model-agnostic methods.
  test::ScratchDir dir("bow-kernel-map-adapter");
  model.save(dir / "model");
  const auto adapter = load_explainable_model(dir / "model");
  BOOST_TEST((adapter->own_methods() == std::vector<ExplainMethod>{ExplainMethod::lrp}));
  BOOST_TEST(names_of(adapter->methods()) == "lrp, occlusion, random");
  const Explanation lrp = explain_with(*adapter, image.gray, 0, ExplainMethod::lrp, ExplainSettings{}, 1, "x");
  BOOST_TEST(std::abs(lrp.account->score - lrp.account->pixel_sum) <= 1e-12);
}

BOOST_AUTO_TEST_CASE(configuration_errors_in_the_feature_map_are_named) {
  auto message = [](const std::string& text) { return test::error_of([&] { config_of(text); }); };
  BOOST_TEST(message(R"({"svm": {"kernel": "hik", "feature_map": {"oder": 2}}})") ==
             "config section \"svm\": feature_map: unknown key \"oder\" (known: epsilon, max_passes, order, period, seed)");
  BOOST_TEST(message(R"({"svm": {"kernel": "rbf", "feature_map": {}}})") ==
             "config section \"svm\": feature_map: homogeneous kernel maps exist for the hik and chi2 kernels (and the "
             "identity for linear), not rbf");
  // The linear kernel's map is the identity: an order is refused.
  BOOST_TEST(message(R"({"svm": {"kernel": "linear", "feature_map": {"order": 2}}})") ==
             "config section \"svm\": feature_map: feature map: the linear kernel's map is the identity; it takes no "
             "order or period");
  BOOST_TEST(message(R"({"svm": {"kernel": "hik", "multiclass": "one_vs_one", "feature_map": {}}})").find("one_vs_rest") !=
             std::string::npos);
  BOOST_TEST(message(R"({"svm": {"kernel": "hik", "feature_map": {"order": 30}}})").find("order") != std::string::npos);
  BOOST_TEST(message(R"({"svm": {"kernel": "hik", "feature_map": {"epsilon": 0}}})").find("epsilon") != std::string::npos);
  BOOST_TEST(message(R"({"svm": {"kernel": "hik", "feature_map": {"order": "2"}}})").find("feature_map") != std::string::npos);
  BOOST_TEST(message(R"({"combine": "sum_of_kernels", "svm": {"kernel": "hik", "feature_map": {}}})").find("concatenate") !=
             std::string::npos);
  // Defaults, and kernel and C taken from the svm section.
  const PipelineConfig c = config_of(R"({"svm": {"kernel": "chi2", "C": 3, "feature_map": {}}})");
  BOOST_TEST((c.section<KernelMapSection>()->map.kernel == KernelType::chi2));
  BOOST_TEST(c.section<KernelMapSection>()->map.order == FeatureMapOptions{}.order);
  BOOST_TEST(c.section<KernelMapSection>()->solver.C == 3.0);
  BOOST_TEST(c.section<KernelMapSection>()->solver.epsilon == LinearSvmOptions{}.epsilon);
  BOOST_TEST(!config_of(R"({"svm": {"kernel": "chi2"}})").section<KernelMapSection>());
}

BOOST_AUTO_TEST_CASE(cli_trains_tests_and_explains_a_kernel_map_model) {
  test::ScratchDir dir("bow-kernel-map-cli");
  {
    std::ofstream(dir / "config.json") << config_text("chi2", R"({"order": 1})");
  }
  const test::CommandResult train = test::run_cli("train --config " + dir / "config.json" +
                                                  " --data fashion-mnist:train:200 --out " + dir / "model");
  BOOST_REQUIRE_MESSAGE(train.exit_code == 0, train.output);
  BOOST_TEST(train.output.find("order-1 chi2 kernel map") != std::string::npos, train.output);
  const test::CommandResult tested = test::run_cli("test --json --model " + dir / "model" + " --data fashion-mnist:test:100");
  BOOST_REQUIRE_MESSAGE(tested.exit_code == 0, tested.output);
  BOOST_TEST(nlohmann::json::parse(tested.output)["accuracy"].get<double>() > 0.5, tested.output);
  const test::CommandResult explained =
      test::run_cli("explain --model " + dir / "model" + " --out " + dir / "heatmaps" + " fashion-mnist:test@3");
  BOOST_REQUIRE_MESSAGE(explained.exit_code == 0, explained.output);
  const nlohmann::json j = test::read_json(dir / "heatmaps/fashion-mnist-test-3.json");
  BOOST_TEST(j["classifier"] == "kernel-map svm");
  BOOST_TEST(std::abs(j["score"].get<double>() - j["pixel_sum"].get<double>()) <= 1e-12);
  const test::CommandResult taylor = test::run_cli("explain --method taylor --model " + dir / "model" + " --out " +
                                                   dir / "taylor" + " fashion-mnist:test@3");
  BOOST_TEST(taylor.exit_code == 1);
  BOOST_TEST(taylor.output.find("kernel map") != std::string::npos, taylor.output);
  BOOST_TEST(!fs::exists(dir / "taylor"));
}
