// The sanity checks of Adebayo et al. 2018 (docs/evaluation.md "Sanity
// checks"): heatmap similarity by hand and against a slow reference, chance
// levels of unrelated maps, model randomisation of every classifier kind and
// of the BoW vocabulary (seeded, cumulative, a permutation of the trained
// values), and the evaluation's mprt and data-randomisation metrics on a
// small BoW model trained on Fashion-MNIST, from the library and the CLI.
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <Eigen/QR>

#include "pixelwise/classifiers/randomisation.hpp"
#include "pixelwise/decomposition/similarity.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/pipelines/model/model_randomisation.hpp"
#include "pixelwise/pipelines/model/network_training.hpp"
#include "test_support.hpp"
#include "tiny_bow.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

RowMatrixXd map_of(long rows, long cols, std::initializer_list<double> values) {
  RowMatrixXd m(rows, cols);
  long i = 0;
  for (double v : values) m.data()[i++] = v;
  return m;
}

// SSIM by its definition (similarity.hpp): per pixel the window's weights
// summed directly, two-pass moments, no separable filtering.
double slow_ssim(RowMatrixXd a, RowMatrixXd b) {
  for (RowMatrixXd* m : {&a, &b}) {
    const double top = m->cwiseAbs().maxCoeff();
    if (top > 0) *m /= top;
  }
  const double C1 = 0.02 * 0.02, C2 = 0.06 * 0.06;
  double total = 0;
  for (long y = 0; y < a.rows(); ++y)
    for (long x = 0; x < a.cols(); ++x) {
      double W = 0, ma = 0, mb = 0;
      auto each = [&](auto&& f) {
        for (long v = std::max(0L, y - 5); v <= std::min(a.rows() - 1, y + 5); ++v)
          for (long u = std::max(0L, x - 5); u <= std::min(a.cols() - 1, x + 5); ++u)
            f(std::exp(-static_cast<double>((v - y) * (v - y) + (u - x) * (u - x)) / (2 * 1.5 * 1.5)), a(v, u), b(v, u));
      };
      each([&](double w, double p, double q) {
        W += w;
        ma += w * p;
        mb += w * q;
      });
      ma /= W;
      mb /= W;
      double va = 0, vb = 0, cab = 0;
      each([&](double w, double p, double q) {
        va += w * (p - ma) * (p - ma);
        vb += w * (q - mb) * (q - mb);
        cab += w * (p - ma) * (q - mb);
      });
      va /= W;
      vb /= W;
      cab /= W;
      total += (2 * ma * mb + C1) * (2 * cab + C2) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
    }
  return total / static_cast<double>(a.size());
}

// A tiny hik BoW model on 100 Fashion-MNIST training images, trained once.
const BowModel& tiny_model() {
  static const BowModel model =
      BowModel::train(test::tiny_config("hik"), test::cached_dataset("fashion-mnist:train:100"), nullptr);
  return model;
}

std::vector<double> sorted(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(spearman_by_hand_with_ties) {
  BOOST_TEST((average_ranks(Eigen::Vector4d(3, 1, 3, 2)) == Eigen::Vector4d(3.5, 1, 3.5, 2)));
  // ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4): deviations (-1.5, 0, 0, 1.5) and
  // (-1.5, 0.5, -0.5, 1.5): 4.5 / sqrt(4.5 * 5) = sqrt(0.9).
  const RowMatrixXd a = map_of(2, 2, {1, 2, 2, 3}), b = map_of(2, 2, {1, 3, 2, 4});
  BOOST_TEST(std::abs(spearman_correlation(a, b) - std::sqrt(0.9)) < 1e-15);
  BOOST_TEST(std::abs(spearman_correlation(a, -b) + std::sqrt(0.9)) < 1e-15);
  // Monotone transforms do not change ranks.
  const RowMatrixXd c = map_of(2, 3, {0.1, -2, 5, 7, 0.3, 1});
  BOOST_TEST(spearman_correlation(c, RowMatrixXd(c.array().cube() + 4.0)) == 1.0);
  // |R|: (0.1, 2, 5, 7, 0.3, 1) against (1, 2, 3, 4, 5, 6) by rank: ranks (1, 4, 5, 6, 2, 3).
  // sum d^2 = 0 + 4 + 4 + 4 + 9 + 9 = 30: 1 - 6 * 30 / (6 * 35) = 1/7 (no ties).
  const HeatmapSimilarity s = heatmap_similarity(c, map_of(2, 3, {1, 2, 3, 4, 5, 6}), 0.5);
  BOOST_TEST(std::abs(s.spearman_abs - 1.0 / 7.0) < 1e-15);
  // A constant map has no ranking: undefined.
  BOOST_TEST(std::isnan(spearman_correlation(RowMatrixXd::Zero(2, 2), a)));
  BOOST_CHECK_THROW(spearman_correlation(a, RowMatrixXd::Zero(3, 2)), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(top_k_intersection_by_hand_with_ties) {
  // |a| = 5 4 1 0, |b| = 0 4 6 1: top-2 {0, 1} and {1, 2} share one pixel.
  BOOST_TEST(top_k_intersection(map_of(2, 2, {5, -4, 1, 0}), map_of(2, 2, {0, 4, -6, 1}), 2) == 0.5);
  // Ties at the k-th value count in proportion: a's three 3s get 2/3 each, b's
  // 3 gets 1 and its three 0s 1/3 each: (2/3 + 2/3 * 1/3 * 2) / 2 = 5/9.
  BOOST_TEST(std::abs(top_k_intersection(map_of(2, 2, {3, 3, -3, 0}), map_of(2, 2, {-3, 0, 0, 0}), 2) - 5.0 / 9.0) < 1e-15);
  // A flat map scores the chance level k / N exactly.
  std::mt19937_64 rng(3);
  const RowMatrixXd noise = test::random_matrix(10, 10, rng);
  BOOST_TEST(std::abs(top_k_intersection(RowMatrixXd::Zero(10, 10), noise, 7) - 0.07) < 1e-15);
  BOOST_TEST(top_k_intersection(noise, noise, 7) == 1.0);
  BOOST_TEST(top_k_pixels(0.1, 784) == 78);
  BOOST_TEST(top_k_pixels(1e-6, 784) == 1);
  BOOST_CHECK_THROW(top_k_pixels(0.0, 784), std::invalid_argument);
  BOOST_CHECK_THROW(top_k_pixels(1.5, 784), std::invalid_argument);
  BOOST_CHECK_THROW(top_k_intersection(noise, noise, 101), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(ssim_of_equal_maps_is_one_and_matches_the_direct_sum) {
  std::mt19937_64 rng(11);
  const RowMatrixXd a = test::random_matrix(9, 13, rng), b = test::random_matrix(9, 13, rng);
  BOOST_TEST(std::abs(heatmap_ssim(a, a) - 1.0) < 1e-12);
  BOOST_TEST(std::abs(heatmap_ssim(a, 3.5 * a) - 1.0) < 1e-12);  // each map is divided by its max |R|
  BOOST_TEST(heatmap_ssim(RowMatrixXd::Zero(4, 5), RowMatrixXd::Zero(4, 5)) == 1.0);  // no division by zero
  BOOST_TEST(std::isfinite(heatmap_ssim(RowMatrixXd::Zero(9, 13), a)));
  for (const auto& [x, y] : {std::make_pair(a, b), std::make_pair(a, RowMatrixXd(a + 0.3 * b)),
                             std::make_pair(RowMatrixXd(a.cwiseAbs()), b)}) {
    const double fast = heatmap_ssim(x, y), slow = slow_ssim(x, y);
    BOOST_TEST(std::abs(fast - slow) < 1e-12, fast << " vs " << slow);
  }
  // A map against its negation: Spearman sees the flip, SSIM does not (its
  // luminance and structure terms are then both negative; docs/evaluation.md).
  BOOST_TEST(spearman_correlation(a, -a) == -1.0);
  BOOST_TEST(heatmap_ssim(a, -a) > 0.5);
}

BOOST_AUTO_TEST_CASE(unrelated_random_maps_score_the_chance_levels) {
  const long side = 64, N = side * side;
  const double fraction = 0.1;
  const long k = top_k_pixels(fraction, N);
  const nlohmann::json chance = similarity_chance(N, fraction);
  BOOST_TEST(chance.at("top_k_intersection").get<double>() == static_cast<double>(k) / N);
  // Spearman of independent maps: mean 0, standard deviation 1 / sqrt(N - 1);
  // top-k share: hypergeometric, variance (k/N)(1 - k/N)(N - k) / ((N - 1) k).
  const double spearman_sd = 1 / std::sqrt(static_cast<double>(N - 1));
  const double p = static_cast<double>(k) / N;
  const double top_k_sd = std::sqrt(p * (1 - p) * static_cast<double>(N - k) / (static_cast<double>(N - 1) * k));
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const RowMatrixXd a = random_relevance(side, side, 2 * seed), b = random_relevance(side, side, 2 * seed + 1);
    const HeatmapSimilarity s = heatmap_similarity(a, b, fraction);
    BOOST_TEST(s.top_k == k);
    BOOST_TEST(std::abs(s.spearman) < 4 * spearman_sd, s.spearman);
    BOOST_TEST(std::abs(s.spearman_abs) < 4 * spearman_sd, s.spearman_abs);
    BOOST_TEST(std::abs(s.top_k_intersection - p) < 4 * top_k_sd, s.top_k_intersection);
    BOOST_TEST(std::abs(s.ssim) < 0.05, s.ssim);
  }
}

BOOST_AUTO_TEST_CASE(svm_randomisation_permutes_the_trained_coefficients_under_a_seed) {
  const BowModel& model = tiny_model();
  const OneVsRestSvm& trained = test::svm_of(model);
  BOOST_TEST((model.classifier->randomisation_stages() == std::vector<std::string>{"svm coefficients"}));
  const auto r7 = model.classifier->randomised(1, 7);
  const auto again = model.classifier->randomised(1, 7);
  const auto r8 = model.classifier->randomised(1, 8);
  const OneVsRestSvm& a = dynamic_cast<const KernelSvmClassifier&>(*r7).machines();
  const OneVsRestSvm& b = dynamic_cast<const KernelSvmClassifier&>(*again).machines();
  const OneVsRestSvm& c = dynamic_cast<const KernelSvmClassifier&>(*r8).machines();
  long moved = 0;
  for (int m = 0; m < trained.classes(); ++m) {
    // The same support vectors and bias; the coefficients a permutation of the trained ones.
    BOOST_TEST(a.machine(m).support == trained.machine(m).support);
    BOOST_TEST(a.machine(m).rho == trained.machine(m).rho);
    BOOST_TEST(sorted(a.machine(m).coef) == sorted(trained.machine(m).coef));
    BOOST_TEST(a.machine(m).coef == b.machine(m).coef);  // deterministic under the seed
    BOOST_TEST(a.machine(m).coef != c.machine(m).coef);  // another seed, another permutation
    for (size_t i = 0; i < a.machine(m).coef.size(); ++i) moved += a.machine(m).coef[i] != trained.machine(m).coef[i];
  }
  BOOST_TEST(moved > 0);
  BOOST_CHECK_THROW(model.classifier->randomised(2, 7), std::invalid_argument);
  BOOST_CHECK_THROW(model.classifier->randomised(0, 7), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bow_model_randomisation_cascades_from_the_top) {
  const BowModel& model = tiny_model();
  const std::vector<std::string> stages = bow_randomisation_stages(model);
  BOOST_TEST_REQUIRE(stages.size() == 2u);  // the SVMs, the vocabulary (no PCA)
  BOOST_TEST(stages[0] == "svm coefficients");
  const BowModel one = randomise_bow_model(model, 1, 5), two = randomise_bow_model(model, 2, 5);
  // Stage 1 is randomised alike whatever follows; stage 2 leaves it as it is.
  for (int m = 0; m < model.classifier->classes(); ++m)
    BOOST_TEST(test::svm_of(one).machine(m).coef == test::svm_of(two).machine(m).coef);
  // Stage 1 keeps the codebook; stage 2 permutes each coordinate across the words.
  const RowMatrixXf& centres = model.codebooks[0].centres();
  BOOST_TEST((one.codebooks[0].centres() == centres));
  const RowMatrixXf& permuted = two.codebooks[0].centres();
  BOOST_TEST(!(permuted == centres));
  for (long j = 0; j < centres.cols(); ++j) {
    std::vector<double> x(centres.rows()), y(centres.rows());
    for (long i = 0; i < centres.rows(); ++i) x[i] = centres(i, j), y[i] = permuted(i, j);
    BOOST_TEST(sorted(x) == sorted(y));
  }
  BOOST_TEST(two.training_info.at("randomised").at("stages").get<int>() == 2);
  BOOST_CHECK_THROW(randomise_bow_model(model, 3, 5), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(gmm_pca_kernel_map_and_network_randomisation_keep_the_trained_values) {
  std::mt19937_64 rng(2);
  Gmm gmm;
  gmm.priors = Eigen::Vector3d(0.2, 0.5, 0.3);
  gmm.means = test::random_matrix(3, 4, rng);
  gmm.variances = test::random_matrix(3, 4, rng, 0.1, 2.0);
  const Gmm g = permute_gmm(gmm, 9);
  BOOST_TEST(std::abs(g.priors.sum() - 1.0) < 1e-15);
  BOOST_TEST(g.variances.minCoeff() > 0.0);
  for (long j = 0; j < 4; ++j) {
    const Eigen::VectorXd m0 = gmm.means.col(j), m1 = g.means.col(j);
    BOOST_TEST(sorted({m0.data(), m0.data() + 3}) == sorted({m1.data(), m1.data() + 3}));
  }
  // PCA: permuted columns keep the rows orthonormal.
  const Eigen::MatrixXd q = Eigen::MatrixXd(test::random_matrix(6, 6, rng)).householderQr().householderQ();
  Pca pca;
  pca.mean = Eigen::RowVectorXd::LinSpaced(6, 0, 1);
  pca.projection = q.topRows(3);
  const Pca p = permute_pca(pca, 4);
  BOOST_TEST((p.projection * p.projection.transpose() - Eigen::MatrixXd::Identity(3, 3)).norm() < 1e-12);
  BOOST_TEST((p.mean == pca.mean));
  BOOST_TEST((p.projection - pca.projection).norm() > 1e-3);

  // Kernel-map SVM weights: a bin's 2n + 1 weights move together, biases kept.
  FeatureMapOptions map;
  map.kernel = KernelType::intersection;
  map.order = 1;
  const MappedLinearSvm svm(map, test::random_matrix(2, 5 * 3, rng), Eigen::Vector2d(0.5, -1));
  const MappedLinearSvm s = permute_mapped_weights(svm, 3);
  BOOST_TEST((s.bias() == svm.bias()));
  for (int c = 0; c < 2; ++c) {
    std::vector<std::vector<double>> before, after;
    for (long d = 0; d < 5; ++d) {
      before.push_back({svm.weights()(c, 3 * d), svm.weights()(c, 3 * d + 1), svm.weights()(c, 3 * d + 2)});
      after.push_back({s.weights()(c, 3 * d), s.weights()(c, 3 * d + 1), s.weights()(c, 3 * d + 2)});
    }
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    BOOST_TEST(before == after);
  }

  // A network: layer by layer from the output, the layers below untouched.
  const Network net = make_mlp(6, {5, 4}, 3, LayerKind::relu, 1);
  const std::vector<int> affine = affine_layers_from_output(net);
  BOOST_TEST_REQUIRE(affine.size() == 3u);
  const Network top = randomise_network_layers(net, 1, 21), both = randomise_network_layers(net, 2, 21);
  auto weights = [](const Network& n, int k) { return dynamic_cast<const AffineLayer&>(n.layer(k)).weights; };
  BOOST_TEST(!(weights(top, affine[0]) == weights(net, affine[0])));
  BOOST_TEST((weights(top, affine[1]) == weights(net, affine[1])));
  BOOST_TEST((weights(both, affine[0]) == weights(top, affine[0])));  // cumulative, seeded per stage
  BOOST_TEST(!(weights(both, affine[1]) == weights(net, affine[1])));
  BOOST_TEST((weights(both, affine[2]) == weights(net, affine[2])));
  const RowMatrixXd w0 = weights(net, affine[1]), w1 = weights(both, affine[1]);
  BOOST_TEST(sorted({w0.data(), w0.data() + w0.size()}) == sorted({w1.data(), w1.data() + w1.size()}));
  BOOST_CHECK_THROW(randomise_network_layers(net, 4, 21), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(one_vs_one_randomisation_permutes_each_pairwise_machine) {
  nlohmann::json j = test::tiny_config_json("hik");
  j["svm"]["multiclass"] = "one_vs_one";
  const PipelineConfig config = PipelineConfig::parse(j);
  const BowModel model = BowModel::train(config, test::cached_dataset("fashion-mnist:train:100"), nullptr);
  const auto* trained = model.classifier_as<OneVsOneSvmClassifier>();
  BOOST_TEST_REQUIRE(trained);
  const auto r = model.classifier->randomised(1, 3);
  const auto& randomised = dynamic_cast<const OneVsOneSvmClassifier&>(*r);
  long moved = 0;
  for (int a = 0; a < 10; ++a)
    for (int b = a + 1; b < 10; ++b) {
      const BinaryMachine before = trained->pairwise().pairwise(a, b), after = randomised.pairwise().pairwise(a, b);
      BOOST_TEST(after.support == before.support);
      BOOST_TEST(after.rho == before.rho);
      BOOST_TEST(sorted(after.coef) == sorted(before.coef));
      for (size_t i = 0; i < after.coef.size(); ++i) moved += after.coef[i] != before.coef[i];
    }
  BOOST_TEST(moved > 0);
}

BOOST_AUTO_TEST_CASE(mprt_random_heatmaps_fail_and_lrp_changes_once_the_svm_is_randomised) {
  const auto model = make_bow_adapter(
      std::shared_ptr<const BowModel>(&tiny_model(), [](const BowModel*) {}), "tiny");
  BOOST_TEST(model->randomisation_stages().size() == 2u);
  const MaskedDataset data = load_masked_dataset("fashion-mnist:test:4", -1);
  EvaluationOptions o;
  o.methods = {ExplainMethod::lrp, ExplainMethod::random};
  o.metrics = {Metric::mprt};
  o.mprt_seed = 3;
  o.report_images = 1;
  o.jobs = 1;
  std::vector<ReportImage> shown;
  const nlohmann::json j = evaluate(*model, data, o, &shown, nullptr);
  BOOST_TEST(j.at("settings").at("sanity_checks").at("mprt").at("seed").get<int>() == 3);
  BOOST_TEST(j.at("settings").at("sanity_checks").at("top_k").get<double>() == 0.1);
  double lrp_svm_spearman = 0;
  for (const auto& image : j.at("images")) {
    // The random map ignores the model: exactly the same map on every randomised model.
    for (const auto& stage : image.at("methods").at("random").at("mprt"))
      for (const char* measure : {"spearman", "spearman_abs", "ssim", "top_k_intersection"})
        BOOST_TEST(stage.at(measure).get<double>() == 1.0, measure);
    const auto& lrp = image.at("methods").at("lrp").at("mprt");
    BOOST_TEST_REQUIRE(lrp.size() == 2u);
    BOOST_TEST(lrp[0].at("stage").get<std::string>() == "svm coefficients");
    BOOST_TEST(lrp[0].at("top_k").get<long>() == 78);  // 10 % of 784
    lrp_svm_spearman += lrp[0].at("spearman").get<double>() / 4;
  }
  // LRP depends on the SVM: its map changes once the coefficients are permuted.
  BOOST_TEST(lrp_svm_spearman < 0.7, lrp_svm_spearman);
  BOOST_TEST_MESSAGE("mean Spearman of LRP after the SVM stage: " << lrp_svm_spearman);
  const nlohmann::json& curve = j.at("summary").at("lrp").at("mprt");
  BOOST_TEST(curve.size() == 2u);
  BOOST_TEST(std::abs(curve[0].at("spearman").at("mean").get<double>() - lrp_svm_spearman) < 1e-12);
  BOOST_TEST(j.at("summary").at("random").at("mprt")[1].at("ssim").at("mean").get<double>() == 1.0);
  BOOST_TEST(std::abs(j.at("chance").at("similarity").at("top_k_intersection").at("mean").get<double>() - 78.0 / 784) < 1e-15);
  BOOST_TEST_REQUIRE(shown.size() == 1u);
  BOOST_TEST(shown[0].mprt.size() == 2u);     // per method
  BOOST_TEST(shown[0].mprt[0].size() == 2u);  // per stage
  // The same run again: the same numbers (every randomisation is seeded).
  const nlohmann::json again = evaluate(*model, data, o, nullptr, nullptr);
  BOOST_TEST(again.at("summary").at("lrp").at("mprt") == curve);
  // Two shards merged: the whole run's curve and chance levels.
  std::vector<nlohmann::json> parts;
  for (int k = 1; k <= 2; ++k) {
    EvaluationOptions part = o;
    part.shard = Shard::parse(std::to_string(k) + "/2");
    parts.push_back(evaluate(*model, data, part, nullptr, nullptr));
  }
  const nlohmann::json merged = merge_evaluations(parts, {"part 1", "part 2"});
  BOOST_TEST(merged.at("summary").at("lrp").at("mprt") == curve);
  BOOST_TEST(merged.at("chance").at("similarity") == j.at("chance").at("similarity"));
  // Another seed, other randomised models, other maps.
  o.mprt_seed = 4;
  const nlohmann::json other = evaluate(*model, data, o, nullptr, nullptr);
  BOOST_TEST(other.at("summary").at("lrp").at("mprt")[0].at("spearman").at("mean") !=
             curve[0].at("spearman").at("mean"));
  // The network adapter: one stage per affine layer, output first.
  NetworkTrainingConfig config;
  config.hidden = {8};
  config.training.epochs = 1;
  const auto net = make_network_adapter(
      std::make_shared<const NetworkModel>(train_network_model(test::cached_dataset("fashion-mnist:train:100"), config, nullptr)));
  const std::vector<std::string> layers = net->randomisation_stages();
  BOOST_TEST_REQUIRE(layers.size() == 2u);
  BOOST_TEST(layers[0].find("layer 2") == 0u, layers[0]);
  const auto r = net->randomised(1, 1);
  const cv::Mat& image = data.data.images[0].gray;
  BOOST_TEST((r->all_scores(image, "x") - net->all_scores(image, "x")).norm() > 1e-6);
}

BOOST_AUTO_TEST_CASE(data_randomisation_from_the_cli_with_its_refusals) {
  test::ScratchDir dir("sanity");
  std::ofstream(dir / "config.json") << test::tiny_config_json("hik").dump();
  const std::string config = " --config '" + (dir / "config.json") + "'";
  auto r = test::run_cli("train --quiet" + config + " --data fashion-mnist:train:100 --out '" + (dir / "model") + "'");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  r = test::run_cli("train --quiet --permute-labels --label-seed 4" + config + " --data fashion-mnist:train:100 --out '" +
                    (dir / "permuted") + "'");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  const nlohmann::json manifest = test::read_json(dir / "permuted/manifest.json");
  BOOST_TEST(manifest.at("training").at("permuted_labels").at("seed").get<int>() == 4);
  BOOST_TEST(manifest.at("training").at("permuted_labels").at("changed").get<long>() > 50);
  BOOST_TEST(!test::read_json(dir / "model/manifest.json").at("training").contains("permuted_labels"));
  r = test::run_cli("train --quiet --label-seed 4" + config + " --data fashion-mnist:train:100 --out '" + (dir / "x") + "'");
  BOOST_TEST(r.exit_code == 2, r.output);
  BOOST_TEST(!fs::exists(dir / "x"));

  const std::string base = "evaluate --quiet --model '" + (dir / "model") + "' --data fashion-mnist:test:3 --methods lrp,random";
  // Without the randomised model: a usage error, nothing written.
  r = test::run_cli(base + " --metrics data-randomisation --out '" + (dir / "e1") + "'");
  BOOST_TEST(r.exit_code == 2, r.output);
  BOOST_TEST(r.output.find("--randomised-model") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir / "e1"));
  // A model of other classes: an input error naming it, nothing written.
  fs::create_directories(dir / "two/train/bag");
  fs::create_directories(dir / "two/train/boot");
  const Dataset& fm = test::cached_dataset("fashion-mnist:train:100");
  int written = 0;
  for (const auto& image : fm.images) {
    if (image.label != 8 && image.label != 9) continue;
    cv::Mat bytes;
    image.gray.convertTo(bytes, CV_8U, 255.0);
    cv::imwrite(dir / ("two/train/" + std::string(image.label == 8 ? "bag/" : "boot/") + std::to_string(written++) + ".png"),
                bytes);
  }
  r = test::run_cli("train --quiet" + config + " --data '" + (dir / "two/train") + "' --out '" + (dir / "other") + "'");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  r = test::run_cli(base + " --metrics data-randomisation --randomised-model '" + (dir / "other") + "' --out '" +
                    (dir / "e2") + "'");
  BOOST_TEST(r.exit_code == 1, r.output);
  BOOST_TEST(r.output.find("classes") != std::string::npos, r.output);
  BOOST_TEST(r.output.find(dir / "other") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir / "e2"));
  // Sanity-check flags without their metric are usage errors.
  for (const std::string& flag : {std::string("--mprt-seed 2"), std::string("--top-k 0.2")}) {
    r = test::run_cli(base + " --metrics aopc " + flag + " --out '" + (dir / "e0") + "'");
    BOOST_TEST(r.exit_code == 2, r.output);
    BOOST_TEST(r.output.find(flag.substr(0, flag.find(' '))) != std::string::npos, r.output);
    BOOST_TEST(!fs::exists(dir / "e0"));
  }
  // A bad --top-k is a usage error.
  r = test::run_cli(base + " --metrics mprt --top-k 0 --out '" + (dir / "e3") + "'");
  BOOST_TEST(r.exit_code == 2, r.output);
  BOOST_TEST(!fs::exists(dir / "e3"));

  // The check itself: lrp on the permuted-label model against the model.
  r = test::run_cli(base + " --metrics data-randomisation --randomised-model '" + (dir / "permuted") + "' --out '" +
                    (dir / "e4") + "'");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  const nlohmann::json j = test::read_json(dir / "e4/evaluation.json");
  for (const auto& image : j.at("images"))
    BOOST_TEST(image.at("methods").at("random").at("data_randomisation").at("spearman").get<double>() == 1.0);
  const double lrp = j.at("summary").at("lrp").at("data_randomisation").at("spearman").at("mean").get<double>();
  BOOST_TEST_MESSAGE("data randomisation, mean Spearman of LRP: " << lrp);
  BOOST_TEST(lrp < 0.9, lrp);
  BOOST_TEST(j.at("settings").at("command").at("randomised_model").get<std::string>() == dir / "permuted");
}

BOOST_AUTO_TEST_CASE(network_models_take_both_checks_from_the_cli) {
  test::ScratchDir dir("sanity-network");
  const std::string train = "train-network --quiet --data fashion-mnist:train:200 --hidden 16 --epochs 2 --out '";
  auto r = test::run_cli(train + (dir / "net") + "'");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  r = test::run_cli(train + (dir / "permuted") + "' --permute-labels --label-seed 2");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  BOOST_TEST(test::read_json(dir / "permuted/manifest.json").at("training").at("permuted_labels").at("seed").get<int>() == 2);
  r = test::run_cli(train + (dir / "x") + "' --label-seed 2");
  BOOST_TEST(r.exit_code == 2, r.output);
  BOOST_TEST(!fs::exists(dir / "x"));
  r = test::run_cli("evaluate --quiet --model '" + (dir / "net") + "' --data fashion-mnist:test:3 --methods lrp,random"
                    " --metrics mprt,data-randomisation --randomised-model '" + (dir / "permuted") + "' --out '" +
                    (dir / "eval") + "'");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  const nlohmann::json j = test::read_json(dir / "eval/evaluation.json");
  const auto stages = j.at("settings").at("sanity_checks").at("mprt").at("stages");
  BOOST_TEST_REQUIRE(stages.size() == 2u);  // Linear 784 -> 16 and Linear 16 -> 10, the output first
  BOOST_TEST(stages[0].get<std::string>().find("layer 2") == 0u, stages[0]);
  for (const auto& image : j.at("images")) {
    BOOST_TEST(image.at("methods").at("random").at("data_randomisation").at("ssim").get<double>() == 1.0);
    BOOST_TEST(image.at("methods").at("lrp").at("mprt")[1].at("spearman").get<double>() < 0.9);
  }
}
