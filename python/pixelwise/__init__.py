"""pixelwise: pixel-wise explanations of image classifiers with Layer-wise
Relevance Propagation (Bach et al., PLOS ONE 2015).

A thin binding of the C++ library: the same models, the same numbers as the
``pixelwise`` command line, with numpy arrays in and out.

Images are numpy arrays of shape (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA,
dtype uint8 (0..255), uint16 (0..65535) or float32/float64 with values in
[0, 1]; a string names an image file or a data-set image ("fashion-mnist:test@0")
as on the command line. Colour is converted to grey exactly as for an image file
read by the command line.

Errors arrive as exceptions carrying the library's message: ValueError for bad
values (std::invalid_argument), RuntimeError for failures such as a missing or
damaged file, TypeError for arguments of the wrong type or dtype.

Main entry points:
    BowModel.load / BowModel.train / model.predict / model.explain (lrp, taylor)
        / model.explain_tiled
    compute_descriptors, dense_sift, Codebook, encode, pool, normalise, Svm,
    pool_relevance, spread_to_pixels  (the stages of a BoW pipeline)
    NetworkModel.load / net.explain (LRP rules and composites, taylor, sensitivity)
    load_model -> Model.explain (every method: lrp, taylor, sensitivity,
        occlusion, random), occlusion, random_relevance
    region_perturbation, rank_regions, localise, summarise  (metrics for any
        numpy heatmap and any model, including a Python callable)
    render_heatmap, save_image, read_image, load_image, load_dataset

See docs/python.md and the scripts in examples/.
"""

import functools as _functools

from . import _pixelwise
from ._pixelwise import *  # noqa: F401,F403
from ._pixelwise import __version__  # noqa: F401


def _describe(value):
    """A short description of an argument for an error message: never its contents."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__module__}.{type(value).__name__} of shape {tuple(shape)}, dtype {dtype}"
    if isinstance(value, str) and len(value) <= 60:
        return repr(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    return type(value).__name__


def _short_argument_errors(function):
    """pybind11 answers arguments of the wrong type with a TypeError that
    prints every argument, numpy arrays in full; keep its list of accepted
    signatures but describe the arguments by type and shape only."""

    @_functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except TypeError as error:
            message = str(error)
            if "Invoked with:" not in message:
                raise
            described = [_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()]
            head = message.split("Invoked with:")[0].rstrip()
            raise TypeError(f"{head}\n\nInvoked with: {', '.join(described)}") from None

    return call


def _wrap_bindings():
    for name, value in list(vars(_pixelwise).items()):
        if name.startswith("_"):
            continue
        if isinstance(value, type):
            for attribute, member in list(vars(value).items()):
                if attribute.startswith("__"):
                    continue
                if isinstance(member, staticmethod):
                    setattr(value, attribute, staticmethod(_short_argument_errors(member.__func__)))
                elif type(member).__name__ == "instancemethod":
                    setattr(value, attribute, _short_argument_errors(member.__func__))
        elif type(value).__name__ == "builtin_function_or_method":
            globals()[name] = _short_argument_errors(value)


_wrap_bindings()
