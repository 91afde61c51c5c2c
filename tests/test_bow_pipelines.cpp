// Whole BoW pipelines with every pipeline stage, trained on real images:
// conservation for every coding, pooling, pyramid, normalisation, weighting and
// kernel (exact except for relevance reported as unassigned); several feature
// channels combined by concatenation or a sum of kernels; libsvm's one-vs-one
// models; the PASCAL VOC reader on a VOC-layout fixture built here from
// Fashion-MNIST items pasted on OpenCV's sample photographs; the CLI's
// per-channel, per-scale layer output; the shipped presets.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

// The first images of a Fashion-MNIST split whose label is below `classes`.
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
  static const Dataset d = fashion_subset("fashion-mnist:train:120", 3);
  return d;
}
const Dataset& test3() {
  static const Dataset d = fashion_subset("fashion-mnist:test:12", 3);
  return d;
}

PipelineConfig config_of(const std::string& text) { return PipelineConfig::parse(nlohmann::json::parse(text)); }

double tolerance(double score) { return 1e-9 * std::max(1.0, std::abs(score)); }

// Conservation of an explanation with bias policy nonzero: every layer passes
// on all it received, nothing absorbed, nothing unassigned, pixels sum to f.
void check_conserved(const BowExplanation& e) {
  BOOST_TEST(std::abs(e.pixel_sum - e.score) <= tolerance(e.score), e.pixel_sum << " vs " << e.score);
  for (const auto& layer : e.layers) {
    BOOST_TEST(std::abs(layer.relevance_out - e.score) <= tolerance(e.score), layer.name);
    BOOST_TEST(layer.absorbed == 0.0, layer.name);
    BOOST_TEST(layer.unassigned == 0.0, layer.name);
  }
  double channels = 0;
  RowMatrixXd sum = RowMatrixXd::Zero(e.pixels.rows(), e.pixels.cols());
  for (const auto& c : e.channels) {
    // Each channel passes its bins' relevance to its pixels.
    BOOST_TEST(std::abs(c.pixel_map.sum() - c.bin_relevance) <= tolerance(e.score), c.name);
    channels += c.bin_relevance;
    sum += c.pixel_map;
  }
  BOOST_TEST(std::abs(channels - e.score) <= tolerance(e.score));
  BOOST_TEST((sum - e.pixels).cwiseAbs().maxCoeff() <= 1e-12);
  // docs/design.md 1.2: each feature's relevance split over the pyramid levels
  // adds up to it, and nothing is lost in the split.
  BOOST_REQUIRE_EQUAL(e.level_relevance.rows(), e.feature_relevance.size());
  BOOST_TEST((e.level_relevance.rowwise().sum() - e.feature_relevance).cwiseAbs().maxCoeff() <= tolerance(e.score));
  BOOST_TEST(std::abs(e.level_relevance.sum() - e.score) <= tolerance(e.score));
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_coding_pooling_pyramid_normalisation_and_kernel_conserves_on_real_images) {
  const std::vector<std::string> codings{R"({"type": "hard"})", R"({"type": "soft", "knn": 3, "sigma": 0.3})",
                                         R"({"type": "rank", "knn": 4, "decay": 2.0})"};
  const std::vector<std::string> poolings{R"("type": "sum")", R"("type": "pmeans", "p": 3)", R"("type": "max")"};
  const std::vector<std::string> normalisations{R"(["l1"])", R"(["l2"])", R"(["power", "l1"])", R"(["l1", "power"])", "[]"};
  const std::vector<std::string> kernels{"hik", "chi2", "linear", "hellinger"};
  const std::vector<std::string> pyramids{"[[1, 1], [2, 2]]", "[[1, 1], [3, 1]]", "[[2, 2]]"};
  int run = 0;
  for (const auto& coding : codings)
    for (const auto& pooling : poolings) {
      const std::string text = R"({"descriptor": {"step": 3, "bin_sizes": [3, 4], "weighting": ")" +
                               std::string(run % 3 == 2 ? "gradient" : run % 3 ? "gaussian" : "uniform") + R"("},
        "codebook": {"words": 16, "training_descriptors": 2000, "seed": 2},
        "coding": )" + coding + R"(, "pooling": {)" + pooling + R"(, "pyramid": )" + pyramids[run % 3] + R"(},
        "normalisation": {"steps": )" + normalisations[run % 5] + R"(},
        "svm": {"kernel": ")" + kernels[run % 4] + R"(", "C": 10}})";
      ++run;
      BOOST_TEST_CONTEXT(text) {
        const BowModel model = BowModel::train(config_of(text), train3(), nullptr);
        for (size_t i = 0; i < 2; ++i) {
          const ImageSample& image = test3().images[i];
          for (int c : {-1, (image.label + 1) % 3}) {
            check_conserved(explain(model, image.gray, c, BiasPolicy::nonzero, image.name));
            // Uniform bias shares: the share b / D of every bin no feature holds
            // cannot go down; it is reported as unassigned, exactly that amount.
            const BowExplanation u = explain(model, image.gray, c, BiasPolicy::uniform, image.name);
            const Eigen::VectorXd x = model.forward(image.gray, image.name).encoding.histogram;
            double empty_bins = 0;
            long empty = 0;
            for (long d = 0; d < x.size(); ++d)
              if (x[d] == 0) empty_bins += u.bin_relevance[d], ++empty;
            BOOST_TEST(empty > 0);
            BOOST_TEST(std::abs(u.layers[1].unassigned - empty_bins) <= 1e-12);
            BOOST_TEST(std::abs(u.layers[1].unassigned - empty * u.bias / x.size()) <= 1e-12);
            BOOST_TEST(std::abs(u.pixel_sum - (u.score - u.layers[1].unassigned)) <= tolerance(u.score));
          }
        }
      }
    }
}

BOOST_AUTO_TEST_CASE(the_pixel_rule_overrides_every_channels_weighting) {
  // docs/design.md 1.9: asked at explain time, gradient spreading gives the map
  // a model configured with it gives; it differs from uniform spreading and
  // leaves more of the flat black background of a Fashion-MNIST item at 0.
  auto trained = [](const std::string& weighting) {
    return BowModel::train(config_of(R"({"descriptor": {"step": 3, "bin_sizes": [3, 4], "weighting": ")" + weighting +
                                     R"("}, "codebook": {"words": 16, "training_descriptors": 2000, "seed": 2},
                                     "svm": {"kernel": "hik", "C": 10}})"),
                           train3(), nullptr);
  };
  const BowModel uniform = trained("uniform"), gradient = trained("gradient");
  ExplainOptions asked;
  asked.pixel_rule = WeightingType::gradient;
  for (size_t i = 0; i < 2; ++i) {
    const ImageSample& image = test3().images[i];
    const BowExplanation a = explain(uniform, image.gray, -1, asked, image.name);
    const BowExplanation b = explain(gradient, image.gray, -1, ExplainOptions{}, image.name);
    const BowExplanation u = explain(uniform, image.gray, -1, ExplainOptions{}, image.name);
    check_conserved(a);
    BOOST_TEST((a.pixels - b.pixels).cwiseAbs().maxCoeff() == 0.0);
    BOOST_TEST((a.pixels - u.pixels).cwiseAbs().maxCoeff() > 1e-6 * std::abs(a.score));
    BOOST_TEST((a.pixels.array() == 0.0).count() > (u.pixels.array() == 0.0).count());
  }
}

BOOST_AUTO_TEST_CASE(channels_as_concatenated_histograms_or_a_sum_of_weighted_kernels) {
  const std::string channels = R"("channels": [
      {"name": "fine", "descriptor": {"bin_sizes": [3]}},
      {"name": "coarse", "descriptor": {"bin_sizes": [5], "step": 4}, "codebook": {"words": 10, "seed": 5},
       "coding": {"type": "soft", "knn": 2, "sigma": 0.3})";
  const std::string base = R"({"descriptor": {"step": 3}, "codebook": {"words": 12, "training_descriptors": 2000, "seed": 2},
      "pooling": {"pyramid": [[1, 1], [2, 2]]}, "svm": {"kernel": "hik", "C": 10}, )";
  // Sum of kernels: each channel normalised on its own, kernel weights 1 and 0.5.
  const PipelineConfig sum_config = config_of(base + R"("combine": "sum_of_kernels", )" + channels +
                                              R"(, "weight": 0.5, "normalisation": {"steps": ["l2"]}}]})");
  const BowModel sum = BowModel::train(sum_config, train3(), nullptr);
  BOOST_REQUIRE_EQUAL(sum.channels.size(), 2u);
  BOOST_TEST((sum.channels[1].coding.type == CodingType::soft));
  BOOST_TEST(sum.channels[1].codebook.words == 10);
  BOOST_TEST(sum.channels[0].codebook.words == 12);  // inherited from the top level
  for (size_t i = 0; i < 3; ++i) {
    const ImageSample& image = test3().images[i];
    const auto f = sum.forward(image.gray, image.name);
    // f_c(x) = sum_i coef_i (k(sv_i,fine, x_fine) + 0.5 k(sv_i,coarse, x_coarse)) - rho with the
    // unweighted blocks: the coarse block is stored scaled by 0.5 (hik is homogeneous of degree 1).
    const auto& fine = f.encoding.channels[0];
    const auto& coarse = f.encoding.channels[1];
    BOOST_TEST((fine.bow.histogram - normalise(fine.bow.pooled, NormalisationOptions{{NormalisationStep::l1}})).norm() <= 1e-15);
    const Eigen::VectorXd x_coarse = normalise(coarse.bow.pooled, NormalisationOptions{{NormalisationStep::l2}});
    BOOST_TEST((coarse.bow.histogram - 0.5 * x_coarse).norm() <= 1e-15);
    const OneVsRestSvm& svm = sum.classifier_as<KernelSvmClassifier>()->machines();
    const RowMatrixXd& sv = svm.support_vectors();
    for (int c = 0; c < 3; ++c) {
      const BinaryMachine& m = svm.machine(c);
      double by_hand = -m.rho;
      for (size_t k = 0; k < m.support.size(); ++k) {
        const Eigen::VectorXd s = sv.row(m.support[k]).transpose();
        const Eigen::VectorXd s_fine = s.segment(fine.offset, fine.bow.pooled.size());
        const Eigen::VectorXd s_coarse = s.segment(coarse.offset, coarse.bow.pooled.size()) / 0.5;
        by_hand += m.coef[k] * (kernel_value(KernelType::intersection, s_fine.data(), fine.bow.histogram.data(), s_fine.size()) +
                                0.5 * kernel_value(KernelType::intersection, s_coarse.data(), x_coarse.data(), s_coarse.size()));
      }
      BOOST_TEST(std::abs(by_hand - f.scores[c]) <= 1e-12);
    }
    const BowExplanation e = explain(sum, image.gray, -1, BiasPolicy::nonzero, image.name);
    check_conserved(e);
    // Without the per-level split (the command line's setting) the
    // explanation is the same to the last bit, only level_relevance is left out.
    ExplainOptions no_levels;
    no_levels.levels = false;
    const BowExplanation lean = explain(sum, image.gray, -1, no_levels, image.name);
    BOOST_TEST(lean.level_relevance.size() == 0);
    BOOST_TEST((lean.pixels == e.pixels));
    BOOST_TEST((lean.feature_relevance == e.feature_relevance));
    BOOST_REQUIRE_EQUAL(e.channels.size(), 2u);
    BOOST_TEST(e.channels[0].features + e.channels[1].features == e.features.size());
    for (int l = 0; l < e.features.size(); ++l)
      BOOST_TEST(e.features.frames[l].channel == (l < e.channels[1].first_feature ? 0 : 1));
    const nlohmann::json j = explanation_json(sum, e);
    BOOST_TEST(j["channels"][1]["name"] == "coarse");
    BOOST_TEST(j["channels"][1]["words"] == 10);
    BOOST_TEST(j["channels"][1]["bins"][0] == 5 * 12);
  }

  // Concatenation: one l1 normalisation of the joint histogram.
  const BowModel cat = BowModel::train(config_of(base + channels + "}]}"), train3(), nullptr);
  const ImageSample& image = test3().images[0];
  const auto f = cat.forward(image.gray, image.name);
  Eigen::VectorXd joint(f.encoding.histogram.size());
  for (const auto& ch : f.encoding.channels) joint.segment(ch.offset, ch.bow.pooled.size()) = ch.bow.pooled;
  BOOST_TEST((f.encoding.histogram - joint / joint.sum()).norm() <= 1e-15);
  check_conserved(explain(cat, image.gray, 2, BiasPolicy::nonzero, image.name));

  // The configuration round-trips, and the model directory too.
  BOOST_TEST(PipelineConfig::parse(sum_config.to_json()).to_json() == sum_config.to_json());
  test::ScratchDir dir("channels");
  sum.save(dir / "model");
  BOOST_TEST(fs::exists(dir / "model/codebook-1.npy"));
  const BowModel again = BowModel::load(dir / "model");
  BOOST_TEST((again.forward(image.gray, "x").scores.array() == sum.forward(image.gray, "x").scores.array()).all());

  // Configuration errors name the problem.
  BOOST_CHECK_THROW(config_of(base + channels + R"(, "weight": 2}]})"), std::invalid_argument);  // weights need sum_of_kernels
  BOOST_CHECK_THROW(config_of(R"({"channels": [{"name": "a"}, {"name": "a"}]})"), std::invalid_argument);
  BOOST_CHECK_THROW(config_of(R"({"combine": "product"})"), std::invalid_argument);
  BOOST_CHECK_THROW(config_of(R"({"combine": "sum_of_kernels", "svm": {"kernel": "expchi2"}})"), std::invalid_argument);
  BOOST_CHECK_THROW(config_of(R"({"channels": [{"descriptor": {"type": "sift", "step": 3}}]})"), std::invalid_argument);
  BOOST_CHECK_THROW(config_of(R"({"pooling": {"type": "sum", "p": 3}})"), std::invalid_argument);
  // A channel naming another type keeps the shared keys and drops the other type's.
  const PipelineConfig sift = config_of(R"({"pooling": {"type": "pmeans", "p": 4, "pyramid": [[2, 2]]},
      "channels": [{"pooling": {"type": "max"}, "descriptor": {"type": "sift", "colour": "rgb", "planes": "separate"}}]})");
  const auto list = sift.channel_list();
  BOOST_REQUIRE_EQUAL(list.size(), 3u);
  BOOST_TEST(list[2].name == "sift-rgb/B");
  BOOST_TEST(list[2].descriptor.plane == 2);
  BOOST_TEST((list[0].pooling.type == PoolingType::max));
  BOOST_TEST(list[0].pooling.pyramid[0][0] == 2);
}

BOOST_AUTO_TEST_CASE(libsvm_one_vs_one_models_pairwise_and_summed_decisions_are_explained) {
  const PipelineConfig config = config_of(R"({"descriptor": {"step": 3, "bin_sizes": [3, 4]},
      "codebook": {"words": 16, "training_descriptors": 2000, "seed": 2}, "pooling": {"pyramid": [[1, 1], [2, 2]]},
      "svm": {"kernel": "chi2", "C": 10, "multiclass": "one_vs_one"}})");
  const BowModel model = BowModel::train(config, train3(), nullptr);
  BOOST_REQUIRE(model.classifier_as<OneVsOneSvmClassifier>());
  const OneVsOneSvm& pairwise = model.classifier_as<OneVsOneSvmClassifier>()->pairwise();
  BOOST_REQUIRE_EQUAL(pairwise.classes(), 3);
  int agree = 0;
  for (const auto& image : test3().images) {
    const auto f = model.forward(image.gray, image.name);
    const Eigen::VectorXd& x = f.encoding.histogram;
    // libsvm's decision values, in its pair order, are our oriented pairwise machines.
    std::vector<double> values;
    const int vote = pairwise.libsvm_predict(x, &values);
    const auto& order = pairwise.label_order();
    std::vector<int> votes(3, 0);
    int p = 0;
    for (int a = 0; a < 3; ++a)
      for (int b = a + 1; b < 3; ++b, ++p) {
        const double ours = pairwise.pairwise_machine(order[a], order[b]).decision(0, x);
        BOOST_TEST(std::abs(ours - values[p]) <= 1e-12);
        BOOST_TEST(std::abs(pairwise.pairwise_machine(order[b], order[a]).decision(0, x) + ours) <= 1e-12);
        ++votes[ours > 0 ? order[a] : order[b]];
      }
    // libsvm's winner: most votes, ties to the class it met first.
    int best = order[0];
    for (int a = 1; a < 3; ++a)
      if (votes[order[a]] > votes[best]) best = order[a];
    BOOST_TEST(vote == best);
    // The class scores are the sums of the pairwise decisions involving the class.
    for (int c = 0; c < 3; ++c) {
      double s = 0;
      for (int o = 0; o < 3; ++o)
        if (o != c) s += pairwise.pairwise_machine(c, o).decision(0, x);
      BOOST_TEST(std::abs(f.scores[c] - s) <= 1e-12);
    }
    int argmax;
    f.scores.maxCoeff(&argmax);
    agree += argmax == vote;

    const BowExplanation summed = explain(model, image.gray, -1, BiasPolicy::nonzero, image.name);
    check_conserved(summed);
    const int other = (summed.class_index + 1) % 3;
    const BowExplanation pair = explain(model, image.gray, summed.class_index, BiasPolicy::nonzero, image.name, other);
    check_conserved(pair);
    BOOST_TEST(std::abs(pair.score - pairwise.pairwise_machine(summed.class_index, other).decision(0, x)) <= 1e-12);
    // f_{c,c'} = -f_{c',c}, and so are their explanations.
    const BowExplanation reverse = explain(model, image.gray, other, BiasPolicy::nonzero, image.name, summed.class_index);
    BOOST_TEST((pair.pixels + reverse.pixels).cwiseAbs().maxCoeff() <= 1e-12);
    BOOST_TEST(explanation_json(model, pair)["versus"] == model.classes[other]);
  }
  BOOST_TEST_MESSAGE("summed-score argmax equals libsvm's vote on " << agree << "/" << test3().images.size());
  BOOST_CHECK_THROW(explain(model, test3().images[0].gray, 1, BiasPolicy::nonzero, "x", 1), std::invalid_argument);

  test::ScratchDir dir("ovo");
  model.save(dir / "model");
  BOOST_TEST(fs::exists(dir / "model/svm-ovo.model"));
  const BowModel again = BowModel::load(dir / "model");
  const cv::Mat& g = test3().images[1].gray;
  BOOST_TEST((again.forward(g, "x").scores.array() == model.forward(g, "x").scores.array()).all());
  // A one-vs-rest model has no pairwise decisions.
  const BowModel ovr = BowModel::train(config_of(R"({"descriptor": {"step": 4, "bin_sizes": [4]},
      "codebook": {"words": 8, "training_descriptors": 1000}})"), train3(), nullptr);
  BOOST_CHECK_THROW(explain(ovr, g, 0, BiasPolicy::nonzero, "x", 1), std::invalid_argument);
}

// ---- PASCAL VOC layout ----

namespace {

// A tiny VOC-layout folder: 64 x 64 JPEGs of Fashion-MNIST trousers (class
// "trouser", label 1) or bags (-1) tinted and pasted at seeded positions on
// crops of OpenCV's sample photographs; two trousers marked 0 (difficult).
struct VocFixture {
  test::ScratchDir dir{"voc"};
  std::string root = dir / "VOC";
  std::vector<std::string> val_images;
  VocFixture() {
    fs::create_directories(root + "/JPEGImages");
    fs::create_directories(root + "/ImageSets/Main");
    const std::string samples = "/usr/share/doc/opencv-doc/examples/data/";
    std::vector<cv::Mat> backgrounds;
    for (const char* name : {"fruits.jpg", "baboon.jpg", "building.jpg", "home.jpg", "orange.jpg", "board.jpg"}) {
      cv::Mat b = read_image_file(samples + name), small;
      cv::resize(b, small, cv::Size(128, 128 * b.rows / b.cols), 0, 0, cv::INTER_AREA);
      backgrounds.push_back(small);
    }
    const Dataset fashion = load_dataset("fashion-mnist:train:300");
    std::vector<const ImageSample*> trousers, bags;
    for (const auto& s : fashion.images) {
      if (s.label == 1) trousers.push_back(&s);
      if (s.label == 8) bags.push_back(&s);
    }
    std::mt19937 rng(11);
    auto draw = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    std::ofstream train(root + "/ImageSets/Main/trouser_train.txt"), val(root + "/ImageSets/Main/trouser_val.txt");
    for (int i = 0; i < 24; ++i) {
      const bool positive = i % 2 == 0;
      const ImageSample& item = *(positive ? trousers : bags).at(i / 2);
      const cv::Mat& b = backgrounds[draw(static_cast<int>(backgrounds.size()))];
      cv::Mat canvas = b(cv::Rect(draw(b.cols - 64), draw(b.rows - 64), 64, 64)).clone();
      cv::Mat object;
      cv::resize(item.gray, object, cv::Size(40, 40));
      const int ox = draw(24), oy = draw(24);
      const cv::Vec3f tint(static_cast<float>(draw(256)), static_cast<float>(draw(256)), static_cast<float>(draw(256)));
      for (int y = 0; y < 40; ++y)
        for (int x = 0; x < 40; ++x) {
          const float a = object.at<float>(y, x);
          cv::Vec3b& px = canvas.at<cv::Vec3b>(oy + y, ox + x);
          for (int k = 0; k < 3; ++k) px[k] = cv::saturate_cast<uchar>((1 - a) * px[k] + a * tint[k]);
        }
      const std::string id = "2009_" + std::to_string(100 + i);
      cv::imwrite(root + "/JPEGImages/" + id + ".jpg", canvas, {cv::IMWRITE_JPEG_QUALITY, 95});
      if (i < 18) {
        train << id << (i == 4 || i == 10 ? "  0" : positive ? "  1" : " -1") << "\n";
      } else {
        val << id << (positive ? "  1" : " -1") << "\n";
        val_images.push_back(root + "/JPEGImages/" + id + ".jpg");
      }
    }
  }
};
VocFixture& voc() {
  static VocFixture f;
  return f;
}

// Colour dense SIFT (concatenated opponent planes), grey dense SIFT, HSV planes as
// separate channels and keypoint SIFT, each with its codebook, as a sum of chi2 kernels.
const char* kVocConfig = R"({
  "descriptor": {"type": "dsift", "step": 4, "bin_sizes": [4, 6]},
  "codebook": {"words": 16, "training_descriptors": 3000, "seed": 4},
  "coding": {"type": "rank", "knn": 3, "decay": 2.4},
  "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
  "combine": "sum_of_kernels",
  "channels": [
    {"name": "grey"},
    {"name": "opponent", "descriptor": {"colour": "opponent"}},
    {"name": "hsv", "descriptor": {"colour": "hsv", "planes": "separate", "step": 6, "bin_sizes": [6]}, "codebook": {"words": 8}},
    {"name": "keypoints", "descriptor": {"type": "sift", "peak_threshold": 0.004, "weighting": "gaussian"},
     "codebook": {"words": 8}, "coding": {"type": "soft", "knn": 2, "sigma": 0.3}, "weight": 0.5}
  ],
  "svm": {"kernel": "chi2", "C": 10}
})";

}  // namespace

BOOST_AUTO_TEST_CASE(voc_reader_reads_labels_skips_difficult_images_and_names_bad_input) {
  const std::string root = voc().root;
  const Dataset d = load_dataset("voc:" + root + ":trouser:train");
  BOOST_TEST(d.classes == (std::vector<std::string>{"not-trouser", "trouser"}));
  BOOST_REQUIRE_EQUAL(d.images.size(), 16u);  // 18 listed, 2 difficult
  int positives = 0;
  for (const auto& s : d.images) {
    BOOST_TEST(s.name != "2009_104");
    BOOST_TEST(s.name != "2009_110");
    positives += s.label;
    BOOST_TEST(s.colour.type() == CV_32FC3);
    BOOST_TEST(s.colour.rows == 64);
    BOOST_TEST(s.gray.type() == CV_32FC1);
  }
  BOOST_TEST(positives == 7);
  BOOST_TEST(d.images[0].label == 1);
  BOOST_TEST(d.images[1].label == 0);
  BOOST_TEST(load_dataset("voc:" + root + ":trouser:train:5").images.size() == 5u);

  auto fails_naming = [](const std::string& spec, const std::string& name) {
    try {
      load_dataset(spec);
      BOOST_ERROR(spec << ": no error");
    } catch (const std::runtime_error& e) {
      BOOST_TEST(std::string(e.what()).find(name) != std::string::npos, e.what());
    }
  };
  fails_naming("voc:" + root + ":cat:train", "cat_train.txt");
  fails_naming("voc:" + root + ":trouser", "voc:ROOT:CLASS:SPLIT");
  test::ScratchDir bad("voc-bad");
  fs::create_directories(bad / "ImageSets/Main");
  fs::create_directories(bad / "JPEGImages");
  std::ofstream(bad / "ImageSets/Main/dog_train.txt") << "a 1\nb 2\n";
  fails_naming("voc:" + bad.path().string() + ":dog:train", "a.jpg: no such image file");
  std::ofstream(bad / "ImageSets/Main/dog_val.txt") << "a\n";
  fails_naming("voc:" + bad.path().string() + ":dog:val", "dog_val.txt:1");
  cv::imwrite(bad / "JPEGImages/a.jpg", cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  fails_naming("voc:" + bad.path().string() + ":dog:train", "dog_train.txt:2");
}

BOOST_AUTO_TEST_CASE(voc_layout_trains_and_explains_colour_keypoint_and_separate_plane_channels) {
  const BowModel model = BowModel::train(config_of(kVocConfig), load_dataset("voc:" + voc().root + ":trouser:train"), nullptr);
  std::vector<std::string> names;
  for (const auto& c : model.channels) names.push_back(c.name);
  BOOST_TEST(names == (std::vector<std::string>{"grey", "opponent", "hsv/H", "hsv/S", "hsv/V", "keypoints"}));
  BOOST_TEST(model.channels[1].descriptor.dimension() == 384);
  const Dataset val = load_dataset("voc:" + voc().root + ":trouser:val");
  int correct = 0;
  for (const auto& image : val.images) {
    const BowExplanation e = explain(model, model.input(image), 1, BiasPolicy::nonzero, image.name);
    check_conserved(e);
    BOOST_TEST(e.pixels.rows() == 64);
    BOOST_TEST(e.channels.size() == 6u);
    BOOST_TEST(e.channels[5].features > 0, "keypoints in " << image.name);
    correct += (e.predicted == image.label);
  }
  BOOST_TEST_MESSAGE("VOC fixture: " << correct << "/" << val.images.size() << " validation images right");
  // Every channel of it (grey, concatenated colour, separate planes and
  // keypoints) conserves with gradient spreading (docs/design.md 1.9).
  ExplainOptions gradient;
  gradient.pixel_rule = WeightingType::gradient;
  for (const auto& image : val.images) check_conserved(explain(model, model.input(image), 1, gradient, image.name));
}

BOOST_AUTO_TEST_CASE(cli_trains_on_voc_and_layers_report_channel_and_scale_of_every_descriptor) {
  test::ScratchDir dir("voc-cli");
  const std::string config = dir / "config.json", model_dir = dir / "model", out = dir / "out";
  std::ofstream(config) << kVocConfig;
  const auto trained = test::run_cli("train --quiet --config " + config + " --data voc:" + voc().root +
                                     ":trouser:train --out " + model_dir);
  BOOST_REQUIRE_MESSAGE(trained.exit_code == 0, trained.output);
  const std::string image = voc().val_images[0];
  const auto r = test::run_cli("explain --layers --class trouser --model " + model_dir + " --out " + out + " " + image);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const nlohmann::json j = test::read_json(out + "/" + fs::path(image).stem().string() + ".json");
  const BowModel model = BowModel::load(model_dir);
  const BowExplanation e = explain(model, model.input(load_image_reference(image)), 1, BiasPolicy::nonzero, "x");
  BOOST_TEST(j["pixel_sum"].get<double>() == e.pixel_sum);
  BOOST_TEST(std::abs(j["residual"].get<double>()) <= tolerance(e.score));
  BOOST_REQUIRE_EQUAL(j["channels"].size(), 6u);
  std::map<std::string, int> per_channel;
  std::set<double> scales;
  for (const auto& d : j["descriptor_relevance"]) {
    ++per_channel[d["channel"].get<std::string>()];
    scales.insert(d["scale"].get<double>());
    BOOST_TEST(d.contains("angle"));
  }
  for (const auto& c : j["channels"]) BOOST_TEST(per_channel[c["name"].get<std::string>()] == c["descriptors"].get<int>());
  BOOST_TEST(scales.count(4.0) == 1u);  // dense bin sizes 4 and 6, and keypoint sigmas
  BOOST_TEST(scales.count(6.0) == 1u);
  BOOST_TEST(scales.size() > 3u);
  BOOST_TEST(j["bin_relevance"].size() == static_cast<size_t>(e.bin_relevance.size()));
  const auto bad = test::run_cli("explain --versus 0 --model " + model_dir + " --out " + dir / "bad" + " " + image);
  BOOST_TEST(bad.exit_code != 0);
  BOOST_TEST(bad.output.find("one-vs-one") != std::string::npos, bad.output);
  BOOST_TEST(!fs::exists(dir / "bad"));  // refused before any output
}

BOOST_AUTO_TEST_CASE(shipped_presets_parse_and_the_voc_preset_trains_when_scaled_down) {
  const PipelineConfig demo = PipelineConfig::load(test::source_dir() + "/configs/demo.json");
  BOOST_TEST(demo.channel_list().size() == 1u);
  nlohmann::json j = nlohmann::json::parse(read_file(test::source_dir() + "/configs/voc_paper.json"));
  const PipelineConfig paper = PipelineConfig::parse(j);
  BOOST_TEST(paper.channel_list().size() == 3u);
  BOOST_TEST(paper.codebook.words == 4000);
  BOOST_TEST((paper.coding.type == CodingType::rank));
  BOOST_TEST((paper.section<SvmSection>()->options.kernel == KernelType::expchi2));
  // The same pipeline with a small vocabulary and a sparser grid, on the fixture.
  j["codebook"]["words"] = 12;
  j["codebook"]["training_descriptors"] = 3000;
  j["codebook"]["search"] = "exact";
  j["descriptor"]["step"] = 8;
  const BowModel model = BowModel::train(PipelineConfig::parse(j), load_dataset("voc:" + voc().root + ":trouser:train"), nullptr);
  ExplainOptions taylor;
  taylor.method = ExplainMethod::taylor;
  const ImageSample image = load_image_reference(voc().val_images[1]);
  const BowExplanation e = explain(model, model.input(image), 1, taylor, image.name);
  // The Taylor step leaves a residual at the SVM layer and gives relevance to
  // bins the image lacks (x_d = 0 but x0_d != 0): those cannot reach a feature
  // and are reported as unassigned; the rest arrives at the pixels.
  const Eigen::VectorXd x = model.forward(model.input(image), "x").encoding.histogram;
  double empty = 0;
  for (long d = 0; d < x.size(); ++d)
    if (x[d] == 0) empty += e.bin_relevance[d];
  BOOST_TEST(std::abs(e.layers[1].unassigned - empty) <= 1e-12);
  BOOST_TEST(std::abs(e.pixel_sum - (e.layers[0].relevance_out - e.layers[1].unassigned)) <= tolerance(e.score));
}
