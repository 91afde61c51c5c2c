// Python bindings of the BoW + kernel-SVM pipeline: model
// directories, training, prediction and explanation (docs/design.md 1.2-1.5), plus
// images, data sets and heatmap rendering.
#include <algorithm>
#include <iostream>
#include <streambuf>
#include <memory>
#include <optional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bindings.hpp"
#include "convert.hpp"
#include "pixelwise/common/errors.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/heatmap.hpp"
#include "pixelwise/pipelines/explain/tiles.hpp"

namespace pixelwise::python {
namespace {

/// An explanation together with the model it came from (for class names and JSON).
struct PyBowExplanation {
  std::shared_ptr<const BowModel> model;
  BowExplanation e;
};

PipelineConfig config_arg(const py::handle& config) {
  if (py::isinstance<py::str>(config) || py::hasattr(config, "__fspath__"))
    return PipelineConfig::load(py::str(py::module_::import("os").attr("fspath")(config)));
  if (!py::isinstance<py::dict>(config))
    throw py::type_error("config: expected a dict (the JSON configuration) or the name of a JSON file");
  return PipelineConfig::parse(to_json(config, "config"));
}

/// A class given as None (-1: the predicted one), an index or a name.
int target_arg(const BowModel& model, const py::handle& target) {
  if (target.is_none()) return -1;
  if (py::isinstance<py::str>(target)) return model.class_index(target.cast<std::string>());
  if (py::isinstance<py::bool_>(target) || !py::hasattr(target, "__index__"))
    throw py::type_error("target: expected a class index, a class name or None");
  const long long c = target.attr("__index__")().cast<long long>();
  if (c < 0 || c >= static_cast<long long>(model.classes.size()))
    throw py::value_error("target: class index " + std::to_string(c) + " out of range 0.." +
                          std::to_string(model.classes.size() - 1));
  return static_cast<int>(c);
}

/// The options of explain() from the Python arguments.
ExplainOptions explain_options(const BowModel& b, const std::string& method, const std::string& bias_policy,
                               const py::handle& reference, double root_tolerance, int scan_steps) {
  ExplainOptions options;
  options.method = parse_enum<ExplainMethod>(method, "explanation method", "method");
  if (!decomposes(options.method))
    throw py::value_error("method: explain_detailed decomposes the score (lrp, taylor); \"" + method +
                          "\" is a method of BowModel.explain(image, method=...)");
  options.policy = parse_bias_policy(bias_policy);
  if (py::isinstance<py::str>(reference)) {
    options.reference = TaylorReference::parse(reference.cast<std::string>());
  } else {
    options.reference = TaylorReference::given(vector_arg(reference, "reference", b.dimension()),
                                               "reference histogram from Python");
  }
  options.taylor.tolerance = root_tolerance;
  options.taylor.scan_steps = scan_steps;
  options.taylor.validate();
  return options;
}

/// A tiled explanation together with its model.
struct PyTiledExplanation {
  std::shared_ptr<const BowModel> model;
  TiledExplanation t;
};

/// RGB numpy image of a BGR 8-bit OpenCV image.
py::array rgb_array(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return mat_array(rgb);
}

}  // namespace

py::array render_rgb(const RowMatrixXd& r, const cv::Mat& image, double scale, int min_side) {
  const cv::Mat gray = image.empty()
                           ? cv::Mat(static_cast<int>(r.rows()), static_cast<int>(r.cols()), CV_32F, cv::Scalar(1.0f))
                           : image;
  if (gray.rows != r.rows() || gray.cols != r.cols())
    throw py::value_error("render_heatmap: relevance is " + std::to_string(r.rows()) + " x " +
                          std::to_string(r.cols()) + " but the image is " + std::to_string(gray.rows) + " x " +
                          std::to_string(gray.cols));
  if (!(scale >= 0)) throw py::value_error("render_heatmap: scale must be >= 0");
  if (min_side < 1) throw py::value_error("render_heatmap: min_side must be >= 1");
  HeatmapOptions options;
  options.scale = scale;
  options.min_side = min_side;
  return rgb_array(render_heatmap(r, gray, options));
}

py::array heatmap_array(const RowMatrixXd& r, const py::handle& image, double scale, int min_side) {
  return render_rgb(r, image.is_none() ? cv::Mat() : image_arg(image, "image").gray, scale, min_side);
}

// How a BoW model reads an image argument (convert.hpp, ImageReading).
ImageReading bow_reading(const BowModel& model) { return {true, model.config.input.oversize}; }

void bind_bow(py::module_& m) {
  // ------------------------------------------------------------ images, data
  m.def(
      "read_image",
      [](const PathArg& path) {
        const cv::Mat raw = read_image_file(path.string());
        cv::Mat out;
        if (raw.channels() == 3) cv::cvtColor(raw, out, cv::COLOR_BGR2RGB);
        else if (raw.channels() == 4) cv::cvtColor(raw, out, cv::COLOR_BGRA2RGBA);
        else out = raw;
        return mat_array(out);
      },
      py::arg("path"),
      "Reads an image file as it is stored: H x W (grey) or H x W x 3 (RGB) / H x W x 4 (RGBA), dtype uint8 or\n"
      "uint16. Pass the result to predict/explain as it is; the model converts it as the CLI does.");
  m.def(
      "set_max_image_pixels",
      [](const std::optional<long>& pixels) {
        if (pixels && *pixels < 0)
          throw py::value_error("set_max_image_pixels: " + std::to_string(*pixels) +
                                " is negative; give a number of pixels, 0 for no limit, or None");
        set_max_image_pixels(pixels ? *pixels : -1);
      },
      py::arg("pixels"),
      "Sets the largest image accepted, in pixels, for this process (0: no limit; None: back to the\n"
      "environment variable PIXELWISE_MAX_IMAGE_PIXELS or the default 4096 x 4096), as the command line's\n"
      "--max-image-pixels does. An image above it is refused, or downscaled by a BoW model configured\n"
      "with \"input\": {\"oversize\": \"downscale\"} (docs/errors.md, \"Limits\").");
  m.def("max_image_pixels", &max_image_pixels,
        "The largest image accepted, in pixels (0: no limit): set_max_image_pixels, else\n"
        "PIXELWISE_MAX_IMAGE_PIXELS, else 4096 x 4096.");
  m.def(
      "load_image",
      [](const ImageLike& image, bool colour) {
        const ImageSample s = image_arg(image, "image");
        if (!colour) return mat_array(s.gray);
        cv::Mat rgb, bgr = s.colour.empty() ? to_colour_float(s.gray, s.source) : s.colour;
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        return mat_array(rgb);
      },
      py::arg("image"), py::arg("colour") = false,
      "The float32 image in [0, 1] a model sees: grey H x W (colour=False) or RGB H x W x 3.\n\n"
      "`image` is an image file, a data-set reference such as 'fashion-mnist:test@0' (as on the command line),\n"
      "or a numpy image (uint8 0..255, uint16 0..65535 or float in [0, 1]; H x W, H x W x 3 RGB, H x W x 4 RGBA).\n"
      "Colour is converted to grey with OpenCV's weights, exactly as for an image file read by the CLI.");

  py::class_<Dataset>(m, "Dataset", "A labelled image data set (see load_dataset).")
      .def_readonly("spec", &Dataset::spec)
      .def_readonly("classes", &Dataset::classes, "class names, in label order")
      .def("__len__", [](const Dataset& d) { return d.images.size(); })
      .def_property_readonly(
          "labels",
          [](const Dataset& d) {
            std::vector<std::int64_t> labels;
            for (const auto& s : d.images) labels.push_back(s.label);
            return owned_vector(std::move(labels));
          },
          "int64 array of class indices")
      .def_property_readonly(
          "names", [](const Dataset& d) {
            std::vector<std::string> names;
            for (const auto& s : d.images) names.push_back(s.name);
            return names;
          })
      .def_property_readonly(
          "images",
          [](const Dataset& d) {
            py::list images;
            for (const auto& s : d.images) images.append(mat_array(s.gray));
            return images;
          },
          "list of float32 grey images in [0, 1] (sharing the data set's buffers, no copy)")
      .def("__repr__", [](const Dataset& d) {
        return "<pixelwise.Dataset '" + d.spec + "': " + std::to_string(d.images.size()) + " images, " +
               std::to_string(d.classes.size()) + " classes>";
      });
  m.def(
      "load_dataset", [](const PathArg& spec) { return load_dataset(spec.string()); }, py::arg("spec"),
      "Reads a data set as the CLI's --data does: 'fashion-mnist:SPLIT[:LIMIT]', a folder with one sub-folder of\n"
      "images per class, or 'voc:ROOT:CLASS:SPLIT[:LIMIT]'.");

  // ------------------------------------------------------------ heatmaps
  m.def(
      "render_heatmap",
      [](const ArrayLike& relevance, const OptionalImage& image, double scale, int min_side) {
        return heatmap_array(matrix_arg(relevance, "relevance"), image, scale, min_side);
      },
      py::arg("relevance"), py::arg("image") = py::none(), py::arg("scale") = 0.0, py::arg("min_side") = 112,
      "Heatmap as an RGB uint8 array (docs/design.md 5): relevance / scale (scale 0: max |R| of this map) clipped\n"
      "to [-1, 1], red positive, blue negative, white zero, shaded by the grey image if one is given (the\n"
      "same picture as the CLI's PNG). Images whose smaller side is below min_side are enlarged by an\n"
      "integer factor (nearest neighbour). An all-zero map renders white.");
  m.def(
      "save_image",
      [](const PathArg& file, const ArrayLike& image) {
        const std::string path = file.string();
        const py::array a = py::array::ensure(image);
        if (!a || a.dtype().kind() != 'u' || a.dtype().itemsize() != 1)
          throw py::type_error("save_image: expected a uint8 array (H x W, or H x W x 3 RGB)");
        if (!(a.ndim() == 2 || (a.ndim() == 3 && a.shape(2) == 3)))
          throw py::value_error("save_image: expected shape (H, W) or (H, W, 3)");
        const auto c = py::array::ensure(a, py::array::c_style);
        const cv::Mat wrapped(static_cast<int>(c.shape(0)), static_cast<int>(c.shape(1)),
                              c.ndim() == 2 ? CV_8UC1 : CV_8UC3, const_cast<void*>(c.data()));
        cv::Mat bgr;  // a new buffer: the caller's array is never written to
        if (c.ndim() == 3) cv::cvtColor(wrapped, bgr, cv::COLOR_RGB2BGR);
        else bgr = wrapped;
        const auto dot = path.rfind('.');
        std::vector<uchar> bytes;
        if (dot == std::string::npos || !cv::imencode(path.substr(dot), bgr, bytes))
          throw std::runtime_error(path + ": cannot encode an image for this file name (use .png)");
        write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
      },
      py::arg("path"), py::arg("image"),
      "Writes a uint8 image (grey, or RGB as render_heatmap returns) to a file, atomically; the format follows\n"
      "the file name's extension (.png).");

  py::class_<PyBowExplanation> bow_explanation(
      m, "BowExplanation",
      "The LRP explanation of one BoW decision. Arrays are read-only views into the explanation (no copy);\n"
      "use .copy() to modify them. Conservation: pixels.sum() + residual == score, and residual is what the\n"
      "layers absorbed or could not pass on (see layers) plus rounding.");
  py::class_<PyTiledExplanation> tiled_explanation(m, "TiledExplanation",
                                 "A tiled explanation (BowModel.explain_tiled). Arrays are read-only views.");
  // ------------------------------------------------------------ BoW model
  py::class_<BowModel, std::shared_ptr<BowModel>> model(
      m, "BowModel",
      "A trained Bag-of-Words + kernel-SVM classifier (dense SIFT or other descriptors, codebook, coding,\n"
      "pooling, normalisation, SVM), explained pixel by pixel with LRP.\n\n"
      "Images are numpy arrays H x W (grey), H x W x 3 (RGB) or H x W x 4 (RGBA), dtype uint8 (0..255),\n"
      "uint16 (0..65535) or float32/float64 with values in [0, 1]; or a string naming an image file or a\n"
      "data-set image such as 'fashion-mnist:test@0'. Colour is converted as for image files read by the CLI,\n"
      "so the same pixels give the same scores and relevance to the last bit.");
  model
      .def_static(
          "load", [](const PathArg& dir) { return std::make_shared<BowModel>(BowModel::load(dir.string())); },
          py::arg("path"), "Reads and verifies a model directory (as written by `pixelwise train` or save()).")
      .def_static(
          "train",
          [](const ConfigLike& config, const OptionalImages& images, const OptionalArray& labels,
             const OptionalNames& classes, const OptionalPath& data, bool verbose, const OptionalCallable& progress) {
            const PipelineConfig c = config_arg(config);
            Dataset dataset;
            if (!data.is_none()) {
              if (!images.is_none() || !labels.is_none() || !classes.is_none())
                throw py::value_error("train: give either data (a data-set spec) or images and labels, not both");
              dataset = load_dataset(py::str(py::module_::import("os").attr("fspath")(data)), c.input.oversize);
            } else {
              if (images.is_none() || labels.is_none())
                throw py::value_error("train: give images and labels, or data (a data-set spec)");
              dataset.images = image_list_arg(images, "images", nullptr, ImageReading{true, c.input.oversize});
              const std::vector<int> label = int_vector_arg(labels, "labels");
              if (label.size() != dataset.images.size())
                throw py::value_error("train: " + std::to_string(dataset.images.size()) + " images but " +
                                      std::to_string(label.size()) + " labels");
              int top = -1;
              for (int l : label) {
                if (l < 0) throw py::value_error("labels: class indices must be >= 0");
                top = std::max(top, l);
              }
              if (classes.is_none()) {
                for (int k = 0; k <= top; ++k) dataset.classes.push_back(std::to_string(k));
              } else {
                dataset.classes = classes.cast<std::vector<std::string>>();
                if (top >= static_cast<int>(dataset.classes.size()))
                  throw py::value_error("labels: class index " + std::to_string(top) + " but only " +
                                        std::to_string(dataset.classes.size()) + " class names");
              }
              for (size_t i = 0; i < label.size(); ++i) {
                dataset.images[i].label = label[i];
                dataset.images[i].name = "image-" + std::to_string(i);
              }
              dataset.spec = "images from Python";
            }
            // Progress by stages: descriptors and k-means per channel, histograms,
            // classifier; a stage that starts ends the one before.
            const long total = 2 * static_cast<long>(c.channel_list().size()) + 2;
            long started = 0;
            LineProgress lines(progress, verbose, [&started, total](const std::string& line, long* done, long* of) {
              const bool stage = line.find(": descriptors of ") != std::string::npos ||
                                 line.find(": k-means, ") != std::string::npos ||
                                 (line.size() >= 10 && line.compare(line.size() - 10, 10, "histograms") == 0);
              if (!stage) return false;
              *done = started++;
              *of = total;
              return true;
            });
            std::ostream log(&lines);
            log.exceptions(std::ios::badbit);
            std::shared_ptr<BowModel> trained;
            {
              py::gil_scoped_release release;
              trained = std::make_shared<BowModel>(BowModel::train(c, dataset, &log));
            }
            if (!progress.is_none()) progress(total, total);
            return trained;
          },
          py::arg("config"), py::arg("images") = py::none(), py::arg("labels") = py::none(),
          py::arg("classes") = py::none(), py::kw_only(), py::arg("data") = py::none(), py::arg("verbose") = false,
          py::arg("progress") = py::none(),
          "Trains a model from a configuration (a dict in the JSON format of docs/config.md, or the name of a\n"
          "JSON file) on either numpy images with integer labels (and optional class names; default '0', '1',\n"
          "...) or a data-set spec (data='fashion-mnist:train:3000', a folder, ...). verbose=True prints\n"
          "progress to stderr; progress(done, total) is called as the stages (descriptors and k-means per channel,\n"
          "histograms, classifier) end, and Ctrl-C raises KeyboardInterrupt at the next stage. Every random step is\n"
          "seeded by the configuration.")
      .def("save", [](const BowModel& b, const PathArg& path) { b.save(path.string()); }, py::arg("path"),
           py::call_guard<py::gil_scoped_release>(),
           "Writes the model directory atomically.")
      .def_readonly("classes", &BowModel::classes)
      .def_property_readonly(
          "config", [](const BowModel& b) { return py::dict(from_json(b.config.to_json())); },
          "the pipeline configuration as a dict")
      .def_property_readonly("training_info", [](const BowModel& b) { return py::dict(from_json(b.training_info)); })
      .def_property_readonly(
          "kernel",
          [](const BowModel& b) -> py::object {
            const std::string kernel = b.classifier->kernel();
            if (kernel.empty()) return py::none();
            return py::str(kernel);
          },
          "the SVM kernel, e.g. 'hik' or 'chi2 (order-2 homogeneous kernel map + linear SVMs)' (None when the\n"
          "classifier has none, e.g. a network)")
      .def_property_readonly("dimension", [](const BowModel& b) { return b.dimension(); },
                             "length of the histogram the classifier sees")
      .def_property_readonly("uses_colour", [](const BowModel& b) { return b.config.uses_colour(); })
      .def_property_readonly(
          "channels",
          [](const BowModel& b) {
            py::list l;
            for (const auto& c : b.channels) l.append(c.name);
            return l;
          },
          "names of the feature channels")
      .def_property_readonly(
          "codebooks",
          [](py::object self) {
            const auto& b = self.cast<const BowModel&>();
            py::list l;
            for (const auto& c : b.codebooks) l.append(py::cast(&c, py::return_value_policy::reference_internal, self));
            return l;
          },
          "one Codebook per channel (views into the model)")
      .def_property_readonly(
          "gmms",
          [](py::object self) {
            const auto& b = self.cast<const BowModel&>();
            py::list l;
            for (size_t i = 0; i < b.gmms.size(); ++i)
              l.append(b.channels[i].mapping.type == MappingType::fisher
                           ? py::cast(&b.gmms[i], py::return_value_policy::reference_internal, self)
                           : py::object(py::none()));
            return l;
          },
          "the GMM of every Fisher-vector channel (a Gmm view into the model), None for the other channels")
      .def_property_readonly(
          "pcas",
          [](py::object self) {
            const auto& b = self.cast<const BowModel&>();
            py::list l;
            for (const Pca& p : b.pcas) {
              if (p.empty()) {
                l.append(py::none());
                continue;
              }
              py::dict d;
              d["mean"] = owned_array(Eigen::VectorXd(p.mean.transpose()));
              d["projection"] = owned_array(RowMatrixXd(p.projection));
              l.append(d);
            }
            return l;
          },
          "every channel's descriptor PCA, y = projection (v - mean): {'mean': D, 'projection': P x D} "
          "(copies), None for a channel without PCA")
      .def_property_readonly(
          "svm",
          [](py::object self) -> py::object {
            const BowModel& b = self.cast<const BowModel&>();
            const auto* svm = b.classifier_as<KernelSvmClassifier>();
            if (!svm) return py::none();
            return py::cast(&svm->machines(), py::return_value_policy::reference_internal, self);
          },
          "the kernel SVMs whose decisions are the class scores (an Svm view into the model; None when the "
          "classifier is a network or linear SVMs on a kernel map)")
      .def("class_index", &BowModel::class_index, py::arg("name_or_index"))
      .def(
          "class_name",
          [](const BowModel& b, int c) {
            if (c < 0 || c >= static_cast<int>(b.classes.size()))
              throw py::value_error("class index " + std::to_string(c) + " out of range 0.." +
                                    std::to_string(b.classes.size() - 1));
            return b.classes[c];
          },
          py::arg("index"))
      .def(
          "predict",
          [](const BowModel& b, const ImageLike& image) {
            const ImageSample s = image_arg(image, "image", nullptr, bow_reading(b));
            Eigen::VectorXd scores;
            {
              py::gil_scoped_release release;
              scores = b.forward(b.input(s), s.source).scores;
            }
            return owned_array(std::move(scores));
          },
          py::arg("image"), "Scores of all classes (float64 array) for one image; argmax is the predicted class.")
      .def(
          "histogram",
          [](const BowModel& b, const ImageLike& image) {
            const ImageSample s = image_arg(image, "image", nullptr, bow_reading(b));
            Eigen::VectorXd h;
            {
              py::gil_scoped_release release;
              h = b.histogram(b.input(s), s.source);
            }
            return owned_array(std::move(h));
          },
          py::arg("image"), "The normalised BoW histogram the SVM sees.")
      .def(
          "bin_layout",
          [](const BowModel& b) {
            BinLayout l = bin_layout(b.channels);
            py::list part;
            for (int p : l.part) part.append(p == BinLayout::mean ? "mean" : p == BinLayout::variance ? "variance" : "");
            py::dict d;
            d["channel"] = owned_vector(std::move(l.channel));
            d["level"] = owned_vector(std::move(l.level));
            d["cell"] = owned_vector(std::move(l.cell));
            d["row"] = owned_vector(std::move(l.row));
            d["column"] = owned_vector(std::move(l.column));
            d["word"] = owned_vector(std::move(l.word));
            d["component"] = owned_vector(std::move(l.component));
            d["dimension"] = owned_vector(std::move(l.dimension));
            d["part"] = py::module_::import("numpy").attr("array")(part, "<U8");
            return d;
          },
          "What every bin of the histogram (the classifier's input, length `dimension`) is: a dict of arrays,\n"
          "one entry per bin: channel, level (pyramid level), cell (among the channel's cells, as the pooling\n"
          "numbers them), row and column (of the cell in its level's grid), word (histogram channels),\n"
          "component, dimension (descriptor dimension) and part ('mean' or 'variance': Fisher channels);\n"
          "-1 (or '') where an entry does not apply (docs/design.md 1.2, 1.8).")
      .def(
          "explain_detailed",
          [](const std::shared_ptr<BowModel>& b, const ImageLike& image, const TargetLike& target,
             const std::string& bias_policy, const TargetLike& versus, const std::string& method,
             const ReferenceLike& reference, double root_tolerance, int scan_steps, const OptionalStr& rule,
             bool ignore_bias, const OptionalStr& pixel_rule) {
            ExplainOptions options = explain_options(*b, method, bias_policy, reference, root_tolerance, scan_steps);
            if (!pixel_rule.is_none()) {
              options.pixel_rule = parse_enum<WeightingType>(pixel_rule.cast<std::string>(), "pixel rule", "pixel_rule");
              try {
                pixel_weightings(*b, options.pixel_rule);  // refused before any work, naming the channel
              } catch (const std::invalid_argument& e) {
                throw py::value_error(std::string("pixel_rule: ") + e.what());
              }
            }
            if (!b->classifier->abilities().composite && ignore_bias)
              throw py::value_error("ignore_bias applies to a network classifier; this model's classifier is " +
                                    b->classifier->describe());
            if (!rule.is_none()) options.rule = rule.cast<std::string>();
            options.ignore_bias = ignore_bias;
            try {
              bow_layer_rules(*b, options);  // refused before any work, naming the rule
            } catch (const std::invalid_argument& e) {
              throw py::value_error(e.what());
            }
            const int c = target_arg(*b, target);
            const int v = versus.is_none() ? -1 : target_arg(*b, versus);
            const ImageSample s = image_arg(image, "image", nullptr, bow_reading(*b));
            PyBowExplanation out{b, {}};
            {
              py::gil_scoped_release release;
              // Names the image when memory runs out too (docs/errors.md, "Error types").
              out.e = naming_input(image_name(s), [&] { return explain(*b, b->input(s), c, options, s.source, v); });
            }
            return out;
          },
          py::arg("image"), py::kw_only(), py::arg("target") = py::none(), py::arg("bias_policy") = "nonzero",
          py::arg("versus") = py::none(), py::arg("method") = "lrp", py::arg("reference") = "nearest",
          py::arg("root_tolerance") = TaylorOptions{}.tolerance, py::arg("scan_steps") = TaylorOptions{}.scan_steps,
          py::arg("rule") = py::none(), py::arg("ignore_bias") = false, py::arg("pixel_rule") = py::none(),
          "The LRP or Taylor explanation with every intermediate record of the BoW layers (descriptor and bin\n"
          "relevance, frames, per-channel accounts, the Taylor root); explain() gives the common Explanation.\n"
          "Explains the score of class `target` (index or name; None: the predicted class) pixel by pixel:\n"
          "SVM score -> histogram bins -> descriptors -> pixels (docs/design.md 1.2-1.5).\n"
          "method 'lrp' (default): exact per-bin decomposition of an additive-kernel SVM, bias_policy 'nonzero'\n"
          "(default), 'uniform' or 'none' saying where the SVM bias goes (the CLI's --bias-policy).\n"
          "method 'taylor': first-order Taylor decomposition at a root point on the segment to a reference\n"
          "(reference 'nearest' support vector of the other sign, 'mean' training histogram of the other side,\n"
          "a .npy file, or a numpy histogram), as the CLI's --method taylor --reference --root-tolerance.\n"
          "For a one-vs-one model, `versus` explains the pairwise decision against that class.\n"
          "A model whose classifier is a network (config section 'network') is explained by LRP with the\n"
          "composite `rule` (default 'epsilon-plus'; the CLI's --rule) down to the bins, biases absorbing\n"
          "relevance unless ignore_bias=True, then by the same BoW layers. pixel_rule 'uniform', 'gaussian' or\n"
          "'gradient' (the CLI's --pixel-rule) overrides every channel's configured pixel weighting\n"
          "(docs/design.md 1.5, 1.9). Returns a\n"
          "BowExplanation equal to the CLI's `explain` output to the last bit.")
      .def(
          "explain_tiled",
          [](const std::shared_ptr<BowModel>& b, const ImageLike& image, int size, int offset, const TargetLike& target,
             const std::string& bias_policy, const std::string& method, const ReferenceLike& reference,
             double root_tolerance, int scan_steps) {
            const ExplainOptions options =
                explain_options(*b, method, bias_policy, reference, root_tolerance, scan_steps);
            TileOptions tiles;
            tiles.size = size;
            tiles.offset = offset;
            tiles.validate();
            const int c = target_arg(*b, target);
            const ImageSample s = image_arg(image, "image", nullptr, bow_reading(*b));
            PyTiledExplanation out{b, {}};
            {
              py::gil_scoped_release release;
              out.t = explain_tiled(*b, b->input(s), c, options, tiles, s.source, -1, python_interrupt());
            }
            return out;
          },
          py::arg("image"), py::kw_only(), py::arg("size") = 102, py::arg("offset") = 34, py::arg("target") = py::none(),
          py::arg("bias_policy") = "nonzero", py::arg("method") = "lrp", py::arg("reference") = "nearest",
          py::arg("root_tolerance") = TaylorOptions{}.tolerance, py::arg("scan_steps") = TaylorOptions{}.scan_steps,
          "Tiled explanation (docs/design.md 1.6; the paper's VOC figures: 102 x 102 tiles every 34 pixels): every\n"
          "tile is classified and explained on its own (class `target`, default: the class predicted for the\n"
          "whole image) and a pixel's relevance is the mean over the tiles covering it. The CLI's --tiles.")
      .def("__repr__", [](const BowModel& b) {
        return "<pixelwise.BowModel: " + std::to_string(b.classes.size()) + " classes, " +
               b.classifier->describe() +
               ", " + std::to_string(b.dimension()) + "-D histograms>";
      });

  bow_explanation
      .def_property_readonly("pixels", [](py::object self) { return view_array(self.cast<PyBowExplanation&>().e.pixels, self); },
                             "H x W float64 pixel relevance (the CLI's .npy)")
      .def_property_readonly(
          "descriptor_relevance",
          [](py::object self) { return view_array(self.cast<PyBowExplanation&>().e.feature_relevance, self); },
          "relevance of every local descriptor (order of `frames`)")
      .def_property_readonly(
          "level_relevance",
          [](py::object self) { return view_array(self.cast<PyBowExplanation&>().e.level_relevance, self); },
          "descriptors x pyramid levels (float64): the relevance each descriptor receives from its cell of each\n"
          "level; a row sums to descriptor_relevance (to rounding). With several channels, the most levels of\n"
          "any channel, 0 beyond a channel's own levels.")
      .def_property_readonly("frames", [](const PyBowExplanation& x) { return frames_dict(x.e.features.frames); },
                             "descriptor frames: dict of arrays x, y, bin_size, support (M x 4: x0, y0, x1, y1), scale,\n"
                             "angle, half_side, channel")
      .def_property_readonly(
          "bin_relevance", [](py::object self) { return view_array(self.cast<PyBowExplanation&>().e.bin_relevance, self); },
          "relevance of every histogram bin (cells x words, cell-major, channels in order)")
      .def_property_readonly("scores", [](py::object self) { return view_array(self.cast<PyBowExplanation&>().e.scores, self); })
      .def_property_readonly("score", [](const PyBowExplanation& x) { return x.e.score; }, "the explained score f_c(x)")
      .def_property_readonly("bias", [](const PyBowExplanation& x) { return x.e.bias; })
      .def_property_readonly("bias_policy", [](const PyBowExplanation& x) { return bias_policy_name(x.e.policy); })
      .def_property_readonly("class_index", [](const PyBowExplanation& x) { return x.e.class_index; })
      .def_property_readonly("class_name", [](const PyBowExplanation& x) { return x.model->classes[x.e.class_index]; })
      .def_property_readonly("predicted", [](const PyBowExplanation& x) { return x.e.predicted; },
                             "index of the predicted class")
      .def_property_readonly("versus", [](const PyBowExplanation& x) -> py::object {
        return x.e.versus < 0 ? py::object(py::none()) : py::object(py::int_(x.e.versus));
      })
      .def_property_readonly("pixel_sum", [](const PyBowExplanation& x) { return x.e.pixel_sum; })
      .def_property_readonly("residual", [](const PyBowExplanation& x) { return x.e.residual(); },
                             "score - pixel_sum")
      .def_property_readonly("method", [](const PyBowExplanation& x) { return name_of(x.e.method); })
      .def_property_readonly(
          "taylor",
          [](py::object self) -> py::object {
            const auto& x = self.cast<PyBowExplanation&>();
            if (!x.e.taylor) return py::none();
            const SvmTaylorRelevance& t = *x.e.taylor;
            py::dict d;
            d["root"] = view_array(t.root, self);
            d["reference"] = view_array(t.reference, self);
            d["gradient"] = view_array(t.gradient, self);
            d["reference_name"] = t.reference_name;
            d["a"] = t.a;
            d["score"] = t.score;
            d["reference_score"] = t.reference_score;
            d["root_score"] = t.root_score;
            d["first_order_sum"] = t.first_order_sum;
            d["higher_order"] = t.higher_order();
            d["residual"] = t.residual();
            d["evaluations"] = t.evaluations;
            return d;
          },
          "method 'taylor': root x0 = a x + (1 - a) x', reference x', gradient at x0, scores, the first-order\n"
          "sum and what it leaves out; None for 'lrp'")
      .def_property_readonly("layers", [](const PyBowExplanation& x) { return layer_list(x.e.layers); },
                             "per layer (svm, pooling, pixels): relevance_in, relevance_out, absorbed, unassigned,\n"
                             "unaccounted (rounding)")
      .def_property_readonly(
          "channels",
          [](py::object self) {
            const auto& x = self.cast<PyBowExplanation&>();
            py::list l;
            for (const auto& c : x.e.channels) {
              py::dict d;
              d["name"] = c.name;
              d["offset"] = c.offset;
              d["bins"] = c.bins;
              d["first_descriptor"] = c.first_feature;
              d["descriptors"] = c.features;
              d["bin_relevance"] = c.bin_relevance;
              d["pooling"] = layer_dict(c.pooling);
              d["pixels"] = layer_dict(c.pixels);
              d["pixel_map"] = view_array(c.pixel_map, self);
              l.append(d);
            }
            return l;
          },
          "per feature channel: its block of bins, its descriptors, its accounts and its pixel map")
      .def(
          "to_json", [](const PyBowExplanation& x) { return py::dict(from_json(explanation_json(*x.model, x.e))); },
          "The report the CLI writes as NAME.json (without the --layers arrays), as a dict.")
      .def(
          "heatmap",
          [](const PyBowExplanation& x, const OptionalImage& image, double scale, int min_side) {
            return heatmap_array(x.e.pixels, image, scale, min_side);
          },
          py::arg("image") = py::none(), py::arg("scale") = 0.0, py::arg("min_side") = 112,
          "render_heatmap(self.pixels, image, scale, min_side)")
      .def("__repr__", [](const PyBowExplanation& x) {
        return "<pixelwise.BowExplanation: class '" + x.model->classes[x.e.class_index] + "', score " +
               std::to_string(x.e.score) + ", pixel sum " + std::to_string(x.e.pixel_sum) + ">";
      });

  tiled_explanation
      .def_property_readonly("pixels", [](py::object self) { return view_array(self.cast<PyTiledExplanation&>().t.pixels, self); },
                             "H x W mean relevance over the covering tiles")
      .def_property_readonly("coverage", [](py::object self) { return view_array(self.cast<PyTiledExplanation&>().t.coverage, self); },
                             "H x W number of tiles covering each pixel")
      .def_property_readonly("scores", [](py::object self) { return view_array(self.cast<PyTiledExplanation&>().t.scores, self); },
                             "the whole image's scores")
      .def_property_readonly("score", [](const PyTiledExplanation& x) { return x.t.score; },
                             "the whole image's score of the explained class")
      .def_property_readonly("class_index", [](const PyTiledExplanation& x) { return x.t.class_index; })
      .def_property_readonly("class_name", [](const PyTiledExplanation& x) { return x.model->classes[x.t.class_index]; })
      .def_property_readonly("predicted", [](const PyTiledExplanation& x) { return x.t.predicted; })
      .def_property_readonly(
          "tiles",
          [](py::object self) {
            const auto& x = self.cast<PyTiledExplanation&>();
            py::list l;
            for (size_t i = 0; i < x.t.tiles.size(); ++i) {
              const Tile& tile = x.t.tiles[i];
              const BowExplanation& e = x.t.explanations[i];
              py::dict d;
              d["x"] = tile.x;
              d["y"] = tile.y;
              d["width"] = tile.width;
              d["height"] = tile.height;
              d["score"] = e.score;
              d["pixel_sum"] = e.pixel_sum;
              d["residual"] = e.residual();
              d["layers"] = layer_list(e.layers);
              d["pixels"] = view_array(e.pixels, self);
              l.append(d);
            }
            return l;
          },
          "per tile: its rectangle, its own score, pixel sum, residual, layer accounts and relevance map")
      .def("to_json", [](const PyTiledExplanation& x) { return py::dict(from_json(tiled_explanation_json(*x.model, x.t))); },
           "The report the CLI writes with --tiles, as a dict.")
      .def(
          "heatmap",
          [](const PyTiledExplanation& x, const OptionalImage& image, double scale, int min_side) {
            return heatmap_array(x.t.pixels, image, scale, min_side);
          },
          py::arg("image") = py::none(), py::arg("scale") = 0.0, py::arg("min_side") = 112);
}

}  // namespace pixelwise::python
