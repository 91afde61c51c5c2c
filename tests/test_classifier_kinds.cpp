// The classifier kinds on BoW histograms (histogram_classifier.hpp): a fifth
// kind registered through the public interface only -- a nearest-class-mean
// linear classifier f_c(x) = w_c . x + b_c with w_c the mean training
// histogram of class c and b_c = -|w_c|^2 / 2 -- is configured, trained,
// saved, reloaded and explained through the same library path as the CLI's
// `explain` (BowModel::load, HistogramClassifier::check on the request,
// explain, explanation_json), through the `explain` command itself (its
// runner, in this process, where the kind is registered) and the
// evaluation's adapter. Its LRP is exact
// (docs/design.md 1.4: a linear decision is a sum of per-bin terms w_cd x_d plus
// the bias), so the bin relevance is checked against values computed here.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/pipelines/model/histogram_classifier.hpp"
#include "pixelwise/pipelines/io/npy.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

constexpr const char* kFile = "nearest_mean.npy";

class NearestMeanSection : public ClassifierSection {
 public:
  bool bias = true;  ///< b_c = -|w_c|^2 / 2 (else 0)
  std::string kind() const override { return "nearest_mean"; }
  nlohmann::json to_json() const override { return {{"bias", bias}}; }
  void check_combine(Combine combine) const override {
    if (combine != Combine::concatenate) throw std::invalid_argument("a nearest-mean classifier takes \"concatenate\"");
  }
  std::optional<KernelType> summed_kernel() const override { return std::nullopt; }
};

class NearestMean : public HistogramClassifier {
 public:
  NearestMean(std::shared_ptr<const NearestMeanSection> section, RowMatrixXd w, Eigen::VectorXd b)
      : section_(std::move(section)), w_(std::move(w)), b_(std::move(b)) {}
  std::shared_ptr<const ClassifierSection> section() const override { return section_; }
  int classes() const override { return static_cast<int>(w_.rows()); }
  ClassifierAbilities abilities() const override {
    return {{ExplainMethod::lrp, ExplainMethod::sensitivity}, true, false};
  }
  ClassifierPass forward(const Eigen::VectorXd& x) const override {
    ClassifierPass pass;
    pass.scores = w_ * x + b_;
    return pass;
  }
  void check(const RelevanceRequest& r) const override {
    if (r.method != ExplainMethod::lrp) throw std::invalid_argument("a nearest-mean classifier is explained by lrp");
    if (r.versus >= 0) throw std::invalid_argument("a nearest-mean classifier has no pairwise decisions");
  }
  ClassifierRelevance relevance(const Eigen::VectorXd& x, const ClassifierPass& pass, int c,
                                const RelevanceRequest& request) const override {
    check(request);
    ClassifierRelevance r;
    r.score = pass.scores[c];
    r.bias = b_[c];
    r.decomposition = decompose_svm(w_.row(c).transpose().cwiseProduct(x), r.score, r.bias, x, request.policy);
    r.decomposition.account.name = "nearest mean";
    r.explained = "nearest-mean score of " + request.context.class_name(c);
    r.report = {{"classifier", "nearest mean"}};
    return r;
  }
  Eigen::VectorXd gradient(const Eigen::VectorXd&, int c) const override { return w_.row(c).transpose(); }
  std::map<std::string, std::string> save(const std::filesystem::path&) const override {
    RowMatrixXd table(w_.rows(), w_.cols() + 1);
    table << w_, b_;
    return {{kFile, npy_bytes(table)}};
  }
  std::string describe() const override { return "nearest class mean"; }
  const RowMatrixXd& w() const { return w_; }
  const Eigen::VectorXd& b() const { return b_; }

 private:
  std::shared_ptr<const NearestMeanSection> section_;
  RowMatrixXd w_;
  Eigen::VectorXd b_;
};

std::shared_ptr<const ClassifierSection> parse(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("config section \"nearest_mean\": must be a JSON object");
  auto s = std::make_shared<NearestMeanSection>();
  s->bias = j.value("bias", s->bias);
  return s;
}

TrainedClassifier train(const ClassifierSection& section, const TrainingRun& run) {
  const auto& s = dynamic_cast<const NearestMeanSection&>(section);
  RowMatrixXd w = RowMatrixXd::Zero(run.classes, run.X.cols());
  Eigen::VectorXd count = Eigen::VectorXd::Zero(run.classes);
  for (long i = 0; i < run.X.rows(); ++i) {
    w.row(run.labels[i]) += run.X.row(i);
    count[run.labels[i]] += 1;
  }
  for (int c = 0; c < run.classes; ++c) w.row(c) /= count[c];
  Eigen::VectorXd b = s.bias ? Eigen::VectorXd(-0.5 * w.rowwise().squaredNorm()) : Eigen::VectorXd::Zero(run.classes);
  auto classifier = std::make_shared<NearestMean>(std::make_shared<NearestMeanSection>(s), w, b);
  std::vector<int> predicted(run.X.rows());
  for (long i = 0; i < run.X.rows(); ++i) classifier->forward(run.X.row(i).transpose()).scores.maxCoeff(&predicted[i]);
  return {classifier, {{"nearest_mean", true}}, predicted};
}

std::shared_ptr<const HistogramClassifier> load(const ClassifierSection& section, const StoredFiles& files) {
  const RowMatrixXd table = parse_npy_f8(files.need(kFile), files.path(kFile));
  if (table.rows() != files.classes || table.cols() != files.dimension + 1)
    throw std::runtime_error(files.path(kFile) + ": wrong shape");
  return std::make_shared<NearestMean>(std::make_shared<NearestMeanSection>(dynamic_cast<const NearestMeanSection&>(section)),
                                       table.leftCols(files.dimension), table.col(files.dimension));
}

void register_once() {
  static const bool registered = [] {
    register_classifier_kind({"nearest_mean", "nearest_mean", [](const nlohmann::json&) { return true; }, parse, train, load});
    return true;
  }();
  (void)registered;
}

nlohmann::json config_json() {
  return nlohmann::json::parse(R"({
    "descriptor": {"step": 3, "bin_sizes": [3, 4]},
    "codebook": {"words": 24, "training_descriptors": 3000, "seed": 3},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "nearest_mean": {"bias": true}
  })");
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_built_in_kinds_are_registered_in_recognition_order) {
  std::vector<std::string> names;
  for (const auto& k : classifier_kinds()) names.push_back(k.name);
  BOOST_REQUIRE_GE(names.size(), 4u);
  BOOST_TEST((std::vector<std::string>(names.begin(), names.begin() + 4) ==
              std::vector<std::string>{"kernel_map_svm", "one_vs_one_svm", "one_vs_rest_svm", "network"}));
  auto kind_of = [](const char* text) { return PipelineConfig::parse(nlohmann::json::parse(text)).classifier->kind(); };
  BOOST_TEST(kind_of("{}") == "one_vs_rest_svm");
  BOOST_TEST(kind_of(R"({"svm": {"kernel": "chi2"}})") == "one_vs_rest_svm");
  BOOST_TEST(kind_of(R"({"svm": {"kernel": "chi2", "multiclass": "one_vs_one"}})") == "one_vs_one_svm");
  BOOST_TEST(kind_of(R"({"svm": {"kernel": "chi2", "feature_map": {}}})") == "kernel_map_svm");
  BOOST_TEST(kind_of(R"({"network": {}})") == "network");
  BOOST_TEST(test::error_of([] { classifier_kind("nope"); }).find("unknown classifier kind \"nope\"") != std::string::npos);
  BOOST_TEST(test::error_of([] { register_classifier_kind(network_kind()); }).find("already registered") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_fifth_kind_trains_saves_reloads_and_explains_through_the_interface) {
  register_once();
  const PipelineConfig config = PipelineConfig::parse(config_json());
  BOOST_REQUIRE_EQUAL(config.classifier->kind(), "nearest_mean");
  BOOST_TEST(config.to_json()["nearest_mean"] == nlohmann::json({{"bias", true}}));
  BOOST_TEST(!config.to_json().contains("svm"));
  // Two classifier sections are refused, as for the built-in ones.
  nlohmann::json both = config_json();
  both["svm"] = {{"kernel", "hik"}};
  BOOST_TEST(test::error_of([&] { PipelineConfig::parse(both); }).find("give one of them") != std::string::npos);

  const Dataset& train_data = test::cached_dataset("fashion-mnist:train:200");
  const BowModel trained = BowModel::train(config, train_data, nullptr);
  BOOST_TEST(trained.training_info["training_accuracy"].get<double>() > 0.3);
  BOOST_TEST(trained.training_info["nearest_mean"] == true);

  test::ScratchDir dir("classifier-kinds");
  const std::string path = dir / "model";
  trained.save(path);
  const nlohmann::json manifest = test::read_json(path + "/manifest.json");
  BOOST_TEST(manifest["files"].contains(kFile));
  BOOST_TEST(!manifest["files"].contains("support_vectors.npy"));
  BOOST_TEST(manifest["pipeline"] == trained.config.to_json());
  // Saving the reloaded model writes the same manifest, byte for byte.
  const BowModel model = BowModel::load(path);
  model.save(dir / "again");
  BOOST_TEST(read_file(dir / "again/manifest.json") == read_file(path + "/manifest.json"));

  const auto* nm = model.classifier_as<NearestMean>();
  BOOST_REQUIRE(nm);
  BOOST_TEST((nm->w().array() == trained.classifier_as<NearestMean>()->w().array()).all());

  const Dataset& test_data = test::cached_dataset("fashion-mnist:test:3");
  ExplainOptions options;  // lrp, bias policy nonzero: what `pixelwise explain` does by default
  for (const ImageSample& image : test_data.images) {
    // The CLI's order: the request is checked before any input is read, then explained.
    model.classifier->check(relevance_request(model, options, image.source));
    const BowExplanation e = explain(model, model.input(image), -1, options, image.source);
    const Eigen::VectorXd x = model.histogram(model.input(image), image.source);
    const int c = e.class_index;
    // Scores are w . x + b.
    for (int k = 0; k < model.classifier->classes(); ++k)
      BOOST_TEST(std::abs(e.scores[k] - (nm->w().row(k).dot(x) + nm->b()[k])) <= 1e-12);
    BOOST_TEST(e.score == e.scores[c]);
    BOOST_TEST(e.bias == nm->b()[c]);
    // R_d = w_cd x_d + b_c / (number of nonzero bins) on the nonzero bins, 0 elsewhere.
    const long nonzero = (x.array() != 0.0).count();
    for (long d = 0; d < x.size(); ++d) {
      const double expected = x[d] == 0.0 ? 0.0 : nm->w()(c, d) * x[d] + nm->b()[c] / static_cast<double>(nonzero);
      BOOST_TEST(std::abs(e.bin_relevance[d] - expected) <= 1e-12, "bin " << d);
    }
    // Conservation down to the pixels, as the CLI's JSON reports it.
    const nlohmann::json j = explanation_json(model, e);
    BOOST_TEST(j["classifier"] == "nearest mean");
    BOOST_TEST(j["explained"] == "nearest-mean score of " + model.classes[c]);
    BOOST_TEST(j["bias_policy"] == "nonzero");
    const double absorbed = j["absorbed"].get<double>(), unassigned = j["unassigned"].get<double>();
    BOOST_TEST(std::abs(e.pixel_sum + absorbed + unassigned - e.score) < 1e-9);
    BOOST_TEST(j["layers"][0]["name"] == "nearest mean");
  }

  // What the kind cannot do is refused with its own reason.
  ExplainOptions taylor;
  taylor.method = ExplainMethod::taylor;
  const std::string refused = test::error_of([&] { model.classifier->check(relevance_request(model, taylor, "x")); });
  BOOST_TEST(refused == "a nearest-mean classifier is explained by lrp");
  BOOST_CHECK_THROW(explain(model, test_data.images[0].gray, 0, ExplainOptions{}, "x", 1), std::invalid_argument);

  // The evaluation's adapter derives its methods from the kind, and the
  // sensitivity goes through the kind's gradient.
  const auto adapter = make_bow_adapter(std::make_shared<const BowModel>(BowModel::load(path)), path);
  BOOST_TEST((adapter->own_methods() == std::vector<ExplainMethod>{ExplainMethod::lrp, ExplainMethod::sensitivity}));
  const RowMatrixXd sensitivity = bow_sensitivity(model, test_data.images[0].gray, 0, "img");
  BOOST_TEST(sensitivity.minCoeff() >= 0.0);
  BOOST_TEST(sensitivity.maxCoeff() > 0.0);

  // A kind that does not say how to randomise itself has no sanity-check
  // randomisation, and says so instead of returning the trained classifier.
  BOOST_TEST(model.classifier->randomisation_stages().empty());
  const std::string no_randomisation = test::error_of([&] { model.classifier->randomised(1, 1); });
  BOOST_TEST(no_randomisation.find("classifier kind \"nearest_mean\" has no model randomisation") != std::string::npos,
             no_randomisation);
  BOOST_TEST(test::error_of([&] { adapter->randomisation_stages(); }).find("nearest_mean") != std::string::npos);
  BOOST_TEST(test::error_of([&] { adapter->randomised(1, 1); }).find("has no model randomisation") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_explain_command_explains_a_registered_kind) {
  // The command's own runner, parsed from a command line as `pixelwise explain`
  // would be: the kind is found by the registry, not by the command.
  register_once();
  test::ScratchDir dir("classifier-kinds-cli");
  const std::string model_dir = dir / "model";
  BowModel::train(PipelineConfig::parse(config_json()), test::cached_dataset("fashion-mnist:train:200"), nullptr)
      .save(model_dir);
  const BowModel model = BowModel::load(model_dir);
  const std::string out = dir / "out";
  for (const std::string method : {"lrp", "occlusion"}) {
    CLI::App app;
    const Command command = add_explain_command(app);
    app.parse("explain --model " + model_dir + " --method " + method + " --out " + out + "-" + method +
                  " fashion-mnist:test@0 fashion-mnist:test@1",
              false);
    BOOST_REQUIRE_EQUAL(command.run(), 0);
    const Dataset& images = test::cached_dataset("fashion-mnist:test:2");
    std::vector<fs::path> records;
    for (const auto& entry : fs::directory_iterator(out + "-" + method))
      if (entry.path().extension() == ".json") records.push_back(entry.path());
    std::sort(records.begin(), records.end());
    BOOST_REQUIRE_EQUAL(records.size(), 2u);
    for (size_t i = 0; i < records.size(); ++i) {
      const nlohmann::json j = test::read_json(records[i].string());
      // The same decision as the library computes: w . x + b of the predicted class.
      const BowExplanation e = explain(model, model.input(images.images[i]), -1, ExplainOptions{}, "x");
      BOOST_TEST(j["method"] == method);
      BOOST_TEST(j["class"] == model.classes[e.class_index], records[i]);
      BOOST_TEST(std::abs(j["score"].get<double>() - e.score) <= 1e-12, records[i]);
      const RowMatrixXd pixels = parse_npy_f8(read_file((records[i].parent_path() / (records[i].stem().string() + ".npy")).string()),
                                              "map");
      BOOST_TEST(pixels.rows() == images.images[i].gray.rows);
      if (method == "lrp") {
        // The map is the library's, and conserves the score with the account.
        BOOST_TEST((pixels - e.pixels).cwiseAbs().maxCoeff() <= 1e-12 * e.pixels.cwiseAbs().maxCoeff());
        BOOST_TEST(std::abs(pixels.sum() + j["absorbed"].get<double>() + j["unassigned"].get<double>() - e.score) <= 1e-9);
        BOOST_TEST(j["classifier"] == "nearest mean");
      }
    }
  }
}
