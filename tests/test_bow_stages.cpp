// Every stage of the BoW pipelines with its relevance rule (docs/design.md 1.1-1.5):
// hand-computed tiny cases for each coding, pooling, pyramid,
// normalisation and support weighting; the soft bow_toy reference cases with
// the codes computed by our coder; slow, obviously-correct references for the
// fast pixel spreading; p-means relevance tending to max-pooling relevance;
// colour planes, colour and keypoint SIFT.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "pixelwise/classifiers/kernels.hpp"
#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/metrics.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/codebook.hpp"
#include "pixelwise/features/descriptors.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"
#include "pixelwise/pipelines/model/network_training.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

// The bow_toy codebook: words (0,0), (1,0), (0,1).
Codebook toy_codebook() {
  RowMatrixXf c(3, 2);
  c << 0, 0, 1, 0, 0, 1;
  return Codebook(c, CodebookOptions{});
}

RowMatrixXd rows(std::initializer_list<std::initializer_list<double>> values) {
  RowMatrixXd m(values.size(), values.begin()->size());
  long r = 0;
  for (const auto& row : values) {
    long c = 0;
    for (double v : row) m(r, c++) = v;
    ++r;
  }
  return m;
}

// Dense M x V matrix of a sparse code.
RowMatrixXd dense(const Codes& codes) {
  RowMatrixXd m = RowMatrixXd::Zero(codes.features(), codes.words);
  for (int l = 0; l < codes.features(); ++l)
    for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k) m(l, codes.word[k]) += codes.weight[k];
  return m;
}

Codes codes_from(const RowMatrixXd& m) {
  Codes codes;
  codes.words = static_cast<int>(m.cols());
  for (long l = 0; l < m.rows(); ++l) {
    for (int d = 0; d < m.cols(); ++d)
      if (m(l, d) != 0) {
        codes.word.push_back(d);
        codes.weight.push_back(m(l, d));
      }
    codes.offsets.push_back(static_cast<int>(codes.word.size()));
  }
  return codes;
}

void check_close(const Eigen::VectorXd& got, const std::vector<double>& expected, double tolerance) {
  BOOST_REQUIRE_EQUAL(got.size(), static_cast<long>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i)
    BOOST_TEST(std::abs(got[i] - expected[i]) <= tolerance, "entry " << i << ": " << got[i] << " vs " << expected[i]);
}

PoolingOptions pooling_of(const std::string& type, double p = 2.0) {
  PoolingOptions o;
  o.type = parse_enum<PoolingType>(type, "type");
  o.p = p;
  return o;
}

// Slow, obviously-correct pixel spreading for any frame and weighting: visit
// every pixel of the image, test membership by the definition of the support
// (local_features.hpp) and weight it by the definition of the weighting.
RowMatrixXd spread_slowly(const std::vector<Frame>& frames, const Eigen::VectorXd& r, int width, int height,
                          const SupportWeighting& weighting) {
  RowMatrixXd out = RowMatrixXd::Zero(height, width);
  for (size_t l = 0; l < frames.size(); ++l) {
    const Frame& f = frames[l];
    auto inside = [&](int x, int y) {
      if (!f.rotated()) return f.support.contains(x, y);
      const double dx = x - f.x, dy = y - f.y, c = std::cos(f.angle), s = std::sin(f.angle);
      const double u = c * dx + s * dy, v = -s * dx + c * dy;
      return u >= -f.half_side && u < f.half_side && v >= -f.half_side && v < f.half_side;
    };
    auto weight = [&](int x, int y) {
      if (!weighting.gaussian()) return 1.0;
      const double s = weighting.sigma * f.half_side;
      return std::exp(-((x - f.x) * (x - f.x) + (y - f.y) * (y - f.y)) / (2 * s * s));
    };
    double total = 0;
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        if (inside(x, y)) total += weight(x, y);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        if (inside(x, y)) out(y, x) += r[l] * weight(x, y) / total;
  }
  return out;
}

}  // namespace

// ---- coding (docs/design.md 1.1) ----

BOOST_AUTO_TEST_CASE(soft_rank_and_hard_coding_by_hand) {
  const Codebook codebook = toy_codebook();
  // v = (0.1, 0): squared distances 0.01, 0.81, 1.01 to the three words.
  const RowMatrixXd v = rows({{0.1, 0.0}, {0.5, 0.5}});
  CodingOptions soft;
  soft.type = CodingType::soft;
  soft.knn = 2;
  soft.sigma = 1.0;
  // Two nearest words 0 and 1: exp(-0.01/2) : exp(-0.81/2), i.e. 1 : exp(-0.4).
  // (0.5, 0.5) is 0.5 from every word: a three-way tie, the lower indices win, equal weights.
  const RowMatrixXd m = dense(encode(codebook, v, soft));
  const double w0 = 1 / (1 + std::exp(-0.4));
  BOOST_TEST(std::abs(m(0, 0) - w0) <= 1e-15);
  BOOST_TEST(std::abs(m(0, 1) - (1 - w0)) <= 1e-15);
  BOOST_TEST(m(0, 2) == 0.0);
  BOOST_TEST(m(1, 0) == 0.5);
  BOOST_TEST(m(1, 1) == 0.5);
  BOOST_TEST(m(1, 2) == 0.0);
  // Narrow kernel: weights of far words vanish without the nearest underflowing.
  soft.sigma = 1e-3;
  soft.knn = 3;
  const RowMatrixXd narrow = dense(encode(codebook, v.topRows(1), soft));
  BOOST_TEST(narrow(0, 0) == 1.0);
  BOOST_TEST(narrow.row(0).sum() == 1.0);

  CodingOptions rank;
  rank.type = CodingType::rank;
  rank.knn = 3;
  rank.decay = 2.0;  // 1 : 1/2 : 1/4 by rank, normalised: 4/7, 2/7, 1/7
  const RowMatrixXd r = dense(encode(codebook, v.topRows(1), rank));
  BOOST_TEST(std::abs(r(0, 0) - 4.0 / 7) <= 1e-15);
  BOOST_TEST(std::abs(r(0, 1) - 2.0 / 7) <= 1e-15);
  BOOST_TEST(std::abs(r(0, 2) - 1.0 / 7) <= 1e-15);
  rank.knn = 2;
  rank.decay = 3.0;  // 1 : 1/3 -> 3/4, 1/4
  const RowMatrixXd r2 = dense(encode(codebook, v.topRows(1), rank));
  BOOST_TEST(std::abs(r2(0, 0) - 0.75) <= 1e-15);
  BOOST_TEST(std::abs(r2(0, 1) - 0.25) <= 1e-15);

  const RowMatrixXd h = dense(encode(codebook, rows({{0.9, 0.2}, {0.2, 0.7}}), CodingOptions{}));
  BOOST_TEST(h(0, 1) == 1.0);
  BOOST_TEST(h(1, 2) == 1.0);
  BOOST_TEST(h.sum() == 2.0);

  // Bad options are named.
  CodingOptions bad = soft;
  bad.knn = 4;  // more than the 3 words
  BOOST_CHECK_THROW(encode(codebook, v, bad), std::invalid_argument);
  bad = soft;
  bad.sigma = 0;
  BOOST_CHECK_THROW(bad.validate(), std::invalid_argument);
  bad = rank;
  bad.decay = 0.5;
  BOOST_CHECK_THROW(bad.validate(), std::invalid_argument);
  BOOST_CHECK_THROW(parse_enum<CodingType>("sparse", "type"), std::invalid_argument);
  BOOST_CHECK_THROW(nlohmann::json::parse(R"({"type": "rank", "sigma": 1})").get<CodingOptions>(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(k_nearest_words_exact_and_kdforest_agree_with_brute_force) {
  const Dataset data = load_dataset("fashion-mnist:train:3");
  const LocalFeatures f = compute_dense_sift(data.images[0].gray, DenseSiftOptions{}, "image");
  RowMatrixXf centres = f.descriptors.topRows(20);
  const Codebook exact(centres, CodebookOptions{});
  CodebookOptions forest_options;
  forest_options.search = CodebookSearch::kdforest;
  forest_options.kdforest_checks = 1000;
  const Codebook forest(centres, forest_options);
  const RowMatrixXd x = compute_dense_sift(data.images[1].gray, DenseSiftOptions{}, "image").descriptors.cast<double>();
  const auto a = exact.nearest_k(x, 4), b = forest.nearest_k(x, 4);
  for (long i = 0; i < x.rows(); ++i) {
    std::vector<std::pair<double, int>> all;
    for (int w = 0; w < 20; ++w) all.push_back({(x.row(i) - centres.row(w).cast<double>()).squaredNorm(), w});
    std::sort(all.begin(), all.end());
    for (int j = 0; j < 4; ++j) {
      BOOST_TEST(a.index[i * 4 + j] == all[j].second);
      BOOST_TEST(std::abs(a.distance[i * 4 + j] - all[j].first) <= 1e-12);
      BOOST_TEST(b.index[i * 4 + j] == all[j].second);
    }
  }
}

// ---- pooling (docs/design.md 1.2) ----

// Three features in one cell, V = 2: m(f0) = (0.6, 0.4), m(f1) = (0.2, 0.8), m(f2) = (0, 1).
BOOST_AUTO_TEST_CASE(sum_pmeans_and_max_pooling_and_their_relevance_by_hand) {
  const Codes codes = codes_from(rows({{0.6, 0.4}, {0.2, 0.8}, {0.0, 1.0}}));
  const std::vector<std::vector<int>> one_cell{{0}, {0}, {0}};
  const Eigen::VectorXd R = (Eigen::VectorXd(2) << 1.0, 2.0).finished();

  const BowEncoding sum = pool(codes, one_cell, 1, pooling_of("sum"));
  check_close(sum.pooled, {0.8, 2.2}, 1e-15);
  const Relevance rs = pool_relevance(sum, R);
  check_close(rs.relevance, {0.6 / 0.8 + 2 * 0.4 / 2.2, 0.2 / 0.8 + 2 * 0.8 / 2.2, 2 * 1.0 / 2.2}, 1e-15);

  // p = 2: x = sqrt(mean m^2); shares m^2 / sum m^2.
  const BowEncoding pm = pool(codes, one_cell, 1, pooling_of("pmeans", 2.0));
  check_close(pm.pooled, {std::sqrt(0.4 / 3), std::sqrt(1.8 / 3)}, 1e-15);
  const Relevance rp = pool_relevance(pm, R);
  check_close(rp.relevance, {0.36 / 0.4 + 2 * 0.16 / 1.8, 0.04 / 0.4 + 2 * 0.64 / 1.8, 2 * 1.0 / 1.8}, 1e-15);

  // Max: the winner takes the bin; f2 wins word 1 alone.
  const BowEncoding mx = pool(codes, one_cell, 1, pooling_of("max"));
  check_close(mx.pooled, {0.6, 1.0}, 0);
  check_close(pool_relevance(mx, R).relevance, {1.0, 0.0, 2.0}, 0);
  // A fourth feature equal to f2 ties with it: the bin's relevance is split equally.
  const Codes tied = codes_from(rows({{0.6, 0.4}, {0.2, 0.8}, {0.0, 1.0}, {0.0, 1.0}}));
  const BowEncoding mt = pool(tied, {{0}, {0}, {0}, {0}}, 1, pooling_of("max"));
  check_close(pool_relevance(mt, R).relevance, {1.0, 0.0, 1.0, 1.0}, 0);

  // p = 1 is sum pooling up to the factor 1/M_c: the same relevance.
  const BowEncoding p1 = pool(codes, one_cell, 1, pooling_of("pmeans", 1.0));
  check_close(p1.pooled, {0.8 / 3, 2.2 / 3}, 1e-15);
  BOOST_TEST((pool_relevance(p1, R).relevance - rs.relevance).norm() <= 1e-15);

  for (const auto* e : {&sum, &pm, &mx}) {
    const Relevance r = pool_relevance(*e, R);
    BOOST_TEST(std::abs(r.account.relevance_out - 3.0) <= 1e-15);
    BOOST_TEST(r.account.unassigned == 0.0);
  }
  BOOST_CHECK_THROW(pooling_of("median").validate(), std::invalid_argument);
  BOOST_CHECK_THROW(pooling_of("pmeans", 0.0).validate(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_bin_without_features_keeps_its_relevance_as_unassigned_for_every_pooling) {
  // Two cells, V = 2; cell 1 holds only f1, which has no mass on word 0.
  const Codes codes = codes_from(rows({{0.5, 0.5}, {0.0, 1.0}}));
  const std::vector<std::vector<int>> cells{{0}, {1}};
  const Eigen::VectorXd R = (Eigen::VectorXd(4) << 0.25, -0.5, 0.125, 1.0).finished();
  for (const char* type : {"sum", "pmeans", "max"}) {
    BOOST_TEST_CONTEXT(type) {
      const BowEncoding e = pool(codes, cells, 2, pooling_of(type, 3.0));
      const Relevance r = pool_relevance(e, R);
      BOOST_TEST(r.account.unassigned == 0.125);  // exactly the relevance of bin (cell 1, word 0)
      check_close(r.relevance, {0.25 - 0.5, 1.0}, 0);
      BOOST_TEST(std::abs(r.account.unaccounted()) <= 1e-15);
    }
  }
}

BOOST_AUTO_TEST_CASE(spatial_pyramid_cells_by_hand_and_relevance_stays_in_its_cell) {
  // An 8 x 6 image, pyramid 1x1, 2x2, 3x1 (columns x rows): 1 + 4 + 3 = 8 cells.
  LocalFeatures f;
  f.image_width = 8;
  f.image_height = 6;
  for (auto [x, y] : std::vector<std::pair<double, double>>{{1, 1}, {4, 3}, {7.5, 5.9}, {2.7, 4}}) {
    Frame frame;
    frame.x = x;
    frame.y = y;
    f.frames.push_back(frame);
  }
  PoolingOptions pooling;
  pooling.pyramid = {{1, 1}, {2, 2}, {3, 1}};
  BOOST_TEST(pooling.cells() == 8);
  const auto cells = assign_cells(f, pooling);
  // x >= w/2 is right, y >= h/2 is bottom; thirds of 8 at 8/3 and 16/3.
  const std::vector<std::vector<int>> expected{{0, 1, 5}, {0, 4, 6}, {0, 4, 7}, {0, 3, 6}};
  BOOST_TEST(cells == expected);

  // All features code word 1 of V = 2; relevance on bin (cell 6, word 1) only reaches
  // the two features in the middle third, in proportion to their codes.
  const Codes codes = codes_from(rows({{0, 1}, {0, 0.25}, {0, 1}, {0, 0.75}}));
  const BowEncoding e = pool(codes, cells, pooling.cells(), pooling);
  Eigen::VectorXd R = Eigen::VectorXd::Zero(16);
  R[6 * 2 + 1] = 2.0;
  check_close(pool_relevance(e, R).relevance, {0, 0.5, 0, 1.5}, 1e-15);
  // The whole-image cell sums every feature.
  BOOST_TEST(e.pooled[1] == 3.0);
}

// ---- normalisation (docs/design.md 1.3) ----

BOOST_AUTO_TEST_CASE(normalisation_combinations_by_hand) {
  const Eigen::VectorXd x = (Eigen::VectorXd(3) << 3.0, 0.0, 1.0).finished();
  auto norm = [&](const std::vector<std::string>& steps) {
    return normalise(x, nlohmann::json{{"steps", steps}}.get<NormalisationOptions>());
  };
  check_close(norm(std::vector<std::string>{}), {3, 0, 1}, 0);
  check_close(norm({"l1", "power"}), {std::sqrt(0.75), 0, 0.5}, 1e-15);
  check_close(norm({"power", "l1"}), {std::sqrt(3.0) / (std::sqrt(3.0) + 1), 0, 1 / (std::sqrt(3.0) + 1)}, 1e-15);
  check_close(norm({"l1", "l2"}), {3 / std::sqrt(10.0), 0, 1 / std::sqrt(10.0)}, 1e-15);
  check_close(norm({"power", "l2"}), {std::sqrt(0.75), 0, 0.5}, 1e-15);
  check_close(norm({"l2", "power", "l1"}), {std::sqrt(3.0) / (std::sqrt(3.0) + 1), 0, 1 / (std::sqrt(3.0) + 1)}, 1e-15);
}

// ---- kernels ----

BOOST_AUTO_TEST_CASE(hellinger_kernel_and_kernel_weights_by_hand) {
  BOOST_TEST(std::abs(kernel_term(KernelType::hellinger, 0.25, 0.16) - 0.2) <= 1e-16);
  BOOST_TEST(std::abs(kernel_term(KernelType::hellinger, -0.25, 0.16) + 0.2) <= 1e-16);
  BOOST_TEST(kernel_term(KernelType::hellinger, 0.7, 0.0) == 0.0);
  BOOST_TEST((parse_kernel("hellinger") == KernelType::hellinger));
  const double a[3] = {0.25, 0.0, 0.49}, b[3] = {0.16, 0.3, 0.09};
  BOOST_TEST(std::abs(kernel_value(KernelType::hellinger, a, b, 3) - (0.2 + 0.21)) <= 1e-15);
  // k(s u, s v) = w k(u, v) with s = kernel_weight_scale(k, w).
  for (auto k : {KernelType::linear, KernelType::intersection, KernelType::chi2, KernelType::hellinger}) {
    const double s = kernel_weight_scale(k, 0.3);
    const double sa[3] = {s * a[0], s * a[1], s * a[2]}, sb[3] = {s * b[0], s * b[1], s * b[2]};
    BOOST_TEST(std::abs(kernel_value(k, sa, sb, 3) - 0.3 * kernel_value(k, a, b, 3)) <= 1e-15, kernel_name(k));
  }
  BOOST_TEST(kernel_weight_scale(KernelType::linear, 0.25) == 0.5);
  BOOST_CHECK_THROW(kernel_weight_scale(KernelType::chi2, 0.0), std::invalid_argument);
}

// ---- the soft bow_toy cases, codes computed by our coder ----

BOOST_AUTO_TEST_CASE(bow_toy_soft_cases_with_codes_from_our_coder) {
  const nlohmann::json toy = test::read_json(test::reference_dir() + "/bow_toy/toy_cases.json");
  const auto centres = toy["codebook"].get<std::vector<std::vector<double>>>();
  RowMatrixXf c(centres.size(), 2);
  for (size_t w = 0; w < centres.size(); ++w) c.row(w) << static_cast<float>(centres[w][0]), static_cast<float>(centres[w][1]);
  const Codebook codebook(c, CodebookOptions{});
  const auto desc = toy["descriptors"].get<std::vector<std::vector<double>>>();
  RowMatrixXd descriptors(desc.size(), 2);
  for (size_t l = 0; l < desc.size(); ++l) descriptors.row(l) << desc[l][0], desc[l][1];
  const auto blocks = toy["blocks"].get<std::vector<std::vector<int>>>();
  std::vector<std::vector<int>> cells_of(desc.size());
  for (size_t cell = 0; cell < blocks.size(); ++cell)
    for (size_t l = 0; l < desc.size(); ++l)
      if (blocks[cell][l]) cells_of[l].push_back(static_cast<int>(cell));
  std::vector<Frame> frames;
  for (const auto& b : toy["boxes_x0y0x1y1_exclusive"]) {
    Frame f;
    f.support = {b[0], b[1], b[2], b[3]};
    frames.push_back(f);
  }
  const auto sv_rows = toy["sv"].get<std::vector<std::vector<double>>>();
  RowMatrixXd sv(sv_rows.size(), sv_rows[0].size());
  for (size_t i = 0; i < sv_rows.size(); ++i)
    for (size_t d = 0; d < sv_rows[i].size(); ++d) sv(i, d) = sv_rows[i][d];
  const BinaryMachine machine{{0, 1, 2}, toy["coef"].get<std::vector<double>>(), -toy["b"].get<double>()};
  const int height = toy["image_shape"][0], width = toy["image_shape"][1];

  int checked = 0;
  for (const auto& tc : toy["cases"]) {
    if (tc["coding"] != "soft" || tc["policy"] == "taylor") continue;
    BOOST_TEST_CONTEXT(tc["kernel"].get<std::string>() << "/" << tc["policy"].get<std::string>()) {
      CodingOptions soft;
      soft.type = CodingType::soft;
      soft.knn = tc["knn"];
      soft.sigma = tc["sigma"];
      Codes codes = encode(codebook, descriptors, soft);
      const RowMatrixXd m = dense(codes);
      const auto M = tc["M"].get<std::vector<std::vector<double>>>();
      for (long l = 0; l < m.rows(); ++l)
        for (int d = 0; d < 3; ++d) BOOST_TEST(std::abs(m(l, d) - M[l][d]) <= 1e-15);
      PoolingOptions pooling;
      pooling.pyramid = {{1, 1}, {2, 2}};
      BowEncoding e = pool(std::move(codes), cells_of, static_cast<int>(blocks.size()), pooling);
      e.histogram = normalise(e.pooled, NormalisationOptions{});
      check_close(e.histogram, tc["x"].get<std::vector<double>>(), 1e-15);
      const OneVsRestSvm svm(parse_kernel(tc["kernel"]), sv, {machine});
      const Relevance r3 = decompose_svm(svm, 0, e.histogram, parse_bias_policy(tc["policy"]));
      check_close(r3.relevance, tc["R3"].get<std::vector<double>>(), 1e-12);
      const Relevance r2 = pool_relevance(e, r3.relevance);
      check_close(r2.relevance, tc["R2"].get<std::vector<double>>(), 1e-12);
      const Relevance r1 = spread_to_pixels(frames, r2.relevance, width, height);
      const RowMatrixXd map1 = pixel_map(r1.relevance, width, height);
      const auto R1 = tc["R1"].get<std::vector<std::vector<double>>>();
      for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) BOOST_TEST(std::abs(map1(y, x) - R1[y][x]) <= 1e-12);
      const auto sums = tc["sums"].get<std::vector<double>>();
      BOOST_TEST(std::abs(r3.account.relevance_out - sums[0]) <= 1e-12);
      BOOST_TEST(std::abs(r2.account.relevance_out - sums[1]) <= 1e-12);
      BOOST_TEST(std::abs(r1.account.relevance_out - sums[2]) <= 1e-12);
      ++checked;
    }
  }
  BOOST_TEST(checked == 9);
}

// ---- pixels (docs/design.md 1.5) ----

BOOST_AUTO_TEST_CASE(gaussian_weighting_by_hand) {
  // A 2 x 2 support [1, 3) x [1, 3) centred on pixel (2, 2), half side 1, sigma 1:
  // squared distances 2, 1, 1, 0 -> weights e^-1, e^-1/2, e^-1/2, 1, normalised.
  Frame f;
  f.x = 2;
  f.y = 2;
  f.half_side = 1;
  f.support = {1, 1, 3, 3};
  SupportWeighting gaussian{WeightingType::gaussian, 1.0};
  const Relevance spread = spread_to_pixels({f}, Eigen::VectorXd::Constant(1, 3.0), 4, 4, gaussian);
  const RowMatrixXd p = pixel_map(spread.relevance, 4, 4);
  const double z = std::exp(-1.0) + 2 * std::exp(-0.5) + 1;
  BOOST_TEST(std::abs(p(1, 1) - 3 * std::exp(-1.0) / z) <= 1e-15);
  BOOST_TEST(std::abs(p(1, 2) - 3 * std::exp(-0.5) / z) <= 1e-15);
  BOOST_TEST(std::abs(p(2, 1) - 3 * std::exp(-0.5) / z) <= 1e-15);
  BOOST_TEST(std::abs(p(2, 2) - 3 / z) <= 1e-15);
  BOOST_TEST(std::abs(p.sum() - 3.0) <= 1e-15);
  BOOST_TEST(p(0, 0) == 0.0);
  // A frame without a half side cannot be weighted by a Gaussian.
  f.half_side = 0;
  BOOST_CHECK_THROW(spread_to_pixels({f}, Eigen::VectorXd::Ones(1), 4, 4, gaussian), std::invalid_argument);
  BOOST_CHECK_THROW((SupportWeighting{WeightingType::gaussian, 0.01}.validate()), std::invalid_argument);
  BOOST_CHECK_THROW(parse_enum<WeightingType>("triangle", "type"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_rotated_support_covers_other_pixels_than_the_upright_one) {
  // Half side 2 around (5, 5): upright the pixels 3..6 in x and y (16 pixels).
  // Turned by 45 degrees, u = (dx + dy)/sqrt2 and v = (dy - dx)/sqrt2 must lie in
  // [-2, 2): s = dx + dy and t = dy - dx in {-2, ..., 2} with the same parity,
  // 3 x 3 even pairs + 2 x 2 odd pairs = 13 pixels, the diamond |dx| + |dy| <= 2.
  Frame f;
  f.x = 5;
  f.y = 5;
  f.half_side = 2;
  f.angle = M_PI / 4;
  const std::vector<RowSpan> spans = support_spans(f, 12, 12);
  long count = 0;
  for (const RowSpan& s : spans) count += s.x1 - s.x0;
  int brute = 0;
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 12; ++x) {
      const double dx = x - 5, dy = y - 5;
      const double u = (dx + dy) / std::sqrt(2.0), v = (dy - dx) / std::sqrt(2.0);
      brute += (u >= -2 && u < 2 && v >= -2 && v < 2);
    }
  BOOST_TEST(count == brute);
  BOOST_TEST(count == 13);
  for (const RowSpan& s : spans) BOOST_TEST(s.x1 - s.x0 == 5 - 2 * std::abs(s.y - 5));
  // The upright square has 16 pixels and includes the corner (3, 3), the diamond does not.
  f.angle = 0;
  f.support = {3, 3, 7, 7};
  BOOST_TEST(support_spans(f, 12, 12).size() == 4u);
  bool corner = false;
  for (const RowSpan& s : spans) corner = corner || (s.y == 3 && s.x0 <= 3);
  BOOST_TEST(!corner);
}

BOOST_AUTO_TEST_CASE(fast_pixel_spreading_equals_the_slow_loop_for_every_support_and_weighting) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  const int width = 23, height = 17;
  std::vector<Frame> frames;
  for (int l = 0; l < 40; ++l) {
    Frame f;
    f.x = unit(rng) * width;
    f.y = unit(rng) * height;
    f.half_side = 1 + unit(rng) * 6;
    if (l % 2) {
      f.angle = (unit(rng) - 0.5) * 2 * M_PI;
      f.support = bounding_box(support_spans(f, width, height));
    } else {  // axis-aligned, rounded as dense SIFT does
      const int side = static_cast<int>(2 * f.half_side);
      const int x0 = static_cast<int>(std::floor(f.x - side / 2.0 + 0.5)), y0 = static_cast<int>(std::floor(f.y - side / 2.0 + 0.5));
      f.support = {std::max(0, x0), std::max(0, y0), std::min(width, x0 + side), std::min(height, y0 + side)};
    }
    frames.push_back(f);
  }
  Eigen::VectorXd r(frames.size());
  for (auto& v : r) v = unit(rng) - 0.3;
  for (const SupportWeighting& w : {SupportWeighting{WeightingType::uniform, 1.0}, SupportWeighting{WeightingType::gaussian, 0.5},
                                    SupportWeighting{WeightingType::gaussian, 2.0}}) {
    BOOST_TEST_CONTEXT(name_of(w.type) << " " << w.sigma) {
      const Relevance fast = spread_to_pixels(frames, r, width, height, w);
      const RowMatrixXd slow = spread_slowly(frames, r, width, height, w);
      BOOST_TEST((pixel_map(fast.relevance, width, height) - slow).cwiseAbs().maxCoeff() <= 1e-13);
      // Every support holds pixels, so everything arrives.
      BOOST_TEST(fast.account.unassigned == 0.0);
      BOOST_TEST(std::abs(fast.relevance.sum() - r.sum()) <= 1e-12);
    }
  }
}

// ---- p-means tends to max pooling ----

BOOST_AUTO_TEST_CASE(pmeans_relevance_approaches_max_pooling_relevance_as_p_grows) {
  const cv::Mat image = load_image_reference("fashion-mnist:test@4").gray;
  DenseSiftOptions sift;
  sift.bin_sizes = {3, 4};
  const LocalFeatures f = compute_dense_sift(image, sift, "image");
  const Codebook codebook(RowMatrixXf(f.descriptors.topRows(12)), CodebookOptions{});
  CodingOptions soft;
  soft.type = CodingType::soft;
  soft.knn = 3;
  soft.sigma = 0.3;
  const Codes codes = encode(codebook, f, soft);
  PoolingOptions pyramid;
  pyramid.pyramid = {{1, 1}, {2, 2}};
  const auto cells = assign_cells(f, pyramid);
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  Eigen::VectorXd R(pyramid.cells() * 12);
  for (auto& v : R) v = normal(rng);

  PoolingOptions max = pyramid;
  max.type = PoolingType::max;
  const BowEncoding em = pool(codes, cells, pyramid.cells(), max);
  const Eigen::VectorXd winner = pool_relevance(em, R).relevance;
  double previous = 1e300;
  for (double p : {1.0, 4.0, 16.0, 64.0, 256.0, 4096.0}) {
    PoolingOptions pm = pyramid;
    pm.type = PoolingType::pmeans;
    pm.p = p;
    const BowEncoding e = pool(codes, cells, pyramid.cells(), pm);
    const Relevance r = pool_relevance(e, R);
    const double distance = (r.relevance - winner).lpNorm<1>();
    BOOST_TEST_MESSAGE("p = " << p << ": |R_pmeans - R_max|_1 = " << distance);
    BOOST_TEST(distance < previous, "p = " << p);
    previous = distance;
    // The pooled values tend to the maxima too: max * M_c^(-1/p) <= x <= max.
    std::vector<int> members(pyramid.cells(), 0);
    for (const auto& c : cells)
      for (int cell : c) ++members[cell];
    for (long b = 0; b < e.pooled.size(); ++b) {
      BOOST_TEST(e.pooled[b] <= em.pooled[b] * (1 + 1e-12));
      BOOST_TEST(e.pooled[b] >= em.pooled[b] * std::pow(members[b / 12], -1 / p) * (1 - 1e-12));
    }
    BOOST_TEST(std::abs(r.account.relevance_out + r.account.unassigned - R.sum()) <= 1e-12);
  }
  BOOST_TEST(previous <= 1e-6 * R.lpNorm<1>());
}

// ---- colour planes and descriptors ----

BOOST_AUTO_TEST_CASE(colour_planes_by_hand) {
  cv::Mat pixel(1, 1, CV_32FC3, cv::Scalar(0.2, 0.4, 0.6));  // B, G, R
  auto value = [](const cv::Mat& m) { return static_cast<double>(m.at<float>(0, 0)); };
  const auto rgb = colour_planes(pixel, ColourSpace::rgb, "pixel");
  BOOST_TEST(std::abs(value(rgb[0]) - 0.6) <= 1e-7);
  BOOST_TEST(std::abs(value(rgb[2]) - 0.2) <= 1e-7);
  const auto o = colour_planes(pixel, ColourSpace::opponent, "pixel");
  BOOST_TEST(std::abs(value(o[0]) - 0.2 / std::sqrt(2.0)) <= 1e-7);
  BOOST_TEST(std::abs(value(o[1]) - 0.6 / std::sqrt(6.0)) <= 1e-7);
  BOOST_TEST(std::abs(value(o[2]) - 1.2 / std::sqrt(3.0)) <= 1e-7);
  // HSV: V = max = 0.6, S = (0.6 - 0.2) / 0.6, H = 60 (G - B) / (V - min) = 30 degrees = 1/12.
  const auto hsv = colour_planes(pixel, ColourSpace::hsv, "pixel");
  BOOST_TEST(std::abs(value(hsv[0]) - 1.0 / 12) <= 1e-6);
  BOOST_TEST(std::abs(value(hsv[1]) - 2.0 / 3) <= 1e-6);
  BOOST_TEST(std::abs(value(hsv[2]) - 0.6) <= 1e-7);
  const auto grey = colour_planes(pixel, ColourSpace::grey, "pixel");
  BOOST_TEST(std::abs(value(grey[0]) - (0.299 * 0.6 + 0.587 * 0.4 + 0.114 * 0.2)) <= 1e-6);
  // A grey image given to a colour space has R = G = B: opponent O1 = O2 = 0.
  cv::Mat g(1, 1, CV_32F, cv::Scalar(0.5));
  const auto og = colour_planes(g, ColourSpace::opponent, "grey pixel");
  BOOST_TEST(value(og[0]) == 0.0);
  BOOST_TEST(std::abs(value(og[2]) - 1.5 / std::sqrt(3.0)) <= 1e-7);
  BOOST_CHECK_THROW(parse_enum<ColourSpace>("lab", "colour"), std::invalid_argument);
  BOOST_TEST(plane_names(ColourSpace::opponent)[1] == "O2");
}

namespace {
cv::Mat sample_image(const std::string& file, int side) {
  const cv::Mat raw = read_image_file("/usr/share/doc/opencv-doc/examples/data/" + file);
  cv::Mat small;
  cv::resize(raw, small, cv::Size(side, side * raw.rows / raw.cols), 0, 0, cv::INTER_AREA);
  return to_colour_float(small, file);
}
}  // namespace

BOOST_AUTO_TEST_CASE(colour_dense_sift_concatenates_the_planes_descriptors_at_shared_frames) {
  const cv::Mat colour = sample_image("fruits.jpg", 64);
  DescriptorOptions o;
  o.colour = ColourSpace::opponent;
  o.dense.step = 4;
  o.dense.bin_sizes = {3, 5};
  const LocalFeatures f = compute_descriptors(colour, o, "fruits");
  BOOST_TEST(f.descriptors.cols() == 384);
  BOOST_TEST(o.dimension() == 384);
  const auto planes = colour_planes(colour, ColourSpace::opponent, "fruits");
  for (int p = 0; p < 3; ++p) {
    const LocalFeatures one = compute_dense_sift(planes[p], o.dense, "plane");
    BOOST_REQUIRE_EQUAL(one.size(), f.size());
    BOOST_TEST((f.descriptors.middleCols(128 * p, 128) == one.descriptors));
    // A single plane ("separate" channels set `plane`) gives that plane's descriptors.
    DescriptorOptions single = o;
    single.plane = p;
    BOOST_TEST((compute_descriptors(colour, single, "fruits").descriptors == one.descriptors));
  }
  for (int l = 0; l < f.size(); ++l) BOOST_TEST(f.frames[l].half_side == 2.0 * f.frames[l].bin_size);
  o.plane = 3;
  BOOST_CHECK_THROW(o.validate(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(keypoint_sift_supports_follow_scale_and_orientation) {
  const cv::Mat colour = sample_image("box.png", 120);
  DescriptorOptions o;
  o.type = DescriptorType::sift;
  o.keypoint.peak_threshold = 0.01;
  const LocalFeatures grey = compute_descriptors(colour, o, "box");
  BOOST_TEST_MESSAGE(grey.size() << " keypoints");
  BOOST_REQUIRE(grey.size() >= 10);
  BOOST_TEST(grey.descriptors.cols() == 128);
  int turned = 0;
  for (const Frame& f : grey.frames) {
    BOOST_TEST(f.scale > 0);
    BOOST_TEST(std::abs(f.half_side - 2 * o.keypoint.magnif * f.scale) <= 1e-9);  // 4 bins of magnif * sigma
    const std::vector<RowSpan> spans = support_spans(f, grey.image_width, grey.image_height);
    const PixelBox box = bounding_box(spans);
    BOOST_TEST((box.x0 == f.support.x0 && box.y0 == f.support.y0 && box.x1 == f.support.x1 && box.y1 == f.support.y1));
    if (std::abs(std::sin(2 * f.angle)) > 0.3) ++turned;
  }
  BOOST_TEST(turned > 0);  // some supports are really turned
  // Colour: the same keypoints (detected on grey), described on each opponent plane.
  o.colour = ColourSpace::opponent;
  const LocalFeatures opp = compute_descriptors(colour, o, "box");
  BOOST_REQUIRE_EQUAL(opp.size(), grey.size());
  BOOST_TEST(opp.descriptors.cols() == 384);
  for (int l = 0; l < grey.size(); ++l) {
    BOOST_TEST(opp.frames[l].x == grey.frames[l].x);
    BOOST_TEST(opp.frames[l].angle == grey.frames[l].angle);
  }
  // Upright descriptors: angle 0, axis-aligned supports of side 2 * half_side (before clipping).
  o.colour = ColourSpace::grey;
  o.keypoint.orientation = false;
  const LocalFeatures upright = compute_descriptors(colour, o, "box");
  for (const Frame& f : upright.frames) {
    BOOST_TEST(f.angle == 0.0);
    BOOST_TEST(f.support.width() <= static_cast<int>(std::ceil(2 * f.half_side)));
  }
}

// ---- option values and their schemas (docs/config.md) ----

namespace {

// Every value of the enum has a name that parses back to it, and an unknown
// name is refused with a message naming the key, the value and the known names.
template <typename E>
void check_enum_round_trip(const std::vector<std::string>& expected_names) {
  const EnumNames<E>& table = enum_names(E{});
  BOOST_TEST(table.names() == expected_names, boost::test_tools::per_element());
  for (E value : table.values()) {
    const std::string& name = name_of(value);
    BOOST_TEST((parse_enum<E>(name, "key") == value), name);
    BOOST_TEST(name_of(parse_enum<E>(name, "key")) == name);
  }
  try {
    parse_enum<E>("no-such-name", "the_key", "section");
    BOOST_FAIL("an unknown name was accepted");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("section") != std::string::npos, what);
    BOOST_TEST(what.find("the_key") != std::string::npos, what);
    BOOST_TEST(what.find("\"no-such-name\"") != std::string::npos, what);
    BOOST_TEST(what.find(table.choices()) != std::string::npos, what);
  }
}

// `text` parsed as T's JSON throws std::invalid_argument whose message holds `needle`.
template <typename T>
void check_refused(const std::string& text, const std::string& needle) {
  try {
    nlohmann::json::parse(text).get<T>();
    BOOST_ERROR(text << " was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, text << " -> " << e.what());
  }
}

// Written, read back and written again: the same record and the same JSON.
template <typename T>
void check_json_round_trip(const T& o) {
  const nlohmann::json j = o;
  const T back = j.get<T>();
  BOOST_TEST(nlohmann::json(back).dump() == j.dump());
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_option_enum_round_trips_and_unknown_names_list_the_known_ones) {
  check_enum_round_trip<CodingType>({"hard", "soft", "rank"});
  check_enum_round_trip<PoolingType>({"sum", "pmeans", "max"});
  check_enum_round_trip<NormalisationStep>({"l1", "l2", "power"});
  check_enum_round_trip<DescriptorType>({"dsift", "sift"});
  check_enum_round_trip<ColourSpace>({"grey", "rgb", "opponent", "hsv"});
  check_enum_round_trip<PlaneMode>({"concatenate", "separate"});
  check_enum_round_trip<WeightingType>({"uniform", "gaussian", "gradient"});
  check_enum_round_trip<CodebookSearch>({"exact", "kdforest"});
  check_enum_round_trip<KernelType>({"linear", "hik", "chi2", "hellinger", "rbf", "expchi2", "poly"});
  check_enum_round_trip<BiasPolicy>({"none", "uniform", "nonzero"});
  check_enum_round_trip<Replacement>({"uniform", "constant", "blur"});
  check_enum_round_trip<Optimizer>({"adam", "sgd"});
  check_enum_round_trip<Activation>({"relu", "tanh"});
  // Aliases are read, never written.
  BOOST_TEST((parse_kernel("intersection") == KernelType::intersection));
  BOOST_TEST((parse_kernel("polynomial") == KernelType::polynomial));
  BOOST_TEST(kernel_name(KernelType::polynomial) == "poly");
  // In a section, the unknown name is named with its section and key.
  check_refused<CodingOptions>(R"({"type": "sparse"})", "coding: unknown type \"sparse\" (known: hard, soft, rank)");
  check_refused<PoolingOptions>(R"({"type": "min"})", "known: sum, pmeans, max");
  check_refused<NormalisationOptions>(R"({"steps": ["l1", "l3"]})", "unknown steps \"l3\" (known: l1, l2, power)");
  check_refused<DescriptorOptions>(R"({"colour": "lab"})", "descriptor: unknown colour \"lab\" (known: grey, rgb, opponent, hsv)");
  check_refused<DescriptorOptions>(R"({"planes": "stacked"})", "known: concatenate, separate");
  check_refused<DescriptorOptions>(R"({"weighting": "triangle"})", "unknown weighting \"triangle\" (known: uniform, gaussian, gradient)");
  check_refused<CodebookOptions>(R"({"search": "annoy"})", "codebook: unknown search \"annoy\" (known: exact, kdforest)");
  check_refused<CodingOptions>(R"({"type": 1})", "type must be one of hard, soft, rank");
}

BOOST_AUTO_TEST_CASE(integers_out_of_range_or_fractional_are_refused_naming_the_key) {
  // Each would once have been wrapped or truncated silently.
  check_refused<DescriptorOptions>(R"({"step": 4294967300})", "descriptor: step must be a positive integer, got 4294967300");
  check_refused<DescriptorOptions>(R"({"step": 2.5})", "descriptor: step must be a positive integer, got 2.5");
  check_refused<DescriptorOptions>(R"({"bin_sizes": [4294967300]})", "bin_sizes must be an integer in [1, 256], got 4294967300");
  check_refused<DescriptorOptions>(R"({"bin_sizes": [4, 6.5]})", "bin_sizes must be an integer");
  check_refused<DescriptorOptions>(R"({"bin_sizes": []})", "bin_sizes must be a non-empty list");
  check_refused<CodebookOptions>(R"({"words": 4294967312})", "codebook: words must be a positive integer, got 4294967312");
  check_refused<CodebookOptions>(R"({"seed": -1})", "seed must be an integer in [0, 4294967295]");
  check_refused<CodebookOptions>(R"({"seed": 4294967296})", "seed must be an integer in [0, 4294967295]");
  check_refused<PoolingOptions>(R"({"pyramid": [[1, 1, 1]]})", "pyramid");
  check_refused<PoolingOptions>(R"({"pyramid": [[1, 1], [2]]})", "pyramid");
  check_refused<PoolingOptions>(R"({"pyramid": [[65, 1]]})", "pyramid must be an integer in [1, 64]");
  check_refused<CodingOptions>(R"({"type": "soft", "knn": 1001})", "knn must be an integer in [1, 1000]");
  check_refused<CodingOptions>(R"({"type": "soft", "sigma": 0})", "sigma must be a number > 0");
  check_refused<CodingOptions>(R"({"type": "soft", "sigma": "wide"})", "sigma must be a number");
  check_refused<DescriptorOptions>(R"({"fast": 1})", "fast must be true or false");
  check_refused<DescriptorOptions>(R"({"type": "sift", "levels": 11})", "levels must be an integer in [1, 10]");
  check_refused<DescriptorOptions>(R"({"type": "sift", "octaves": 0})", "octaves");
  check_refused<DescriptorOptions>(R"({"plane": 3, "colour": "rgb"})", "plane");
  // Keys of another type are refused, not ignored.
  check_refused<CodingOptions>(R"({"type": "hard", "knn": 3})", "\"knn\" does not apply to type \"hard\"");
  check_refused<DescriptorOptions>(R"({"type": "sift", "step": 3})", "\"step\" does not apply to type \"sift\"");
  check_refused<DescriptorOptions>(R"({"stepp": 3})", "unknown key \"stepp\"");
  // Whole numbers written as reals are integers; the largest seed is kept exactly.
  BOOST_TEST(nlohmann::json::parse(R"({"step": 3.0})").get<DescriptorOptions>().dense.step == 3);
  BOOST_TEST(nlohmann::json::parse(R"({"seed": 4294967295})").get<CodebookOptions>().seed == 4294967295u);
  // Records built in code are range-checked by validate() with the same schema.
  DescriptorOptions d;
  d.dense.bin_sizes = {300};
  BOOST_CHECK_THROW(d.validate(), std::invalid_argument);
  PoolingOptions p;
  p.pyramid = {{0, 1}};
  BOOST_CHECK_THROW(p.validate(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(option_records_written_by_to_json_parse_back_equal) {
  CodingOptions soft;
  soft.type = CodingType::soft;
  soft.knn = 7;
  soft.sigma = 0.25;
  check_json_round_trip(soft);
  CodingOptions rank;
  rank.type = CodingType::rank;
  rank.decay = 3;
  check_json_round_trip(rank);
  check_json_round_trip(CodingOptions{});
  PoolingOptions pm;
  pm.type = PoolingType::pmeans;
  pm.p = 4;
  pm.pyramid = {{1, 1}, {2, 3}};
  check_json_round_trip(pm);
  NormalisationOptions n;
  n.steps = {NormalisationStep::power, NormalisationStep::l2};
  check_json_round_trip(n);
  check_json_round_trip(NormalisationOptions{{}});
  CodebookOptions cb;
  cb.search = CodebookSearch::kdforest;
  cb.seed = 4294967295u;
  check_json_round_trip(cb);
  DescriptorOptions dsift;
  dsift.colour = ColourSpace::opponent;
  dsift.planes = PlaneMode::separate;
  dsift.dense.bin_sizes = {4, 6, 8};
  dsift.weighting = {WeightingType::gaussian, 0.5};
  check_json_round_trip(dsift);
  DescriptorOptions sift;
  sift.type = DescriptorType::sift;
  sift.plane = 2;
  sift.colour = ColourSpace::hsv;
  sift.keypoint.orientation = false;
  check_json_round_trip(sift);
  // The spellings written are today's: a dsift section writes its own keys only.
  const nlohmann::json j = dsift;
  BOOST_TEST(j.at("type") == "dsift");
  BOOST_TEST(j.at("colour") == "opponent");
  BOOST_TEST(j.at("planes") == "separate");
  BOOST_TEST(j.at("weighting") == "gaussian");
  BOOST_TEST(j.at("gaussian_sigma") == 0.5);
  BOOST_TEST(!j.contains("plane"));
  BOOST_TEST(!j.contains("levels"));
  BOOST_TEST(nlohmann::json(CodingOptions{}).dump() == R"({"type":"hard"})");
}
