// Local features and the BoW encoding (docs/design.md 1.1-1.3) on real images.
#include <boost/test/unit_test.hpp>

#include <opencv2/imgproc.hpp>
#include <random>

#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/dense_sift.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"
#include "test_support.hpp"

using namespace pixelwise;

BOOST_AUTO_TEST_CASE(dense_sift_frames_and_supports_follow_the_geometry) {
  const cv::Mat image = load_image_reference("fashion-mnist:test@0").gray;
  DenseSiftOptions options;
  options.step = 3;
  options.bin_sizes = {4};
  const LocalFeatures f = compute_dense_sift(image, options, "test image");
  // Frames start at x = 1.5 b (the centre of 4 bins) and step by 3 while the
  // 3b + 1 pixels between the outer bin centres fit: (28 - 13) / 3 + 1 = 6 per axis.
  BOOST_REQUIRE_EQUAL(f.size(), 36);
  BOOST_TEST(f.descriptors.cols() == 128);
  BOOST_TEST(f.descriptors.allFinite());
  BOOST_TEST(f.descriptors.minCoeff() >= 0.0f);
  BOOST_TEST(f.frames[0].x == 6.0);
  BOOST_TEST(f.frames[0].y == 6.0);
  BOOST_TEST(f.frames[1].x == 9.0);
  for (const Frame& frame : f.frames) {
    // Support: 4 x bin size = 16 pixels centred on the frame, clipped to the image.
    const int x0 = static_cast<int>(std::floor(frame.x - 8 + 0.5)), y0 = static_cast<int>(std::floor(frame.y - 8 + 0.5));
    BOOST_TEST(frame.support.x0 == std::max(0, x0));
    BOOST_TEST(frame.support.y0 == std::max(0, y0));
    BOOST_TEST(frame.support.x1 == std::min(28, x0 + 16));
    BOOST_TEST(frame.support.y1 == std::min(28, y0 + 16));
    BOOST_TEST(frame.support.area() > 0);
  }
}

BOOST_AUTO_TEST_CASE(several_scales_share_centres_as_in_phow) {
  const cv::Mat image = load_image_reference("fashion-mnist:test@1").gray;
  DenseSiftOptions options;
  options.bin_sizes = {2, 4};
  const LocalFeatures f = compute_dense_sift(image, options, "test image");
  int small = 0, large = 0;
  for (const Frame& frame : f.frames) (frame.bin_size == 2 ? small : large)++;
  BOOST_TEST(small >= large);
  BOOST_TEST(large > 0);
  // The first frame of every scale has the same centre.
  BOOST_TEST(f.frames[0].x == f.frames[small].x);
  BOOST_TEST(f.frames[0].y == f.frames[small].y);
}

BOOST_AUTO_TEST_CASE(an_image_too_small_for_one_descriptor_is_an_error_naming_it) {
  cv::Mat tiny(10, 40, CV_32F, cv::Scalar(0.5));
  DenseSiftOptions options;
  options.bin_sizes = {4};
  try {
    compute_dense_sift(tiny, options, "tiny.png");
    BOOST_FAIL("no error for a 40 x 10 image");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("tiny.png") != std::string::npos);
    BOOST_TEST(what.find("smaller than one descriptor") != std::string::npos);
  }
  options.bin_sizes = {};
  BOOST_CHECK_THROW(options.validate(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(codebook_is_seeded_and_search_is_exact) {
  const Dataset data = load_dataset("fashion-mnist:train:20");
  DenseSiftOptions sift;
  std::vector<RowMatrixXf> parts;
  long rows = 0;
  for (const auto& image : data.images) {
    parts.push_back(compute_dense_sift(image.gray, sift, image.name).descriptors);
    rows += parts.back().rows();
  }
  RowMatrixXf all(rows, 128);
  long r = 0;
  for (const auto& p : parts) {
    all.middleRows(r, p.rows()) = p;
    r += p.rows();
  }
  CodebookOptions options;
  options.words = 16;
  options.training_descriptors = 500;
  options.seed = 5;
  const Codebook a = Codebook::train(all, options), b = Codebook::train(all, options);
  BOOST_TEST((a.centres() == b.centres()));  // same seed, same output
  options.seed = 6;
  const Codebook c = Codebook::train(all, options);
  BOOST_TEST(!(a.centres() == c.centres()));

  // Exact search equals a brute-force loop over all centres.
  const std::vector<int> nearest = a.nearest(all);
  for (long i = 0; i < all.rows(); i += 7) {
    int best = 0;
    double best_distance = 1e300;
    for (int w = 0; w < a.words(); ++w) {
      const double d = (all.row(i).cast<double>() - a.centres().row(w).cast<double>()).squaredNorm();
      if (d < best_distance) best_distance = d, best = w;
    }
    BOOST_TEST(nearest[i] == best);
  }
  // kd-forest search with many checks agrees with exact search.
  CodebookOptions forest = options;
  forest.search = CodebookSearch::kdforest;
  forest.kdforest_checks = 1000;
  const Codebook approximate(a.centres(), forest);
  BOOST_TEST(approximate.nearest(all) == nearest);

  options.words = static_cast<int>(all.rows()) + 1;
  options.training_descriptors = options.words;
  BOOST_CHECK_THROW(Codebook::train(all, options), std::runtime_error);
}

namespace {
// The obviously correct search: every word's squared distance summed in
// double, sorted by (distance, index).
std::vector<int> brute_force_nearest(const Eigen::RowVectorXd& x, const RowMatrixXd& centres, int k,
                                     std::vector<double>& distances) {
  std::vector<std::pair<double, int>> all(static_cast<size_t>(centres.rows()));
  for (long v = 0; v < centres.rows(); ++v) all[v] = {(x - centres.row(v)).squaredNorm(), static_cast<int>(v)};
  std::partial_sort(all.begin(), all.begin() + k, all.end());
  std::vector<int> index(k);
  distances.resize(k);
  for (int j = 0; j < k; ++j) index[j] = all[j].second, distances[j] = all[j].first;
  return index;
}

// Exact search (a float32 GEMM, then the candidates within its error bound
// re-ranked in double) against the brute force, on every descriptor.
void check_exact_search(const Codebook& codebook, const RowMatrixXf& descriptors, int k) {
  const Codebook::Neighbours fast = codebook.nearest_k(descriptors, k);
  const Codebook::Neighbours fast_double = codebook.nearest_k(RowMatrixXd(descriptors.cast<double>()), k);
  const RowMatrixXd centres = codebook.centres().cast<double>();
  long differing = 0, differing_double = 0;
  double worst_distance_error = 0;
  std::vector<double> distances;
  for (long i = 0; i < descriptors.rows(); ++i) {
    const std::vector<int> expected = brute_force_nearest(descriptors.row(i).cast<double>(), centres, k, distances);
    bool same = true, same_double = true;
    for (int j = 0; j < k; ++j) {
      same = same && fast.index[i * k + j] == expected[j];
      same_double = same_double && fast_double.index[i * k + j] == expected[j];
      worst_distance_error = std::max(worst_distance_error, std::abs(fast.distance[i * k + j] - distances[j]));
    }
    differing += !same;
    differing_double += !same_double;
  }
  BOOST_TEST(differing == 0);
  BOOST_TEST(differing_double == 0);
  BOOST_TEST(worst_distance_error == 0.0);  // the same sum in the same order
}

RowMatrixXf stack_rows(const std::vector<RowMatrixXf>& parts) {
  long rows = 0;
  for (const auto& p : parts) rows += p.rows();
  RowMatrixXf all(rows, parts.front().cols());
  long r = 0;
  for (const auto& p : parts) {
    all.middleRows(r, p.rows()) = p;
    r += p.rows();
  }
  return all;
}
}  // namespace

BOOST_AUTO_TEST_CASE(exact_search_by_matrix_product_equals_brute_force_on_real_descriptors) {
  // The benchmark photo of benchmarks/bench_pipeline.cpp: opencv-doc's
  // home.jpg at 500 x 375, dense SIFT every 6 pixels at bin sizes 4, 6, 8, 10
  // (18604 descriptors), against 4096 words drawn from four other photos.
  const std::string samples = "/usr/share/doc/opencv-doc/examples/data/";
  DenseSiftOptions sift;
  sift.step = 6;
  sift.bin_sizes = {4, 6, 8, 10};
  auto photo = [&](const char* name) {
    cv::Mat resized;
    cv::resize(load_gray_image(samples + name), resized, cv::Size(500, 375), 0, 0, cv::INTER_AREA);
    return compute_dense_sift(resized, sift, name).descriptors;
  };
  const RowMatrixXf image = photo("home.jpg");
  BOOST_REQUIRE_EQUAL(image.rows(), 18604);
  std::vector<RowMatrixXf> others;
  for (const char* name : {"fruits.jpg", "building.jpg", "baboon.jpg", "stuff.jpg"}) others.push_back(photo(name));
  const Codebook photo_words(sample_rows(stack_rows(others), 4096, 8), CodebookOptions{});
  check_exact_search(photo_words, image, 1);
  check_exact_search(photo_words, image.topRows(3000), 5);

  // Fashion-MNIST: descriptors of 40 test images against 200 words learnt on
  // 40 others, as in the demo pipeline.
  std::vector<RowMatrixXf> train, test;
  for (int i = 0; i < 40; ++i) {
    train.push_back(compute_dense_sift(load_image_reference("fashion-mnist:train@" + std::to_string(i)).gray,
                                       DenseSiftOptions{}, "train").descriptors);
    test.push_back(compute_dense_sift(load_image_reference("fashion-mnist:test@" + std::to_string(i)).gray,
                                      DenseSiftOptions{}, "test").descriptors);
  }
  CodebookOptions words;
  words.words = 200;
  words.training_descriptors = 5000;
  const Codebook fashion_words = Codebook::train(stack_rows(train), words);
  check_exact_search(fashion_words, stack_rows(test), 1);
  check_exact_search(fashion_words, stack_rows(test), 5);
}

BOOST_AUTO_TEST_CASE(exact_search_resolves_ties_and_near_ties_below_float_precision) {
  // x has integer entries in [500, 1500] (exact in float; |x|^2 about 1.4e8,
  // where float32 values are 8 or 16 apart). Word 0 sits at squared distance
  // (100 + 2^-8)^2 along one axis, word 1 at exactly 100^2 along another and
  // word 2 at exactly 100^2 along a third; words 3.. are far. Word 0 is
  // farther than word 1 by 0.78, far below what the float32 values
  // g = |c|^2 - 2 x.c resolve, so on some of these draws the float order is
  // wrong; the exact order is always 1, 2 (the tie, lower index first), 0.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> entry(500, 1500);
  const float delta = std::ldexp(1.0f, -8);
  const double far = std::pow(100.0 + std::ldexp(1.0, -8), 2);
  int wrong_nearest = 0, wrong_three = 0;
  for (int draw = 0; draw < 300; ++draw) {
    Eigen::RowVectorXf x(128);
    for (int i = 0; i < 128; ++i) x[i] = static_cast<float>(entry(rng));
    const int axis = draw % 100;
    RowMatrixXf centres = x.replicate(12, 1);
    centres(0, axis) += 100.0f + delta;
    centres(1, axis + 1) += 100.0f;
    centres(2, axis + 2) += 100.0f;
    for (int v = 3; v < 12; ++v) centres(v, axis + v) += 150.0f + static_cast<float>(v);
    const Codebook codebook(centres, CodebookOptions{});
    const RowMatrixXf query = x;
    wrong_nearest += codebook.nearest(query) != std::vector<int>{1};
    const Codebook::Neighbours nn = codebook.nearest_k(query, 3);
    wrong_three += nn.index != std::vector<int>{1, 2, 0} || nn.distance != std::vector<double>{1e4, 1e4, far};
  }
  BOOST_TEST(wrong_nearest == 0);
  BOOST_TEST(wrong_three == 0);
}

BOOST_AUTO_TEST_CASE(hard_coding_sum_pooling_and_cells_on_a_real_image) {
  const cv::Mat image = load_image_reference("fashion-mnist:test@2").gray;
  const LocalFeatures f = compute_dense_sift(image, DenseSiftOptions{}, "image");
  RowMatrixXf centres = f.descriptors.topRows(8);
  const Codebook codebook(centres, CodebookOptions{});
  const Codes codes = encode(codebook, f, CodingOptions{});
  BOOST_REQUIRE_EQUAL(codes.features(), f.size());
  for (int l = 0; l < codes.features(); ++l) {
    BOOST_TEST(codes.offsets[l + 1] - codes.offsets[l] == 1);
    BOOST_TEST(codes.weight[codes.offsets[l]] == 1.0);
  }
  for (int l = 0; l < 8; ++l) BOOST_TEST(codes.word[l] == l);  // a centre's nearest word is itself

  PoolingOptions pooling;
  pooling.pyramid = {{1, 1}, {2, 2}};
  const auto cells = assign_cells(f, pooling);
  for (int l = 0; l < f.size(); ++l) {
    BOOST_REQUIRE_EQUAL(cells[l].size(), 2u);
    BOOST_TEST(cells[l][0] == 0);
    const int expected = 1 + (f.frames[l].y >= 14 ? 2 : 0) + (f.frames[l].x >= 14 ? 1 : 0);
    BOOST_TEST(cells[l][1] == expected);
  }
  const BowEncoding e = pool(codes, cells, pooling.cells(), pooling);
  BOOST_TEST(e.pooled.size() == 5 * 8);
  BOOST_TEST(e.pooled.head(8).sum() == f.size());       // whole image
  BOOST_TEST(e.pooled.tail(32).sum() == f.size());      // the four quadrants
}

BOOST_AUTO_TEST_CASE(normalisations_by_hand) {
  const Eigen::VectorXd x = (Eigen::VectorXd(3) << 3.0, 0.0, 1.0).finished();
  using S = NormalisationStep;
  NormalisationOptions l1{{S::l1}}, l2{{S::l2}}, power{{S::power}}, both{{S::power, S::l2}};
  BOOST_TEST((normalise(x, l1) - Eigen::Vector3d(0.75, 0, 0.25)).norm() <= 1e-16);
  BOOST_TEST((normalise(x, l2) - Eigen::Vector3d(3 / std::sqrt(10.0), 0, 1 / std::sqrt(10.0))).norm() <= 1e-16);
  BOOST_TEST((normalise(-x, power) - Eigen::Vector3d(-std::sqrt(3.0), 0, -1)).norm() <= 1e-15);
  BOOST_TEST((normalise(x, both) - Eigen::Vector3d(std::sqrt(3.0) / 2, 0, 0.5)).norm() <= 1e-15);
  BOOST_TEST(normalise(Eigen::VectorXd::Zero(3), l1).isZero(0));  // no division by zero
  BOOST_CHECK_THROW(nlohmann::json::parse(R"({"steps": ["l3"]})").get<NormalisationOptions>(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(images_are_read_as_grey_in_unit_range_and_bad_files_are_named) {
  test::ScratchDir dir("images");
  const std::string corrupt = dir / "corrupt.png";
  { std::ofstream(corrupt) << "\x89PNG definitely not a png"; }
  try {
    load_gray_image(corrupt);
    BOOST_FAIL("corrupt image accepted");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("corrupt.png") != std::string::npos);
  }
  BOOST_CHECK_THROW(load_gray_image(dir / "missing.png"), std::runtime_error);
  cv::Mat nan_image(20, 20, CV_32F, cv::Scalar(std::nan("")));
  BOOST_CHECK_THROW(to_gray_float(nan_image, "nan image"), std::runtime_error);
  const cv::Mat gray = load_image_reference("fashion-mnist:test@0").gray;
  double lo, hi;
  cv::minMaxLoc(gray, &lo, &hi);
  BOOST_TEST(lo >= 0.0);
  BOOST_TEST(hi <= 1.0);
  BOOST_TEST(hi > 0.5);
}
