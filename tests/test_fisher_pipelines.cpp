// Fisher-vector and VLAD models on real Fashion-MNIST images (docs/design.md
// 1.8): trained, saved and reloaded through the model directory, explained
// through the one explanation path, with relevance conserved at eps = 0 under
// every bias policy, with and without a pyramid.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/explain/explanation.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

Dataset fashion_subset(const std::string& spec, int classes) {
  Dataset all = load_dataset(spec);
  Dataset d;
  d.spec = spec + " (classes 0-" + std::to_string(classes - 1) + ")";
  d.classes.assign(all.classes.begin(), all.classes.begin() + classes);
  for (auto& image : all.images)
    if (image.label < classes) d.images.push_back(std::move(image));
  return d;
}

const Dataset& train3() {
  static const Dataset d = fashion_subset("fashion-mnist:train:90", 3);
  return d;
}
const Dataset& test3() {
  static const Dataset d = fashion_subset("fashion-mnist:test:12", 3);
  return d;
}

// A Fisher mapping has a GMM section, VLAD uses the codebook (and a GMM
// section is refused for it); `gmm` adds the section anyway.
// `sdca` trains the linear SVMs by VLFeat's SDCA (the identity "feature map"
// of the linear kernel) instead of libsvm.
std::string config_text(const std::string& mapping, const std::string& pyramid, bool gmm = false, int pca = 0,
                        bool sdca = false) {
  const bool fisher = mapping.find("fisher") != std::string::npos;
  return R"({"descriptor": {"step": 3, "bin_sizes": [4]}, "pca": {"dimensions": )" + std::to_string(pca) + R"(},
    "codebook": {"words": 6, "training_descriptors": 2000, "seed": 2},)" +
         std::string(fisher || gmm ? R"("gmm": {"components": 4, "training_descriptors": 2000, "seed": 3, "max_iterations": 30},)" : "") +
         R"("pooling": {"type": "sum", "pyramid": )" + pyramid + R"(},
    "normalisation": {"steps": []},
    "mapping": )" + mapping + R"(,
    "svm": {"kernel": "linear", "C": 1)" + std::string(sdca ? R"(, "feature_map": {"seed": 4})" : "") + "}}";
}

// |pixel sum + absorbed + unassigned - score| <= 1e-9 max(1, |score|), and
// every layer's account closes.
void check_accounted(const BowExplanation& e) {
  double absorbed = 0, unassigned = 0;
  for (const auto& layer : e.layers) {
    absorbed += layer.absorbed;
    unassigned += layer.unassigned;
    BOOST_TEST(std::abs(layer.unaccounted()) <= 1e-9 * std::max(1.0, std::abs(e.score)), layer.name);
  }
  BOOST_TEST(std::abs(e.pixel_sum + absorbed + unassigned - e.score) <= 1e-9 * std::max(1.0, std::abs(e.score)),
             e.pixel_sum << " + " << absorbed << " + " << unassigned << " vs " << e.score);
}

}  // namespace

BOOST_AUTO_TEST_CASE(fisher_and_vlad_models_conserve_relevance_on_real_images) {
  const std::vector<std::string> mappings{R"({"type": "fisher"})", R"({"type": "vlad"})",
                                          R"({"type": "vlad", "intra": false, "square_root": false})"};
  int run = 0;
  for (const auto& mapping : mappings)
    for (const std::string pyramid : {"[[1, 1]]", "[[1, 1], [3, 1]]"}) {
      // Every other model projects its descriptors on 12 principal components
      // first; every other pair trains its SVMs by SDCA.
      const int pca = run % 2 ? 12 : 0;
      const bool sdca = (run++ / 2) % 2 == 1;
      const std::string text = config_text(mapping, pyramid, false, pca, sdca);
      BOOST_TEST_CONTEXT(text) {
        const BowModel model = BowModel::train(PipelineConfig::parse(nlohmann::json::parse(text)), train3(), nullptr);
        BOOST_TEST((model.channels[0].mapping.type != MappingType::histogram));
        BOOST_TEST(model.pcas[0].empty() == (pca == 0));
        BOOST_TEST(model.channels[0].mapped_dimension() == (pca ? 12 : 128));
        BOOST_TEST(model.dimension() == model.forward(test3().images[0].gray, "image").encoding.histogram.size());
        for (size_t i = 0; i < 2; ++i) {
          const ImageSample& image = test3().images[i];
          for (BiasPolicy policy : {BiasPolicy::none, BiasPolicy::uniform, BiasPolicy::nonzero}) {
            const BowExplanation e = explain(model, image.gray, -1, policy, image.name);
            check_accounted(e);
            BOOST_TEST(e.layers.size() == 3u);
            BOOST_TEST(e.layers[1].name == (mapping.find("fisher") != std::string::npos ? "fisher" : "vlad"));
            // eps = 0: the mapping layer absorbs nothing; under "nonzero" the
            // bias goes to dimensions with terms, so all of f(x) reaches pixels.
            BOOST_TEST(e.layers[1].absorbed == 0.0);
            if (policy == BiasPolicy::nonzero)
              BOOST_TEST(std::abs(e.pixel_sum - e.score) <= 1e-9 * std::max(1.0, std::abs(e.score)));
            if (policy == BiasPolicy::none) BOOST_TEST(e.layers[0].absorbed == e.bias);
            // Relevance per component sums to the channel's bin relevance.
            BOOST_REQUIRE_EQUAL(e.channels.size(), 1u);
            const auto& c = e.channels[0];
            BOOST_TEST(std::abs(c.component_relevance.sum() - c.bin_relevance) <= 1e-9 * std::max(1.0, std::abs(e.score)));
          }
        }
      }
    }
}

BOOST_AUTO_TEST_CASE(epsilon_on_the_mapping_layer_reports_what_it_absorbs) {
  const std::string text = config_text(R"({"type": "fisher"})", "[[1, 1], [3, 1]]");
  const BowModel model = BowModel::train(PipelineConfig::parse(nlohmann::json::parse(text)), train3(), nullptr);
  const ImageSample& image = test3().images[0];
  ExplainOptions options;
  options.rule = "pooling=epsilon:0.1";
  const BowExplanation e = explain(model, image.gray, -1, options, image.name);
  check_accounted(e);
  BOOST_TEST(e.layers[1].name == "fisher [epsilon:0.1]");
  BOOST_TEST(e.layers[1].absorbed != 0.0);
}

BOOST_AUTO_TEST_CASE(fisher_model_directory_round_trip_and_checks) {
  test::ScratchDir dir("fisher-model");
  const std::string text = config_text(R"({"type": "fisher"})", "[[1, 1], [3, 1]]");
  const BowModel model = BowModel::train(PipelineConfig::parse(nlohmann::json::parse(text)), train3(), nullptr);
  model.save(dir / "m");
  for (const char* name : {"gmm_priors.npy", "gmm_means.npy", "gmm_variances.npy"})
    BOOST_TEST(std::filesystem::exists(dir.path() / "m" / name), name);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "m" / "codebook.npy"));
  const BowModel loaded = BowModel::load(dir / "m");
  BOOST_TEST((loaded.gmms[0].means == model.gmms[0].means));
  BOOST_TEST((loaded.gmms[0].variances == model.gmms[0].variances));
  const ImageSample& image = test3().images[1];
  const BowExplanation a = explain(model, image.gray, -1, BiasPolicy::nonzero, image.name);
  const BowExplanation b = explain(loaded, image.gray, -1, BiasPolicy::nonzero, image.name);
  BOOST_TEST((a.pixels - b.pixels).cwiseAbs().maxCoeff() == 0.0);
  BOOST_TEST(a.score == b.score);
  // A GMM file that does not match the configuration is named in the error
  // (rewritten with a valid checksum, so that only its shape is wrong).
  const std::filesystem::path copy = dir.path() / "copy";
  std::filesystem::copy(dir.path() / "m", copy);
  BowModel changed = BowModel::load(dir / "m");
  changed.gmms[0].means.conservativeResize(changed.gmms[0].means.rows(), 3);
  changed.gmms[0].variances.conservativeResize(changed.gmms[0].variances.rows(), 3);
  changed.save(copy.string());
  const std::string error = test::error_of([&] { BowModel::load(copy.string()); });
  BOOST_TEST(error.find("gmm_means.npy") != std::string::npos, error);
  // The sections are checked: a GMM for a mapping without one is refused.
  const std::string bad = config_text(R"({"type": "vlad"})", "[[1, 1]]", true);
  BOOST_TEST(test::error_of([&] { PipelineConfig::parse(nlohmann::json::parse(bad)); }) ==
             "config section \"gmm\": only the mapping \"fisher\" has a GMM");
}

// Sensitivity of a Fisher model (docs/design.md 5): d f / d t_l, t_l scaling
// descriptor l's terms, equals central differences of the model's own score
// on the encoding with those terms scaled.
BOOST_AUTO_TEST_CASE(fisher_sensitivity_is_the_derivative_of_the_score) {
  for (bool sdca : {false, true}) BOOST_TEST_CONTEXT("sdca " << sdca) {
  const std::string text = config_text(R"({"type": "fisher"})", "[[1, 1], [3, 1]]", false, 0, sdca);
  const auto shared =
      std::make_shared<const BowModel>(BowModel::train(PipelineConfig::parse(nlohmann::json::parse(text)), train3(), nullptr));
  const BowModel& model = *shared;
  const auto adapter = make_bow_adapter(shared, "m");
  const auto methods = adapter->own_methods();
  BOOST_TEST(std::count(methods.begin(), methods.end(), ExplainMethod::sensitivity) == 1);
  const ImageSample& image = test3().images[2];
  Eigen::VectorXd s, scores;
  const RowMatrixXd pixels = bow_sensitivity(model, image.gray, -1, image.name, &s, &scores);
  int c = 0;
  scores.maxCoeff(&c);
  const BowModel::Forward forward = model.forward(image.gray, image.name);
  const TermEncoding& e = *forward.encoding.channels[0].terms;
  BOOST_REQUIRE_EQUAL(s.size(), e.features());
  // No normalisation after the mapping in this configuration: the classifier
  // sees normalise_blocks(s) directly.
  auto f = [&](int l, double t) {
    Eigen::VectorXd sums = e.sums;
    for (const auto& entry : e.entries)
      if (entry.feature == l) e.terms(entry, [&](long bin, double z) { sums[bin] += (t - 1) * z; });
    return model.classifier->forward(normalise_blocks(sums, e.type, e.components(), e.dimension(), e.options)).scores[c];
  };
  BOOST_TEST(std::abs(f(0, 1.0) - scores[c]) <= 1e-12 * std::max(1.0, std::abs(scores[c])));
  const double h = 1e-6;
  int nonzero = 0;
  for (int l = 0; l < e.features(); l += 7) {
    const double numeric = (f(l, 1 + h) - f(l, 1 - h)) / (2 * h);
    BOOST_TEST(std::abs(s[l] - numeric) <= 1e-5 * std::max(1.0, std::abs(numeric)), "l " << l << ": " << s[l] << " vs " << numeric);
    nonzero += s[l] != 0.0;
  }
  BOOST_TEST(nonzero > 0);
  BOOST_TEST(std::abs(pixels.sum()) > 0.0);
  BOOST_TEST(pixels.minCoeff() >= 0.0);
  BOOST_TEST(model.classifier->kind() == (sdca ? "kernel_map_svm" : "one_vs_rest_svm"));
  }
}

BOOST_AUTO_TEST_CASE(fisher_and_vlad_presets_load_and_round_trip) {
  // Every preset of configs/ loads and round-trips; these map with terms.
  int presets = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::source_dir() + "/configs")) {
    const std::string name = entry.path().stem().string();
    const PipelineConfig c = PipelineConfig::load(entry.path().string());
    BOOST_TEST(PipelineConfig::parse(c.to_json()).to_json() == c.to_json(), name);
    const bool terms = name.find("fisher") != std::string::npos || name.find("vlad") != std::string::npos;
    BOOST_TEST((c.mapping.type != MappingType::histogram) == terms, name);
    presets += terms;
  }
  BOOST_TEST(presets == 5);
  // The CVPR 2016 setup: 1x1 + 3x1 cells, 256 components, PCA to 80 dimensions: 4 * 2 * 256 * 80.
  const PipelineConfig voc = PipelineConfig::load(test::source_dir() + "/configs/fisher_voc2007.json");
  BOOST_TEST(voc.channel_list()[0].dimension() == 4L * 2 * 256 * 80);
  BOOST_TEST(voc.channel_list()[0].mapped_dimension() == 80);
}
