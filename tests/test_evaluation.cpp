// Baselines and evaluation metrics: hand-checked cases on toy
// models whose correct answer is known, slow obviously-correct references for
// the fast code, and the evaluation pipeline on a small real model.
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <thread>

#include "pixelwise/decomposition/baselines.hpp"
#include "pixelwise/decomposition/metrics.hpp"
#include "pixelwise/pipelines/evaluation/benchmark_scenes.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/pipelines/model/network_training.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

// f(x) = sum of the pixels in rows [y0, y0 + h) x cols [x0, x0 + w): the
// model whose correct explanation is that box.
FunctionModel box_sum_model(int y0, int x0, int h, int w) {
  return FunctionModel([=](const cv::Mat& image, int) { return cv::sum(image(cv::Rect(x0, y0, w, h)))[0]; });
}

cv::Mat ones(int rows, int cols) { return cv::Mat(rows, cols, CV_32FC1, cv::Scalar(1.0)); }

RowMatrixXd matrix(int rows, int cols, std::initializer_list<double> values) {
  RowMatrixXd m(rows, cols);
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

MaskArray box_mask(int rows, int cols, int y0, int x0, int h, int w) {
  MaskArray m = MaskArray::Constant(rows, cols, false);
  m.block(y0, x0, h, w) = true;
  return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(patch_origins_cover_every_pixel) {
  BOOST_TEST(patch_origins(10, 4, 3) == std::vector<int>({0, 3, 6}));
  BOOST_TEST(patch_origins(10, 4, 4) == std::vector<int>({0, 4, 6}));  // 6 added so that pixels 8, 9 are covered
  BOOST_TEST(patch_origins(10, 12, 2) == std::vector<int>({0}));
  BOOST_TEST(patch_origins(4, 2, 1) == std::vector<int>({0, 1, 2}));
  BOOST_CHECK_THROW(patch_origins(4, 0, 1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(occlusion_of_a_box_sum_model_by_hand) {
  // 4 x 4 image of ones, f = sum of the top-left 2 x 2 box = 4.
  const FunctionModel model = box_sum_model(0, 0, 2, 2);
  OcclusionOptions o;
  o.patch = 2;
  o.stride = 2;
  o.fill = 0;
  // Four patch positions; only the top-left one drops the score (by 4).
  const OcclusionResult r = occlusion(model, ones(4, 4), 0, o);
  BOOST_TEST(r.score == 4.0);
  BOOST_TEST(r.positions == 4);
  BOOST_TEST(r.evaluations == 5);
  BOOST_TEST(model.evaluations() == 5);
  RowMatrixXd expected = RowMatrixXd::Zero(4, 4);
  expected.block(0, 0, 2, 2).setConstant(4.0);
  BOOST_TEST((r.relevance - expected).cwiseAbs().maxCoeff() == 0.0);

  // Stride 1: nine positions; pixel (1, 1) is covered by the patches at
  // (0,0), (0,1), (1,0), (1,1) whose drops are 4, 2, 2, 1: mean 2.25.
  // Pixel (0, 1): patches (0,0), (0,1): (4 + 2) / 2 = 3. Pixel (0, 0): 4.
  // Pixel (2, 2): patches (1..2, 1..2): drops 1, 0, 0, 0 -> 0.25.
  o.stride = 1;
  const OcclusionResult s = occlusion(model, ones(4, 4), 0, o);
  BOOST_TEST(s.positions == 9);
  BOOST_TEST(s.relevance(0, 0) == 4.0);
  BOOST_TEST(s.relevance(0, 1) == 3.0);
  BOOST_TEST(s.relevance(1, 1) == 2.25);
  BOOST_TEST(s.relevance(2, 2) == 0.25);
  BOOST_TEST(s.relevance(3, 3) == 0.0);
  // A fill equal to the pixel values changes nothing.
  o.fill = 1;
  BOOST_TEST(occlusion(model, ones(4, 4), 0, o).relevance.cwiseAbs().maxCoeff() == 0.0);
}

BOOST_AUTO_TEST_CASE(occlusion_matches_a_slow_reference_on_threads_and_batches) {
  // A non-linear model of a random image; the fast code (batched, threaded)
  // against a direct loop over patch positions.
  cv::Mat image(13, 11, CV_32FC1);
  cv::randu(image, 0.0, 1.0);
  const FunctionModel model([](const cv::Mat& x, int c) {
    return std::tanh(cv::sum(x(cv::Rect(2, 3, 5, 6)))[0] - 10.0) + c * x.at<float>(12, 10) * x.at<float>(0, 0);
  });
  OcclusionOptions o;
  o.patch = 4;
  o.stride = 3;
  o.fill = 0.25;
  RowMatrixXd sum = RowMatrixXd::Zero(13, 11), count = RowMatrixXd::Zero(13, 11);
  const double f0 = model.score(image, 1);
  for (int y0 : patch_origins(13, 4, 3))
    for (int x0 : patch_origins(11, 4, 3)) {
      cv::Mat x = image.clone();
      for (int y = y0; y < y0 + 4; ++y)
        for (int xx = x0; xx < x0 + 4; ++xx) x.at<float>(y, xx) = 0.25f;
      const double drop = f0 - model.score(x, 1);
      for (int y = y0; y < y0 + 4; ++y)
        for (int xx = x0; xx < x0 + 4; ++xx) {
          sum(y, xx) += drop;
          count(y, xx) += 1;
        }
    }
  const RowMatrixXd reference = sum.cwiseQuotient(count);
  for (int threads : {1, 2, 3})
    for (int batch : {1, 5, 64}) {
      o.batching.threads = threads;
      o.batching.batch = batch;
      const OcclusionResult r = occlusion(model, image, 1, o);
      BOOST_TEST((r.relevance - reference).cwiseAbs().maxCoeff() <= 1e-12);
      BOOST_TEST(r.evaluations == 1 + 4 * 4);  // rows 0, 3, 6, 9; columns 0, 3, 6, 7
    }
}

BOOST_AUTO_TEST_CASE(a_model_that_is_not_concurrent_is_called_from_one_thread_at_a_time) {
  std::atomic<int> inside{0}, most{0};
  const FunctionModel model(
      [&](const cv::Mat& x, int) {
        const int now = ++inside;
        most = std::max(most.load(), now);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        --inside;
        return static_cast<double>(cv::sum(x)[0]);
      },
      /*concurrent=*/false);
  OcclusionOptions o;
  o.patch = 2;
  o.stride = 1;
  o.batching.threads = 4;
  o.batching.batch = 2;
  occlusion(model, ones(6, 6), 0, o);
  BOOST_TEST(most.load() == 1);
  BOOST_TEST(model.evaluations() == 26);
}

BOOST_AUTO_TEST_CASE(an_interrupt_check_stops_an_occlusion_between_batches) {
  // 6 x 6 image, patch 2, stride 1: 25 positions + the original = 26 images,
  // batches of 4 on one thread: 7 batches, the check called before each.
  const FunctionModel model([](const cv::Mat& x, int) { return static_cast<double>(cv::sum(x)[0]); });
  OcclusionOptions o;
  o.patch = 2;
  o.stride = 1;
  o.batching.threads = 1;
  o.batching.batch = 4;
  int checks = 0;
  o.batching.interrupt = [&] { ++checks; };
  const OcclusionResult whole = occlusion(model, ones(6, 6), 0, o);
  BOOST_TEST(checks == 7);
  BOOST_TEST(whole.evaluations == 26);
  // A check that throws at its third call stops the occlusion there: two batches scored.
  checks = 0;
  o.batching.interrupt = [&] {
    if (++checks == 3) throw std::runtime_error("stop");
  };
  const long before = model.evaluations();
  BOOST_CHECK_THROW(occlusion(model, ones(6, 6), 0, o), std::runtime_error);
  BOOST_TEST(checks == 3);
  BOOST_TEST(model.evaluations() - before == 8);
}

BOOST_AUTO_TEST_CASE(random_relevance_is_seeded_and_uniform) {
  const RowMatrixXd a = random_relevance(50, 40, 7), b = random_relevance(50, 40, 7), c = random_relevance(50, 40, 8);
  BOOST_TEST((a - b).cwiseAbs().maxCoeff() == 0.0);
  BOOST_TEST((a - c).cwiseAbs().maxCoeff() > 0.5);
  BOOST_TEST(a.minCoeff() >= -1.0);
  BOOST_TEST(a.maxCoeff() < 1.0);
  BOOST_TEST(std::abs(a.mean()) < 0.05);                        // 2000 draws: std of the mean 0.013
  BOOST_TEST(std::abs((a.array() > 0).cast<double>().mean() - 0.5) < 0.05);
}

BOOST_AUTO_TEST_CASE(automatic_region_sides) {
  PerturbationOptions o;
  BOOST_TEST(o.region_side(28, 28) == 3);    // 10 x 10 = 100 regions
  BOOST_TEST(o.region_side(64, 64) == 7);    // 10 x 10
  BOOST_TEST(o.region_side(96, 96) == 9);    // 11 x 11, the paper's 9 x 9
  BOOST_TEST(o.region_side(6, 6) == 1);
  // The automatic side does not follow L: curves of 10, 30 and 100 steps on a
  // 28 x 28 image perturb the same 3 x 3 regions.
  for (int steps : {10, 30, 100, 400}) {
    o.steps = steps;
    BOOST_TEST(o.region_side(28, 28) == 3);
    BOOST_TEST(o.region_side(96, 96) == 9);
  }
  o.region = 5;
  BOOST_TEST(o.region_side(28, 28) == 5);
}

BOOST_AUTO_TEST_CASE(region_notes_per_image_size) {
  // 28 x 28 (16 regions of 9 x 9) needs smaller regions; 90 x 90 (100) does not.
  auto image = [](long rows, long cols, int region) {
    return nlohmann::json{{"size", {rows, cols}},
                          {"methods", {{"lrp", {{"curves", {{"aopc", {{"region", region}, {"scores", {1.0}}}}}}}}}}};
  };
  const nlohmann::json images = {image(28, 28, 3), image(90, 90, 9), image(28, 28, 3)};
  const nlohmann::json r = regions_of_evaluation_images(images);
  BOOST_TEST(r.size() == 2u);
  BOOST_TEST(r[0].at("size") == nlohmann::json({28, 28}));
  BOOST_TEST(r[0].at("region").get<int>() == 3);
  BOOST_TEST(r[0].at("images").get<long>() == 2);
  BOOST_TEST(r[0].at("note").get<std::string>() ==
             "28 x 28 images hold only 16 regions of 9 x 9 (Samek et al. 2017: L = 100 steps of 9 x 9 regions), so "
             "regions of 3 x 3 are used");
  BOOST_TEST(r[1].at("region").get<int>() == 9);
  BOOST_TEST(!r[1].contains("note"));
}

BOOST_AUTO_TEST_CASE(region_perturbation_of_a_box_sum_model_by_hand) {
  // 6 x 6 image of ones, 3 x 3 regions (TL, TR, BL, BR), f = sum of TL = 9.
  const FunctionModel model = box_sum_model(0, 0, 3, 3);
  // Region sums of the heatmap: TL 9, TR 2, BL -1, BR 0.
  RowMatrixXd r = RowMatrixXd::Zero(6, 6);
  r.block(0, 0, 3, 3).setConstant(1.0);
  r(0, 4) = 2;
  r(4, 1) = -1;
  PerturbationOptions o;
  o.region = 3;
  o.steps = 100;  // capped at the 4 regions
  o.replacement = Replacement::constant;
  o.constant = 0;
  BOOST_TEST(rank_regions(r, 3, true, 1) == std::vector<int>({0, 1, 3, 2}));
  BOOST_TEST(rank_regions(r, 3, false, 1) == std::vector<int>({2, 3, 1, 0}));
  const PerturbationCurve morf = region_perturbation(model, ones(6, 6), r, 0, o);
  BOOST_TEST(morf.scores == std::vector<double>({9, 0, 0, 0, 0}));
  BOOST_TEST(morf.aopc() == 36.0 / 5.0);  // (0 + 9 + 9 + 9 + 9) / 5
  BOOST_TEST(morf.evaluations == 5);
  o.most_relevant_first = false;
  const PerturbationCurve lerf = region_perturbation(model, ones(6, 6), r, 0, o);
  BOOST_TEST(lerf.scores == std::vector<double>({9, 9, 9, 9, 0}));
  BOOST_TEST(lerf.aopc() == 9.0 / 5.0);
  // Two steps of two regions each.
  o.most_relevant_first = true;
  o.regions_per_step = 2;
  BOOST_TEST(region_perturbation(model, ones(6, 6), r, 0, o).scores == std::vector<double>({9, 0, 0}));
  // Uniform noise: after the first step f is the sum of the seeded noise in TL.
  o.regions_per_step = 1;
  o.replacement = Replacement::uniform;
  o.seed = 11;
  const cv::Mat noise = replacement_image(ones(6, 6), o);
  const PerturbationCurve noisy = region_perturbation(model, ones(6, 6), r, 0, o);
  BOOST_TEST(std::abs(noisy.scores[1] - cv::sum(noise(cv::Rect(0, 0, 3, 3)))[0]) < 1e-12);
  BOOST_TEST(noisy.scores[1] > 0.0);
  BOOST_TEST(noisy.scores[1] < 9.0);
  double lo, hi;
  cv::minMaxLoc(noise, &lo, &hi);
  BOOST_TEST(lo >= 0.0);
  BOOST_TEST(hi < 1.0);
  BOOST_TEST(cv::norm(noise, replacement_image(ones(6, 6), o), cv::NORM_INF) == 0.0);
}

BOOST_AUTO_TEST_CASE(region_ties_are_broken_by_the_seed_not_by_position) {
  const RowMatrixXd flat = RowMatrixXd::Zero(30, 30);  // 100 tied 3 x 3 regions
  std::vector<int> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  const std::vector<int> a = rank_regions(flat, 3, true, 1), b = rank_regions(flat, 3, true, 2);
  BOOST_TEST(a != identity);
  BOOST_TEST(a != b);
  BOOST_TEST(a == rank_regions(flat, 3, true, 1));
}

BOOST_AUTO_TEST_CASE(pixel_flipping_covers_the_image_in_the_given_steps) {
  // 4 x 4, single pixels, 4 steps of 4 pixels; f = sum of the image, heatmap = the
  // image itself (values 1..16): MoRF removes 16+15+14+13 = 58 first.
  cv::Mat image(4, 4, CV_32FC1);
  RowMatrixXd r(4, 4);
  for (int i = 0; i < 16; ++i) {
    image.at<float>(i / 4, i % 4) = static_cast<float>(i + 1);
    r(i / 4, i % 4) = i + 1;
  }
  const FunctionModel model([](const cv::Mat& x, int) { return cv::sum(x)[0]; });
  PerturbationOptions o;
  o.region = 1;
  o.regions_per_step = 0;
  o.steps = 4;
  o.replacement = Replacement::constant;
  const PerturbationCurve c = region_perturbation(model, image, r, 0, o);
  BOOST_TEST(c.regions_per_step == 4);
  BOOST_TEST(c.scores == std::vector<double>({136, 78, 36, 10, 0}));
  BOOST_TEST(c.aopc() == (0 + 58 + 100 + 126 + 136) / 5.0);
  // Blur replacement of a constant image is the same image: the curve is flat.
  o.replacement = Replacement::blur;
  const PerturbationCurve flat = region_perturbation(model, ones(4, 4), r, 0, o);
  for (double s : flat.scores) BOOST_TEST(std::abs(s - 16.0) < 1e-5);
}

BOOST_AUTO_TEST_CASE(localisation_metrics_by_hand) {
  const MaskArray mask = box_mask(4, 4, 0, 0, 2, 2);  // 4 of 16 pixels
  const RowMatrixXd r = matrix(4, 4, {4, 3, 0, 0,  //
                                      2, -1, 0, 0,  //
                                      0, 0, 1, 0,   //
                                      0, 0, 0, -5});
  const Localisation l = localise(r, mask);
  BOOST_TEST(l.mass_accuracy == 0.9);   // (4 + 3 + 2) / (4 + 3 + 2 + 1)
  BOOST_TEST(l.rank_accuracy == 0.75);  // top 4: 4, 3, 2 inside, 1 outside
  BOOST_TEST(l.pointing == 1.0);
  BOOST_TEST(l.mask_fraction == 0.25);
  BOOST_TEST(l.mask_pixels == 4);
  // The maximum outside the mask.
  const Localisation miss = localise(matrix(4, 4, {1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}), mask);
  BOOST_TEST(miss.pointing == 0.0);
  BOOST_TEST(miss.mass_accuracy == 4.0 / 11.0);
  BOOST_TEST(miss.rank_accuracy == 0.75);  // top 4: 7 and three of the four 1s (all inside): 3/4
}

BOOST_AUTO_TEST_CASE(localisation_ties_are_split_and_flat_maps_score_the_chance_level) {
  const MaskArray mask = box_mask(4, 4, 0, 0, 2, 2);
  const Localisation flat = localise(RowMatrixXd::Zero(4, 4), mask);
  BOOST_TEST(std::isnan(flat.mass_accuracy));  // no positive relevance
  BOOST_TEST(flat.rank_accuracy == 0.25);
  BOOST_TEST(flat.pointing == 0.25);
  // One 5 inside; six 1s, two inside; top 4 = the 5 and 3 of the 1s: 1 + 3 * 2/6 = 2 inside.
  RowMatrixXd r = RowMatrixXd::Zero(4, 4);
  r(0, 0) = 5;
  r(0, 1) = r(1, 0) = 1;
  r(3, 0) = r(3, 1) = r(3, 2) = r(3, 3) = 1;
  BOOST_TEST(std::abs(localise(r, mask).rank_accuracy - 0.5) < 1e-15);
  // Tied maxima: two 5s, one inside.
  r(2, 2) = 5;
  BOOST_TEST(localise(r, mask).pointing == 0.5);
  BOOST_CHECK_THROW(localise(r, MaskArray::Constant(4, 4, false)), std::invalid_argument);
  BOOST_CHECK_THROW(localise(r, MaskArray::Constant(4, 5, true)), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(localisation_matches_a_slow_reference) {
  // Rank accuracy by sorting all pixels (no ties in a random map).
  cv::RNG rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    RowMatrixXd r(9, 7);
    MaskArray m(9, 7);
    for (long i = 0; i < r.size(); ++i) {
      r.data()[i] = rng.gaussian(1.0);
      m.data()[i] = rng.uniform(0.0, 1.0) < 0.3;
    }
    if (m.count() == 0) m(0, 0) = true;
    std::vector<long> order(r.size());
    std::iota(order.begin(), order.end(), 0L);
    std::sort(order.begin(), order.end(), [&](long a, long b) { return r.data()[a] > r.data()[b]; });
    double inside = 0, pos = 0, pos_inside = 0;
    for (long i = 0; i < m.count(); ++i) inside += m.data()[order[i]];
    for (long i = 0; i < r.size(); ++i)
      if (r.data()[i] > 0) {
        pos += r.data()[i];
        if (m.data()[i]) pos_inside += r.data()[i];
      }
    const Localisation l = localise(r, m);
    BOOST_TEST(std::abs(l.rank_accuracy - inside / m.count()) < 1e-12);
    BOOST_TEST(std::abs(l.mass_accuracy - pos_inside / pos) < 1e-12);
    BOOST_TEST(l.pointing == static_cast<double>(m.data()[order[0]]));
  }
}

BOOST_AUTO_TEST_CASE(summaries_and_conservation_statistics_by_hand) {
  const Summary s = summarise({1, 2, 3, 4, NAN});
  BOOST_TEST(s.count == 4);
  BOOST_TEST(s.undefined == 1);
  BOOST_TEST(s.mean == 2.5);
  BOOST_TEST(s.median == 2.5);
  BOOST_TEST(std::abs(s.std - std::sqrt(5.0 / 3.0)) < 1e-15);
  BOOST_TEST(s.min == 1.0);
  BOOST_TEST(s.max == 4.0);

  LayerRelevance top{"svm", 2.0, 1.5, 0.5, 0.0};
  LayerRelevance low{"pixels", 1.5, 1.5, 0.0, 0.0};
  std::vector<ConservationRecord> records{{2.0, 1.5, {top, low}}, {-1.0, -1.0, {{"svm", -1.0, -1.0, 0, 0}, low}}};
  const nlohmann::json j = conservation_statistics(records);
  BOOST_TEST(j.at("explanations").get<int>() == 2);
  BOOST_TEST(j.at("residual").at("mean").get<double>() == 0.25);   // (0.5 + 0) / 2
  BOOST_TEST(j.at("relative_residual").at("max").get<double>() == 0.25);
  BOOST_TEST(j.at("layers").size() == 2u);
  BOOST_TEST(j.at("layers")[0].at("layer").get<std::string>() == "svm");
  BOOST_TEST(j.at("layers")[0].at("absorbed").at("mean").get<double>() == 0.25);
  BOOST_TEST(j.at("layers")[0].at("unaccounted").at("max").get<double>() == 0.0);
}

BOOST_AUTO_TEST_CASE(normalisation_backward_matches_central_differences) {
  Eigen::VectorXd x(6), g(6);
  x << 0.5, 1.5, 0.25, 2.0, 0.75, 3.0;
  g << 1.0, -2.0, 0.5, 0.25, -1.0, 3.0;
  for (const auto& steps : std::vector<std::vector<std::string>>{{}, {"l1"}, {"l2"}, {"power"}, {"power", "l2"}, {"l1", "power"}}) {
    const auto o = nlohmann::json{{"steps", steps}}.get<NormalisationOptions>();
    const Eigen::VectorXd u = normalisation_backward(x, o, g);
    for (long i = 0; i < x.size(); ++i) {
      const double h = 1e-6;
      Eigen::VectorXd a = x, b = x;
      a[i] += h;
      b[i] -= h;
      const double numeric = (g.dot(normalise(a, o)) - g.dot(normalise(b, o))) / (2 * h);
      BOOST_TEST(std::abs(u[i] - numeric) < 1e-7, "steps " << steps.size() << " bin " << i);
    }
  }
}

BOOST_AUTO_TEST_CASE(descriptor_sensitivity_by_hand_and_against_differences) {
  // Two features in one cell, two words: m(0) = (1, 0), m(1) = (0.5, 0.5).
  // Sum pooling, u = (2, -1): s_0 = 2, s_1 = 0.5 * 2 + 0.5 * (-1) = 0.5.
  auto make_codes = [](std::vector<std::vector<std::pair<int, double>>> rows, int words) {
    Codes codes;
    codes.words = words;
    for (const auto& row : rows) {
      for (const auto& [w, m] : row) {
        codes.word.push_back(w);
        codes.weight.push_back(m);
      }
      codes.offsets.push_back(static_cast<int>(codes.word.size()));
    }
    return codes;
  };
  PoolingOptions sum;
  const BowEncoding e = pool(make_codes({{{0, 1.0}}, {{0, 0.5}, {1, 0.5}}}, 2), {{0}, {0}}, 1, sum);
  Eigen::VectorXd u(2);
  u << 2.0, -1.0;
  const Eigen::VectorXd s = descriptor_sensitivity(e, u);
  BOOST_TEST(s[0] == 2.0);
  BOOST_TEST(s[1] == 0.5);
  // Max pooling with a tie on word 0 (both 1) and a unique maximum on word 1.
  PoolingOptions max;
  max.type = PoolingType::max;
  const BowEncoding em = pool(make_codes({{{0, 1.0}}, {{0, 1.0}, {1, 0.5}}}, 2), {{0}, {0}}, 1, max);
  const Eigen::VectorXd sm = descriptor_sensitivity(em, u);
  BOOST_TEST(sm[0] == 1.0);               // half of 2 * 1
  BOOST_TEST(sm[1] == 1.0 - 0.5);         // half of 2 * 1, and -1 * 0.5

  // Against central differences of u . pooled(t) for p-means and sum pooling
  // on a two-level pyramid (feature weights scaled by t_l).
  const std::vector<std::vector<std::pair<int, double>>> rows{
      {{0, 0.7}, {2, 0.3}}, {{1, 0.6}, {2, 0.4}}, {{0, 0.2}, {1, 0.5}, {2, 0.3}}, {{2, 1.0}}};
  const std::vector<std::vector<int>> cells{{0, 1}, {0, 2}, {0, 1}, {0, 2}};
  Eigen::VectorXd v(9);
  v << 1.0, -0.5, 2.0, 0.3, 0.7, -1.2, 0.4, 1.1, -0.8;
  for (const PoolingType type : {PoolingType::sum, PoolingType::pmeans}) {
    PoolingOptions o;
    o.type = type;
    o.p = 3.0;
    const BowEncoding base = pool(make_codes(rows, 3), cells, 3, o);
    const Eigen::VectorXd analytic = descriptor_sensitivity(base, v);
    for (int l = 0; l < 4; ++l) {
      auto f = [&](double t) {
        auto scaled = rows;
        for (auto& [w, m] : scaled[l]) m *= t;
        return v.dot(pool(make_codes(scaled, 3), cells, 3, o).pooled);
      };
      const double h = 1e-6;
      BOOST_TEST(std::abs(analytic[l] - (f(1 + h) - f(1 - h)) / (2 * h)) < 1e-7, name_of(type) << " feature " << l);
    }
  }
}

namespace {

// Two classes: f_0 = sum of the pixels in a box, f_1 = -f_0. Its LRP is exact
// and known: R = x inside the box (class 0), -x (class 1), 0 elsewhere.
class BoxModel : public ExplainableModel {
 public:
  explicit BoxModel(cv::Rect box, bool concurrent = true) : box_(box), concurrent_(concurrent) {}
  bool concurrent() const override { return concurrent_; }
  std::string kind() const override { return "toy"; }
  std::string source() const override { return "box-sum model"; }
  std::vector<std::string> class_names() const override { return {"box", "not-box"}; }
  int class_index(const std::string& name) const override {
    if (name == "box" || name == "0") return 0;
    if (name == "not-box" || name == "1") return 1;
    throw std::runtime_error("no class " + name);
  }
  Eigen::VectorXd all_scores(const cv::Mat& gray, const std::string&) const override {
    double f = 0;  // summed in double, in the order the relevance map is summed
    for (int y = box_.y; y < box_.y + box_.height; ++y)
      for (int x = box_.x; x < box_.x + box_.width; ++x) f += gray.at<float>(y, x);
    return Eigen::Vector2d(f, -f);
  }
  ImageSample read_input(const std::string& reference) const override { return load_image_reference(reference); }
  std::vector<ExplainMethod> own_methods() const override { return {ExplainMethod::lrp}; }
  void check(ExplainMethod, const ExplainSettings&) const override {}
  Explanation explain_own(const cv::Mat& gray, int c, ExplainMethod method, const ExplainSettings&,
                          const std::string&) const override {
    Explanation r;
    r.method = method;
    r.scores = all_scores(gray, "");
    r.scores.maxCoeff(&r.predicted);
    if (c < 0) c = r.predicted;
    r.class_index = c;
    r.pixels = RowMatrixXd::Zero(gray.rows, gray.cols);
    for (int y = box_.y; y < box_.y + box_.height; ++y)
      for (int x = box_.x; x < box_.x + box_.width; ++x) r.pixels(y, x) = (c == 0 ? 1 : -1) * gray.at<float>(y, x);
    r.score = all_scores(gray, "")[c];
    r.evaluations = 1;
    r.account = ConservationRecord{r.score, r.pixels.sum(), {{"box", r.score, r.pixels.sum(), 0, 0}}};
    return r;
  }
  nlohmann::json describe() const override { return {{"kind", "toy"}}; }

 protected:
  Eigen::VectorXd evaluate(const std::vector<cv::Mat>& batch, int c) const override {
    Eigen::VectorXd s(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) s[i] = all_scores(batch[i], "")[c];
    return s;
  }

 private:
  cv::Rect box_;
  bool concurrent_;
};

MaskedDataset box_data(int n, cv::Rect box) {
  MaskedDataset d;
  d.data.spec = "toy";
  d.data.classes = {"box", "not-box"};
  d.mask_source = "the box";
  cv::RNG rng(3);
  for (int i = 0; i < n; ++i) {
    ImageSample s;
    s.name = "toy-" + std::to_string(i);
    s.source = s.name;
    s.gray = cv::Mat(12, 12, CV_32FC1);
    rng.fill(s.gray, cv::RNG::UNIFORM, 0.05, 1.0);
    s.label = 0;
    d.data.images.push_back(s);
    d.masks.push_back(box_mask(12, 12, box.y, box.x, box.height, box.width));
  }
  return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(evaluation_of_a_model_whose_explanation_is_known) {
  const cv::Rect box(3, 2, 5, 4);  // 20 of 144 pixels
  const BoxModel model(box);
  const MaskedDataset data = box_data(3, box);
  EvaluationOptions o;
  o.methods = {ExplainMethod::lrp, ExplainMethod::occlusion, ExplainMethod::random};
  o.class_choice = "box";
  o.perturbation.region = 2;
  o.perturbation.steps = 20;
  o.perturbation.replacement = Replacement::constant;  // the drop of a region is then exactly its box mass
  o.pixel_flipping_steps = 12;
  o.method_settings.occlusion.patch = 3;
  o.method_settings.occlusion.stride = 2;
  std::vector<ReportImage> shown;
  o.report_images = 2;
  const nlohmann::json j = evaluate(model, data, o, &shown, nullptr);
  BOOST_TEST(shown.size() == 2u);
  BOOST_TEST(shown[0].results.size() == 3u);
  const auto& images = j.at("images");
  BOOST_TEST(images.size() == 3u);
  for (const auto& rec : images) {
    const auto& lrp = rec.at("methods").at("lrp");
    // The exact explanation: all positive relevance in the box, its pixels on top.
    BOOST_TEST(lrp.at("mass").get<double>() == 1.0);
    BOOST_TEST(lrp.at("rank").get<double>() == 1.0);
    BOOST_TEST(lrp.at("pointing").get<double>() == 1.0);
    BOOST_TEST(std::abs(lrp.at("residual").get<double>()) < 1e-12);
    // With a constant 0 replacement every removed region lowers f by its box
    // mass, so the exact relevance ordering is the best possible: its MoRF
    // curve lies below every other ordering's, its LeRF curve above.
    for (const char* other : {"occlusion", "random"}) {
      const auto& m = rec.at("methods").at(other);
      BOOST_TEST(lrp.at("aopc").get<double>() >= m.at("aopc").get<double>() - 1e-12, other);
      BOOST_TEST(lrp.at("lerf").get<double>() <= m.at("lerf").get<double>() + 1e-12, other);
      BOOST_TEST(lrp.at("pixel-flipping").get<double>() >= m.at("pixel-flipping").get<double>() - 1e-12, other);
      BOOST_TEST(m.at("mass").get<double>() < 1.0, other);
    }
    // Curves: L + 1 points for 36 regions of 2 x 2 capped at L = 20; pixel flipping 12 steps of 12 pixels.
    BOOST_TEST(lrp.at("curves").at("aopc").at("scores").size() == 21u);
    BOOST_TEST(lrp.at("curves").at("pixel-flipping").at("scores").size() == 13u);
    BOOST_TEST(lrp.at("curves").at("pixel-flipping").at("regions_per_step").get<int>() == 12);
    BOOST_TEST(lrp.at("curves").at("aopc").at("scores").back().get<double>() == 0.0);  // box removed by step 6
    // Occlusion: patch 3, stride 2 on 12 x 12: origins 0, 2, 4, 6, 8, 9 per axis.
    BOOST_TEST(rec.at("methods").at("occlusion").at("evaluations").get<long>() == 37);
    BOOST_TEST(rec.at("mask_fraction").get<double>() == 20.0 / 144.0);
  }
  // Summaries are the means of the per-image values.
  for (const char* method : {"lrp", "occlusion", "random"})
    for (const char* metric : {"aopc", "lerf", "mass", "pointing"}) {
      double sum = 0;
      for (const auto& rec : images) sum += rec.at("methods").at(method).at(metric).get<double>();
      BOOST_TEST(std::abs(j.at("summary").at(method).at(metric).at("mean").get<double>() - sum / 3) < 1e-12,
                 method << " " << metric);
    }
  BOOST_TEST(j.at("chance").at("mask_fraction").at("mean").get<double>() == 20.0 / 144.0);
  BOOST_TEST(j.at("summary").at("lrp").at("conservation").at("residual").at("max").get<double>() == 0.0);
  BOOST_TEST(!j.at("summary").at("random").contains("conservation"));
  // The mean drop curve starts at 0 and ends at the mean score (everything replaced by 0).
  const auto curve = j.at("summary").at("lrp").at("mean_drop_curves").at("aopc").get<std::vector<double>>();
  double mean_score = 0;
  for (const auto& rec : images) mean_score += rec.at("score").get<double>() / 3;
  BOOST_TEST(curve.front() == 0.0);
  BOOST_TEST(std::abs(curve.back() - mean_score) < 1e-9);
  // The region side per image size, with the note that 12 x 12 holds only 4 regions of 9 x 9.
  BOOST_TEST(j.at("regions").size() == 1u);
  BOOST_TEST(j.at("regions")[0].at("region").get<int>() == 2);
  BOOST_TEST(j.at("regions")[0].at("images").get<long>() == 3);
  BOOST_TEST(j.at("regions")[0].at("note").get<std::string>().find("hold only 4 regions of 9 x 9") != std::string::npos);

  // Unknown methods and metrics are errors naming them.
  // A method the model does not have (a BoW model's taylor on this toy) is an error naming it.
  o.methods = {ExplainMethod::lrp, ExplainMethod::taylor};
  BOOST_CHECK_EXCEPTION(evaluate(model, data, o, nullptr, nullptr), std::invalid_argument,
                        [](const std::exception& e) { return std::string(e.what()).find("\"taylor\"") != std::string::npos; });
  BOOST_CHECK_EXCEPTION(parse_enum<ExplainMethod>("guided-backprop", "method"), std::invalid_argument,
                        [](const std::exception& e) { return std::string(e.what()).find("guided-backprop") != std::string::npos; });
  o.methods = {ExplainMethod::lrp};
  // Metric names are parsed once, at the boundary, naming the argument.
  BOOST_CHECK_EXCEPTION(parse_metrics({"aopc", "speed"}, "--metrics"), std::invalid_argument, [](const std::exception& e) {
    return std::string(e.what()).rfind("--metrics: unknown metric \"speed\" (known: aopc, lerf, pixel-flipping", 0) == 0;
  });
  BOOST_TEST((parse_metrics({"pixel-flipping", "mprt"}, "x") == std::vector<Metric>{Metric::pixel_flipping, Metric::mprt}));
  o.metrics = {};
  BOOST_CHECK_THROW(evaluate(model, data, o, nullptr, nullptr), std::invalid_argument);
}

// --class is parsed once, before any image is explained (ClassChoice): each
// kind picks its class per image, and a class the model lacks fails with the
// model's own message, before the first image (whose name it would carry).
BOOST_AUTO_TEST_CASE(the_explained_class_is_parsed_before_the_images) {
  const cv::Rect box(3, 2, 5, 4);
  const BoxModel model(box);
  const ClassChoice predicted = ClassChoice::parse("predicted", model), label = ClassChoice::parse("label", model),
                    named = ClassChoice::parse("not-box", model), index = ClassChoice::parse("1", model);
  BOOST_TEST((predicted.kind == ClassChoice::Kind::predicted));
  BOOST_TEST((label.kind == ClassChoice::Kind::label));
  BOOST_TEST((named.kind == ClassChoice::Kind::named));
  ImageSample sample;
  sample.source = "unlabelled";
  BOOST_TEST(predicted.of(sample, 1) == 1);
  BOOST_TEST(named.of(sample, 0) == 1);
  BOOST_TEST(index.of(sample, 0) == 1);
  BOOST_CHECK_THROW(label.of(sample, 0), std::runtime_error);
  sample.label = 0;
  BOOST_TEST(label.of(sample, 1) == 0);

  EvaluationOptions o;
  o.methods = {ExplainMethod::lrp};
  o.metrics = {Metric::aopc};
  o.class_choice = "zebra";
  BOOST_CHECK_EXCEPTION(evaluate(model, box_data(2, box), o, nullptr, nullptr), std::runtime_error,
                        [](const std::exception& e) { return std::string(e.what()) == "no class zebra"; });
}

namespace {

// Everything but the wall times and how the machine was used.
nlohmann::json without_seconds(nlohmann::json j) {
  j.erase("seconds");
  for (auto& image : j["images"])
    for (auto& [method, m] : image["methods"].items()) m.erase("seconds");
  for (auto& [method, m] : j["summary"].items()) m.erase("seconds");
  j["settings"].erase("execution");
  return j;
}

}  // namespace

BOOST_AUTO_TEST_CASE(threads_over_images_give_the_sequential_evaluation) {
  const cv::Rect box(3, 2, 5, 4);
  const BoxModel model(box);
  MaskedDataset data = box_data(7, box);
  data.data.images[4].label = 1;  // one image left out by --label
  EvaluationOptions o;
  o.methods = {ExplainMethod::lrp, ExplainMethod::occlusion, ExplainMethod::random};
  o.only_label = "box";
  o.perturbation.region = 2;
  o.perturbation.steps = 10;
  o.pixel_flipping_steps = 6;
  o.report_images = 4;
  o.jobs = 1;
  o.batching.threads = 1;
  std::vector<ReportImage> sequential_shown;
  const nlohmann::json sequential = evaluate(model, data, o, &sequential_shown, nullptr);
  BOOST_TEST(sequential.at("settings").at("execution").at("jobs").get<long>() == 1);
  for (const int jobs : {2, 3, 0}) {
    o.jobs = jobs;
    o.batching.threads = jobs == 3 ? 2 : 0;
    o.batching.batch = jobs + 1;
    std::vector<ReportImage> shown;
    std::ostringstream log;
    const nlohmann::json threaded = evaluate(model, data, o, &shown, &log);
    BOOST_TEST(without_seconds(threaded) == without_seconds(sequential), "jobs " << jobs);
    if (jobs > 0) BOOST_TEST(threaded.at("settings").at("execution").at("jobs").get<long>() == jobs);
    // The images in data set order, the report's images the first ones.
    std::vector<long> indices;
    for (const auto& image : threaded.at("images")) indices.push_back(image.at("index").get<long>());
    BOOST_TEST(indices == std::vector<long>({0, 1, 2, 3, 5, 6}), boost::test_tools::per_element());
    BOOST_TEST(shown.size() == 4u);
    for (size_t k = 0; k < shown.size(); ++k) {
      BOOST_TEST(shown[k].name == sequential_shown[k].name);
      for (size_t m = 0; m < shown[k].results.size(); ++m)
        BOOST_TEST((shown[k].results[m].pixels == sequential_shown[k].results[m].pixels), shown[k].name);
    }
    // One line per image (no bar: standard error is not a terminal here).
    const std::string text = log.str();
    BOOST_TEST(std::count(text.begin(), text.end(), '\n') == 6);
    BOOST_TEST(text.find("/6: toy-6 class box") != std::string::npos, text);
  }
  // A model that is not concurrent is evaluated one image at a time, on one thread.
  o.jobs = 0;
  o.batching.threads = 0;
  const BoxModel serial(box, /*concurrent=*/false);
  const nlohmann::json one_at_a_time = evaluate(serial, data, o, nullptr, nullptr);
  BOOST_TEST(one_at_a_time.at("settings").at("execution").at("jobs").get<long>() == 1);
  BOOST_TEST(without_seconds(one_at_a_time) == without_seconds(sequential));
  o.jobs = -1;
  BOOST_CHECK_EXCEPTION(evaluate(model, data, o, nullptr, nullptr), std::invalid_argument,
                        [](const std::invalid_argument& e) { return std::string(e.what()).find("jobs") != std::string::npos; });
}

BOOST_AUTO_TEST_CASE(faithfulness_metrics_in_the_evaluation_of_the_box_model) {
  // The box model is linear and LRP's map (x in the box) is exactly its
  // gradient x input: with a constant 0 replacement its faithfulness
  // correlation and every sensitivity-n point are 1; the random map is not,
  // and does not move under noise (max-sensitivity 0).
  const cv::Rect box(3, 2, 5, 4);
  const BoxModel model(box);
  const MaskedDataset data = box_data(5, box);
  EvaluationOptions o;
  o.methods = {ExplainMethod::lrp, ExplainMethod::occlusion, ExplainMethod::random};
  o.class_choice = "box";
  o.metrics = {Metric::faithfulness_correlation, Metric::sensitivity_n, Metric::infidelity, Metric::max_sensitivity,
               Metric::sparseness, Metric::complexity};
  o.perturbation.replacement = Replacement::constant;
  o.method_settings.occlusion.patch = 3;
  o.method_settings.occlusion.stride = 2;
  o.faithfulness_correlation.subsets = 40;
  o.sensitivity_n.points = 5;
  o.sensitivity_n.subsets = 30;
  o.infidelity.samples = 50;
  o.max_sensitivity.samples = 4;
  o.jobs = 1;
  o.batching.threads = 1;
  const nlohmann::json j = evaluate(model, data, o, nullptr, nullptr);
  for (const auto& rec : j.at("images")) {
    const auto& lrp = rec.at("methods").at("lrp");
    const auto& random = rec.at("methods").at("random");
    BOOST_TEST(std::abs(lrp.at("faithfulness-correlation").get<double>() - 1.0) < 1e-12);
    BOOST_TEST(std::abs(random.at("faithfulness-correlation").get<double>()) < 0.9);
    // 144 pixels: n log-spaced from 1 to 115.
    BOOST_TEST(lrp.at("sensitivity-n").at("sizes") == nlohmann::json({1, 3, 11, 35, 115}));
    for (const auto& c : lrp.at("sensitivity-n").at("correlations"))
      if (!c.is_null()) BOOST_TEST(std::abs(c.get<double>() - 1.0) < 1e-12);
    BOOST_TEST(!lrp.at("sensitivity-n").at("correlations")[4].is_null());
    BOOST_TEST(lrp.at("metric_evaluations").at("sensitivity-n").get<long>() == 5 * 30 + 1);
    BOOST_TEST(lrp.at("metric_evaluations").at("faithfulness-correlation").get<long>() == 41);
    BOOST_TEST(lrp.at("metric_evaluations").at("infidelity").get<long>() == 51);
    // Re-explanations: lrp one pass each, occlusion 6 x 6 positions + 1 each.
    BOOST_TEST(lrp.at("metric_evaluations").at("max-sensitivity").get<long>() == 4);
    BOOST_TEST(rec.at("methods").at("occlusion").at("metric_evaluations").at("max-sensitivity").get<long>() == 4 * 37);
    // Infidelity: LRP's I^T R follows the drop sum_box I far better than a random map's.
    BOOST_TEST(lrp.at("relative_infidelity").get<double>() < random.at("relative_infidelity").get<double>());
    BOOST_TEST(lrp.at("infidelity_beta").get<double>() > 0.0);
    // Max-sensitivity of x -> x in the box under noise in [-r, r]: at most r sqrt(20) / ||x_box||.
    double norm = 0;
    const cv::Mat& x = data.data.images[rec.at("index").get<long>()].gray;
    for (int y = box.y; y < box.y + box.height; ++y)
      for (int c = box.x; c < box.x + box.width; ++c) norm += x.at<float>(y, c) * x.at<float>(y, c);
    const double bound = o.max_sensitivity.radius * std::sqrt(20.0) / std::sqrt(norm);
    BOOST_TEST(lrp.at("max-sensitivity").get<double>() > 0.0);
    BOOST_TEST(lrp.at("max-sensitivity").get<double>() <= bound * (1 + 1e-6));
    BOOST_TEST(random.at("max-sensitivity").get<double>() == 0.0);
    // 20 of 144 pixels carry LRP's relevance: Gini at least 1 - 20/144; entropy at most log 20.
    BOOST_TEST(lrp.at("sparseness").get<double>() >= 1.0 - 20.0 / 144.0);
    BOOST_TEST(lrp.at("complexity").get<double>() <= std::log(20.0) + 1e-12);
    BOOST_TEST(random.at("sparseness").get<double>() < lrp.at("sparseness").get<double>());
  }
  // Summaries: the means of the per-image numbers; the sensitivity-n curve point by point.
  for (const char* method : {"lrp", "occlusion", "random"}) {
    for (const char* metric : {"faithfulness-correlation", "infidelity", "relative_infidelity", "max-sensitivity",
                               "sparseness", "complexity"}) {
      double sum = 0;
      for (const auto& rec : j.at("images")) sum += rec.at("methods").at(method).at(metric).get<double>();
      BOOST_TEST(std::abs(j.at("summary").at(method).at(metric).at("mean").get<double>() - sum / 5) < 1e-12,
                 method << " " << metric);
    }
    const auto& curve = j.at("summary").at(method).at("sensitivity-n");
    BOOST_TEST(curve.at("sizes") == nlohmann::json({1, 3, 11, 35, 115}));
    for (size_t k = 0; k < 5; ++k) {
      double sum = 0;
      long count = 0;
      for (const auto& rec : j.at("images")) {
        const auto& c = rec.at("methods").at(method).at("sensitivity-n").at("correlations")[k];
        if (c.is_null()) continue;
        sum += c.get<double>();
        ++count;
      }
      BOOST_TEST(curve.at("count")[k].get<long>() == count);
      if (count) BOOST_TEST(std::abs(curve.at("mean")[k].get<double>() - sum / count) < 1e-12);
      BOOST_TEST(std::abs(curve.at("fractions")[k].get<double>() - curve.at("sizes")[k].get<double>() / 144.0) < 1e-15);
    }
  }
  BOOST_TEST(j.at("settings").at("faithfulness_correlation").at("subsets").get<int>() == 40);
  BOOST_TEST(j.at("settings").at("max_sensitivity").at("samples").get<int>() == 4);

  // Threads, batches and shards change nothing.
  o.jobs = 2;
  o.batching.threads = 2;
  o.batching.batch = 3;
  BOOST_TEST(without_seconds(evaluate(model, data, o, nullptr, nullptr)) == without_seconds(j));
  std::vector<nlohmann::json> parts;
  for (const char* shard : {"1/2", "2/2"}) {
    o.shard = Shard::parse(shard);
    parts.push_back(evaluate(model, data, o, nullptr, nullptr));
  }
  const nlohmann::json merged = merge_evaluations(parts, {"part 1", "part 2"});
  BOOST_TEST(without_seconds(merged).at("images") == without_seconds(j).at("images"));
  BOOST_TEST(without_seconds(merged).at("summary") == without_seconds(j).at("summary"));

  // Bad settings are refused before anything runs.
  o.shard = Shard();
  o.infidelity.sigma = 0;
  BOOST_CHECK_THROW(evaluate(model, data, o, nullptr, nullptr), std::invalid_argument);
  o.infidelity.sigma = 0.1;
  o.sensitivity_n.sizes = {145};
  BOOST_CHECK_EXCEPTION(evaluate(model, data, o, nullptr, nullptr), std::exception, [](const std::exception& e) {
    return std::string(e.what()).find("subset size 145 exceeds the image's 144 pixels") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(bow_sensitivity_is_the_derivative_with_respect_to_descriptor_weights) {
  // A tiny BoW model on real Fashion-MNIST images; for some descriptors l, the
  // score with l's code scaled by 1 +- h, re-pooled and re-normalised.
  const Dataset train = load_dataset("fashion-mnist:train:100");
  const Dataset test = load_dataset("fashion-mnist:test:2");
  for (const char* config : {R"({"descriptor": {"step": 3, "bin_sizes": [4]}, "codebook": {"words": 16, "training_descriptors": 2000},
                                  "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]}, "normalisation": {"steps": ["l1"]},
                                  "svm": {"kernel": "chi2", "C": 10}})",
                             R"({"descriptor": {"step": 3, "bin_sizes": [4]}, "codebook": {"words": 16, "training_descriptors": 2000},
                                  "coding": {"type": "soft", "knn": 3, "sigma": 0.3},
                                  "pooling": {"type": "pmeans", "p": 2, "pyramid": [[1, 1]]}, "normalisation": {"steps": ["power", "l2"]},
                                  "svm": {"kernel": "linear", "C": 1}})",
                             R"({"descriptor": {"step": 3, "bin_sizes": [4]}, "codebook": {"words": 16, "training_descriptors": 2000},
                                  "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]}, "normalisation": {"steps": ["l1"]},
                                  "network": {"hidden": [12], "activation": "tanh", "epochs": 3, "seed": 2}})"}) {
    const BowModel model = BowModel::train(PipelineConfig::parse(nlohmann::json::parse(config)), train, nullptr);
    for (const auto& image : test.images) {
      const int c = image.label;
      Eigen::VectorXd s;
      Eigen::VectorXd scores;
      const RowMatrixXd pixels = bow_sensitivity(model, image.gray, c, image.name, &s, &scores);
      const BowModel::Forward f = model.forward(image.gray, image.name);
      BOOST_TEST(scores[c] == f.scores[c]);
      const BowEncoding& e = f.encoding.channels.at(0).bow;
      BOOST_TEST(s.size() == e.codes.features());
      // The pixel map spreads s_l^2 over the supports: its sum is sum_l s_l^2.
      BOOST_TEST(std::abs(pixels.sum() - s.squaredNorm()) <= 1e-9 * s.squaredNorm());
      BOOST_TEST(pixels.minCoeff() >= 0.0);
      for (int l = 0; l < e.codes.features(); l += 7) {
        auto f_of = [&](double t) {
          Codes codes = e.codes;
          for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k) codes.weight[k] *= t;
          const BowEncoding scaled = pool(codes, e.cells_of, e.cells, e.pooling);
          const Eigen::VectorXd x = normalise(scaled.pooled, model.config.normalisation);
          return model.classifier->forward(x).scores[c];
        };
        const double h = 1e-5, numeric = (f_of(1 + h) - f_of(1 - h)) / (2 * h);
        BOOST_TEST(std::abs(s[l] - numeric) <= 1e-5 * std::max(1.0, std::abs(numeric)), "feature " << l);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(scenes_are_seeded_and_their_masks_mark_the_target) {
  SceneOptions o;
  o.kind = SceneKind::shapes;
  o.size = 48;
  o.seed = 5;
  const std::vector<std::string> classes = o.classes();
  BOOST_TEST(classes == std::vector<std::string>({"circle", "other"}));
  for (int i = 0; i < 6; ++i) {
    const Scene a = generate_scene(o, SceneSplit::test, i), b = generate_scene(o, SceneSplit::test, i);
    BOOST_TEST(cv::norm(a.gray, b.gray, cv::NORM_INF) == 0.0);
    BOOST_TEST((a.mask == b.mask).all());
    const bool positive = i % 2 == 0;
    BOOST_TEST(classes[a.label] == (positive ? "circle" : "other"));
    BOOST_TEST((a.mask.count() > 0) == positive);
    if (positive) {
      // Every mask pixel has the circle's grey level (8-bit quantised), as drawn last over the background.
      const double level = a.objects[1].at("level").get<double>();
      for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 48; ++x)
          if (a.mask(y, x)) BOOST_TEST(std::abs(a.gray.at<float>(y, x) - level) <= 0.5 / 255 + 1e-6);
      const double r = a.objects[1].at("radius").get<double>();
      BOOST_TEST(std::abs(static_cast<double>(a.mask.count()) - M_PI * r * r) < 0.35 * M_PI * r * r);
    }
  }
  BOOST_TEST(cv::norm(generate_scene(o, SceneSplit::test, 0).gray, generate_scene(o, SceneSplit::train, 0).gray, cv::NORM_INF) > 0.0);
  o.seed = 6;
  BOOST_TEST(cv::norm(generate_scene(o, SceneSplit::test, 0).gray, generate_scene(o, SceneSplit::test, 2).gray, cv::NORM_INF) > 0.0);

  SceneOptions f;  // Fashion-MNIST items on photographs
  f.size = 64;
  f.max_scale = 1.2;
  const Scene p = generate_scene(f, SceneSplit::train, 0), n = generate_scene(f, SceneSplit::train, 1);
  BOOST_TEST(f.classes()[p.label] == "trouser");
  BOOST_TEST(f.classes()[n.label] == "other");
  BOOST_TEST(p.mask.count() > 40);
  BOOST_TEST(n.mask.count() == 0);
  int targets = 0;
  for (const auto& obj : p.objects)
    if (obj.contains("target") && obj.at("target").get<bool>()) ++targets;
  BOOST_TEST(targets == 1);
  BOOST_CHECK_THROW([&] { SceneOptions bad; bad.target = "hat"; bad.validate(); }(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_scenes_folder_reads_back_with_its_masks) {
  test::ScratchDir dir("scenes");
  SceneOptions o;
  o.kind = SceneKind::shapes;
  o.size = 40;
  o.train = 4;
  o.test = 3;
  make_scenes(o, dir / "bench", nullptr);
  BOOST_TEST(fs::is_regular_file(dir / "bench/scenes.json"));
  BOOST_TEST(load_dataset(dir / "bench/train").images.size() == 4u);  // a plain class-folder data set
  const MaskedDataset d = load_masked_dataset("scenes:" + (dir / "bench") + ":test", -1);
  BOOST_TEST(d.data.images.size() == 3u);
  BOOST_TEST(d.data.classes == o.classes());
  BOOST_TEST(d.target == "circle");
  for (size_t i = 0; i < 3; ++i) {
    const Scene s = generate_scene(o, SceneSplit::test, static_cast<int>(i));
    BOOST_TEST(cv::norm(s.gray, d.data.images[i].gray, cv::NORM_INF) < 1e-6);  // the PNG holds the scene exactly
    BOOST_TEST(d.data.images[i].label == s.label);
    BOOST_TEST(d.masks[i].has_value() == (s.mask.count() > 0));
    if (d.masks[i]) BOOST_TEST((*d.masks[i] == s.mask).all());
  }
  BOOST_TEST(load_masked_dataset("scenes:" + (dir / "bench") + ":test:2", -1).data.images.size() == 2u);
  BOOST_CHECK_THROW(load_masked_dataset("scenes:" + (dir / "bench") + ":val", -1), std::exception);
  BOOST_CHECK_THROW(load_masked_dataset("scenes:" + (dir / "missing") + ":test", -1), std::runtime_error);
  // A refusal to overwrite something that is not a scenes folder.
  fs::create_directories(dir / "other");
  std::ofstream(dir / "other/keep.txt") << "x";
  BOOST_CHECK_THROW(make_scenes(o, dir / "other", nullptr), std::runtime_error);
  BOOST_TEST(fs::exists(dir / "other/keep.txt"));
  // Foreground masks for a data set without masks.
  const MaskedDataset fm = load_masked_dataset("fashion-mnist:test:3", 0.0);
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST(fm.masks[i].has_value());
    const cv::Mat& g = fm.data.images[i].gray;
    BOOST_TEST(fm.masks[i]->count() == cv::countNonZero(g > 0.0f));
  }
}

BOOST_AUTO_TEST_CASE(network_adapter_scores_batches_and_explains_itself) {
  NetworkTrainingConfig config;
  config.hidden = {16};
  config.training.epochs = 2;
  const Dataset train = load_dataset("fashion-mnist:train:300");
  const auto model = make_network_adapter(std::make_shared<const NetworkModel>(train_network_model(train, config, nullptr)));
  BOOST_TEST(model->kind() == "network");
  BOOST_TEST(model->class_names() == fashion_mnist_classes());
  BOOST_TEST(model->class_index("sandal") == 5);
  const Dataset test = load_dataset("fashion-mnist:test:4");
  std::vector<cv::Mat> batch;
  for (const auto& image : test.images) batch.push_back(image.gray);
  const Eigen::VectorXd together = model->scores(batch, 3);
  BOOST_TEST(model->evaluations() == 4);
  for (size_t i = 0; i < batch.size(); ++i)
    BOOST_TEST(std::abs(together[i] - model->all_scores(batch[i], "image")[3]) < 1e-12);
  for (const ExplainMethod method :
       {ExplainMethod::lrp, ExplainMethod::sensitivity, ExplainMethod::occlusion, ExplainMethod::random}) {
    const Explanation r = explain_with(*model, batch[0], 3, method, {}, 1, "image");
    BOOST_TEST(r.pixels.rows() == 28);
    BOOST_TEST(std::abs(r.score - together[0]) < 1e-12, name_of(method));
    BOOST_TEST(std::abs(r.scores[3] - together[0]) < 1e-12, name_of(method));
    BOOST_TEST(r.account.has_value() == (method == ExplainMethod::lrp), name_of(method));
  }
  // LRP's account: what the pixels do not show was absorbed or unassigned by the layers.
  const Explanation lrp = explain_with(*model, batch[0], 3, ExplainMethod::lrp, {}, 1, "image");
  double kept = 0;
  for (const auto& layer : lrp.account->layers) kept += layer.absorbed + layer.unassigned;
  BOOST_TEST(std::abs(lrp.account->score - lrp.account->pixel_sum - kept) < 1e-9);
  BOOST_CHECK_THROW(explain_with(*model, batch[0], 10, ExplainMethod::lrp, {}, 1, "image"), std::out_of_range);

  // A float64 grey image: the network's own methods take it as it is (the
  // same as explain_own), occlusion and random its float32 rounding.
  cv::Mat exact;
  batch[0].convertTo(exact, CV_64F);
  exact.at<double>(5, 7) += 1e-9;  // a value float32 cannot hold
  const Explanation own = explain_with(*model, exact, 3, ExplainMethod::lrp, {}, 1, "image");
  const Explanation direct = model->explain_own(exact, 3, ExplainMethod::lrp, {}, "image");
  BOOST_TEST((own.pixels - direct.pixels).cwiseAbs().maxCoeff() == 0.0);
  BOOST_TEST(own.score == direct.score);
  cv::Mat rounded;
  exact.convertTo(rounded, CV_32F);
  ExplainSettings settings;
  const Explanation occluded = explain_with(*model, exact, 3, ExplainMethod::occlusion, settings, 1, "image");
  const Explanation occluded32 = explain_with(*model, rounded, 3, ExplainMethod::occlusion, settings, 1, "image");
  BOOST_TEST((occluded.pixels - occluded32.pixels).cwiseAbs().maxCoeff() == 0.0);
  // The explanation's interrupt check reaches its occlusion's batches.
  int checks = 0;
  settings.interrupt = [&] {
    if (++checks == 2) throw std::runtime_error("stop");
  };
  settings.occlusion.batching.batch = 4;
  settings.occlusion.batching.threads = 1;
  BOOST_CHECK_THROW(explain_with(*model, rounded, 3, ExplainMethod::occlusion, settings, 1, "image"), std::runtime_error);
  BOOST_TEST(checks == 2);
}
