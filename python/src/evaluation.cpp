// Python bindings of the explanation methods and evaluation metrics (see
// docs/design.md 5): any model the library loads, or any Python callable, can be
// explained by occlusion or random maps and scored by region perturbation
// (AOPC), and any numpy heatmap (from this library or another tool) can be
// evaluated the same way, or against a ground-truth mask.
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "bindings.hpp"
#include "pixelwise/decomposition/similarity.hpp"
#include "pixelwise/common/errors.hpp"
#include "convert.hpp"
#include "pixelwise/decomposition/baselines.hpp"
#include "pixelwise/decomposition/faithfulness.hpp"
#include "pixelwise/decomposition/metrics.hpp"
#include "pixelwise/pipelines/commands/explain_command.hpp"
#include "pixelwise/pipelines/evaluation/benchmark_scenes.hpp"
#include "pixelwise/decomposition/spray.hpp"
#include "pixelwise/pipelines/evaluation/analysis.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/pipelines/explain/explanation_files.hpp"

namespace pixelwise::python {
namespace {

/// A Python callable f(images, c) -> scores as a ScoreModel: images is a
/// float32 array N x H x W in [0, 1], c the class index, and the result N
/// scores. Called with the GIL held, one batch at a time, never concurrently.
class CallableModel : public ScoreModel {
 public:
  explicit CallableModel(py::function f) : f_(std::move(f)) {}
  bool concurrent() const override { return false; }

 protected:
  Eigen::VectorXd evaluate(const std::vector<cv::Mat>& batch, int c) const override {
    py::gil_scoped_acquire gil;
    const int rows = batch.front().rows, cols = batch.front().cols;
    py::array_t<float> images({static_cast<py::ssize_t>(batch.size()), static_cast<py::ssize_t>(rows),
                               static_cast<py::ssize_t>(cols)});
    float* out = images.mutable_data();
    for (const cv::Mat& image : batch) {
      for (int y = 0; y < rows; ++y, out += cols) std::copy(image.ptr<float>(y), image.ptr<float>(y) + cols, out);
    }
    const py::object result = f_(images, c);
    return vector_arg(result, "the model's result (one score per image)", static_cast<long>(batch.size()));
  }

 private:
  py::function f_;
};

/// A classifier whose every class score comes from Python: `scores(images)`
/// takes a float32 array N x H x W (grey, in [0, 1]) and returns N x classes
/// scores (as a PipelineModel computes them). It is explained by the
/// model-agnostic methods, and by lrp only when given `lrp(image, c)`: a
/// decomposition by pixelwise's own layers run from Python (a PipelineModel
/// whose classifier is a pixelwise Svm, docs/design.md 1.2-1.5), returning
/// {pixels, scores, class_index, layers}; pixelwise decomposes only the
/// classifiers it computes itself. Called with the GIL taken back, one batch
/// at a time; the Python objects are dropped with the GIL held.
class PythonScoresModel : public ExplainableModel {
 public:
  PythonScoresModel(py::function scores, py::object lrp, std::vector<std::string> classes, std::string source)
      : scores_(std::move(scores)), lrp_(std::move(lrp)), classes_(std::move(classes)), source_(std::move(source)) {}
  ~PythonScoresModel() override {
    py::gil_scoped_acquire gil;
    scores_ = py::function();
    lrp_ = py::object();
  }
  bool concurrent() const override { return false; }
  std::string kind() const override { return "python"; }
  std::string source() const override { return source_; }
  std::vector<std::string> class_names() const override { return classes_; }
  int class_index(const std::string& name_or_index) const override {
    for (size_t c = 0; c < classes_.size(); ++c)
      if (classes_[c] == name_or_index) return static_cast<int>(c);
    if (!name_or_index.empty() && name_or_index.size() < 6 &&
        std::all_of(name_or_index.begin(), name_or_index.end(), ::isdigit)) {
      const int c = std::stoi(name_or_index);
      if (c < classes()) return c;
    }
    std::string known;
    for (const auto& name : classes_) known += (known.empty() ? "" : ", ") + name;
    throw InputError("class \"" + name_or_index + "\" does not exist (classes: " + known + ", or an index 0-" +
                     std::to_string(classes_.size() - 1) + ")");
  }
  ImageSample read_input(const std::string& reference) const override { return load_image_reference(reference); }
  Eigen::VectorXd all_scores(const cv::Mat& image, const std::string&) const override {
    return rows({image}).row(0).transpose();
  }
  std::vector<ExplainMethod> own_methods() const override {
    if (has_lrp()) return {ExplainMethod::lrp};
    return {};
  }
  void check(ExplainMethod method, const ExplainSettings& settings) const override {
    if (method == ExplainMethod::lrp && has_lrp()) {
      if (settings.rule || settings.ignore_bias)
        throw std::invalid_argument("rule, ignore_bias: the lrp of " + source_ +
                                    " is its Svm's exact decomposition (bias policy nonzero), with no composite");
      return;
    }
    if (!model_agnostic(method))
      throw std::invalid_argument("method \"" + name_of(method) + "\": " + source_ +
                                  " computes its scores in Python, and pixelwise decomposes (lrp, taylor) or "
                                  "differentiates (sensitivity) only the classifiers it computes itself (lrp: a "
                                  "pixelwise Svm on a HistogramMapping); this model is explained by " +
                                  names_of(methods()));
  }
  Explanation explain_own(const cv::Mat& image, int c, ExplainMethod method, const ExplainSettings& settings,
                          const std::string&) const override {
    check(method, settings);
    if (method != ExplainMethod::lrp || !has_lrp())
      throw std::logic_error("a model whose scores come from Python has no own method " + name_of(method));
    py::gil_scoped_acquire gil;
    const py::object d = lrp_(mat_array(image), c);
    if (!py::isinstance<py::dict>(d)) throw py::type_error("lrp: expected a dict {pixels, scores, class_index, layers}");
    Explanation r;
    r.method = method;
    r.pixels = matrix_arg(d["pixels"], "lrp: pixels");
    if (r.pixels.rows() != image.rows || r.pixels.cols() != image.cols)
      throw py::value_error("lrp: pixels of another size than the image");
    r.scores = vector_arg(d["scores"], "lrp: scores", classes());
    r.scores.maxCoeff(&r.predicted);
    r.class_index = d["class_index"].cast<int>();
    r.score = r.scores[r.class_index];
    r.evaluations = 1;
    ConservationRecord account;
    account.score = r.score;
    account.pixel_sum = r.pixels.sum();
    for (const py::handle layer : d["layers"].cast<py::list>()) {
      LayerRelevance l;
      l.name = layer["name"].cast<std::string>();
      l.relevance_in = layer["relevance_in"].cast<double>();
      l.relevance_out = layer["relevance_out"].cast<double>();
      l.absorbed = layer["absorbed"].cast<double>();
      l.unassigned = layer["unassigned"].cast<double>();
      account.layers.push_back(l);
    }
    r.account = std::move(account);
    return r;
  }
  nlohmann::json describe() const override {
    return {{"kind", "python"}, {"source", source_}, {"classes", classes_}};
  }

 protected:
  Eigen::VectorXd evaluate(const std::vector<cv::Mat>& batch, int c) const override { return rows(batch).col(c); }

 private:
  /// scores(images) of a batch, checked: N x classes finite numbers.
  RowMatrixXd rows(const std::vector<cv::Mat>& batch) const {
    py::gil_scoped_acquire gil;
    const int height = batch.front().rows, width = batch.front().cols;
    py::array_t<float> images({static_cast<py::ssize_t>(batch.size()), static_cast<py::ssize_t>(height),
                               static_cast<py::ssize_t>(width)});
    float* out = images.mutable_data();
    for (const cv::Mat& image : batch) {
      if (image.type() != CV_32FC1) throw std::invalid_argument(source_ + ": reads grey images only");
      for (int y = 0; y < height; ++y, out += width) std::copy(image.ptr<float>(y), image.ptr<float>(y) + width, out);
    }
    const RowMatrixXd r = matrix_arg(scores_(images), "the scores of " + source_);
    if (r.rows() != static_cast<long>(batch.size()) || r.cols() != classes())
      throw py::value_error("the scores of " + source_ + ": expected " + std::to_string(batch.size()) + " x " +
                            std::to_string(classes()) + " (images x classes), got " + std::to_string(r.rows()) +
                            " x " + std::to_string(r.cols()));
    if (!r.allFinite()) throw py::value_error("the scores of " + source_ + ": NaN or infinity");
    return r;
  }

  bool has_lrp() const { return !lrp_.is_none(); }

  py::function scores_;
  py::object lrp_;  ///< None, or lrp(image, c) -> {pixels, scores, class_index, layers}
  std::vector<std::string> classes_;
  std::string source_;
};

/// Any model object as an ExplainableModel, or null: a Model, a BowModel, a
/// NetworkModel, or an object that gives a Model by __pixelwise_model__()
/// (a PipelineModel), the one protocol every metric, occlusion and evaluate
/// accept it by.
std::shared_ptr<ExplainableModel> explainable_arg(const py::handle& obj) {
  if (py::isinstance<ExplainableModel>(obj)) return obj.cast<std::shared_ptr<ExplainableModel>>();
  if (py::isinstance<BowModel>(obj)) return make_bow_adapter(obj.cast<std::shared_ptr<BowModel>>(), "BowModel in memory");
  if (py::isinstance<NetworkModel>(obj)) return make_network_adapter(obj.cast<std::shared_ptr<NetworkModel>>());
  if (py::hasattr(obj, "__pixelwise_model__")) {
    const py::object m = obj.attr("__pixelwise_model__")();
    if (!py::isinstance<ExplainableModel>(m))
      throw py::type_error("model: __pixelwise_model__() must return a pixelwise Model");
    return m.cast<std::shared_ptr<ExplainableModel>>();
  }
  return nullptr;
}

/// What a metric or baseline may be given as a model.
struct ModelArg {
  std::shared_ptr<const ScoreModel> model;
  std::function<int(const py::handle&, const cv::Mat&)> target;  ///< resolves a target argument
  /// The image of a sample as the model reads it (grey for a callable model).
  std::function<const cv::Mat&(const ImageSample&)> input = [](const ImageSample& s) -> const cv::Mat& { return s.gray; };
  ImageReading reading;  ///< how the model reads an image argument (convert.hpp)
};

/// How an explainable model reads an image argument (convert.hpp, ImageReading).
ImageReading reading_of(const ExplainableModel& m) { return {m.kind() == "bow", m.oversize()}; }

/// The image `x` scores for sample `s`: a network keeps a float64 grey image
/// argument (`exact`, when given) in float64, other models read the sample.
const cv::Mat& model_image(const ExplainableModel& x, const ImageSample& s, const cv::Mat& exact) {
  return !exact.empty() && x.kind() == "network" ? exact : x.input(s);
}

int index_arg(const py::handle& target, int classes) {
  if (py::isinstance<py::bool_>(target) || !py::hasattr(target, "__index__"))
    throw py::type_error("target: expected a class index" + std::string(classes > 0 ? ", a class name or None" : ""));
  const long long c = target.attr("__index__")().cast<long long>();
  if (c < 0 || (classes > 0 && c >= classes))
    throw py::value_error("target: class index " + std::to_string(c) + " out of range" +
                          (classes > 0 ? " 0.." + std::to_string(classes - 1) : ""));
  return static_cast<int>(c);
}

int explainable_target(const ExplainableModel& m, const py::handle& target, const cv::Mat& image) {
  if (target.is_none()) {
    int best;
    m.all_scores(image, "image").maxCoeff(&best);
    return best;
  }
  if (py::isinstance<py::str>(target)) return m.class_index(target.cast<std::string>());
  return index_arg(target, m.classes());
}

ModelArg model_arg(const py::handle& obj) {
  ModelArg a;
  const std::shared_ptr<ExplainableModel> m = explainable_arg(obj);
  if (m) {
    a.model = m;
    a.target = [m](const py::handle& t, const cv::Mat& image) { return explainable_target(*m, t, image); };
    a.input = [m](const ImageSample& s) -> const cv::Mat& { return m->input(s); };
    a.reading = reading_of(*m);
  } else if (PyCallable_Check(obj.ptr())) {
    a.model = std::make_shared<CallableModel>(py::reinterpret_borrow<py::function>(obj));
    a.target = [](const py::handle& t, const cv::Mat&) {
      if (t.is_none()) throw py::value_error("target: a callable model needs a class index");
      return index_arg(t, 0);
    };
  } else {
    throw py::type_error("model: expected a pixelwise Model, BowModel, NetworkModel or PipelineModel, or a "
                         "callable f(images, c) -> scores");
  }
  return a;
}

/// Releases the GIL around `fn` while making sure a callable model is only
/// ever dropped with the GIL held.
template <typename Fn>
auto without_gil(Fn&& fn) {
  py::gil_scoped_release release;
  return fn();
}

/// Batches of model evaluations, interrupted by Ctrl-C between batches.
BatchOptions batching(int batch, int threads) {
  BatchOptions b;
  b.batch = batch;
  b.threads = threads;
  b.validate();
  b.interrupt = python_interrupt();
  return b;
}

/// A heatmap argument of the image's size (float64 or float32, 2-D).
RowMatrixXd heatmap_arg(const py::handle& relevance, const ImageSample& s, const std::string& what) {
  const RowMatrixXd r = matrix_arg(relevance, "relevance");
  if (r.rows() != s.gray.rows || r.cols() != s.gray.cols)
    throw py::value_error(what + ": relevance is " + std::to_string(r.rows()) + " x " + std::to_string(r.cols()) +
                          " but the image is " + std::to_string(s.gray.rows) + " x " + std::to_string(s.gray.cols));
  if (!r.allFinite()) throw py::value_error(what + ": relevance has NaN or infinite values");
  return r;
}

/// One call on an image with a model (occlusion and the perturbation
/// metrics): the model, the image argument read as the model reads it, and
/// the class its target argument names.
struct ImageCall {
  ModelArg a;
  ImageSample s;
  int c = 0;
  const cv::Mat& input() const { return a.input(s); }
};

ImageCall image_call(const py::handle& model, const py::handle& image, const py::handle& target) {
  ImageCall call{model_arg(model), {}, 0};
  call.s = image_arg(image, "image", nullptr, call.a.reading);
  call.c = call.a.target(target, call.input());
  return call;
}

/// The replacement of a perturbation metric from its keywords.
ReplacementOptions replacement_arg(const std::string& replacement, double constant, double blur_sigma) {
  ReplacementOptions o;
  o.replacement = parse_replacement(replacement);
  o.constant = constant;
  o.blur_sigma = blur_sigma;
  return o;
}

/// Runs `fn`; a std::invalid_argument becomes a ValueError naming `what`.
template <typename Fn>
auto checked(const std::string& what, Fn&& fn) {
  try {
    return fn();
  } catch (const std::invalid_argument& e) {
    const std::string text = e.what();
    throw py::value_error(text.rfind(what, 0) == 0 ? text : what + ": " + text);
  }
}

py::dict sensitivity_dict(MaxSensitivity&& m) {
  py::dict d;
  d["max_sensitivity"] = m.max_sensitivity;
  d["sensitivities"] = owned_vector(std::move(m.sensitivities));
  d["explanations"] = m.explanations;
  return d;
}

/// An Explanation together with its model (class names, the JSON record) and
/// the explained image (for heatmap()).
struct PyMethodResult {
  std::shared_ptr<const ExplainableModel> model;
  Explanation r;
  cv::Mat gray;
  std::string image;  ///< the image as the JSON record names it
};

/// The keywords of explain() that apply to some methods or model kinds only,
/// with the command-line flag whose scope (explain_flag_scopes) they share.
const std::vector<std::pair<std::string, std::string>>& scoped_keywords() {
  static const std::vector<std::pair<std::string, std::string>> table{
      {"rule", "--rule"},       {"ignore_bias", "--ignore-bias"}, {"bias_policy", "--bias-policy"},
      {"pixel_rule", "--pixel-rule"},
      {"reference", "--reference"}, {"root_tolerance", "--root-tolerance"}, {"scan_steps", "--root-tolerance"},
      {"roots", "--roots"},     {"versus", "--versus"},           {"tiles", "--tiles"},
      {"layers", "--layers"},   {"patch", "--patch"},             {"stride", "--stride"},
      {"fill", "--fill"},       {"threads", "--threads"},         {"seed", "--seed"}};
  return table;
}

/// A keyword given for a method or model kind it does not apply to is a
/// ValueError naming it, as the CLI refuses such a flag.
void check_keyword_scopes(const std::set<std::string>& given, ExplainMethod method, const std::string& kind) {
  for (const auto& [keyword, flag] : scoped_keywords()) {
    if (!given.count(keyword)) continue;
    for (const FlagScope& scope : explain_flag_scopes()) {
      if (scope.flag != flag) continue;
      const std::string refusal = scope_refusal(scope, method, kind, "method ");
      if (!refusal.empty()) throw py::value_error(keyword + "= " + refusal);
    }
  }
}

/// The method and settings of one explain() call, read from its keywords.
struct ExplainCall {
  ExplainMethod method = ExplainMethod::lrp;
  ExplainSettings settings;
  long image_index = 0;
};

ExplainCall explain_call(const ExplainableModel& x, const std::string& method, const py::handle& rule,
                         bool ignore_bias, const py::handle& bias_policy, const py::handle& pixel_rule,
                         const py::handle& versus,
                         const py::handle& reference, const py::handle& root_tolerance, const py::handle& scan_steps,
                         const py::handle& roots, const py::handle& tiles, bool layers, const py::handle& patch,
                         const py::handle& stride, const py::handle& fill, const py::handle& seed, long image_index,
                         int batch, const py::handle& threads) {
  ExplainCall call;
  call.method = parse_enum<ExplainMethod>(method, "explanation method", "method");
  std::set<std::string> given;
  const std::vector<std::pair<const char*, py::handle>> optional{
      {"rule", rule},         {"bias_policy", bias_policy}, {"pixel_rule", pixel_rule},
      {"versus", versus},     {"reference", reference},
      {"root_tolerance", root_tolerance}, {"scan_steps", scan_steps}, {"roots", roots}, {"tiles", tiles},
      {"patch", patch},       {"stride", stride},           {"fill", fill},       {"seed", seed},
      {"threads", threads}};
  for (const auto& [keyword, value] : optional)
    if (!value.is_none()) given.insert(keyword);
  if (ignore_bias) given.insert("ignore_bias");
  if (layers) given.insert("layers");
  check_keyword_scopes(given, call.method, x.kind());

  ExplainSettings& s = call.settings;
  if (!rule.is_none()) s.rule = rule.cast<std::string>();
  s.ignore_bias = ignore_bias;
  if (!bias_policy.is_none()) s.bias_policy = parse_bias_policy(bias_policy.cast<std::string>());
  if (!pixel_rule.is_none())
    s.pixel_rule = parse_enum<WeightingType>(pixel_rule.cast<std::string>(), "pixel rule", "pixel_rule");
  if (!versus.is_none()) {
    if (py::isinstance<py::str>(versus)) s.versus = versus.cast<std::string>();
    else s.versus = std::to_string(index_arg(versus, x.classes()));
  }
  if (!reference.is_none()) {
    if (py::isinstance<py::str>(reference)) {
      s.reference = TaylorReference::parse(reference.cast<std::string>());
    } else {
      s.reference = TaylorReference::given(vector_arg(reference, "reference"), "reference histogram from Python");
    }
  }
  if (!root_tolerance.is_none()) s.taylor.tolerance = root_tolerance.cast<double>();
  if (!scan_steps.is_none()) s.taylor.scan_steps = scan_steps.cast<int>();
  if (!roots.is_none()) s.taylor.roots = roots.cast<int>();
  s.taylor.validate();
  if (!tiles.is_none()) {
    if (py::isinstance<py::str>(tiles)) {
      s.tiles = TileOptions::parse(tiles.cast<std::string>());
    } else {
      const auto t = tiles.cast<std::pair<int, int>>();
      TileOptions o;
      o.size = t.first;
      o.offset = t.second;
      o.validate();
      s.tiles = o;
    }
  }
  s.layers = layers;
  if (!patch.is_none()) s.occlusion.patch = patch.cast<int>();
  if (!stride.is_none()) s.occlusion.stride = stride.cast<int>();
  if (!fill.is_none()) s.occlusion.fill = fill.cast<double>();
  check_occlusion_sizes(s.occlusion);  // the CLI's check and message
  s.occlusion.batching = batching(batch, threads.is_none() ? 0 : threads.cast<int>());
  if (!seed.is_none()) s.seed = seed.cast<std::uint64_t>();
  s.interrupt = python_interrupt();  // Ctrl-C inside one long occlusion or tiled explanation
  if (image_index < 0) throw py::value_error("image_index must be >= 0");
  call.image_index = image_index;
  x.check(call.method, s);
  return call;
}

/// Class `target` (None: the predicted one, -1) of model x.
int explain_target(const ExplainableModel& x, const py::handle& target) {
  if (target.is_none()) return -1;
  if (py::isinstance<py::str>(target)) return x.class_index(target.cast<std::string>());
  return index_arg(target, x.classes());
}

/// One explanation through the one explanation path (explain_with). A float64
/// grey image (`exact`) reaches a network as it is: its own methods compute
/// in float64 (explain_with gives occlusion and random the float32 rounding).
PyMethodResult explain_one(const std::shared_ptr<const ExplainableModel>& x, const ImageSample& s, const cv::Mat& exact,
                           int c, const ExplainCall& call) {
  PyMethodResult out;
  out.model = x;
  out.gray = s.gray;
  out.image = s.source;
  const cv::Mat& image = model_image(*x, s, exact);
  const std::uint64_t seed = image_seed(call.settings.seed, call.image_index);
  py::gil_scoped_release release;
  // Names the image when memory runs out too (docs/errors.md, "Error types").
  naming_input(image_name(s), [&] { out.r = explain_with(*x, image, c, call.method, call.settings, seed, s.source); });
  return out;
}

/// explain(image, *, target, method, ...), the same on every model class;
/// `adapt` gives the model as an ExplainableModel.
template <typename Class, typename Adapt>
void def_explain(Class& cls, Adapt adapt) {
  cls.def(
      "explain",
      [adapt](const py::object& self, const ImageLike& image, const TargetLike& target, const std::string& method,
              const OptionalStr& rule, bool ignore_bias, const OptionalStr& bias_policy,
              const OptionalStr& pixel_rule, const TargetLike& versus,
              const OptionalReference& reference, const OptionalFloat& root_tolerance, const OptionalInt& scan_steps,
              const OptionalInt& roots, const TilesLike& tiles, bool layers, const OptionalInt& patch,
              const OptionalInt& stride, const OptionalFloat& fill, const OptionalInt& seed, long image_index,
              int batch, const OptionalInt& threads) {
        const std::shared_ptr<const ExplainableModel> x = adapt(self);
        const ExplainCall call = explain_call(*x, method, rule, ignore_bias, bias_policy, pixel_rule, versus, reference,
                                              root_tolerance, scan_steps, roots, tiles, layers, patch, stride, fill,
                                              seed, image_index, batch, threads);
        const int c = explain_target(*x, target);
        cv::Mat exact;
        const ImageSample s = image_arg(image, "image", &exact, reading_of(*x));
        return explain_one(x, s, exact, c, call);
      },
      py::arg("image"), py::kw_only(), py::arg("target") = py::none(), py::arg("method") = "lrp",
      py::arg("rule") = py::none(), py::arg("ignore_bias") = false, py::arg("bias_policy") = py::none(),
      py::arg("pixel_rule") = py::none(), py::arg("versus") = py::none(), py::arg("reference") = py::none(),
      py::arg("root_tolerance") = py::none(),
      py::arg("scan_steps") = py::none(), py::arg("roots") = py::none(), py::arg("tiles") = py::none(),
      py::arg("layers") = false, py::arg("patch") = py::none(), py::arg("stride") = py::none(),
      py::arg("fill") = py::none(), py::arg("seed") = py::none(), py::arg("image_index") = 0, py::arg("batch") = 32,
      py::arg("threads") = py::none(),
      "Explains class `target` (index or name; None: the predicted class) of one image with `method` (see\n"
      "Model.methods: lrp, taylor, sensitivity, occlusion, random), exactly as `pixelwise explain` does, and\n"
      "returns an Explanation whose fields are those of the CLI's NAME.json. Keywords (None: the default):\n"
      "rule, ignore_bias (lrp: the composite, biases absorb nothing; networks and network classifiers),\n"
      "bias_policy (BoW lrp: none, uniform, nonzero), pixel_rule (BoW lrp, taylor, sensitivity: uniform,\n"
      "gaussian or gradient spreading over pixels instead of the configured weighting), versus (BoW\n"
      "one-vs-one: the pairwise decision),\n"
      "reference, root_tolerance, scan_steps, roots (BoW taylor: nearest, mean, a .npy file or a histogram),\n"
      "tiles ('SIZE,OFFSET' or (size, offset): tiled BoW explanation), layers (BoW: descriptor and bin\n"
      "relevance in details), patch, stride, fill, threads, batch (occlusion; patch/stride default a quarter\n"
      "and an eighth of the image side), seed and image_index (random: image_seed(seed, image_index)).\n"
      "A keyword that does not apply to the method or model kind is a ValueError, as on the CLI.");
}

/// Scores (N x classes) of a batch of images, one image at a time, with
/// progress and Ctrl-C between images. `score(sample, exact)` scores one image
/// (exact: its float64 grey plane, or empty).
template <typename Score>
py::array predict_rows(const py::handle& images, const py::object& progress, const ImageReading& reading, Score score) {
  std::vector<cv::Mat> exact;
  const std::vector<ImageSample> samples = image_list_arg(images, "images", &exact, reading);
  const LongCall call(progress);
  const long n = static_cast<long>(samples.size());
  RowMatrixXd scores;
  {
    py::gil_scoped_release release;
    for (long i = 0; i < n; ++i) {
      const Eigen::VectorXd row = score(samples[i], exact[i]);
      if (i == 0) scores.resize(n, row.size());
      if (row.size() != scores.cols())
        throw py::value_error("images[" + std::to_string(i) + "]: " + std::to_string(row.size()) + " scores, " +
                              std::to_string(scores.cols()) + " for the first image");
      scores.row(i) = row.transpose();
      call.step(i + 1, n);
    }
  }
  return owned_array(std::move(scores));
}

py::array predict_rows(const ExplainableModel& x, const py::handle& images, const py::object& progress) {
  return predict_rows(images, progress, reading_of(x), [&x](const ImageSample& s, const cv::Mat& exact) {
    return x.all_scores(model_image(x, s, exact), s.source);
  });
}

/// Scores of one image (float64 grey images stay float64 for a network).
py::array predict_one(const ExplainableModel& x, const py::handle& image) {
  cv::Mat exact;
  const ImageSample s = image_arg(image, "image", &exact, reading_of(x));
  return owned_array(without_gil([&] { return x.all_scores(model_image(x, s, exact), s.source); }));
}

const char* const kPredictBatchDoc =
    "Scores (N x classes, float64) of a batch: a list of images, an (N, H, W) grey or an (N, H, W, C) array\n"
    "(an (N, H, W) array whose last side is 3 or 4, or one H x W image, is refused as ambiguous).\n"
    "progress(done, total) is called after each image; Ctrl-C raises KeyboardInterrupt between images.";

/// The methods every model class has alike: explain, predict, predict_batch.
template <typename Class, typename Adapt>
void def_common(Class& cls, Adapt adapt) {
  def_explain(cls, adapt);
  cls.def(
      "predict_batch",
      [adapt](const py::object& self, const ImagesLike& images, const OptionalCallable& progress) {
        return predict_rows(*adapt(self), images, progress);
      },
      py::arg("images"), py::kw_only(), py::arg("progress") = py::none(), kPredictBatchDoc);
}

py::object account_dict(const std::optional<ConservationRecord>& account) {
  if (!account) return py::none();
  py::dict d;
  d["score"] = account->score;
  d["pixel_sum"] = account->pixel_sum;
  d["layers"] = layer_list(account->layers);
  return d;
}

}  // namespace

namespace {

// A stack of heatmaps: an N x H x W array, or a sequence of 2-D arrays (sizes may differ).
std::vector<RowMatrixXd> heatmaps_arg(const py::handle& obj) {
  std::vector<RowMatrixXd> maps;
  if (py::isinstance<py::array>(obj)) {
    const py::array a = py::reinterpret_borrow<py::array>(obj);
    if (a.ndim() != 3) throw py::value_error("heatmaps: expected an N x H x W array or a sequence of 2-D arrays, got " +
                                             std::to_string(a.ndim()) + " dimensions");
    for (py::ssize_t i = 0; i < a.shape(0); ++i)
      maps.push_back(matrix_arg(a[py::int_(i)], "heatmaps[" + std::to_string(i) + "]"));
  } else if (py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj)) {
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
    for (size_t i = 0; i < seq.size(); ++i) maps.push_back(matrix_arg(seq[i], "heatmaps[" + std::to_string(i) + "]"));
  } else {
    throw py::type_error("heatmaps: expected an N x H x W array or a sequence of 2-D arrays");
  }
  return maps;
}

SprayOptions spray_options(int size, const std::string& normalisation, int neighbours, const py::object& clusters,
                           int max_clusters, std::uint64_t seed, int restarts, int nearest) {
  SprayOptions o;
  o.rows = o.cols = size;
  o.normalisation = parse_enum<SprayNormalisation>(normalisation, "normalisation", "normalisation");
  o.neighbours = neighbours;
  if (py::isinstance<py::str>(clusters)) {
    if (clusters.cast<std::string>() != "auto") throw py::value_error("clusters: expected 'auto' or a positive integer");
  } else if (py::isinstance<py::int_>(clusters) && !py::isinstance<py::bool_>(clusters)) {
    const long k = clusters.cast<long>();
    if (k < 1 || k > 1000) throw py::value_error("clusters: expected 'auto' or an integer from 1 to 1000, got " + std::to_string(k));
    o.clusters = static_cast<int>(k);
  } else {
    throw py::type_error("clusters: expected 'auto' or a positive integer");
  }
  o.max_clusters = max_clusters;
  o.seed = seed;
  o.restarts = restarts;
  o.nearest = nearest;
  o.validate();
  return o;
}

RowMatrixXd row_major(const Eigen::MatrixXd& m) { return m; }

// A SprayResult with the names of analysis.json.
py::dict spray_dict(const SprayResult& r) {
  py::dict d;
  d["clusters"] = r.clusters;
  d["clusters_from_eigengap"] = r.clusters_from_eigengap;
  d["neighbours"] = r.neighbours;
  d["eigenvalues"] = owned_array(Eigen::VectorXd(r.eigenvalues));
  d["cluster"] = owned_vector(std::vector<int>(r.assignment));
  d["embedding"] = owned_array(row_major(r.embedding));
  py::list per_cluster;
  for (int c = 0; c < r.clusters; ++c) {
    py::dict k;
    k["cluster"] = c;
    k["size"] = r.per_cluster[c].size;
    k["mean_heatmap"] = owned_array(RowMatrixXd(r.per_cluster[c].mean_heatmap));
    k["nearest"] = owned_vector(std::vector<long>(r.per_cluster[c].nearest));
    per_cluster.append(k);
  }
  d["per_cluster"] = per_cluster;
  return d;
}

// Same-sized maps as one N x H x W array, else a list.
py::object stack(const std::vector<RowMatrixXd>& maps) {
  bool same = !maps.empty();
  for (const auto& m : maps) same = same && m.rows() == maps[0].rows() && m.cols() == maps[0].cols();
  if (!same) {
    py::list l;
    for (const auto& m : maps) l.append(owned_array(RowMatrixXd(m)));
    return l;
  }
  py::array_t<double> a({static_cast<py::ssize_t>(maps.size()), static_cast<py::ssize_t>(maps[0].rows()),
                         static_cast<py::ssize_t>(maps[0].cols())});
  double* out = a.mutable_data();
  for (const auto& m : maps) out = std::copy(m.data(), m.data() + m.size(), out);
  return a;
}

}  // namespace

void bind_evaluation(py::module_& m) {
  py::class_<PyMethodResult> method_result(
      m, "Explanation", "One explanation of one decision (explain() of every model), whatever the model and method; its fields\n"
      "are those of the CLI's explanation JSON (to_json()).");
  m.attr("MethodResult") = method_result;  // the name of earlier versions
  py::class_<ExplainableModel, std::shared_ptr<ExplainableModel>> model_class(
      m, "Model", py::dynamic_attr(),
      "Any classifier the library loads (BoW model directory, network model directory, LRP Toolbox text\n"
      "file) seen as the evaluation sees it: scores of grey images and every explanation method (its own:\n"
      "lrp, taylor, sensitivity; and occlusion, random). Made by load_model().");
  model_class.def_property_readonly("kind", &ExplainableModel::kind,
                                    "'bow', 'network' or 'python' (scores computed in Python: PipelineModel, as_model(scores, ...))")
      .def_property_readonly("source", &ExplainableModel::source)
      .def_property_readonly("classes", &ExplainableModel::class_names)
      .def_property_readonly(
          "methods",
          [](const ExplainableModel& x) {
            std::vector<std::string> all;
            for (const ExplainMethod method : x.methods()) all.push_back(name_of(method));
            return all;
          },
          "the explanation methods this model has")
      .def_property_readonly("evaluations", &ExplainableModel::evaluations,
                             "images scored through batch evaluation so far (by occlusion, perturbation, ...)")
      .def("class_index", &ExplainableModel::class_index, py::arg("name_or_index"))
      .def(
          "class_name",
          [](const ExplainableModel& x, int c) {
            if (c < 0 || c >= x.classes())
              throw py::value_error("class index " + std::to_string(c) + " out of range 0.." + std::to_string(x.classes() - 1));
            return x.class_names()[c];
          },
          py::arg("index"))
      .def("predict", [](const ExplainableModel& x, const ImageLike& image) { return predict_one(x, image); },
           py::arg("image"), "all class scores of one image (the same as scores())")
      .def("describe", [](const ExplainableModel& x) { return py::dict(from_json(x.describe())); })
      .def(
          "scores",
          [](const ExplainableModel& x, const ImageLike& image) { return predict_one(x, image); },
          py::arg("image"), "all class scores of one image (as the model reads it: colour for a colour model)")
      .def_property_readonly(
          "randomisation_stages", &ExplainableModel::randomisation_stages,
          "The model randomisation test of the sanity checks (Adebayo et al. 2018; docs/evaluation.md \"Sanity\n"
          "checks\"): the model's stages, top first (BoW: the classifier, the vocabulary, the descriptor PCA where\n"
          "present; networks: the affine layers from the output). ValueError for a model without randomisation.")
      .def(
          "randomised",
          [](const ExplainableModel& x, int stages, std::uint64_t seed) {
            return std::shared_ptr<ExplainableModel>(x.randomised(stages, seed));
          },
          py::arg("stages"), py::kw_only(), py::arg("seed") = 1,
          "A new Model whose first `stages` stages (1 .. len(randomisation_stages)) are randomised, cumulatively:\n"
          "their trained parameters permuted, seeded by `seed` (the same seed gives the same model).")
      .def("__repr__", [](const ExplainableModel& x) {
        return "<pixelwise.Model: " + x.kind() + " '" + x.source() + "', " + std::to_string(x.classes()) + " classes>";
      });
  m.def(
      "load_model",
      [](const PathArg& path) { return std::shared_ptr<ExplainableModel>(load_explainable_model(path.string())); },
      py::arg("path"), "A BoW model directory, a network model directory or an LRP Toolbox text file, as a Model.");
  m.def(
      "as_model",
      [](std::shared_ptr<BowModel> model, const std::string& source) {
        return std::shared_ptr<ExplainableModel>(make_bow_adapter(std::move(model), source));
      },
      py::arg("model"), py::kw_only(), py::arg("source") = "BowModel in memory",
      "A BowModel (loaded or just trained) as a Model, sharing it: every method and metric without a\n"
      "round trip through a model directory. `source` is the Model's source (the JSON's \"model\").");
  m.def(
      "as_model",
      [](std::shared_ptr<NetworkModel> model) {
        return std::shared_ptr<ExplainableModel>(make_network_adapter(std::move(model)));
      },
      py::arg("model"), "A NetworkModel as a Model, sharing it.");
  m.def(
      "as_model",
      [](const py::function& scores, const std::vector<std::string>& classes, const std::string& source,
         const py::object& lrp) {
        if (!lrp.is_none() && !PyCallable_Check(lrp.ptr()))
          throw py::type_error("lrp: expected None or a callable lrp(image, c) -> dict");
        if (classes.empty()) throw py::value_error("classes: a model needs at least one class");
        if (std::set<std::string>(classes.begin(), classes.end()).size() != classes.size())
          throw py::value_error("classes: the class names must differ");
        if (source.empty()) throw py::value_error("source: must not be empty (it names the model in messages)");
        return std::shared_ptr<ExplainableModel>(std::make_shared<PythonScoresModel>(scores, lrp, classes, source));
      },
      py::arg("scores"), py::kw_only(), py::arg("classes"), py::arg("source") = "scores from Python",
      py::arg("lrp") = py::none(),
      "A Python function scores(images) -> N x classes (images: float32 N x H x W, grey in [0, 1]) as a Model\n"
      "of kind 'python' (what PipelineModel is built on): predict, the metrics, evaluate and the\n"
      "model-agnostic methods occlusion and random. lrp only with lrp(image float32 H x W, c (-1: predicted))\n"
      "-> {pixels, scores, class_index, layers (accounts)}, a decomposition by pixelwise's layers (a PipelineModel\n"
      "with a pixelwise Svm gives it); otherwise lrp, taylor and sensitivity are refused.");

  def_common(model_class, [](const py::object& self) -> std::shared_ptr<const ExplainableModel> {
    return self.cast<std::shared_ptr<ExplainableModel>>();
  });
  // BowModel and NetworkModel explain through the same path, each call by an
  // adapter sharing the model (cheap: no copy).
  auto bow_class = py::reinterpret_borrow<py::class_<BowModel, std::shared_ptr<BowModel>>>(m.attr("BowModel"));
  def_common(bow_class, [](const py::object& self) -> std::shared_ptr<const ExplainableModel> {
    return make_bow_adapter(self.cast<std::shared_ptr<BowModel>>(), "BowModel in memory");
  });
  auto network_class =
      py::reinterpret_borrow<py::class_<NetworkModel, std::shared_ptr<NetworkModel>>>(m.attr("NetworkModel"));
  def_explain(network_class, [](const py::object& self) -> std::shared_ptr<const ExplainableModel> {
    return make_network_adapter(self.cast<std::shared_ptr<NetworkModel>>());
  });
  // Scored by the network itself: also a network whose output is not a Linear
  // layer (the adapter needs one to count the classes).
  network_class.def(
      "predict_batch",
      [](const NetworkModel& n, const ImagesLike& images, const OptionalCallable& progress) {
        return predict_rows(images, progress, ImageReading{}, [&n](const ImageSample& s, const cv::Mat& exact) -> Eigen::VectorXd {
          const cv::Mat& gray = exact.empty() ? s.gray : exact;
          const TensorShape shape = n.input_shape(gray, s.source);
          return n.network.scores(n.input_vector(gray, s.source).transpose(), shape).row(0).transpose();
        });
      },
      py::arg("images"), py::kw_only(), py::arg("progress") = py::none(), kPredictBatchDoc);
  m.def(
      "evaluate",
      [](const ModelLike& model, const PathArg& data, const std::vector<std::string>& methods,
         const OptionalStrList& metrics, const std::string& class_choice, const OptionalStr& only_label,
         double foreground, int region, int steps, int pixel_flipping_steps, const std::string& replacement,
         double constant, double blur_sigma, std::uint64_t seed, int patch, int stride, double fill,
         const OptionalStr& pixel_rule, int jobs, int batch, int threads, const OptionalCallable& progress,
         int correlation_subsets, double correlation_fraction, int sensitivity_n_subsets, int sensitivity_n_points,
         double sensitivity_n_max_fraction, const std::optional<std::vector<long>>& sensitivity_n_sizes,
         int infidelity_samples, double infidelity_sigma, int max_sensitivity_samples, double max_sensitivity_radius,
         std::uint64_t mprt_seed, double top_k, const py::object& randomised_model) {
        const std::shared_ptr<const ExplainableModel> x = explainable_arg(model);
        if (!x) throw py::type_error("model: expected a pixelwise Model, BowModel, NetworkModel or PipelineModel");
        std::shared_ptr<const ExplainableModel> randomised_labels;
        if (!randomised_model.is_none()) {
          randomised_labels = explainable_arg(randomised_model);
          if (!randomised_labels)
            throw py::type_error("randomised_model: expected a pixelwise Model, BowModel or NetworkModel");
        }
        EvaluationOptions o;
        o.methods.clear();
        for (const std::string& name : methods) o.methods.push_back(parse_enum<ExplainMethod>(name, "method", "methods"));
        if (!metrics.is_none()) o.metrics = parse_metrics(metrics.cast<std::vector<std::string>>(), "metrics");
        o.class_choice = class_choice;
        if (!only_label.is_none()) o.only_label = only_label.cast<std::string>();
        o.perturbation.region = region;
        o.perturbation.steps = steps;
        o.perturbation.seed = seed;
        o.perturbation.replacement = parse_replacement(replacement);
        o.perturbation.constant = constant;
        o.perturbation.blur_sigma = blur_sigma;
        o.pixel_flipping_steps = pixel_flipping_steps;
        o.method_settings.occlusion.patch = patch;
        o.method_settings.occlusion.stride = stride;
        o.method_settings.occlusion.fill = fill;
        o.method_settings.seed = seed;
        if (!pixel_rule.is_none()) {
          if (x->kind() != "bow")
            throw py::value_error("pixel_rule= applies to BoW models only; this model is a " + x->kind() + " model");
          o.method_settings.pixel_rule =
              parse_enum<WeightingType>(pixel_rule.cast<std::string>(), "pixel rule", "pixel_rule");
        }
        if (jobs < 0) throw py::value_error("jobs must be 0 (all cores) or more");
        o.jobs = jobs;
        o.batching.batch = batch;
        o.batching.threads = threads;
        // Ctrl-C between the batches of the metrics and of occlusion.
        o.batching.interrupt = python_interrupt();
        o.method_settings.interrupt = o.batching.interrupt;
        o.report_images = 0;
        o.faithfulness_correlation.subsets = correlation_subsets;
        o.faithfulness_correlation.fraction = correlation_fraction;
        o.sensitivity_n.subsets = sensitivity_n_subsets;
        o.sensitivity_n.points = sensitivity_n_points;
        o.sensitivity_n.max_fraction = sensitivity_n_max_fraction;
        if (sensitivity_n_sizes) {
          if (sensitivity_n_sizes->empty())
            throw py::value_error("sensitivity_n_sizes is empty (None: the log-spaced sizes)");
          o.sensitivity_n.sizes = *sensitivity_n_sizes;
        }
        o.infidelity.samples = infidelity_samples;
        o.infidelity.sigma = infidelity_sigma;
        o.max_sensitivity.samples = max_sensitivity_samples;
        o.max_sensitivity.radius = max_sensitivity_radius;
        o.mprt_seed = mprt_seed;
        o.top_k = top_k;
        o.randomised_labels = randomised_labels.get();
        o.validate();
        const std::string spec = data.string();
        const LongCall call(progress);
        nlohmann::json result;
        {
          py::gil_scoped_release release;
          const MaskedDataset set = load_masked_dataset(spec, foreground, *x);
          call.step(0, 1);
          result = evaluate(*x, set, o, nullptr, nullptr);
          call.step(1, 1);
        }
        return py::dict(from_json(result));
      },
      py::arg("model"), py::arg("data"), py::kw_only(),
      py::arg("methods") = std::vector<std::string>{"lrp", "occlusion", "sensitivity", "random"},
      py::arg("metrics") = py::none(), py::arg("class_choice") = "predicted", py::arg("only_label") = py::none(),
      py::arg("foreground") = -1.0, py::arg("region") = 0, py::arg("steps") = 100,
      py::arg("pixel_flipping_steps") = 100, py::arg("replacement") = "uniform", py::arg("constant") = 0.0,
      py::arg("blur_sigma") = 3.0, py::arg("seed") = 1, py::arg("patch") = 0, py::arg("stride") = 0,
      py::arg("fill") = 0.0, py::arg("pixel_rule") = py::none(), py::arg("jobs") = 0, py::arg("batch") = 32,
      py::arg("threads") = 0, py::arg("progress") = py::none(), py::arg("correlation_subsets") = 100,
      py::arg("correlation_fraction") = 0.1, py::arg("sensitivity_n_subsets") = 50, py::arg("sensitivity_n_points") = 10,
      py::arg("sensitivity_n_max_fraction") = 0.8, py::arg("sensitivity_n_sizes") = py::none(),
      py::arg("infidelity_samples") = 100, py::arg("infidelity_sigma") = 0.1, py::arg("max_sensitivity_samples") = 10,
      py::arg("max_sensitivity_radius") = 0.02, py::arg("mprt_seed") = 1, py::arg("top_k") = kDefaultTopK,
      py::arg("randomised_model") = py::none(),
      "`pixelwise evaluate` from Python: every method on every image of the data set `data` (a spec as the\n"
      "CLI's --data), scored by the metrics (default: aopc, lerf, pixel-flipping, mass, rank, pointing,\n"
      "conservation, sparseness, complexity; more: faithfulness-correlation, sensitivity-n, infidelity,\n"
      "max-sensitivity, and the sanity checks mprt and data-randomisation, with mprt_seed, top_k and the\n"
      "randomised_model trained on permuted labels). Returns the evaluation JSON (the CLI's evaluation.json\n"
      "without settings.command) as a\n"
      "dict. The keywords are the CLI's flags; progress(done, total) is called before and after the run.");
  // ------------------------------------------------------------ SpRAy
  const SprayOptions spray_defaults;
  m.def(
      "spray",
      [](const HeatmapsLike& heatmaps, int size, const std::string& normalisation, int neighbours,
         const py::object& clusters, int max_clusters, std::uint64_t seed, int restarts, int nearest) {
        const SprayOptions o = spray_options(size, normalisation, neighbours, clusters, max_clusters, seed, restarts, nearest);
        const std::vector<RowMatrixXd> maps = heatmaps_arg(heatmaps);
        const SprayResult r = without_gil([&] { return spray(maps, o); });
        return spray_dict(r);
      },
      py::arg("heatmaps"), py::kw_only(), py::arg("size") = spray_defaults.rows, py::arg("normalisation") = "max-abs",
      py::arg("neighbours") = 0, py::arg("clusters") = "auto", py::arg("max_clusters") = spray_defaults.max_clusters,
      py::arg("seed") = 1, py::arg("restarts") = spray_defaults.restarts, py::arg("nearest") = spray_defaults.nearest,
      "Spectral relevance analysis (SpRAy; Lapuschkin et al. 2019; docs/design.md 7) of any stack of heatmaps\n"
      "(an N x H x W array or a sequence of 2-D arrays): each summed to size x size blocks and normalised\n"
      "('max-abs', 'sum-abs' or 'none'), a symmetric k-nearest-neighbour graph (neighbours 0: min(10, N - 1)),\n"
      "the normalised Laplacian's spectrum, K clusters ('auto': the largest eigengap among the first\n"
      "max_clusters), k-means on the spectral embedding (seeded). Returns {clusters, clusters_from_eigengap,\n"
      "neighbours, eigenvalues, cluster (per map), embedding (N x 2), per_cluster [{cluster, size,\n"
      "mean_heatmap, nearest}]}.");
  m.def(
      "adjusted_rand_index",
      [](const ArrayLike& a, const ArrayLike& b) {
        return adjusted_rand_index(int_vector_arg(a, "a"), int_vector_arg(b, "b"));
      },
      py::arg("a"), py::arg("b"),
      "Adjusted Rand index of two labelings of the same items (1: the same partition, about 0: independent).");
  m.def(
      "analyse",
      [](const ModelLike& model, const PathArg& data, const OptionalStrList& classes, const std::string& method,
         const py::object& clusters, int max_clusters, int neighbours, int size, const std::string& normalisation,
         int nearest, std::uint64_t seed, int jobs, const OptionalCallable& progress) {
        const std::shared_ptr<const ExplainableModel> x = explainable_arg(model);
        if (!x) throw py::type_error("model: expected a pixelwise Model, BowModel, NetworkModel or PipelineModel");
        AnalysisOptions o;
        o.method = parse_enum<ExplainMethod>(method, "method", "method");
        if (!classes.is_none()) o.classes = classes.cast<std::vector<std::string>>();
        o.spray = spray_options(size, normalisation, neighbours, clusters, max_clusters, seed, o.spray.restarts, nearest);
        o.seed = seed;
        if (jobs < 0) throw py::value_error("jobs must be 0 (all cores) or more");
        o.jobs = jobs;
        o.batching.interrupt = python_interrupt();
        o.method_settings.interrupt = o.batching.interrupt;
        o.validate();
        const std::string spec = data.string();
        const LongCall call(progress);
        Analysis a;
        MaskedDataset set;
        {
          py::gil_scoped_release release;
          set = load_masked_dataset(spec, -1, *x);
          call.step(0, 1);
          a = analyse(*x, set, o, nullptr);
          call.step(1, 1);
        }
        py::dict result(from_json(a.json));
        py::list per_class = result["classes"];
        for (size_t k = 0; k < a.classes.size(); ++k) {
          const ClassAnalysis& c = a.classes[k];
          py::dict d = per_class[k];
          d["heatmaps"] = stack(c.heatmaps);
          std::vector<RowMatrixXd> grey;
          for (long i : c.images) {
            RowMatrixXd g(set.data.images[i].gray.rows, set.data.images[i].gray.cols);
            for (long y = 0; y < g.rows(); ++y)
              for (long xx = 0; xx < g.cols(); ++xx) g(y, xx) = set.data.images[i].gray.at<float>(static_cast<int>(y), static_cast<int>(xx));
            grey.push_back(std::move(g));
          }
          d["inputs"] = stack(grey);
          RowMatrixXd outputs(static_cast<long>(c.outputs.size()), c.outputs.empty() ? 0 : c.outputs[0].size());
          for (size_t q = 0; q < c.outputs.size(); ++q) outputs.row(static_cast<long>(q)) = c.outputs[q].transpose();
          d["outputs"] = owned_array(std::move(outputs));
        }
        return result;
      },
      py::arg("model"), py::arg("data"), py::kw_only(), py::arg("classes") = py::none(), py::arg("method") = "lrp",
      py::arg("clusters") = "auto", py::arg("max_clusters") = spray_defaults.max_clusters, py::arg("neighbours") = 0,
      py::arg("size") = spray_defaults.rows, py::arg("normalisation") = "max-abs",
      py::arg("nearest") = spray_defaults.nearest, py::arg("seed") = 1, py::arg("jobs") = 0,
      py::arg("progress") = py::none(),
      "`pixelwise analyse` from Python: each image of the chosen classes (default all) of the data set `data`\n"
      "(a spec as the CLI's --data) explained for its own class, then SpRAy per class; on watermark scenes\n"
      "the Clever Hans measures. Returns analysis.json as a dict; each entry of 'classes' also holds\n"
      "'heatmaps' (N x H x W float64, a list if sizes differ), 'inputs' (the grey images, likewise) and\n"
      "'outputs' (N x classes scores), in the order of its 'images'. The keywords are the CLI's flags.");
  // ------------------------------------------------------------ scenes
  auto scene_options = [](const std::string& kind, int size, int train, int test, std::uint64_t seed,
                          int max_objects, const std::string& target, double min_scale, double max_scale,
                          double rate, int tag_scale) {
    SceneOptions o;
    o.tag_rate = rate;
    o.tag_scale = tag_scale;
    o.kind = parse_enum<SceneKind>(kind, "scene kind", "kind");
    o.size = size;
    o.train = train;
    o.test = test;
    o.seed = seed;
    o.max_objects = max_objects;
    o.target = target;
    o.min_scale = min_scale;
    o.max_scale = max_scale;
    o.validate();
    return o;
  };
  const SceneOptions scene_defaults;
  m.def(
      "make_scenes",
      [scene_options](const PathArg& out, const std::string& kind, int size, int train, int test, std::uint64_t seed,
                      int max_objects, const std::string& target, double min_scale, double max_scale, double rate,
                      int tag_scale) {
        const SceneOptions o =
            scene_options(kind, size, train, test, seed, max_objects, target, min_scale, max_scale, rate, tag_scale);
        const std::string folder = out.string();
        py::gil_scoped_release release;
        make_scenes(o, folder, nullptr);
      },
      py::arg("out"), py::kw_only(), py::arg("kind") = name_of(scene_defaults.kind), py::arg("size") = scene_defaults.size,
      py::arg("train") = scene_defaults.train, py::arg("test") = scene_defaults.test,
      py::arg("seed") = scene_defaults.seed, py::arg("max_objects") = scene_defaults.max_objects,
      py::arg("target") = scene_defaults.target, py::arg("min_scale") = scene_defaults.min_scale,
      py::arg("max_scale") = scene_defaults.max_scale, py::arg("rate") = scene_defaults.tag_rate,
      py::arg("tag_scale") = scene_defaults.tag_scale,
      "`pixelwise make-scenes` from Python: writes the localisation benchmark folder `out` (scenes of both\n"
      "splits, masks, scenes.json), the same bytes as the CLI for the same keywords (its flags; kind\n"
      "'watermark' takes the tagged class as target= (the CLI's --class) and rate=). Evaluate it with\n"
      "evaluate(model, 'scenes:OUT:test'), analyse it with analyse(model, 'scenes:OUT:test').");
  m.def(
      "generate_scene",
      [scene_options](const std::string& split, int index, const std::string& kind, int size, int train, int test,
                      std::uint64_t seed, int max_objects, const std::string& target, double min_scale,
                      double max_scale, double rate, int tag_scale) {
        const SceneSplit part = parse_enum<SceneSplit>(split, "split", "split");
        if (index < 0) throw py::value_error("index must be >= 0");
        const SceneOptions o =
            scene_options(kind, size, train, test, seed, max_objects, target, min_scale, max_scale, rate, tag_scale);
        const int scenes = part == SceneSplit::train ? o.train : o.test;
        if (index >= scenes)
          throw py::value_error("index " + std::to_string(index) + " out of range: the " + split + " split has " +
                                std::to_string(scenes) + " scenes");
        const Scene scene = without_gil([&] { return generate_scene(o, part, index); });
        py::array_t<bool> mask({static_cast<py::ssize_t>(scene.mask.rows()), static_cast<py::ssize_t>(scene.mask.cols())});
        for (long r = 0; r < scene.mask.rows(); ++r)
          for (long c = 0; c < scene.mask.cols(); ++c) mask.mutable_at(r, c) = scene.mask(r, c);
        py::dict d;
        d["image"] = mat_array(scene.gray);
        d["mask"] = mask;
        d["label"] = scene.label;
        d["class"] = o.classes().at(scene.label);
        d["objects"] = from_json(scene.objects);
        py::array_t<bool> tag({static_cast<py::ssize_t>(scene.tag.rows()), static_cast<py::ssize_t>(scene.tag.cols())});
        for (long r = 0; r < scene.tag.rows(); ++r)
          for (long c = 0; c < scene.tag.cols(); ++c) tag.mutable_at(r, c) = scene.tag(r, c);
        d["tagged"] = scene.tagged;
        d["tag"] = tag;
        return d;
      },
      py::arg("split"), py::arg("index"), py::kw_only(), py::arg("kind") = name_of(scene_defaults.kind),
      py::arg("size") = scene_defaults.size, py::arg("train") = scene_defaults.train,
      py::arg("test") = scene_defaults.test, py::arg("seed") = scene_defaults.seed,
      py::arg("max_objects") = scene_defaults.max_objects, py::arg("target") = scene_defaults.target,
      py::arg("min_scale") = scene_defaults.min_scale, py::arg("max_scale") = scene_defaults.max_scale,
      py::arg("rate") = scene_defaults.tag_rate, py::arg("tag_scale") = scene_defaults.tag_scale,
      "Scene `index` of a split as make_scenes draws it (a pure function of the keywords, split and index):\n"
      "{image: float32 H x W in [0, 1], mask: bool H x W (the target object), label, class, objects, tagged,\n"
      "tag: bool H x W (the watermark tag; all False unless tagged)}.");
  m.def("image_seed", &image_seed, py::arg("seed"), py::arg("index"),
        "The seed of image `index` in a run seeded with `seed` (as the CLI's --seed).");

  method_result
      .def_property_readonly("method", [](const PyMethodResult& x) { return name_of(x.r.method); })
      .def_property_readonly("pixels", [](py::object self) { return view_array(self.cast<PyMethodResult&>().r.pixels, self); },
                             "H x W float64 relevance (read-only view)")
      .def_property_readonly("class_index", [](const PyMethodResult& x) { return x.r.class_index; })
      .def_property_readonly("class_name", [](const PyMethodResult& x) { return x.model->class_names().at(x.r.class_index); },
                             "the explained class's name (the JSON's \"class\")")
      .def_property_readonly("score", [](const PyMethodResult& x) { return x.r.score; })
      .def_property_readonly("pixel_sum", [](const PyMethodResult& x) { return x.r.pixels.sum(); })
      .def_property_readonly(
          "residual",
          [](const PyMethodResult& x) -> py::object {
            if (!x.r.account) return py::none();
            return py::float_(x.r.account->score - x.r.account->pixel_sum);
          },
          "lrp, taylor: score - pixel_sum (what the layers absorbed); None for the other methods")
      .def_property_readonly("image_size", [](const PyMethodResult& x) {
        return py::make_tuple(x.r.pixels.rows(), x.r.pixels.cols());
      })
      .def_property_readonly("predicted", [](const PyMethodResult& x) { return x.r.predicted; },
                             "index of the class with the highest score")
      .def_property_readonly("scores", [](const PyMethodResult& x) { return owned_array(Eigen::VectorXd(x.r.scores)); },
                             "every class's score (float64), from one forward pass")
      .def_property_readonly("evaluations", [](const PyMethodResult& x) { return x.r.evaluations; },
                             "forward passes of the model the method needed")
      .def_property_readonly("seconds", [](const PyMethodResult& x) { return x.r.seconds; })
      .def_property_readonly("account", [](const PyMethodResult& x) { return account_dict(x.r.account); },
                             "lrp, taylor: {score, pixel_sum, layers}; None for the other methods")
      .def_property_readonly(
          "layers", [](const PyMethodResult& x) { return x.r.account ? layer_list(x.r.account->layers) : py::list(); },
          "lrp: the account per layer, top first (relevance_in, relevance_out, absorbed, unassigned, unaccounted);\n"
          "empty for the other methods")
      .def_property_readonly("details", [](const PyMethodResult& x) { return py::dict(from_json(x.r.details)); },
                             "the fields of the JSON particular to the model kind and method (layers, channels, ...)")
      .def(
          "to_json",
          [](const PyMethodResult& x) { return py::dict(from_json(explanation_record(*x.model, x.r, x.image))); },
          "The report the CLI writes as NAME.json, as a dict (without produced_by).")
      .def(
          "heatmap",
          [](const PyMethodResult& x, bool on_image, double scale, int min_side) {
            return render_rgb(x.r.pixels, on_image ? x.gray : cv::Mat(), scale, min_side);
          },
          py::arg("on_image") = true, py::arg("scale") = 0.0, py::arg("min_side") = 112,
          "render_heatmap of the relevance, shaded by the explained image (the CLI's PNG) unless on_image=False")
      .def("__repr__", [](const PyMethodResult& x) {
        return "<pixelwise.Explanation: " + name_of(x.r.method) + ", class " + std::to_string(x.r.class_index) + ", score " +
               std::to_string(x.r.score) + ">";
      });

  // ------------------------------------------------------------ baselines
  m.def(
      "random_relevance",
      [](int rows, int cols, std::uint64_t seed) {
        if (rows < 1 || cols < 1) throw py::value_error("random_relevance: rows and cols must be >= 1");
        return owned_array(random_relevance(rows, cols, seed));
      },
      py::arg("rows"), py::arg("cols"), py::arg("seed") = 1,
      "i.i.d. uniform relevance in [-1, 1) from a 64-bit Mersenne Twister seeded with `seed`.");
  m.def(
      "occlusion",
      [](const ModelLike& model, const ImageLike& image, const TargetLike& target, int patch, int stride, double fill,
         int batch, int threads) {
        const ImageCall call = image_call(model, image, target);
        OcclusionOptions o;
        o.patch = patch;
        o.stride = stride;
        o.fill = fill;
        o.batching = batching(batch, threads);
        o.validate();
        OcclusionResult r = without_gil([&] { return occlusion(*call.a.model, call.input(), call.c, o); });
        py::dict d;
        d["relevance"] = owned_array(std::move(r.relevance));
        d["score"] = r.score;
        d["evaluations"] = r.evaluations;
        d["positions"] = r.positions;
        return d;
      },
      py::arg("model"), py::arg("image"), py::arg("target") = py::none(), py::arg("patch") = 8, py::arg("stride") = 4,
      py::arg("fill") = 0.0, py::arg("batch") = 32, py::arg("threads") = 0,
      "Occlusion (Zeiler & Fergus 2014): the mean score drop f(x) - f(x with a patch of grey level `fill`) over\n"
      "the patch positions covering each pixel. `model`: a Model, BowModel, NetworkModel, or a Python callable\n"
      "f(images, c) -> scores taking a float32 array N x H x W in [0, 1] (then `target` is a class index).\n"
      "Returns {relevance, score, evaluations, positions}.");

  // ------------------------------------------------------------ metrics
  m.def(
      "region_perturbation",
      [](const ModelLike& model, const ImageLike& image, const ArrayLike& relevance, const TargetLike& target,
         int region, int steps, int regions_per_step, bool most_relevant_first, const std::string& replacement,
         double constant, double blur_sigma, std::uint64_t seed, int batch, int threads) {
        const ImageCall call = image_call(model, image, target);
        const RowMatrixXd r = heatmap_arg(relevance, call.s, "region_perturbation");
        PerturbationOptions o;
        o.region = region;
        o.steps = steps;
        o.regions_per_step = regions_per_step;
        o.most_relevant_first = most_relevant_first;
        o.replacement = parse_replacement(replacement);
        o.constant = constant;
        o.blur_sigma = blur_sigma;
        o.seed = seed;
        o.batching = batching(batch, threads);
        o.validate();
        PerturbationCurve curve =
            without_gil([&] { return region_perturbation(*call.a.model, call.input(), r, call.c, o); });
        py::dict d;
        d["aopc"] = curve.aopc();
        d["region"] = curve.region;
        d["regions_per_step"] = curve.regions_per_step;
        d["evaluations"] = curve.evaluations;
        d["scores"] = owned_vector(std::move(curve.scores));
        return d;
      },
      py::arg("model"), py::arg("image"), py::arg("relevance"), py::arg("target") = py::none(), py::arg("region") = 0,
      py::arg("steps") = 100, py::arg("regions_per_step") = 1, py::arg("most_relevant_first") = true,
      py::arg("replacement") = "uniform", py::arg("constant") = 0.0, py::arg("blur_sigma") = 3.0, py::arg("seed") = 1,
      py::arg("batch") = 32, py::arg("threads") = 0,
      "Region perturbation (Samek et al. 2017; docs/design.md 5) of a heatmap from any source: regions of side\n"
      "`region` (0: 9, smaller for small images) ranked by summed relevance, most relevant first (MoRF) or\n"
      "least (LeRF), replaced step by step by uniform noise ('uniform', seeded), a constant grey level\n"
      "('constant') or the blurred image ('blur'). Returns {scores: f(x^(0..L)), aopc, region,\n"
      "regions_per_step, evaluations}; AOPC = 1/(L+1) sum_k (f(x^(0)) - f(x^(k))). Pixel flipping is region=1.\n"
      "`model` as for occlusion().");
  m.def(
      "faithfulness_correlation",
      [](const ModelLike& model, const ImageLike& image, const ArrayLike& relevance, const TargetLike& target,
         int subsets, double fraction, const std::string& replacement, double constant, double blur_sigma,
         std::uint64_t seed, int batch, int threads) {
        FaithfulnessCorrelationOptions o;
        o.subsets = subsets;
        o.fraction = fraction;
        o.replacement = replacement_arg(replacement, constant, blur_sigma);
        o.seed = seed;
        o.batching = batching(batch, threads);
        checked("faithfulness_correlation", [&] { o.validate(); });
        const ImageCall call = image_call(model, image, target);
        const RowMatrixXd r = heatmap_arg(relevance, call.s, "faithfulness_correlation");
        SubsetCorrelation f =
            without_gil([&] { return faithfulness_correlation(*call.a.model, call.input(), r, call.c, o); });
        py::dict d;
        d["faithfulness_correlation"] = f.correlation;
        d["subset_size"] = f.subset_size;
        d["attributions"] = owned_vector(std::move(f.attributions));
        d["drops"] = owned_vector(std::move(f.drops));
        d["score"] = f.score;
        d["evaluations"] = f.evaluations;
        return d;
      },
      py::arg("model"), py::arg("image"), py::arg("relevance"), py::arg("target") = py::none(),
      py::arg("subsets") = 100, py::arg("fraction") = 0.1, py::arg("replacement") = "uniform",
      py::arg("constant") = 0.0, py::arg("blur_sigma") = 3.0, py::arg("seed") = 1, py::arg("batch") = 32,
      py::arg("threads") = 0,
      "Faithfulness correlation (Bhatt et al. 2020) of a heatmap from any source: the Pearson correlation, over\n"
      "`subsets` random subsets S of `fraction` of the pixels, of sum_{q in S} R_q with f(x) - f(x with S\n"
      "replaced) (replacement as in region_perturbation; seeded). Returns {faithfulness_correlation (NaN:\n"
      "undefined), subset_size, attributions, drops, score, evaluations}. `model` as for occlusion().");
  m.def(
      "sensitivity_n",
      [](const ModelLike& model, const ImageLike& image, const ArrayLike& relevance, const TargetLike& target,
         const std::optional<std::vector<long>>& sizes, int points, double max_fraction, int subsets,
         const std::string& replacement, double constant, double blur_sigma, std::uint64_t seed, int batch,
         int threads) {
        const ImageCall call = image_call(model, image, target);
        const RowMatrixXd r = heatmap_arg(relevance, call.s, "sensitivity_n");
        SensitivityNOptions o;
        if (sizes) {
          if (sizes->empty()) throw py::value_error("sensitivity_n: sizes is empty (None: the log-spaced sizes)");
          o.sizes = *sizes;
        }
        o.points = points;
        o.max_fraction = max_fraction;
        o.subsets = subsets;
        o.replacement = replacement_arg(replacement, constant, blur_sigma);
        o.seed = seed;
        o.batching = batching(batch, threads);
        checked("sensitivity_n", [&] {
          o.validate();
          o.sizes_for(static_cast<long>(r.size()));
        });
        SensitivityNCurve k = without_gil([&] { return sensitivity_n(*call.a.model, call.input(), r, call.c, o); });
        py::dict d;
        d["sizes"] = owned_vector(std::move(k.sizes));
        d["correlations"] = owned_vector(std::move(k.correlations));
        d["score"] = k.score;
        d["evaluations"] = k.evaluations;
        return d;
      },
      py::arg("model"), py::arg("image"), py::arg("relevance"), py::arg("target") = py::none(),
      py::arg("sizes") = py::none(), py::arg("points") = 10, py::arg("max_fraction") = 0.8, py::arg("subsets") = 50,
      py::arg("replacement") = "uniform", py::arg("constant") = 0.0, py::arg("blur_sigma") = 3.0, py::arg("seed") = 1,
      py::arg("batch") = 32, py::arg("threads") = 0,
      "Sensitivity-n (Ancona et al. 2018): the faithfulness correlation for subsets of exactly n pixels, per n in\n"
      "`sizes` (None: `points` sizes log-spaced from 1 to max_fraction of the pixels), `subsets` subsets each.\n"
      "Returns {sizes, correlations, score, evaluations}.");
  m.def(
      "infidelity",
      [](const ModelLike& model, const ImageLike& image, const ArrayLike& relevance, const TargetLike& target,
         int samples, double sigma, std::uint64_t seed, int batch, int threads) {
        InfidelityOptions o;
        o.samples = samples;
        o.sigma = sigma;
        o.seed = seed;
        o.batching = batching(batch, threads);
        checked("infidelity", [&] { o.validate(); });
        const ImageCall call = image_call(model, image, target);
        const RowMatrixXd r = heatmap_arg(relevance, call.s, "infidelity");
        Infidelity f = without_gil([&] { return infidelity(*call.a.model, call.input(), r, call.c, o); });
        py::dict d;
        d["infidelity"] = f.infidelity;
        d["infidelity_beta"] = f.beta;
        d["relative_infidelity"] = f.relative_infidelity;
        d["attributions"] = owned_vector(std::move(f.attributions));
        d["drops"] = owned_vector(std::move(f.drops));
        d["score"] = f.score;
        d["evaluations"] = f.evaluations;
        return d;
      },
      py::arg("model"), py::arg("image"), py::arg("relevance"), py::arg("target") = py::none(),
      py::arg("samples") = 100, py::arg("sigma") = 0.1, py::arg("seed") = 1, py::arg("batch") = 32,
      py::arg("threads") = 0,
      "Infidelity (Yeh et al. 2019): E[(beta I^T R - (f(x) - f(x - I)))^2] over `samples` Gaussian perturbations\n"
      "I of standard deviation `sigma` per pixel (not clipped), at the optimal scale beta = E[I^T R df] /\n"
      "E[(I^T R)^2]. Returns {infidelity, infidelity_beta, relative_infidelity (divided by E[df^2], in [0, 1]),\n"
      "attributions (I^T R), drops, score, evaluations}.");
  m.def(
      "max_sensitivity",
      [](const py::object& explain, const ImageLike& image, const OptionalArray& relevance, const TargetLike& target,
         const OptionalStr& method, int samples, double radius, std::uint64_t seed) {
        MaxSensitivityOptions o;
        o.samples = samples;
        o.radius = radius;
        o.seed = seed;
        checked("max_sensitivity", [&] { o.validate(); });
        const std::shared_ptr<ExplainableModel> model = explainable_arg(explain);
        if (model) {
          if (method.is_none())
            throw py::value_error("max_sensitivity: a model needs method= (lrp, taylor, sensitivity, occlusion, random)");
          const ExplainMethod m = parse_enum<ExplainMethod>(method.cast<std::string>(), "explanation method", "method");
          const ImageSample s = image_arg(image, "image", nullptr, reading_of(*model));
          const cv::Mat& input = model->input(s);
          const int c = explainable_target(*model, target, input);
          ExplainSettings settings;
          settings.seed = seed;
          settings.interrupt = python_interrupt();
          model->check(m, settings);
          const std::uint64_t method_seed = image_seed(seed, 0);  // as model.explain(image, seed=seed)
          const ExplainFunction phi = [&](const cv::Mat& x) {
            return explain_with(*model, x, c, m, settings, method_seed, s.source).pixels;
          };
          RowMatrixXd r;
          if (relevance.is_none()) {
            r = without_gil([&] { return phi(input); });
          } else {
            r = heatmap_arg(relevance, s, "max_sensitivity");
          }
          MaxSensitivity out = without_gil([&] { return max_sensitivity(phi, input, r, o); });
          return sensitivity_dict(std::move(out));
        }
        if (!PyCallable_Check(explain.ptr()))
          throw py::type_error("max_sensitivity: expected a callable explain(image) -> 2-D relevance, or a pixelwise "
                               "Model, BowModel, NetworkModel or PipelineModel with method=");
        if (!method.is_none()) throw py::value_error("max_sensitivity: method= applies to a model, not to a callable");
        if (!target.is_none()) throw py::value_error("max_sensitivity: target= applies to a model; the callable explains");
        const ImageSample s = image_arg(image, "image");
        const py::function f = py::reinterpret_borrow<py::function>(explain);
        const ExplainFunction phi = [&](const cv::Mat& x) {
          py::array_t<float> a({static_cast<py::ssize_t>(x.rows), static_cast<py::ssize_t>(x.cols)});
          for (int y = 0; y < x.rows; ++y) std::copy(x.ptr<float>(y), x.ptr<float>(y) + x.cols, a.mutable_data(y, 0));
          return matrix_arg(f(a), "the explanation callable's result (a 2-D relevance map)");
        };
        const RowMatrixXd r = relevance.is_none() ? phi(s.gray) : heatmap_arg(relevance, s, "max_sensitivity");
        if (r.rows() != s.gray.rows || r.cols() != s.gray.cols)
          throw py::value_error("max_sensitivity: the explanation is " + std::to_string(r.rows()) + " x " +
                                std::to_string(r.cols()) + " but the image is " + std::to_string(s.gray.rows) + " x " +
                                std::to_string(s.gray.cols));
        return sensitivity_dict(max_sensitivity(phi, s.gray, r, o));
      },
      py::arg("explain"), py::arg("image"), py::arg("relevance") = py::none(), py::arg("target") = py::none(),
      py::arg("method") = py::none(), py::arg("samples") = 10, py::arg("radius") = 0.02, py::arg("seed") = 1,
      "Max-sensitivity (Yeh et al. 2019): max over `samples` inputs x + delta, delta uniform in [-radius, radius]\n"
      "per value (seeded; x + delta clipped to [0, 1]), of ||Phi(x + delta) - Phi(x)||_F / ||Phi(x)||_F. `explain`:\n"
      "a callable explain(image) -> 2-D relevance taking a float32 H x W array, or a model with `method` (and\n"
      "`target`, None: the predicted class; the method's seed is `seed`). `relevance`: Phi(x) (None: computed).\n"
      "Returns\n"
      "{max_sensitivity (NaN when Phi(x) = 0), sensitivities, explanations}.");
  m.def(
      "sparseness",
      [](const ArrayLike& relevance) {
        const RowMatrixXd r = matrix_arg(relevance, "relevance");
        return checked("sparseness", [&] { return sparseness(r); });
      },
      py::arg("relevance"),
      "Sparseness (Chalasani et al. 2020): the Gini index of |R|; 0 for a uniform map, 1 - 1/N for one non-zero\n"
      "pixel; NaN for an all-zero map.");
  m.def(
      "complexity",
      [](const ArrayLike& relevance) {
        const RowMatrixXd r = matrix_arg(relevance, "relevance");
        return checked("complexity", [&] { return complexity(r); });
      },
      py::arg("relevance"),
      "Complexity (Bhatt et al. 2020): the entropy (nats) of |R| / sum |R|; log N for a uniform map, 0 for one\n"
      "non-zero pixel; NaN for an all-zero map.");
  m.def(
      "rank_regions",
      [](const ArrayLike& relevance, int region, bool most_relevant_first, std::uint64_t seed) {
        if (region < 1) throw py::value_error("rank_regions: region must be >= 1");
        return owned_vector(rank_regions(matrix_arg(relevance, "relevance"), region, most_relevant_first, seed));
      },
      py::arg("relevance"), py::arg("region"), py::arg("most_relevant_first") = true, py::arg("seed") = 1,
      "Region indices (row-major over the grid of side `region`) by summed relevance; ties in seeded order.");
  m.def(
      "localise",
      [](const ArrayLike& relevance, const ArrayLike& mask) {
        const RowMatrixXd r = matrix_arg(relevance, "relevance");
        const MaskArray g = mask_arg(mask, "mask");
        const Localisation l = localise(r, g);
        py::dict d;
        d["mass_accuracy"] = l.mass_accuracy;
        d["rank_accuracy"] = l.rank_accuracy;
        d["pointing"] = l.pointing;
        d["mask_fraction"] = l.mask_fraction;
        d["mask_pixels"] = l.mask_pixels;
        return d;
      },
      py::arg("relevance"), py::arg("mask"),
      "Localisation of a heatmap against a ground-truth mask (docs/design.md 5): relevance mass accuracy (NaN when\n"
      "no pixel is positive), relevance rank accuracy, pointing game, and the chance level mask_fraction.");
  // ------------------------------------------------------------ sanity checks
  m.def(
      "heatmap_similarity",
      [](const ArrayLike& a, const ArrayLike& b, double top_k) {
        const RowMatrixXd x = matrix_arg(a, "a"), y = matrix_arg(b, "b");
        if (x.rows() != y.rows() || x.cols() != y.cols())
          throw py::value_error("heatmap_similarity: a is " + std::to_string(x.rows()) + " x " + std::to_string(x.cols()) +
                                ", b is " + std::to_string(y.rows()) + " x " + std::to_string(y.cols()) +
                                "; the heatmaps must have one size");
        nlohmann::json j = heatmap_similarity(x, y, top_k);
        j["chance"] = similarity_chance(x.size(), top_k);
        return py::dict(from_json(j));
      },
      py::arg("a"), py::arg("b"), py::kw_only(), py::arg("top_k") = kDefaultTopK,
      "How similar two heatmaps (2-D arrays of one size) are, as the sanity checks measure it (Adebayo et al.\n"
      "2018; docs/evaluation.md \"Sanity checks\"): {spearman (rank correlation of R, average ranks for ties;\n"
      "None for a constant map), spearman_abs (of |R|), ssim (of the maps divided by their max |R|, Gaussian\n"
      "window sigma 1.5, data range 2), top_k_intersection (share of the top-k pixels by |R| in common; k =\n"
      "round(top_k * pixels), top_k a fraction in (0, 1]), top_k (k), chance (the chance levels)}.");
  m.def(
      "mprt",
      [](const ModelLike& model, const ImageLike& image, const std::string& method, std::uint64_t seed,
         const TargetLike& target, double top_k, long image_index, std::uint64_t method_seed) {
        const std::shared_ptr<const ExplainableModel> x = explainable_arg(model);
        if (!x) throw py::type_error("model: expected a pixelwise Model, BowModel or NetworkModel");
        const ExplainMethod m = parse_enum<ExplainMethod>(method, "explanation method", "method");
        top_k_pixels(top_k, 1);  // a ValueError naming a bad fraction before any work
        const std::vector<std::string> stages = x->randomisation_stages();
        cv::Mat exact;
        const ImageSample s = image_arg(image, "image", &exact, reading_of(*x));
        const cv::Mat& input = model_image(*x, s, exact);
        int c = explain_target(*x, target);
        ExplainSettings settings;
        settings.seed = method_seed;
        const std::uint64_t per_image = image_seed(method_seed, image_index);
        py::dict out;
        py::list per_stage;
        {
          Explanation original;
          std::vector<Explanation> randomised;
          {
            py::gil_scoped_release release;
            original = explain_with(*x, input, c, m, settings, per_image, s.source);
            c = original.class_index;  // every stage explains the model's decision
            for (int k = 1; k <= static_cast<int>(stages.size()); ++k)
              randomised.push_back(explain_with(*x->randomised(k, seed), input, c, m, settings, per_image, s.source));
          }
          for (size_t k = 0; k < randomised.size(); ++k) {
            py::dict d(from_json(nlohmann::json(heatmap_similarity(original.pixels, randomised[k].pixels, top_k))));
            d["stage"] = stages[k];
            d["score"] = randomised[k].score;
            d["heatmap"] = owned_array(RowMatrixXd(randomised[k].pixels));
            per_stage.append(d);
          }
          out["heatmap"] = owned_array(RowMatrixXd(original.pixels));
          out["score"] = original.score;
        }
        out["method"] = method;
        out["class_index"] = c;
        out["seed"] = seed;
        out["top_k"] = top_k;
        out["stages"] = per_stage;
        out["chance"] = from_json(similarity_chance(static_cast<long>(input.rows) * input.cols, top_k));
        return out;
      },
      py::arg("model"), py::arg("image"), py::kw_only(), py::arg("method") = "lrp", py::arg("seed") = 1,
      py::arg("target") = py::none(), py::arg("top_k") = kDefaultTopK, py::arg("image_index") = 0,
      py::arg("method_seed") = 1,
      "The model parameter randomisation test (cascading; Adebayo et al. 2018, 3.1; docs/evaluation.md \"Sanity\n"
      "checks\") on one image: `method` explains class `target` (None: the predicted class) on the model and on\n"
      "the models with their first 1, 2, ... stages randomised (Model.randomised(k, seed=seed)), always the\n"
      "model's class. Returns {method, class_index, score, heatmap (the model's map), seed, top_k, chance,\n"
      "stages: [{stage, spearman, spearman_abs, ssim, top_k_intersection, top_k, score, heatmap}]}. The random\n"
      "method (seeded by image_seed(method_seed, image_index)) scores similarity 1 at every stage: it fails.");
  m.def(
      "summarise",
      [](const std::vector<double>& values) { return py::dict(from_json(nlohmann::json(summarise(values)))); },
      py::arg("values"), "count, undefined (NaN), mean, std, min, max, median and ci95 of a list of numbers.");
}

}  // namespace pixelwise::python
