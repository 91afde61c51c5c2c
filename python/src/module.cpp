// The `pixelwise` Python module: a thin binding of the C++ library.
// The compiled part is pixelwise._pixelwise; python/pixelwise/__init__.py
// re-exports it. Exceptions: std::invalid_argument arrives as ValueError,
// other library errors (std::runtime_error) as RuntimeError, each with the
// C++ message; bad arrays give TypeError (dtype, type) or ValueError (shape, values).
#include "bindings.hpp"

PYBIND11_MODULE(_pixelwise, m) {
  m.doc() = "pixelwise: pixel-wise explanations (Layer-wise Relevance Propagation) of image classifiers";
  m.attr("__version__") = PIXELWISE_VERSION;
  pixelwise::python::bind_bow(m);
  pixelwise::python::bind_blocks(m);
  pixelwise::python::bind_network(m);
  pixelwise::python::bind_evaluation(m);  // after the model classes it accepts
}
