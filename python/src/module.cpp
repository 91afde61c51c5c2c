// The `pixelwise` Python module: a thin binding of the C++ library.
// The compiled part is pixelwise._pixelwise; python/pixelwise/__init__.py
// re-exports it. Exceptions: std::invalid_argument arrives as ValueError,
// other library errors (std::runtime_error) as RuntimeError, each with the
// C++ message; bad arrays give TypeError (dtype, type) or ValueError (shape, values).
#include <nlohmann/json.hpp>
#include <string>

#include "bindings.hpp"
#include "convert.hpp"

namespace {

/// Library errors that are the caller's bad value, although the C++ library
/// reports them as std::runtime_error (its own tests and the command line rely
/// on that type): an unknown class name, an image too small for the model's
/// descriptors or of the wrong size for a network. In Python they are
/// ValueErrors, like every other bad value.
bool is_bad_value(const std::string& what) {
  static const char* const markers[] = {
      "\" does not exist (",                      // class "zebra" does not exist (classes: ...)
      "smaller than one descriptor support",      // dense SIFT on a tiny image
      ", the model expects ",                     // network: image is 10 x 10 x 1, the model expects ...
      ": the network cannot take a ",             // network without a fixed input shape
  };
  for (const char* marker : markers)
    if (what.find(marker) != std::string::npos) return true;
  return false;
}

}  // namespace

PYBIND11_MODULE(_pixelwise, m) {
  m.doc() = "pixelwise: pixel-wise explanations (Layer-wise Relevance Propagation) of image classifiers";
  m.attr("__version__") = PIXELWISE_VERSION;
  pixelwise::python::bind_bow(m);
  pixelwise::python::bind_blocks(m);
  pixelwise::python::bind_network(m);
  pixelwise::python::bind_evaluation(m);  // after the model classes it accepts

  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const nlohmann::json::exception& e) {
      // A JSON value of the wrong type or shape in a configuration or option dict.
      PyErr_SetString(PyExc_ValueError, pixelwise::python::without_json_tags(e.what()).c_str());
    } catch (const pybind11::builtin_exception&) {
      throw;  // already a Python exception of the binding's choice
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, pixelwise::python::without_json_tags(e.what()).c_str());
    } catch (const std::runtime_error& e) {
      const std::string what = pixelwise::python::without_json_tags(e.what());
      PyErr_SetString(is_bad_value(what) ? PyExc_ValueError : PyExc_RuntimeError, what.c_str());
    }
  });
}
