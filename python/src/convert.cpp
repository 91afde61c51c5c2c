#include "convert.hpp"

#include <cmath>
#include <iostream>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "pixelwise/common/json_input.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"

namespace pixelwise::python {
namespace {

std::string type_name(const py::handle& obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }

std::string shape_text(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

std::string dtype_text(const py::array& a) { return py::str(a.dtype()); }

/// Any array-like as a numpy array (lists become arrays); TypeError otherwise.
py::array as_array(const py::handle& obj, const std::string& what) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  if (py::isinstance<py::str>(obj) || py::isinstance<py::bytes>(obj) || obj.is_none())
    throw py::type_error(what + ": expected a numpy array, got " + type_name(obj));
  py::array a = py::module_::import("numpy").attr("asarray")(obj);
  if (a.dtype().kind() == 'O') throw py::type_error(what + ": expected a numeric array, got " + type_name(obj));
  return a;
}

/// A numeric (not bool, not complex) array converted to T, C-contiguous (copied if needed).
template <typename T>
py::array_t<T, py::array::c_style> numeric_array(const py::handle& obj, const std::string& what, int ndim) {
  const py::array a = as_array(obj, what);
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error(what + ": expected a real-valued array, got dtype " + dtype_text(a));
  if (a.ndim() != ndim)
    throw py::value_error(what + ": expected a " + std::to_string(ndim) + "-D array, got shape " + shape_text(a));
  return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
}

template <typename Matrix>
Matrix matrix_of(const py::handle& obj, const std::string& what, long expected_cols) {
  using T = typename Matrix::Scalar;
  const auto a = numeric_array<T>(obj, what, 2);
  if (expected_cols >= 0 && a.shape(1) != expected_cols)
    throw py::value_error(what + ": expected " + std::to_string(expected_cols) + " columns, got shape " + shape_text(a));
  Matrix m(a.shape(0), a.shape(1));
  std::copy(a.data(), a.data() + a.size(), m.data());
  if constexpr (std::is_floating_point_v<T>)
    if (!m.allFinite()) throw py::value_error(what + ": contains NaN or infinite values");
  return m;
}

/// OpenCV depth of an image array's dtype; TypeError naming the accepted ones.
int image_depth(const py::array& a, const std::string& what) {
  const py::dtype dt = a.dtype();
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'u' && size == 1) return CV_8U;
  if (kind == 'u' && size == 2) return CV_16U;
  if (kind == 'f' && size == 4) return CV_32F;
  if (kind == 'f' && size == 8) return CV_64F;
  throw py::type_error(what + ": unsupported image dtype " + dtype_text(a) +
                       " (use uint8 with values 0..255, uint16 with 0..65535, or float32/float64 with values in "
                       "[0, 1])");
}

template <typename T>
void check_unit_range(const cv::Mat& m, const std::string& what) {
  const T* p = m.ptr<T>();
  const size_t n = m.total() * m.channels();
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i])) throw py::value_error(what + ": image contains NaN or infinite values");
    if (p[i] < 0 || p[i] > 1) {
      std::ostringstream s;
      s << what << ": float image values must lie in [0, 1], found " << p[i]
        << " (divide 8-bit data by 255, or pass it as dtype uint8)";
      throw py::value_error(s.str());
    }
  }
}

/// The library's float image may share the caller's buffer; make it its own.
cv::Mat owned(cv::Mat m) { return m.u ? m : m.clone(); }

}  // namespace

py::array mat_array(const cv::Mat& m) {
  auto* held = new cv::Mat(m.isContinuous() ? m : m.clone());
  py::capsule base(held, [](void* p) { delete static_cast<cv::Mat*>(p); });
  std::vector<py::ssize_t> shape{held->rows, held->cols};
  if (held->channels() > 1) shape.push_back(held->channels());
  switch (held->depth()) {
    case CV_8U: return make_array(held->ptr<std::uint8_t>(), shape, base, true);
    case CV_16U: return make_array(held->ptr<std::uint16_t>(), shape, base, true);
    case CV_32S: return make_array(held->ptr<std::int32_t>(), shape, base, true);
    case CV_32F: return make_array(held->ptr<float>(), shape, base, true);
    case CV_64F: return make_array(held->ptr<double>(), shape, base, true);
    default: throw std::runtime_error("internal: unsupported cv::Mat depth for numpy");
  }
}

Eigen::VectorXd vector_arg(const py::handle& obj, const std::string& what, long expected_size) {
  const auto a = numeric_array<double>(obj, what, 1);
  if (expected_size >= 0 && a.shape(0) != expected_size)
    throw py::value_error(what + ": expected " + std::to_string(expected_size) + " values, got shape " + shape_text(a));
  Eigen::VectorXd v(a.shape(0));
  std::copy(a.data(), a.data() + a.size(), v.data());
  if (!v.allFinite()) throw py::value_error(what + ": contains NaN or infinite values");
  return v;
}

RowMatrixXd matrix_arg(const py::handle& obj, const std::string& what, long expected_cols) {
  return matrix_of<RowMatrixXd>(obj, what, expected_cols);
}

RowMatrixXf matrix_f32_arg(const py::handle& obj, const std::string& what, long expected_cols) {
  return matrix_of<RowMatrixXf>(obj, what, expected_cols);
}

std::vector<int> int_vector_arg(const py::handle& obj, const std::string& what) {
  const py::array a = as_array(obj, what);
  if (a.dtype().kind() != 'i' && a.dtype().kind() != 'u')
    throw py::type_error(what + ": expected integers, got dtype " + dtype_text(a));
  if (a.ndim() != 1) throw py::value_error(what + ": expected a 1-D array, got shape " + shape_text(a));
  const auto v = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(a);
  std::vector<int> out(v.size());
  for (py::ssize_t i = 0; i < v.size(); ++i) {
    if (v.data()[i] < INT32_MIN || v.data()[i] > INT32_MAX) throw py::value_error(what + ": value out of range");
    out[i] = static_cast<int>(v.data()[i]);
  }
  return out;
}

Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> mask_arg(const py::handle& obj,
                                                                              const std::string& what) {
  const py::array a = as_array(obj, what);
  const char kind = a.dtype().kind();
  if (kind != 'b' && kind != 'i' && kind != 'u')
    throw py::type_error(what + ": expected a boolean mask, got dtype " + dtype_text(a));
  if (a.ndim() != 2) throw py::value_error(what + ": expected a 2-D mask, got shape " + shape_text(a));
  const auto v = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(a);
  Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(a.shape(0), a.shape(1));
  for (py::ssize_t i = 0; i < v.size(); ++i) {
    if (v.data()[i] != 0 && v.data()[i] != 1) throw py::value_error(what + ": mask values must be 0 or 1 (or bool)");
    m.data()[i] = v.data()[i] != 0;
  }
  return m;
}

ImageSample image_arg(const py::handle& obj, const std::string& what, cv::Mat* exact, const ImageReading& reading) {
  if (py::isinstance<py::str>(obj) || py::hasattr(obj, "__fspath__")) {
    const std::string reference = py::str(py::module_::import("os").attr("fspath")(obj));
    // image files and fashion-mnist:SPLIT@I; digits:SPLIT@I for all but BoW models
    if (reading.bow) return load_image_reference(reference, reading.oversize);
    return load_network_image(reference);
  }
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(what + ": expected an image as a numpy array (or an image file name), got " + type_name(obj));
  py::array a = py::reinterpret_borrow<py::array>(obj);
  const int depth = image_depth(a, what);
  if (!a.dtype().attr("isnative").cast<bool>())
    a = a.attr("astype")(a.dtype().attr("newbyteorder")("="));
  int channels = 1;
  if (a.ndim() == 3 && (a.shape(2) == 1 || a.shape(2) == 3 || a.shape(2) == 4))
    channels = static_cast<int>(a.shape(2));
  else if (a.ndim() != 2)
    throw py::value_error(what + ": expected an image of shape (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA, got shape " +
                          shape_text(a));
  if (a.shape(0) == 0 || a.shape(1) == 0) throw py::value_error(what + ": image is empty, shape " + shape_text(a));
  if (a.shape(0) > INT32_MAX || a.shape(1) > INT32_MAX) throw py::value_error(what + ": image too large");
  a = py::array::ensure(a, py::array::c_style);
  // A header over the numpy buffer; the conversions below copy out of it.
  const cv::Mat wrapped(static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1)), CV_MAKETYPE(depth, channels),
                        const_cast<void*>(a.data()));
  if (depth == CV_32F) check_unit_range<float>(wrapped, what);
  if (depth == CV_64F) check_unit_range<double>(wrapped, what);
  if (exact) *exact = depth == CV_64F && channels == 1 ? wrapped.clone() : cv::Mat();
  // numpy images are RGB(A); the library, like OpenCV's imread, uses BGR(A).
  // (into a new buffer: the caller's array is never written to)
  cv::Mat raw;
  if (channels == 1) raw = wrapped;
  if (channels == 3) cv::cvtColor(wrapped, raw, cv::COLOR_RGB2BGR);
  if (channels == 4) cv::cvtColor(wrapped, raw, cv::COLOR_RGBA2BGRA);
  raw = fit_image_limit(raw, reading.oversize, what);  // refused, or downscaled as the model's configuration says
  // The same conversions as an image file read by the CLI (pipelines/src/dataset.cpp).
  ImageSample s;
  s.name = what;
  s.source = what;
  s.gray = owned(to_gray_float(raw, what));
  if (raw.channels() >= 3) s.colour = owned(to_colour_float(raw, what));
  return s;
}

std::vector<ImageSample> image_list_arg(const py::handle& obj, const std::string& what, std::vector<cv::Mat>* exact,
                                        const ImageReading& reading) {
  std::vector<ImageSample> images;
  auto add = [&](const py::handle& item, size_t i) {
    cv::Mat plane;
    images.push_back(image_arg(item, what + "[" + std::to_string(i) + "]", exact ? &plane : nullptr, reading));
    if (exact) exact->push_back(plane);
  };
  if (py::isinstance<py::array>(obj)) {
    const py::array a = py::reinterpret_borrow<py::array>(obj);
    if (a.ndim() == 2)
      throw py::value_error(what + ": an array of shape " + shape_text(a) +
                            " is one image; a batch is a list of images, an (N, H, W) or an (N, H, W, C) array");
    if (a.ndim() == 3 && (a.shape(2) == 3 || a.shape(2) == 4))
      throw py::value_error(what + ": an array of shape " + shape_text(a) +
                            " is ambiguous (one colour image, or " + std::to_string(a.shape(0)) +
                            " grey images " + std::to_string(a.shape(2)) +
                            " pixels wide): pass [image] for one colour image, or images[..., None] "
                            "(N, H, W, 1) for grey images");
    if (a.ndim() != 3 && a.ndim() != 4)
      throw py::value_error(what + ": expected a stack of images (N, H, W) or (N, H, W, C), got shape " + shape_text(a));
    for (py::ssize_t i = 0; i < a.shape(0); ++i) add(a[py::int_(i)], static_cast<size_t>(i));
  } else if (py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj)) {
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
    for (size_t i = 0; i < seq.size(); ++i) add(seq[i], i);
  } else {
    throw py::type_error(what + ": expected a list of images or an array of shape (N, H, W[, C]), got " + type_name(obj));
  }
  return images;
}

int LineProgress::overflow(int c) {
  if (c == traits_type::eof()) return 0;
  if (c != '\n') {
    line_ += static_cast<char>(c);
    return c;
  }
  const std::string line = std::move(line_);
  line_.clear();
  if (echo_) std::cerr << line << '\n';
  long done = 0, total = 0;
  if (parse_(line, &done, &total))
    report_.step(done, total);
  else
    quiet_.step(0, 0);  // signals only
  return c;
}

namespace {
// With the GIL held. Signal handlers run only in the main thread, and only
// when Python code runs: a C++ loop must ask, or Ctrl-C would wait for the
// whole call (in another thread PyErr_CheckSignals does nothing).
void check_signals() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}
}  // namespace

InterruptCheck python_interrupt() {
  return [] {
    py::gil_scoped_acquire gil;
    try {
      check_signals();
    } catch (const py::error_already_set&) {
      // Carried through the library as Interrupted, which it passes on
      // unchanged; the module's exception translator raises the Python error.
      throw Interrupted{std::current_exception()};
    }
  };
}

void LongCall::step(long done, long total) const {
  py::gil_scoped_acquire gil;
  check_signals();
  if (!progress_.is_none()) progress_(done, total);
}

namespace {

// Dicts reach the library as JSON, under the limits of every outside JSON
// (docs/errors.md, "Limits"): nesting is counted while converting, so that a
// deeply nested list is refused before the recursion gets deep.
nlohmann::json to_json_at(const py::handle& obj, const std::string& what, int depth) {
  if (obj.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(obj)) return obj.cast<bool>();
  if (py::isinstance<py::int_>(obj)) {
    // Beyond 64 bits an integer is out of every option's range: a ValueError, as other bad values.
    try {
      return obj.cast<long long>();
    } catch (const py::cast_error&) {
    }
    try {
      return obj.cast<unsigned long long>();
    } catch (const py::cast_error&) {
    }
    throw py::value_error(what + ": the integer " + py::str(obj).cast<std::string>() + " is out of range");
  }
  if (py::isinstance<py::float_>(obj)) return obj.cast<double>();
  if (py::isinstance<py::str>(obj)) return obj.cast<std::string>();
  const bool nested = py::isinstance<py::dict>(obj) || py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj);
  if (nested && depth + 1 > kJsonMaxDepth)
    throw py::value_error(what + ": nested deeper than " + std::to_string(kJsonMaxDepth) +
                          " levels of lists and dicts (the JSON limit of docs/errors.md, \"Limits\")");
  if (py::isinstance<py::dict>(obj)) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& item : py::reinterpret_borrow<py::dict>(obj)) {
      if (!py::isinstance<py::str>(item.first)) throw py::type_error(what + ": dict keys must be strings");
      const std::string key = item.first.cast<std::string>();
      j[key] = to_json_at(item.second, what + "." + key, depth + 1);
    }
    return j;
  }
  if (py::isinstance<py::array>(obj)) return to_json_at(obj.attr("tolist")(), what, depth);
  // numpy scalars (numpy.int64, numpy.bool_, ...)
  if (py::hasattr(obj, "item") && py::isinstance(obj, py::module_::import("numpy").attr("generic")))
    return to_json_at(obj.attr("item")(), what, depth);
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& item : obj) j.push_back(to_json_at(item, what, depth + 1));
    return j;
  }
  throw py::type_error(what + ": cannot be written as JSON (" + type_name(obj) + ")");
}

}  // namespace

nlohmann::json to_json(const py::handle& obj, const std::string& what) { return to_json_at(obj, what, 0); }

py::object from_json(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<long long>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<unsigned long long>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& item : j) l.append(from_json(item));
      return l;
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (const auto& item : j.items()) d[py::str(item.key())] = from_json(item.value());
      return d;
    }
    default: throw std::runtime_error("internal: unsupported JSON value");
  }
}

py::dict layer_dict(const LayerRelevance& layer) {
  py::dict d;
  d["name"] = layer.name;
  d["relevance_in"] = layer.relevance_in;
  d["relevance_out"] = layer.relevance_out;
  d["absorbed"] = layer.absorbed;
  d["unassigned"] = layer.unassigned;
  d["unaccounted"] = layer.unaccounted();
  if (layer.fallback != 0) d["fallback"] = layer.fallback;
  return d;
}

py::list layer_list(const std::vector<LayerRelevance>& layers) {
  py::list l;
  for (const auto& layer : layers) l.append(layer_dict(layer));
  return l;
}

py::dict frames_dict(const std::vector<Frame>& frames) {
  const size_t m = frames.size();
  std::vector<double> x(m), y(m), scale(m), angle(m), half_side(m);
  std::vector<std::int32_t> bin_size(m), channel(m), support(4 * m);
  for (size_t l = 0; l < m; ++l) {
    const Frame& f = frames[l];
    x[l] = f.x;
    y[l] = f.y;
    scale[l] = f.scale;
    angle[l] = f.angle;
    half_side[l] = f.half_side;
    bin_size[l] = f.bin_size;
    channel[l] = f.channel;
    support[4 * l] = f.support.x0;
    support[4 * l + 1] = f.support.y0;
    support[4 * l + 2] = f.support.x1;
    support[4 * l + 3] = f.support.y1;
  }
  py::dict d;
  d["x"] = owned_vector(std::move(x));
  d["y"] = owned_vector(std::move(y));
  d["bin_size"] = owned_vector(std::move(bin_size));
  d["support"] = owned_vector(std::move(support), 4);
  d["scale"] = owned_vector(std::move(scale));
  d["angle"] = owned_vector(std::move(angle));
  d["half_side"] = owned_vector(std::move(half_side));
  d["channel"] = owned_vector(std::move(channel));
  return d;
}

}  // namespace pixelwise::python
