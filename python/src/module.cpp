// The `pixelwise` Python module: a thin binding of the C++ library.
// The compiled part is pixelwise._pixelwise; python/pixelwise/__init__.py
// re-exports it. Exceptions are mapped by their C++ type, never by their text
// (common/errors.hpp, docs/errors.md "Error types"): bad values
// (std::invalid_argument, UsageError, InputError) arrive as ValueError, other
// library errors (std::runtime_error) as RuntimeError, each with the C++
// message; bad arrays give TypeError (dtype, type) or ValueError (shape, values).
#include <nlohmann/json.hpp>
#include <string>

#include "bindings.hpp"
#include "pixelwise/common/errors.hpp"
#include "convert.hpp"

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
    } catch (const pixelwise::python::Interrupted& e) {
      // A long call stopped by its interrupt check (python_interrupt): the
      // Python error it caught, e.g. KeyboardInterrupt, raised again.
      try {
        std::rethrow_exception(e.reason);
      } catch (pybind11::error_already_set& error) {
        error.restore();
      }
    } catch (const pixelwise::InputError& e) {
      // A value this model cannot take (an unknown class, an image of the wrong size).
      PyErr_SetString(PyExc_ValueError, pixelwise::python::without_json_tags(e.what()).c_str());
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, pixelwise::python::without_json_tags(e.what()).c_str());
    } catch (const std::runtime_error& e) {
      PyErr_SetString(PyExc_RuntimeError, pixelwise::python::without_json_tags(e.what()).c_str());
    }
  });
}
