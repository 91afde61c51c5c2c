#pragma once
// Conversions between numpy / Python objects and the library's types, shared
// by the binding sources of the `pixelwise` Python module.
//
// Arrays out of C++:
//   owned_array(m)       moves an Eigen matrix (or std::vector) to the heap and
//                        returns a numpy array over its memory, owned by a
//                        capsule: no copy, the array alone keeps the data alive;
//   view_array(m, owner) a read-only numpy view of memory that `owner` (a
//                        Python object wrapping the C++ object) keeps alive.
// Images into C++: numpy H x W, H x W x 1, H x W x 3 (RGB) or H x W x 4 (RGBA),
// dtype uint8 (0..255), uint16 (0..65535) or float32/float64 in [0, 1], or a
// string naming an image file / data-set image reference as the CLI reads it.
// Everything else is refused with a TypeError or ValueError naming the input.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // in every binding source alike (pybind11 requires it)
#include <pybind11/stl/filesystem.h>  // paths: str or os.PathLike

#include <Eigen/Core>
#include <filesystem>
#include <functional>
#include <streambuf>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pixelwise/common/parallel.hpp"
#include "pixelwise/decomposition/accounting.hpp"
#include "pixelwise/features/local_features.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"

namespace pixelwise::python {

namespace py = pybind11;
/// A path argument: str or os.PathLike (pathlib.Path), as os.fspath takes it.
using PathArg = std::filesystem::path;

/// `message` without the "[json.exception.type_error.302] " tags of the JSON
/// library, which mean nothing to a Python caller (the text after them does).
inline std::string without_json_tags(std::string message) {
  for (auto at = message.find("[json.exception."); at != std::string::npos; at = message.find("[json.exception.", at)) {
    const auto end = message.find("] ", at);
    if (end == std::string::npos) break;
    message.erase(at, end + 2 - at);
  }
  return message;
}

// ---------------------------------------------------------------- argument types

/// Any Python object, checked by the binding itself (image_arg, target_arg,
/// ...), but named in the signature pybind11 writes into docstrings (and
/// stubgen reads) by the types a caller may pass, instead of "handle".
inline int any_object(PyObject*) { return 1; }
template <typename Tag>
class Typed : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(Typed, py::object, any_object)
};
#define PIXELWISE_TYPED_ARG(Name, text)                                   \
  struct Name##Tag {                                                      \
    static constexpr auto name = py::detail::const_name(text);            \
  };                                                                      \
  using Name = Typed<Name##Tag>;
PIXELWISE_TYPED_ARG(ImageLike, "numpy.ndarray | str | os.PathLike")
PIXELWISE_TYPED_ARG(ImagesLike, "numpy.ndarray | Sequence[numpy.ndarray | str | os.PathLike]")
PIXELWISE_TYPED_ARG(OptionalImage, "numpy.ndarray | str | os.PathLike | None")
PIXELWISE_TYPED_ARG(TargetLike, "int | str | None")
PIXELWISE_TYPED_ARG(ArrayLike, "numpy.typing.ArrayLike")
PIXELWISE_TYPED_ARG(OptionsLike, "dict | None")
PIXELWISE_TYPED_ARG(ConfigLike, "dict | str | os.PathLike")
PIXELWISE_TYPED_ARG(ReferenceLike, "str | numpy.ndarray")
PIXELWISE_TYPED_ARG(ModelLike, "Model | BowModel | NetworkModel | Callable[[numpy.ndarray, int], numpy.ndarray]")
PIXELWISE_TYPED_ARG(RangeLike, "tuple[float, float] | None")
PIXELWISE_TYPED_ARG(OptionalStr, "str | None")
PIXELWISE_TYPED_ARG(OptionalPath, "str | os.PathLike | None")
PIXELWISE_TYPED_ARG(OptionalInt, "int | None")
PIXELWISE_TYPED_ARG(OptionalNames, "Sequence[str] | None")
PIXELWISE_TYPED_ARG(OptionalCallable, "Callable[[int, int], object] | None")
PIXELWISE_TYPED_ARG(OptionalImages, "numpy.ndarray | Sequence[numpy.ndarray | str | os.PathLike] | None")
PIXELWISE_TYPED_ARG(OptionalArray, "numpy.typing.ArrayLike | None")
PIXELWISE_TYPED_ARG(FramesLike, "dict[str, numpy.typing.ArrayLike]")
PIXELWISE_TYPED_ARG(FeaturesLike, "LocalFeatures | numpy.typing.ArrayLike")
PIXELWISE_TYPED_ARG(FramesOrFeatures, "LocalFeatures | dict[str, numpy.typing.ArrayLike]")
PIXELWISE_TYPED_ARG(IntLike, "int")
PIXELWISE_TYPED_ARG(FloatLike, "float")
PIXELWISE_TYPED_ARG(BoolLike, "bool")
PIXELWISE_TYPED_ARG(IntList, "Sequence[int]")
PIXELWISE_TYPED_ARG(OptionalStrList, "Sequence[str] | None")
PIXELWISE_TYPED_ARG(OptionalFloat, "float | None")
PIXELWISE_TYPED_ARG(OptionalReference, "str | numpy.ndarray | None")
PIXELWISE_TYPED_ARG(TilesLike, "str | tuple[int, int] | None")
PIXELWISE_TYPED_ARG(HeatmapsLike, "numpy.typing.ArrayLike | Sequence[numpy.typing.ArrayLike]")
#undef PIXELWISE_TYPED_ARG

// ---------------------------------------------------------------- arrays out

/// Shape and element strides (in elements) -> numpy array over `data` with `base`.
template <typename T>
py::array make_array(const T* data, std::vector<py::ssize_t> shape, py::handle base, bool writable) {
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t step = sizeof(T);
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = step;
    step *= std::max<py::ssize_t>(shape[i], 1);
  }
  py::array a(py::dtype::of<T>(), std::move(shape), std::move(strides), data, base);
  if (!writable) a.attr("setflags")(py::arg("write") = false);
  return a;
}

template <typename Scalar, int Rows, int Cols, int Options>
std::vector<py::ssize_t> shape_of(const Eigen::Matrix<Scalar, Rows, Cols, Options>& m) {
  static_assert(Cols == 1 || (Options & Eigen::RowMajor), "numpy views need vectors or row-major matrices");
  if constexpr (Cols == 1)
    return {static_cast<py::ssize_t>(m.size())};
  else
    return {static_cast<py::ssize_t>(m.rows()), static_cast<py::ssize_t>(m.cols())};
}

/// Moves `m` (Eigen vector or row-major matrix) into a numpy array without copying its data.
template <typename Matrix>
py::array owned_array(Matrix&& m) {
  using M = std::decay_t<Matrix>;
  auto* owned = new M(std::forward<Matrix>(m));
  py::capsule base(owned, [](void* p) { delete static_cast<M*>(p); });
  return make_array(owned->data(), shape_of(*owned), base, true);
}

/// Moves a std::vector into a 1-D (or, with `columns`, 2-D) numpy array without copying.
template <typename T>
py::array owned_vector(std::vector<T>&& v, py::ssize_t columns = 0) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule base(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  const auto n = static_cast<py::ssize_t>(owned->size());
  std::vector<py::ssize_t> shape = columns > 0 ? std::vector<py::ssize_t>{n / columns, columns} : std::vector<py::ssize_t>{n};
  return make_array(owned->data(), shape, base, true);
}

/// Read-only view of an Eigen vector or row-major matrix that `owner` keeps alive.
template <typename Matrix>
py::array view_array(const Matrix& m, py::handle owner) {
  return make_array(m.data(), shape_of(m), owner, false);
}

template <typename T>
py::array view_vector(const std::vector<T>& v, py::handle owner) {
  return make_array(v.data(), {static_cast<py::ssize_t>(v.size())}, owner, false);
}

/// A cv::Mat (any depth the library uses, 1 or more channels) as a numpy array
/// sharing its reference-counted buffer: H x W, or H x W x C for C > 1.
py::array mat_array(const cv::Mat& m);

// ---------------------------------------------------------------- arrays in

/// A 1-D float64 vector; `what` names the argument in errors. Copies (input only).
Eigen::VectorXd vector_arg(const py::handle& obj, const std::string& what, long expected_size = -1);
/// A 2-D float64 / float32 matrix (row-major).
RowMatrixXd matrix_arg(const py::handle& obj, const std::string& what, long expected_cols = -1);
RowMatrixXf matrix_f32_arg(const py::handle& obj, const std::string& what, long expected_cols = -1);
/// A 1-D integer vector.
std::vector<int> int_vector_arg(const py::handle& obj, const std::string& what);
/// A 2-D boolean mask (bool, or integers 0/1).
Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> mask_arg(const py::handle& obj,
                                                                              const std::string& what);

// ---------------------------------------------------------------- images

/// An image from Python as the CLI would read it: the grey plane (CV_32FC1 in
/// [0, 1]) and, for a colour input, the colour one (CV_32FC3, BGR). A string is
/// an image file or data-set reference (load_network_image); a numpy array
/// follows the rules at the top of this file. A float64 grey array is also
/// kept as it is in `exact` (CV_64FC1) when asked for: networks compute in
/// float64, and rounding their input to float32 would cost the parity with
/// float64 reference implementations.
///
/// `reading` says which model reads the image: a BoW model refuses digits:
/// references as the CLI does (load_image_reference; docs/errors.md, "What is
/// checked up front") and applies its "input" configuration to an image above
/// the pixel limit (refuse or downscale; docs/errors.md, "Limits").
struct ImageReading {
  bool bow = false;  ///< false: any model kind (networks and model-free functions)
  OversizeImages oversize = OversizeImages::refuse;
};
ImageSample image_arg(const py::handle& obj, const std::string& what, cv::Mat* exact = nullptr,
                      const ImageReading& reading = {});

/// The name of an image argument in an error: its file or reference, or for an
/// array (no name of its own) the argument, e.g. "image argument: out of memory".
inline std::string image_name(const ImageSample& s) { return s.source == "image" ? "image argument" : s.source; }

/// A batch of images: a list/tuple of images (each as image_arg reads it), or
/// an array N x H x W (grey) or N x H x W x C (C = 1, 3 or 4). An array N x H x W
/// whose last side is 3 or 4 could be one colour image as well as N grey ones,
/// and an H x W array is one image: both are refused with a ValueError saying
/// how to write the batch unambiguously. `exact`, when given, receives the
/// float64 grey planes as image_arg's (empty Mats for the other images).
std::vector<ImageSample> image_list_arg(const py::handle& obj, const std::string& what,
                                        std::vector<cv::Mat>* exact = nullptr, const ImageReading& reading = {});

/// What python_interrupt throws to stop a computation. Deliberately no
/// std::exception, so that no library handler that names or converts the
/// errors of an input (rethrow_naming, common/errors.hpp) takes it for one: it
/// leaves the library's call as it is, with the Python error (e.g.
/// KeyboardInterrupt) in `reason`, which the module's exception translator
/// raises again.
struct Interrupted {
  std::exception_ptr reason;
};

/// The interrupt check (InterruptCheck, common/parallel.hpp) of a call made
/// with the GIL released: it reacquires the GIL and, when a signal arrived,
/// throws Interrupted carrying KeyboardInterrupt (or whatever a signal handler
/// raised), which the module raises in Python. It holds no Python object, so
/// that the library may copy it on any thread.
InterruptCheck python_interrupt();

/// Progress and interruption of a long call: step(done, total) reacquires the
/// GIL, raises KeyboardInterrupt (or whatever a signal handler raised) when a
/// signal arrived, and calls the Python callback `progress(done, total)` if
/// one was given. Call it with the GIL released, between units of work.
class LongCall {
 public:
  explicit LongCall(py::object progress) : progress_(std::move(progress)) {}
  void step(long done, long total) const;

 private:
  py::object progress_;
};

/// A training log as progress: every line written to it (by a C++ training
/// loop, with the GIL released) reacquires the GIL and checks for signals,
/// so that Ctrl-C raises KeyboardInterrupt at the next line rather than after
/// the whole training; `parse` says whether a line completes a step and which
/// (done, total), reported to `progress`. `echo` copies the lines to stderr
/// (verbose=True). Give the stream exceptions(badbit), so that the
/// KeyboardInterrupt leaves the stream instead of setting its bad bit.
class LineProgress : public std::streambuf {
 public:
  using Parse = std::function<bool(const std::string& line, long* done, long* total)>;
  // Made with the GIL held: the Python objects are only touched under it.
  LineProgress(py::object progress, bool echo, Parse parse)
      : report_(std::move(progress)), quiet_(py::none()), echo_(echo), parse_(std::move(parse)) {}

 protected:
  int overflow(int c) override;

 private:
  LongCall report_, quiet_;
  bool echo_;
  Parse parse_;
  std::string line_;
};

// ---------------------------------------------------------------- JSON

nlohmann::json to_json(const py::handle& obj, const std::string& what);
py::object from_json(const nlohmann::json& j);

/// Options of a library type from a Python dict (None: defaults), read and
/// checked through the type's schema as configuration files are (an unknown
/// key, a bad name or an out-of-range number is a ValueError naming `what` and
/// the key).
template <typename Options, typename = void>
struct has_schema : std::false_type {};
template <typename Options>
struct has_schema<Options, std::void_t<decltype(Options::schema())>> : std::true_type {};

template <typename Options>
Options options_arg(const py::handle& obj, const std::string& what) {
  if (obj.is_none()) return Options{};
  const nlohmann::json j = to_json(obj, what);
  if (!j.is_object()) throw py::type_error(what + ": expected a dict of options");
  try {
    if constexpr (has_schema<Options>::value) {
      Options o = Options::schema().read(j, what);
      o.validate();
      return o;
    } else {
      // SvmOptions, read by its own JSON reader (its keys depend on the kernel):
      // a key it does not write back is one it does not know.
      Options o = j.get<Options>();
      const nlohmann::json known = o;
      std::set<std::string> keys;
      for (const auto& item : known.items()) keys.insert(item.key());
      check_keys(j, keys, what);
      o.validate();
      return o;
    }
  } catch (const nlohmann::json::exception& e) {
    throw py::value_error(without_json_tags(what + ": " + e.what()));
  } catch (const std::invalid_argument& e) {
    throw py::value_error(without_json_tags(e.what()));
  }
}

/// Options of a library type from keyword arguments (name, value), named as
/// the schema's keys; None leaves a key at its default.
template <typename Options>
Options keyword_options(const std::vector<std::pair<const char*, py::handle>>& arguments, const std::string& what) {
  py::dict d;
  for (const auto& [key, value] : arguments)
    if (!value.is_none()) d[key] = value;
  return options_arg<Options>(d, what);
}

// ---------------------------------------------------------------- records

py::dict layer_dict(const LayerRelevance& layer);
py::list layer_list(const std::vector<LayerRelevance>& layers);
/// Frames as a dict of arrays: x, y, bin_size, support (M x 4: x0, y0, x1, y1),
/// scale, angle, half_side, channel.
py::dict frames_dict(const std::vector<Frame>& frames);

}  // namespace pixelwise::python

namespace pybind11::detail {
template <typename Tag>
struct handle_type_name<pixelwise::python::Typed<Tag>> {
  static constexpr auto name = Tag::name;
};
}  // namespace pybind11::detail
