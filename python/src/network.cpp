// Python bindings of the network classifiers (docs/design.md 1.7): LRP
// Toolbox text files and network model directories, prediction, and
// explanations by LRP with a rule or composite, Taylor decomposition at a root
// point, or sensitivity, as `pixelwise explain --model NETWORK` computes them.
#include <cstdio>
#include <cstring>
#include <memory>
#include <opencv2/imgproc.hpp>

#include "bindings.hpp"
#include "convert.hpp"
#include "pixelwise/pipelines/explain/explanation.hpp"
#include "pixelwise/pipelines/explain/network_explain.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"
#include "pixelwise/pipelines/model/network_training.hpp"

namespace pixelwise::python {
namespace {

struct PyNetworkExplanation {
  std::shared_ptr<const NetworkModel> model;
  NetworkExplanation e;
  cv::Mat gray;  ///< the explained image (for figure())
};

}  // namespace

void bind_network(py::module_& m) {
  py::class_<PyNetworkExplanation> network_explanation(
      m, "NetworkExplanation",
      "A network explanation. Arrays are read-only views into it (no copy). For LRP, pixels.sum() + residual\n"
      "== score, the residual being what the layers absorbed (biases, epsilon) or could not pass on.");
  py::class_<NetworkModel, std::shared_ptr<NetworkModel>>(
      m, "NetworkModel",
      "A layered neural network classifier (LRP Toolbox layers: Linear, Convolution, SumPool, MaxPool, Rect,\n"
      "Tanh, SoftMax, Flatten) with its classes and input convention: a grey image g in [0, 1] enters the\n"
      "network as low + (high - low) g. Images as for BowModel (numpy or an image reference such as\n"
      "'digits:test@3').")
      .def_static(
          "load",
          [](const PathArg& path, const RangeLike& input_range) {
            std::optional<std::pair<double, double>> range;
            if (!input_range.is_none()) {
              const auto r = input_range.cast<std::pair<double, double>>();
              if (!(r.first < r.second)) throw py::value_error("input_range: expected (low, high) with low < high");
              range = r;
            }
            return std::make_shared<NetworkModel>(NetworkModel::load(path.string(), range));
          },
          py::arg("path"), py::arg("input_range") = py::none(),
          "Reads an LRP Toolbox text file (input_range: the (low, high) that grey 0..1 maps to, default (-1, 1)\n"
          "as the toolbox's MNIST models) or a network model directory (which records its own range).")
      .def("save", [](const NetworkModel& n, const PathArg& path) { n.save(path.string()); }, py::arg("path"),
           py::call_guard<py::gil_scoped_release>(),
           "Writes a network model directory atomically (a model with a fixed input shape and class names, such\n"
           "as one trained by train_network).")
      .def_property_readonly(
          "classes",
          [](const std::shared_ptr<NetworkModel>& n) {
            if (!n->classes.empty()) return n->classes;
            // Toolbox files name no classes: their outputs are named by index, as
            // every other model's classes and the CLI's reports name them.
            try {
              return make_network_adapter(n)->class_names();
            } catch (const std::runtime_error&) {
              return n->classes;  // no Linear output layer: the number of outputs depends on the input
            }
          },
          "class names, one per output (toolbox files: '0', '1', ...)")
      .def_property_readonly("input_range", [](const NetworkModel& n) { return py::make_tuple(n.input.low, n.input.high); })
      .def_property_readonly("source", [](const NetworkModel& n) { return n.source; })
      .def_property_readonly(
          "layers",
          [](const NetworkModel& n) {
            std::vector<std::string> layers;
            for (int k = 0; k < n.network.size(); ++k) layers.push_back(n.network.layer(k).describe());
            return layers;
          },
          "one line per layer, input first")
      .def("class_name", &NetworkModel::class_name, py::arg("index"))
      .def(
          "class_index",
          [](const std::shared_ptr<NetworkModel>& n, const std::string& name_or_index) {
            return make_network_adapter(n)->class_index(name_or_index);
          },
          py::arg("name_or_index"), "A class by name or index (as a string, the CLI's --class).")
      .def(
          "predict",
          [](const NetworkModel& n, const ImageLike& image) {
            cv::Mat exact;
            const ImageSample s = image_arg(image, "image", &exact);
            const cv::Mat& gray = exact.empty() ? s.gray : exact;  // float64 stays float64
            Eigen::VectorXd scores;
            {
              py::gil_scoped_release release;
              const TensorShape shape = n.input_shape(gray, s.source);
              const Eigen::VectorXd x = n.input_vector(gray, s.source);
              scores = n.network.scores(x.transpose(), shape).row(0).transpose();
            }
            return owned_array(std::move(scores));
          },
          py::arg("image"), "Pre-softmax scores of all outputs (the explained quantities).")
      .def(
          "explain_detailed",
          [](const std::shared_ptr<NetworkModel>& n, const ImageLike& image, const std::string& method,
             const std::string& rule, bool ignore_bias, const TargetLike& target) {
            NetworkExplainOptions options;
            options.method = parse_enum<ExplainMethod>(method, "explanation method");
            options.rule = rule;
            options.ignore_bias = ignore_bias;
            if (!target.is_none()) {
              if (py::isinstance<py::str>(target)) {
                options.class_index = -2;  // resolved below, once the number of outputs is known
              } else if (py::isinstance<py::bool_>(target) || !py::hasattr(target, "__index__")) {
                throw py::type_error("target: expected a class index, a class name or None");
              } else {
                const long long c = target.attr("__index__")().cast<long long>();
                if (c < 0) throw py::value_error("target: class index must be >= 0");
                options.class_index = static_cast<int>(c);
              }
            }
            PyNetworkExplanation out{n, {}, {}};
            cv::Mat exact;
            const ImageSample s = image_arg(image, "image", &exact);
            out.gray = s.gray;
            const cv::Mat& gray = exact.empty() ? s.gray : exact;  // float64 stays float64
            py::gil_scoped_release release;
            if (options.class_index == -2) {
              const TensorShape shape = n->input_shape(gray, s.source);
              const long outputs = n->network.shapes(shape, n->network.score_layers()).back().size();
              py::gil_scoped_acquire acquire;
              options.class_index = n->class_index(target.cast<std::string>(), outputs);
            }
            out.e = explain_network(*n, gray, options, s.source);
            return out;
          },
          py::arg("image"), py::kw_only(), py::arg("method") = "lrp", py::arg("rule") = "zb-epsilon-plus",
          py::arg("ignore_bias") = false, py::arg("target") = py::none(),
          "The explanation with the network's own records (layer rules, the Taylor root and gradient,\n"
          "figure()); explain() gives the common Explanation. Explains the pre-softmax score of `target` (index or name; None: the predicted class).\n"
          "method: 'lrp' (rule: a composite preset, a rule such as 'epsilon:0.01', 'alpha-beta:2,1', 'z+', 'w2',\n"
          "'flat', 'zb', or 'SELECTOR=RULE;...' per layer; see composite_presets()), 'taylor' (first-order Taylor\n"
          "decomposition at a root point, paper Fig 11) or 'sensitivity' ((df/dx)^2). ignore_bias: biases absorb\n"
          "no relevance. The same numbers as `pixelwise explain --model NETWORK`.")
      .def(py::pickle(
          // The state is the network in the toolbox's text format (every
          // weight printed so that it reads back to the same double), the
          // input convention, the classes and where it came from, so that an
          // unpickled model (e.g. in a multiprocessing worker) computes the
          // same bits.
          [](const NetworkModel& n) {
            return py::make_tuple(n.network.toolbox_text(), n.classes, n.input.shape.height, n.input.shape.width,
                                  n.input.shape.channels, n.input.low, n.input.high, n.training_info.dump(), n.source);
          },
          [](const py::tuple& t) {
            if (t.size() != 9) throw py::value_error("NetworkModel: not a pickled NetworkModel state");
            auto n = std::make_shared<NetworkModel>();
            n->source = t[8].cast<std::string>();
            n->network = Network::parse_toolbox(t[0].cast<std::string>(), n->source);
            n->classes = t[1].cast<std::vector<std::string>>();
            n->input.shape = TensorShape{t[2].cast<int>(), t[3].cast<int>(), t[4].cast<int>()};
            n->input.low = t[5].cast<double>();
            n->input.high = t[6].cast<double>();
            n->training_info = nlohmann::json::parse(t[7].cast<std::string>());
            return n;
          }))
      .def("__repr__", [](const NetworkModel& n) {
        return "<pixelwise.NetworkModel '" + n.source + "': " + std::to_string(n.network.size()) + " layers>";
      });

  network_explanation
      .def_property_readonly("pixels", [](py::object self) { return view_array(self.cast<PyNetworkExplanation&>().e.pixels, self); },
                             "H x W float64 relevance (channels summed)")
      .def_property_readonly("scores", [](py::object self) { return view_array(self.cast<PyNetworkExplanation&>().e.scores, self); })
      .def_property_readonly("score", [](const PyNetworkExplanation& x) { return x.e.score; })
      .def_property_readonly("class_index", [](const PyNetworkExplanation& x) { return x.e.class_index; })
      .def_property_readonly("class_name", [](const PyNetworkExplanation& x) { return x.model->class_name(x.e.class_index); })
      .def_property_readonly("predicted", [](const PyNetworkExplanation& x) { return x.e.predicted; })
      .def_property_readonly("method", [](const PyNetworkExplanation& x) { return name_of(x.e.method); })
      .def_property_readonly("rule", [](const PyNetworkExplanation& x) { return x.e.rule; }, "the composite as applied")
      .def_property_readonly("layer_rules", [](const PyNetworkExplanation& x) { return x.e.layer_rules; },
                             "rule per layer, input first ('' for pass-through layers)")
      .def_property_readonly("layers", [](const PyNetworkExplanation& x) { return layer_list(x.e.layers); },
                             "LRP: per layer, top first: relevance_in, relevance_out, absorbed, unassigned, unaccounted")
      .def_property_readonly("pixel_sum", [](const PyNetworkExplanation& x) { return x.e.pixel_sum; })
      .def_property_readonly("residual", [](const PyNetworkExplanation& x) { return x.e.residual(); })
      .def_property_readonly(
          "root",
          [](py::object self) -> py::object {
            const auto& x = self.cast<PyNetworkExplanation&>();
            if (x.e.method != ExplainMethod::taylor) return py::none();
            return view_array(x.e.root, self);
          },
          "taylor: the root point x0 (H x W, input space, channels summed); None otherwise")
      .def_property_readonly(
          "root_gradient",
          [](py::object self) -> py::object {
            const auto& x = self.cast<PyNetworkExplanation&>();
            if (x.e.method != ExplainMethod::taylor) return py::none();
            return view_array(x.e.root_gradient, self);
          },
          "taylor: df/dx at the root; None otherwise")
      .def_property_readonly("root_score", [](const PyNetworkExplanation& x) { return x.e.root_score; })
      .def_property_readonly("root_reference", [](const PyNetworkExplanation& x) { return x.e.root_reference; })
      .def("to_json", [](const PyNetworkExplanation& x) { return py::dict(from_json(network_explanation_json(*x.model, x.e))); },
           "The report the CLI writes as NAME.json, as a dict.")
      .def(
          "heatmap",
          [](const PyNetworkExplanation& x, const OptionalImage& image, double scale, int min_side) {
            return heatmap_array(x.e.pixels, image, scale, min_side);
          },
          py::arg("image") = py::none(), py::arg("scale") = 0.0, py::arg("min_side") = 112,
          "render_heatmap(self.pixels, image, scale, min_side)")
      .def(
          "figure",
          [](const PyNetworkExplanation& x) {
            cv::Mat rgb;
            cv::cvtColor(network_figure(*x.model, x.gray, x.e), rgb, cv::COLOR_BGR2RGB);
            return mat_array(rgb);
          },
          "Side-by-side panels as an RGB uint8 array: input and heatmap, or for taylor input, root point, gradient\n"
          "at the root and decomposition (paper Fig 11); the CLI's --figure picture.")
      .def("__repr__", [](const PyNetworkExplanation& x) {
        return "<pixelwise.NetworkExplanation: " + name_of(x.e.method) + ", class " +
               std::to_string(x.e.class_index) + ", score " + std::to_string(x.e.score) + ">";
      });

  m.def(
      "train_network",
      [](const PathArg& data, const std::vector<int>& hidden, const std::string& activation,
         std::pair<double, double> input_range, int epochs, int batch_size, const std::string& optimizer,
         double learning_rate, double momentum, double weight_decay, std::uint64_t seed, bool verbose,
         const OptionalCallable& progress) {
        NetworkTrainingConfig config;
        for (const int size : hidden)
          if (size < 1) throw py::value_error("hidden: layer sizes must be >= 1");
        config.hidden = hidden;
        config.activation = parse_enum<Activation>(activation, "activation", "activation");
        if (!(input_range.first < input_range.second))
          throw py::value_error("input_range: expected (low, high) with low < high");
        config.input_range = input_range;
        config.training.optimizer = parse_enum<Optimizer>(optimizer, "optimizer", "optimizer");
        config.training.epochs = epochs;
        config.training.batch_size = batch_size;
        config.training.learning_rate = learning_rate;
        config.training.momentum = momentum;
        config.training.weight_decay = weight_decay;
        config.training.seed = seed;
        config.training.validate();
        const std::string spec = data.string();
        // One step per epoch, from the training's "epoch K/N: ..." lines.
        LineProgress lines(progress, verbose, [](const std::string& line, long* done, long* total) {
          const char* at = std::strstr(line.c_str(), "epoch ");
          return at && std::sscanf(at, "epoch %ld/%ld", done, total) == 2;
        });
        std::ostream log(&lines);
        log.exceptions(std::ios::badbit);
        py::gil_scoped_release release;
        const Dataset train = load_network_dataset(spec);
        return std::make_shared<NetworkModel>(train_network_model(train, config, &log));
      },
      py::arg("data"), py::kw_only(), py::arg("hidden") = std::vector<int>{100}, py::arg("activation") = "relu",
      py::arg("input_range") = std::make_pair(0.0, 1.0), py::arg("epochs") = 20, py::arg("batch_size") = 32,
      py::arg("optimizer") = "adam", py::arg("learning_rate") = 1e-3, py::arg("momentum") = 0.9,
      py::arg("weight_decay") = 0.0, py::arg("seed") = 1, py::arg("verbose") = false, py::arg("progress") = py::none(),
      "`pixelwise train-network` from Python: an MLP on the grey images of `data` (digits:SPLIT[:LIMIT],\n"
      "fashion-mnist:SPLIT[:LIMIT] or a folder), the same network as the CLI's for the same keywords (its\n"
      "flags). progress(epoch, epochs) is called after every epoch; Ctrl-C raises KeyboardInterrupt after\n"
      "the current epoch. Returns the NetworkModel (save it with save()).");
  m.def(
      "composite_presets",
      [] {
        py::dict d;
        for (const auto& [name, spec] : Composite::presets()) d[py::str(name)] = spec;
        return d;
      },
      "LRP composite presets (name -> 'SELECTOR=RULE;...') accepted as the `rule` of NetworkModel.explain.");
}

}  // namespace pixelwise::python
