// Python bindings of the explanation methods and evaluation metrics (see
// docs/design.md 5): any model the library loads, or any Python callable, can be
// explained by occlusion or random maps and scored by region perturbation
// (AOPC), and any numpy heatmap (from this library or another tool) can be
// evaluated the same way, or against a ground-truth mask.
#include <memory>

#include "bindings.hpp"
#include "convert.hpp"
#include "pixelwise/decomposition/baselines.hpp"
#include "pixelwise/decomposition/metrics.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"

namespace pixelwise::python {
namespace {

// The name of an image argument in an error: its file or reference, or for an
// array (no name of its own) the argument, e.g. "image argument: out of memory".
std::string image_name(const ImageSample& s) { return s.source == "image" ? "image argument" : s.source; }

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

/// f_c of a BoW model held by Python, as the library's BoW adapter computes it
/// (one BowModel::forward per image).
/// What a metric or baseline may be given as a model.
struct ModelArg {
  std::shared_ptr<const ScoreModel> model;
  std::function<int(const py::handle&, const cv::Mat&)> target;  ///< resolves a target argument
  /// The image of a sample as the model reads it (grey for a callable model).
  std::function<const cv::Mat&(const ImageSample&)> input = [](const ImageSample& s) -> const cv::Mat& { return s.gray; };
};

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
  std::shared_ptr<ExplainableModel> m;
  if (py::isinstance<ExplainableModel>(obj))
    m = obj.cast<std::shared_ptr<ExplainableModel>>();
  else if (py::isinstance<BowModel>(obj))
    m = make_bow_adapter(obj.cast<std::shared_ptr<BowModel>>(), "BowModel in memory");
  else if (py::isinstance<NetworkModel>(obj))
    m = make_network_adapter(obj.cast<std::shared_ptr<NetworkModel>>());
  if (m) {
    a.model = m;
    a.target = [m](const py::handle& t, const cv::Mat& image) { return explainable_target(*m, t, image); };
    a.input = [m](const ImageSample& s) -> const cv::Mat& { return m->input(s); };
  } else if (PyCallable_Check(obj.ptr())) {
    a.model = std::make_shared<CallableModel>(py::reinterpret_borrow<py::function>(obj));
    a.target = [](const py::handle& t, const cv::Mat&) {
      if (t.is_none()) throw py::value_error("target: a callable model needs a class index");
      return index_arg(t, 0);
    };
  } else {
    throw py::type_error("model: expected a pixelwise Model, BowModel or NetworkModel, or a callable "
                         "f(images, c) -> scores");
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

BatchOptions batching(int batch, int threads) {
  BatchOptions b;
  b.batch = batch;
  b.threads = threads;
  b.validate();
  return b;
}

/// An Explanation together with the explained image (for heatmap()).
struct PyMethodResult {
  Explanation r;
  cv::Mat gray;
};

py::object account_dict(const std::optional<ConservationRecord>& account) {
  if (!account) return py::none();
  py::dict d;
  d["score"] = account->score;
  d["pixel_sum"] = account->pixel_sum;
  d["layers"] = layer_list(account->layers);
  return d;
}

}  // namespace

void bind_evaluation(py::module_& m) {
  py::class_<PyMethodResult> method_result(
      m, "Explanation", "One explanation of one decision (Model.explain), whatever the model and method.");
  m.attr("MethodResult") = method_result;  // the name of earlier versions
  py::class_<ExplainableModel, std::shared_ptr<ExplainableModel>>(
      m, "Model",
      "Any classifier the library loads (BoW model directory, network model directory, LRP Toolbox text\n"
      "file) seen as the evaluation sees it: scores of grey images and every explanation method (its own:\n"
      "lrp, taylor, sensitivity; and occlusion, random). Made by load_model().")
      .def_property_readonly("kind", &ExplainableModel::kind, "'bow' or 'network'")
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
      .def("describe", [](const ExplainableModel& x) { return py::dict(from_json(x.describe())); })
      .def(
          "scores",
          [](const ExplainableModel& x, const ImageLike& image) {
            const ImageSample s = image_arg(image, "image");
            return owned_array(without_gil([&] { return x.all_scores(x.input(s), s.source); }));
          },
          py::arg("image"), "all class scores of one image (as the model reads it: colour for a colour model)")
      .def(
          "explain",
          [](const std::shared_ptr<ExplainableModel>& x, const ImageLike& image, const std::string& method,
             const TargetLike& target, int patch, int stride, double fill, std::uint64_t seed, long image_index,
             int batch, int threads) {
            const ImageSample s = image_arg(image, "image");
            // Names the image when memory runs out too (docs/errors.md, "Error types").
            const std::string name = image_name(s);
            const int c = naming_input(name, [&] { return explainable_target(*x, target, x->input(s)); });
            const ExplainMethod parsed = parse_enum<ExplainMethod>(method, "explanation method", "method");
            ExplainSettings settings;
            settings.occlusion.patch = patch;
            settings.occlusion.stride = stride;
            settings.occlusion.fill = fill;
            settings.occlusion.batching = batching(batch, threads);
            settings.seed = seed;
            if (image_index < 0) throw py::value_error("image_index must be >= 0");
            PyMethodResult out;
            out.gray = s.gray;
            x->check(parsed, settings);
            out.r = without_gil([&] {
              return naming_input(name, [&] {
                return explain_with(*x, x->input(s), c, parsed, settings, image_seed(seed, image_index), s.source);
              });
            });
            return out;
          },
          py::arg("image"), py::arg("method") = "lrp", py::arg("target") = py::none(), py::arg("patch") = 0,
          py::arg("stride") = 0, py::arg("fill") = 0.0, py::arg("seed") = 1, py::arg("image_index") = 0,
          py::arg("batch") = 32, py::arg("threads") = 0,
          "Explains class `target` (None: predicted) of a grey image with `method` (see .methods), as\n"
          "`pixelwise explain --method METHOD` does: occlusion patch/stride 0 take a quarter and an eighth of the\n"
          "image side; random is seeded with image_seed(seed, image_index) (the CLI: --seed, and the image's\n"
          "position on the command line).")
      .def("__repr__", [](const ExplainableModel& x) {
        return "<pixelwise.Model: " + x.kind() + " '" + x.source() + "', " + std::to_string(x.classes()) + " classes>";
      });
  m.def(
      "load_model",
      [](const PathArg& path) { return std::shared_ptr<ExplainableModel>(load_explainable_model(path.string())); },
      py::arg("path"), "A BoW model directory, a network model directory or an LRP Toolbox text file, as a Model.");
  m.def(
      "as_model",
      [](std::shared_ptr<BowModel> model) {
        return std::shared_ptr<ExplainableModel>(make_bow_adapter(std::move(model), "BowModel in memory"));
      },
      py::arg("model"),
      "A BowModel (loaded or just trained) as a Model, sharing it: every method and metric without a\n"
      "round trip through a model directory.");
  m.def(
      "as_model",
      [](std::shared_ptr<NetworkModel> model) {
        return std::shared_ptr<ExplainableModel>(make_network_adapter(std::move(model)));
      },
      py::arg("model"), "A NetworkModel as a Model, sharing it.");
  m.def("image_seed", &image_seed, py::arg("seed"), py::arg("index"),
        "The seed of image `index` in a run seeded with `seed` (as the CLI's --seed).");

  method_result
      .def_property_readonly("method", [](const PyMethodResult& x) { return name_of(x.r.method); })
      .def_property_readonly("pixels", [](py::object self) { return view_array(self.cast<PyMethodResult&>().r.pixels, self); },
                             "H x W float64 relevance (read-only view)")
      .def_property_readonly("class_index", [](const PyMethodResult& x) { return x.r.class_index; })
      .def_property_readonly("score", [](const PyMethodResult& x) { return x.r.score; })
      .def_property_readonly("predicted", [](const PyMethodResult& x) { return x.r.predicted; },
                             "index of the class with the highest score")
      .def_property_readonly("scores", [](const PyMethodResult& x) { return owned_array(Eigen::VectorXd(x.r.scores)); },
                             "every class's score (float64), from one forward pass")
      .def_property_readonly("evaluations", [](const PyMethodResult& x) { return x.r.evaluations; },
                             "forward passes of the model the method needed")
      .def_property_readonly("seconds", [](const PyMethodResult& x) { return x.r.seconds; })
      .def_property_readonly("account", [](const PyMethodResult& x) { return account_dict(x.r.account); },
                             "lrp, taylor: {score, pixel_sum, layers}; None for the other methods")
      .def_property_readonly("details", [](const PyMethodResult& x) { return py::dict(from_json(x.r.details)); })
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
        ModelArg a = model_arg(model);
        const ImageSample s = image_arg(image, "image");
        const int c = a.target(target, a.input(s));
        OcclusionOptions o;
        o.patch = patch;
        o.stride = stride;
        o.fill = fill;
        o.batching = batching(batch, threads);
        o.validate();
        OcclusionResult r = without_gil([&] { return occlusion(*a.model, a.input(s), c, o); });
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
        ModelArg a = model_arg(model);
        const ImageSample s = image_arg(image, "image");
        const RowMatrixXd r = matrix_arg(relevance, "relevance");
        if (r.rows() != s.gray.rows || r.cols() != s.gray.cols)
          throw py::value_error("region_perturbation: relevance is " + std::to_string(r.rows()) + " x " +
                                std::to_string(r.cols()) + " but the image is " + std::to_string(s.gray.rows) + " x " +
                                std::to_string(s.gray.cols));
        const int c = a.target(target, a.input(s));
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
        PerturbationCurve curve = without_gil([&] { return region_perturbation(*a.model, a.input(s), r, c, o); });
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
  m.def(
      "summarise",
      [](const std::vector<double>& values) { return py::dict(from_json(nlohmann::json(summarise(values)))); },
      py::arg("values"), "count, undefined (NaN), mean, std, min, max, median and ci95 of a list of numbers.");
}

}  // namespace pixelwise::python
