// Python bindings of the building blocks of a BoW pipeline, so that a
// researcher can run the stages one by one and swap any of them for their own:
// local descriptors with their supports, codebooks, coding, pooling,
// normalisation, kernel SVMs, and the relevance step of every layer
// (docs/design.md 1.1-1.5).
#include <set>

#include "bindings.hpp"
#include "convert.hpp"
#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/codebook.hpp"
#include "pixelwise/features/descriptors.hpp"
#include "pixelwise/features/fisher.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"

namespace pixelwise::python {
namespace {

/// Frames from a dict of arrays as frames_dict() writes them: x, y and support
/// are required; bin_size, scale, angle, half_side and channel default to 0.
std::vector<Frame> frames_arg(const py::handle& obj, long count, const std::string& what) {
  if (!py::isinstance<py::dict>(obj))
    throw py::type_error(what + ": expected a dict of arrays (x, y, support[, bin_size, scale, angle, half_side, channel])");
  const py::dict d = py::reinterpret_borrow<py::dict>(obj);
  for (const auto& item : d) {
    const std::string key = py::str(item.first);
    static const std::set<std::string> known{"x", "y", "support", "bin_size", "scale", "angle", "half_side", "channel"};
    if (!known.count(key)) throw py::value_error(what + ": unknown key '" + key + "'");
  }
  auto column = [&](const char* key, bool required) {
    if (!d.contains(key)) {
      if (required) throw py::value_error(what + ": missing '" + key + "'");
      return Eigen::VectorXd(Eigen::VectorXd::Zero(count));
    }
    return vector_arg(d[key], what + "['" + key + "']", count);
  };
  const Eigen::VectorXd x = column("x", true), y = column("y", true), bin_size = column("bin_size", false),
                        scale = column("scale", false), angle = column("angle", false),
                        half_side = column("half_side", false), channel = column("channel", false);
  if (!d.contains("support")) throw py::value_error(what + ": missing 'support'");
  const RowMatrixXd support = matrix_arg(d["support"], what + "['support']", 4);
  if (support.rows() != count)
    throw py::value_error(what + "['support']: expected " + std::to_string(count) + " rows");
  std::vector<Frame> frames(count);
  for (long l = 0; l < count; ++l) {
    Frame& f = frames[l];
    f.x = x[l];
    f.y = y[l];
    f.bin_size = static_cast<int>(bin_size[l]);
    f.scale = scale[l];
    f.angle = angle[l];
    f.half_side = half_side[l];
    f.channel = static_cast<int>(channel[l]);
    f.support = {static_cast<int>(support(l, 0)), static_cast<int>(support(l, 1)), static_cast<int>(support(l, 2)),
                 static_cast<int>(support(l, 3))};
    if (f.support.x1 < f.support.x0 || f.support.y1 < f.support.y0)
      throw py::value_error(what + ": support " + std::to_string(l) + " has x1 < x0 or y1 < y0");
  }
  return frames;
}

/// Frames of a LocalFeatures object or of a frames dict.
std::vector<Frame> frames_of(const py::handle& obj, long count, const std::string& what) {
  if (py::isinstance<LocalFeatures>(obj)) return obj.cast<const LocalFeatures&>().frames;
  return frames_arg(obj, count, what);
}

Eigen::VectorXd relevance_arg(const py::handle& obj, const std::string& what, long size) {
  return vector_arg(obj, what, size);
}

/// The 'mapping' options of an encoder whose type the function fixes; another
/// type in the dict is an error.
MappingOptions mapping_arg(const py::handle& obj, MappingType type) {
  nlohmann::json j = obj.is_none() ? nlohmann::json::object() : to_json(obj, "mapping");
  if (!j.is_object()) throw py::type_error("mapping: expected a dict of options");
  if (j.contains("type") && j["type"] != name_of(type))
    throw py::value_error("mapping: this encoder computes type '" + name_of(type) + "'");
  j["type"] = name_of(type);
  return options_arg<MappingOptions>(from_json(j), "mapping");
}

py::tuple relevance_result(Eigen::VectorXd relevance, const LayerRelevance& layer) {
  return py::make_tuple(owned_array(std::move(relevance)), layer_dict(layer));
}

SupportWeighting weighting_arg(const py::handle& obj) { return options_arg<SupportWeighting>(obj, "weighting"); }

LocalFeatures local_features_of(const py::handle& image, const DescriptorOptions& options) {
  const ImageSample s = image_arg(image, "image");
  const cv::Mat& input = options.colour != ColourSpace::grey && !s.colour.empty() ? s.colour : s.gray;
  py::gil_scoped_release release;
  return compute_descriptors(input, options, s.source);
}

}  // namespace

void bind_blocks(py::module_& m) {
  // ------------------------------------------------------------ descriptors
  py::class_<LocalFeatures>(
      m, "LocalFeatures",
      "Local descriptors of one image with their frames and pixel supports (docs/design.md 1).\n\n"
      "LocalFeatures(descriptors, frames, width, height) builds one from your own descriptors (M x D) and\n"
      "frames (a dict of arrays as `frames` returns: x, y, support (M x 4: x0, y0, x1, y1, clipped to the\n"
      "image, x1 and y1 exclusive), optional bin_size, scale, angle, half_side, channel).")
      .def(py::init([](const ArrayLike& descriptors, const FramesLike& frames, int width, int height) {
             if (width < 1 || height < 1) throw py::value_error("LocalFeatures: width and height must be >= 1");
             LocalFeatures f;
             f.descriptors = matrix_f32_arg(descriptors, "descriptors");
             f.frames = frames_arg(frames, f.descriptors.rows(), "frames");
             f.image_width = width;
             f.image_height = height;
             return f;
           }),
           py::arg("descriptors"), py::arg("frames"), py::arg("width"), py::arg("height"))
      .def_property_readonly(
          "descriptors", [](py::object self) { return view_array(self.cast<const LocalFeatures&>().descriptors, self); },
          "M x D float32 descriptors (read-only view, no copy)")
      .def_property_readonly("frames", [](const LocalFeatures& f) { return frames_dict(f.frames); },
                             "dict of arrays x, y, bin_size, support (M x 4), scale, angle, half_side, channel")
      .def_readonly("width", &LocalFeatures::image_width)
      .def_readonly("height", &LocalFeatures::image_height)
      .def("__len__", &LocalFeatures::size)
      .def("__repr__", [](const LocalFeatures& f) {
        return "<pixelwise.LocalFeatures: " + std::to_string(f.size()) + " descriptors of dimension " +
               std::to_string(f.descriptors.cols()) + " on a " + std::to_string(f.image_width) + " x " +
               std::to_string(f.image_height) + " image>";
      });

  m.def(
      "compute_descriptors",
      [](const ImageLike& image, const OptionsLike& options) {
        return local_features_of(image, options_arg<DescriptorOptions>(options, "options"));
      },
      py::arg("image"), py::arg("options") = py::none(),
      "Local descriptors of an image; `options` is the 'descriptor' section of a configuration as a dict\n"
      "(default: dense SIFT, {'type': 'dsift', 'step': 2, 'bin_sizes': [4], ...}; see docs/config.md).");
  m.def(
      "dense_sift",
      [](const ImageLike& image, const IntLike& step, const IntList& bin_sizes, const FloatLike& smoothing_magnif,
         const BoolLike& fast) {
        return local_features_of(
            image, keyword_options<DescriptorOptions>({{"step", step},
                                                       {"bin_sizes", bin_sizes},
                                                       {"smoothing_magnif", smoothing_magnif},
                                                       {"fast", fast}},
                                                      "dense_sift"));
      },
      py::arg("image"), py::arg("step") = DenseSiftOptions{}.step, py::arg("bin_sizes") = DenseSiftOptions{}.bin_sizes,
      py::arg("smoothing_magnif") = DenseSiftOptions{}.smoothing_magnif, py::arg("fast") = DenseSiftOptions{}.fast,
      "Dense SIFT (VLFeat vl_dsift, PHOW-style smoothing) of the grey image at every bin size, with each\n"
      "descriptor's support: a square of 4 x bin size centred on the frame, clipped to the image.");

  // ------------------------------------------------------------ codebook
  py::class_<Codebook>(m, "Codebook",
                       "A visual vocabulary: V x D centres with exact or kd-forest nearest-word search.\n\n"
                       "Codebook(centres, options=None): options as the 'codebook' section of a configuration.")
      .def(py::init([](const ArrayLike& centres, const OptionsLike& options) {
             CodebookOptions o = options_arg<CodebookOptions>(options, "options");
             RowMatrixXf c = matrix_f32_arg(centres, "centres");
             if (c.rows() < 1) throw py::value_error("centres: a codebook needs at least one word");
             if (options.is_none() || !py::reinterpret_borrow<py::dict>(options).contains("words"))
               o.words = static_cast<int>(c.rows());
             if (o.words != c.rows())
               throw py::value_error("options: 'words' is " + std::to_string(o.words) + " but centres has " +
                                     std::to_string(c.rows()) + " rows");
             return Codebook(std::move(c), o);
           }),
           py::arg("centres"), py::arg("options") = py::none())
      .def_static(
          "train",
          [](const ArrayLike& descriptors, const OptionsLike& options) {
            const RowMatrixXf d = matrix_f32_arg(descriptors, "descriptors");
            const CodebookOptions o = options_arg<CodebookOptions>(options, "options");
            py::gil_scoped_release release;
            return Codebook::train(d, o);
          },
          py::arg("descriptors"), py::arg("options") = py::none(),
          "k-means (VLFeat, k-means++ initialisation) on a seeded sample of the descriptors (rows); options\n"
          "as the 'codebook' section of a configuration (words, training_descriptors, seed, ...).")
      .def_property_readonly("centres", [](py::object self) { return view_array(self.cast<const Codebook&>().centres(), self); },
                             "V x D float32 centres (read-only view)")
      .def_property_readonly("words", &Codebook::words)
      .def_property_readonly("dimension", &Codebook::dimension)
      .def(
          "nearest",
          [](const Codebook& c, const ArrayLike& descriptors) {
            const RowMatrixXf d = matrix_f32_arg(descriptors, "descriptors", c.dimension());
            std::vector<int> nearest;
            {
              py::gil_scoped_release release;
              nearest = c.nearest(d);
            }
            return owned_vector(std::move(nearest));
          },
          py::arg("descriptors"), "index of the nearest word of every row")
      .def(
          "squared_distances",
          [](const Codebook& c, const ArrayLike& descriptors) {
            const RowMatrixXf d = matrix_f32_arg(descriptors, "descriptors", c.dimension());
            RowMatrixXd out;
            {
              py::gil_scoped_release release;
              out = c.squared_distances(d);
            }
            return owned_array(std::move(out));
          },
          py::arg("descriptors"), "M x V squared Euclidean distances (float64)")
      .def("__repr__", [](const Codebook& c) {
        return "<pixelwise.Codebook: " + std::to_string(c.words()) + " words of dimension " +
               std::to_string(c.dimension()) + ">";
      });

  // ------------------------------------------------------------ coding, pooling
  py::class_<Codes>(m, "Codes",
                    "Sparse non-negative codes m(l) of M features over V words (CSR: feature l owns entries\n"
                    "offsets[l] .. offsets[l+1] of word and weight).")
      .def_property_readonly("offsets", [](py::object self) { return view_vector(self.cast<const Codes&>().offsets, self); })
      .def_property_readonly("word", [](py::object self) { return view_vector(self.cast<const Codes&>().word, self); })
      .def_property_readonly("weight", [](py::object self) { return view_vector(self.cast<const Codes&>().weight, self); })
      .def_readonly("words", &Codes::words)
      .def("__len__", &Codes::features)
      .def(
          "dense",
          [](const Codes& c) {
            RowMatrixXd d = RowMatrixXd::Zero(c.features(), c.words);
            for (int l = 0; l < c.features(); ++l)
              for (int k = c.offsets[l]; k < c.offsets[l + 1]; ++k) d(l, c.word[k]) += c.weight[k];
            return owned_array(std::move(d));
          },
          "the codes as a dense M x V float64 matrix");

  m.def(
      "encode",
      [](const Codebook& codebook, const FeaturesLike& features, const OptionsLike& coding) {
        const CodingOptions o = options_arg<CodingOptions>(coding, "coding");
        if (py::isinstance<LocalFeatures>(features)) {
          const auto& f = features.cast<const LocalFeatures&>();
          if (f.descriptors.cols() != codebook.dimension())
            throw py::value_error("encode: descriptors of dimension " + std::to_string(f.descriptors.cols()) +
                                  " for a codebook of dimension " + std::to_string(codebook.dimension()));
          py::gil_scoped_release release;
          return encode(codebook, f, o);
        }
        const RowMatrixXd d = matrix_arg(features, "descriptors", codebook.dimension());
        py::gil_scoped_release release;
        return encode(codebook, d, o);
      },
      py::arg("codebook"), py::arg("features"), py::arg("coding") = py::none(),
      "Codes of LocalFeatures (or of an M x D descriptor array) with a codebook; `coding` as the 'coding'\n"
      "section of a configuration: {'type': 'hard'} (default), {'type': 'soft', 'knn': 5, 'sigma': ...},\n"
      "{'type': 'rank', 'knn': 5, 'decay': 2} (docs/design.md 1.1).");

  py::class_<BowEncoding>(m, "BowEncoding",
                          "A pooled BoW encoding with the record the pooling relevance rule needs (docs/design.md 1.2).")
      .def_property_readonly("codes", [](py::object self) {
        return py::cast(&self.cast<const BowEncoding&>().codes, py::return_value_policy::reference_internal, self);
      })
      .def_readonly("cells_of", &BowEncoding::cells_of, "per feature, the spatial cells (one per pyramid level) it lies in")
      .def_readonly("cells", &BowEncoding::cells)
      .def_property_readonly("pooled", [](py::object self) { return view_array(self.cast<const BowEncoding&>().pooled, self); },
                             "x before normalisation: cells * V values, cell-major")
      .def_property_readonly("histogram",
                             [](py::object self) { return view_array(self.cast<const BowEncoding&>().histogram, self); },
                             "x after normalisation: what the classifier sees")
      .def_property_readonly("bin_max", [](py::object self) { return view_array(self.cast<const BowEncoding&>().bin_max, self); })
      .def_property_readonly("pooling", [](const BowEncoding& e) { return py::dict(from_json(nlohmann::json(e.pooling))); });

  m.def(
      "pool",
      [](const Codes& codes, const LocalFeatures& features, const OptionsLike& pooling, const OptionsLike& normalisation) {
        const PoolingOptions p = options_arg<PoolingOptions>(pooling, "pooling");
        const NormalisationOptions n = options_arg<NormalisationOptions>(normalisation, "normalisation");
        if (codes.features() != features.size())
          throw py::value_error("pool: " + std::to_string(codes.features()) + " codes for " +
                                std::to_string(features.size()) + " features");
        py::gil_scoped_release release;
        BowEncoding e = pool(codes, assign_cells(features, p), p.cells(), p);
        e.histogram = normalise(e.pooled, n);
        return e;
      },
      py::arg("codes"), py::arg("features"), py::arg("pooling") = py::none(), py::arg("normalisation") = py::none(),
      "Pools codes over the spatial cells of a pyramid and normalises the result. `pooling` and\n"
      "`normalisation` are the configuration sections as dicts (None: their defaults, sum pooling over the\n"
      "whole image and L1 normalisation).");
  m.def(
      "normalise",
      [](const ArrayLike& x, const OptionalStrList& steps) {
        const auto n = keyword_options<NormalisationOptions>({{"steps", steps}}, "normalise");
        return owned_array(normalise(vector_arg(x, "x"), n));
      },
      py::arg("x"), py::arg("steps") = py::none(),
      "Applies the normalisation steps ('l1', 'l2', 'power') in order (docs/design.md 1.3); None: ['l1'].");

  // ------------------------------------------------------------ SVM
  py::class_<AdditiveEvaluation>(m, "AdditivePass", "One evaluation of all machines of an additive-kernel Svm.")
      .def_property_readonly("scores", [](py::object self) { return view_array(self.cast<const AdditiveEvaluation&>().scores, self); })
      .def_property_readonly("bins", [](const AdditiveEvaluation& a) { return owned_vector(std::vector<long>(a.bins)); },
                             "the visited bins, ascending")
      .def_property_readonly("terms", [](py::object self) { return view_array(self.cast<const AdditiveEvaluation&>().terms, self); },
                             "len(bins) x classes: the per-bin terms h_{c,d}(x_d)")
      .def(
          "class_terms", [](const AdditiveEvaluation& a, int c, long dimension) {
            if (c < 0 || c >= a.terms.cols()) throw py::value_error("class_terms: no class " + std::to_string(c));
            return owned_array(a.class_terms(c, dimension));
          },
          py::arg("c"), py::arg("dimension"), "h_{c,d}(x_d) for every bin d < dimension (0 on bins not visited)");

  py::class_<OneVsRestSvm>(m, "Svm",
                           "One-vs-rest kernel SVMs (libsvm, precomputed kernel): f_c(x) = b_c + sum_i alpha_i y_i\n"
                           "k(x_i, x) (docs/design.md 1.4).")
      .def_static(
          "train",
          [](const ArrayLike& X, const ArrayLike& labels, int classes, const OptionsLike& options) {
            const RowMatrixXd x = matrix_arg(X, "X");
            const std::vector<int> y = int_vector_arg(labels, "labels");
            if (static_cast<long>(y.size()) != x.rows())
              throw py::value_error("Svm.train: " + std::to_string(x.rows()) + " rows but " + std::to_string(y.size()) +
                                    " labels");
            for (int l : y)
              if (l < 0 || l >= classes)
                throw py::value_error("labels: " + std::to_string(l) + " is not a class index 0.." +
                                      std::to_string(classes - 1));
            const SvmOptions o = options_arg<SvmOptions>(options, "options");
            py::gil_scoped_release release;
            return OneVsRestSvm::train(x, y, classes, o);
          },
          py::arg("X"), py::arg("labels"), py::arg("classes"), py::arg("options") = py::none(),
          "Trains one machine per class on the rows of X; options as the 'svm' section of a configuration\n"
          "({'kernel': 'hik', 'C': 1.0, ...}).")
      .def_property_readonly("kernel", [](const OneVsRestSvm& s) { return s.kernel_function().describe(); })
      .def_property_readonly("classes", &OneVsRestSvm::classes)
      .def_property_readonly("dimension", &OneVsRestSvm::dimension)
      .def_property_readonly(
          "support_vectors", [](py::object self) { return view_array(self.cast<const OneVsRestSvm&>().support_vectors(), self); },
          "the shared table of support vectors (rows)")
      .def(
          "machine",
          [](const OneVsRestSvm& s, int c) {
            const BinaryMachine& b = s.machine(c);
            py::dict d;
            d["support"] = owned_vector(std::vector<int>(b.support));
            d["coef"] = owned_vector(std::vector<double>(b.coef));
            d["rho"] = b.rho;
            d["bias"] = b.bias();
            return d;
          },
          py::arg("c"), "machine c: support (rows of support_vectors), coef (alpha_i y_i), rho, bias = -rho")
      .def(
          "decisions",
          [](const OneVsRestSvm& s, const ArrayLike& x) {
            return owned_array(s.decisions(vector_arg(x, "x", s.dimension())));
          },
          py::arg("x"), "f_c(x) of every class")
      .def(
          "decision",
          [](const OneVsRestSvm& s, int c, const ArrayLike& x) { return s.decision(c, vector_arg(x, "x", s.dimension())); },
          py::arg("c"), py::arg("x"))
      .def(
          "libsvm_decision",
          [](const OneVsRestSvm& s, int c, const ArrayLike& x) {
            return s.libsvm_decision(c, vector_arg(x, "x", s.dimension()));
          },
          py::arg("c"), py::arg("x"), "the same decision computed by libsvm's svm_predict_values")
      .def(
          "kernel_terms",
          [](const OneVsRestSvm& s, int c, const ArrayLike& x) {
            return owned_array(s.kernel_terms(c, vector_arg(x, "x", s.dimension())));
          },
          py::arg("c"), py::arg("x"), "term_d = sum_i coef_i k_d(sv_i,d, x_d) (additive kernels)")
      .def(
          "evaluate_additive",
          [](const OneVsRestSvm& s, const ArrayLike& x) {
            return s.evaluate_additive(vector_arg(x, "x", s.dimension()));
          },
          py::arg("x"),
          "All class decisions and per-bin terms in one pass through per-dimension tables (additive kernels;\n"
          "what BowModel.predict and explain use). Equal to decisions() up to rounding.")
      .def(
          "decompose",
          [](const OneVsRestSvm& s, int c, const ArrayLike& x, const std::string& bias_policy,
             const AdditiveEvaluation* pass) {
            const BiasPolicy policy = parse_bias_policy(bias_policy);
            const Eigen::VectorXd v = vector_arg(x, "x", s.dimension());
            s.machine(c);  // range check
            Relevance b = pass ? decompose_svm(pass->class_terms(c, s.dimension()), pass->scores[c],
                                                  s.machine(c).bias(), v, policy)
                                  : decompose_svm(s, c, v, policy);
            return relevance_result(std::move(b.relevance), b.account);
          },
          py::arg("c"), py::arg("x"), py::arg("bias_policy") = "nonzero", py::arg("additive_pass") = nullptr,
          "Exact per-bin decomposition R_d = sum_i alpha_i y_i k_d(x_i,d, x_d) + beta_d of f_c(x) for an\n"
          "additive kernel (docs/design.md 1.4); returns (R, layer account). With additive_pass (from\n"
          "evaluate_additive(x)) the terms and the score come from that pass, as in BowModel.explain.")
      .def("__repr__", [](const OneVsRestSvm& s) {
        return "<pixelwise.Svm: " + std::to_string(s.classes()) + " machines, kernel " + s.kernel_function().describe() +
               ", " + std::to_string(s.support_vectors().rows()) + " support vectors>";
      });

  // ------------------------------------------------------------ relevance steps
  m.def(
      "pool_relevance",
      [](const BowEncoding& encoding, const ArrayLike& bin_relevance) {
        const Eigen::VectorXd r = relevance_arg(bin_relevance, "bin_relevance", encoding.pooled.size());
        Relevance f = pool_relevance(encoding, r);
        return relevance_result(std::move(f.relevance), f.account);
      },
      py::arg("encoding"), py::arg("bin_relevance"),
      "Bins -> descriptors with the pooling rule of the encoding (docs/design.md 1.2); returns (R per descriptor,\n"
      "layer account). Normalisation passes relevance unchanged (1.3), so the bin relevance of the\n"
      "normalised histogram is given as it is.");
  m.def(
      "spread_to_pixels",
      [](const FramesOrFeatures& features, const ArrayLike& relevance, int width, int height, const OptionsLike& weighting,
         const py::object& image, const OptionsLike& descriptor) {
        const Eigen::VectorXd r = vector_arg(relevance, "relevance");
        const std::vector<Frame> frames = frames_of(features, r.size(), "features");
        if (static_cast<long>(frames.size()) != r.size())
          throw py::value_error("spread_to_pixels: " + std::to_string(r.size()) + " relevance values for " +
                                std::to_string(frames.size()) + " frames");
        if (width < 1 || height < 1) throw py::value_error("spread_to_pixels: width and height must be >= 1");
        const SupportWeighting w = weighting_arg(weighting);
        if (w.gradient() != (!image.is_none() && !descriptor.is_none()) || image.is_none() != descriptor.is_none())
          throw py::value_error("spread_to_pixels: weighting 'gradient' needs image= and descriptor= (the image and "
                                "the descriptor options the features were computed with); the other weightings "
                                "take neither");
        std::unique_ptr<SiftContributions> contributions;
        if (w.gradient()) {
          const DescriptorOptions options = options_arg<DescriptorOptions>(descriptor, "descriptor");
          const ImageSample s = image_arg(image, "image");
          const cv::Mat& input = options.colour != ColourSpace::grey && !s.colour.empty() ? s.colour : s.gray;
          if (input.cols != width || input.rows != height)
            throw py::value_error("spread_to_pixels: the image is not width x height");
          LocalFeatures f;
          f.frames = frames;
          f.image_width = width;
          f.image_height = height;
          py::gil_scoped_release release;
          contributions = std::make_unique<SiftContributions>(input, options, f, s.source);
        }
        Relevance p;
        {
          py::gil_scoped_release release;
          p = spread_to_pixels(frames, r, width, height, w, contributions.get());
        }
        return py::make_tuple(owned_array(pixel_map(p.relevance, width, height)), layer_dict(p.account));
      },
      py::arg("features"), py::arg("relevance"), py::arg("width"), py::arg("height"), py::arg("weighting") = py::none(),
      py::kw_only(), py::arg("image") = py::none(), py::arg("descriptor") = py::none(),
      "Descriptors -> pixels: R_q = sum_l R_l w_l(q) over each support (docs/design.md 1.5). `features` is a\n"
      "LocalFeatures or a frames dict; `weighting` {'type': 'uniform'} (default), {'type': 'gaussian',\n"
      "'sigma': 1.0} or {'type': 'gradient'}: the descriptor layer decomposed (docs/design.md 1.9), relevance\n"
      "to the pixels in proportion to their contributions to each dense SIFT descriptor, which needs the\n"
      "image and the `descriptor` options (dict) the features were computed with. Returns (H x W relevance,\n"
      "layer account; its 'fallback' is the relevance of gradient-free descriptors spread uniformly).");
  // ------------------------------------------------ Fisher vectors and VLAD
  // docs/design.md 1.8: the same objects and steps the pipeline uses.
  py::class_<Gmm>(m, "Gmm", "A diagonal Gaussian mixture: priors (K), means and variances (K x D).")
      .def(py::init([](const ArrayLike& priors, const ArrayLike& means, const ArrayLike& variances) {
             Gmm g;
             g.means = matrix_arg(means, "means");
             g.priors = vector_arg(priors, "priors", g.means.rows());
             g.variances = matrix_arg(variances, "variances", g.means.cols());
             try {
               g.validate("Gmm");
             } catch (const std::invalid_argument& e) {
               throw py::value_error(e.what());
             }
             return g;
           }),
           py::arg("priors"), py::arg("means"), py::arg("variances"))
      .def_property_readonly("priors", [](py::object self) { return view_array(self.cast<const Gmm&>().priors, self); })
      .def_property_readonly("means", [](py::object self) { return view_array(self.cast<const Gmm&>().means, self); })
      .def_property_readonly("variances",
                             [](py::object self) { return view_array(self.cast<const Gmm&>().variances, self); })
      .def_property_readonly("components", &Gmm::components)
      .def_property_readonly("dimension", &Gmm::dimension)
      .def("__repr__", [](const Gmm& g) {
        return "<Gmm " + std::to_string(g.components()) + " components of dimension " + std::to_string(g.dimension()) + ">";
      });
  m.def(
      "train_gmm",
      [](const ArrayLike& descriptors, const OptionsLike& gmm) {
        const RowMatrixXf d = matrix_f32_arg(descriptors, "descriptors");
        const GmmOptions o = options_arg<GmmOptions>(gmm, "gmm");
        py::gil_scoped_release release;
        return train_gmm(d, o);
      },
      py::arg("descriptors"), py::arg("gmm") = py::none(),
      "VLFeat vl_gmm on a seeded sample of the rows (k-means initialisation); `gmm` as the 'gmm' section of a\n"
      "configuration: {'components': 16, 'training_descriptors': 100000, 'seed': 1, 'max_iterations': 100}.");
  m.def(
      "gmm_posteriors",
      [](const Gmm& g, const ArrayLike& descriptors) {
        return owned_array(gmm_posteriors(g, matrix_arg(descriptors, "descriptors", g.dimension())));
      },
      py::arg("gmm"), py::arg("descriptors"), "Posteriors q_lk (M x K) as vl_fisher_encode computes them.");

  py::class_<TermEncoding>(m, "TermEncoding",
                           "A Fisher-vector or VLAD encoding with its per-descriptor terms (docs/design.md 1.8).")
      .def_property_readonly("mapping", [](const TermEncoding& e) { return name_of(e.type); })
      .def_readonly("cells", &TermEncoding::cells)
      .def_property_readonly("sums", [](py::object self) { return view_array(self.cast<const TermEncoding&>().sums, self); },
                             "s_d = sum_l z_ld, before square root and normalisation")
      .def_property_readonly("encoded",
                             [](py::object self) { return view_array(self.cast<const TermEncoding&>().encoded, self); },
                             "what the classifier sees")
      .def(
          "terms",
          [](const TermEncoding& e) {
            RowMatrixXd z = RowMatrixXd::Zero(e.features(), e.size());
            for (const auto& entry : e.entries) e.terms(entry, [&](long d, double v) { z(entry.feature, d) += v; });
            return owned_array(std::move(z));
          },
          "The M x size matrix of terms z_ld (summed over a descriptor's cells); its column sums are `sums`.");
  m.def(
      "fisher_encode",
      [](const Gmm& g, const ArrayLike& descriptors, const std::vector<std::vector<int>>& cells_of, int cells,
         const OptionsLike& mapping) {
        const MappingOptions o = mapping_arg(mapping, MappingType::fisher);
        return fisher_encode(g, matrix_arg(descriptors, "descriptors", g.dimension()), cells_of, cells, o);
      },
      py::arg("gmm"), py::arg("descriptors"), py::arg("cells_of"), py::arg("cells"), py::arg("mapping") = py::none(),
      "Fisher vector per cell (vl_fisher_encode); cells_of[l] lists descriptor l's cells (as BowEncoding.cells_of).");
  m.def(
      "vlad_encode",
      [](const ArrayLike& centres, const Codes& codes, const ArrayLike& descriptors,
         const std::vector<std::vector<int>>& cells_of, int cells, const OptionsLike& mapping) {
        const MappingOptions o = mapping_arg(mapping, MappingType::vlad);
        const RowMatrixXd c = matrix_arg(centres, "centres");
        return vlad_encode(c, codes, matrix_arg(descriptors, "descriptors", c.cols()), cells_of, cells, o);
      },
      py::arg("centres"), py::arg("codes"), py::arg("descriptors"), py::arg("cells_of"), py::arg("cells"),
      py::arg("mapping") = py::none(), "VLAD per cell (vl_vlad_encode) with the codes as assignments.");
  m.def(
      "term_relevance",
      [](const TermEncoding& e, const ArrayLike& relevance, double epsilon) {
        const Eigen::VectorXd r = relevance_arg(relevance, "relevance", e.size());
        const LrpRule rule = LrpRule::epsilon(epsilon);
        Relevance f = term_relevance(e, r, epsilon > 0 ? &rule : nullptr);
        return relevance_result(std::move(f.relevance), f.account);
      },
      py::arg("encoding"), py::arg("relevance"), py::arg("epsilon") = 0.0,
      "Dimensions -> descriptors, R_l = sum_d R_d z_ld / (s_d + eps scale_d sign(s_d)) (docs/design.md 1.8);\n"
      "returns (R per descriptor, layer account).");
  m.def(
      "component_relevance",
      [](const TermEncoding& e, const ArrayLike& relevance) {
        return owned_array(component_relevance(e, relevance_arg(relevance, "relevance", e.size())));
      },
      py::arg("encoding"), py::arg("relevance"), "Relevance per GMM component / VLAD centre.");
}

}  // namespace pixelwise::python
