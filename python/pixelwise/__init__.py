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
    BowModel.load / BowModel.train, NetworkModel.load / train_network,
        load_model / as_model (a Model: any of them)
    every model: predict, predict_batch, explain(image, *, target=, method=,
        rule=, ...) -> Explanation (the CLI's JSON fields), explain_batch,
        class_index, class_name, classes; pickling
    BowModel.explain_detailed / explain_tiled, NetworkModel.explain_detailed
        (the records particular to a model kind; BowExplanation.level_relevance
        and BowModel.bin_layout inspect the BoW layers)
    PipelineModel, HistogramMapping  (your own pipeline of building blocks and
        classifier as a model: occlusion, random, metrics, evaluate, save/load)
    compute_descriptors, dense_sift, Codebook, encode, pool, normalise, Svm,
    pool_relevance, spread_to_pixels  (the stages of a BoW pipeline)
    occlusion, random_relevance, region_perturbation, rank_regions, localise,
        summarise  (metrics for any numpy heatmap and any model, including a
        Python callable), evaluate, make_scenes, generate_scene
    spray (spectral relevance analysis of any stack of heatmaps), analyse (of a
        model on a data set), adjusted_rand_index, export_virelay (HDF5 for
        CoRelAy/ViRelAy)
    render_heatmap, save_image, read_image, load_image, load_dataset
    set_max_image_pixels, max_image_pixels  (the image size limit; docs/errors.md)
    pixelwise.sklearn.BowClassifier  (a scikit-learn estimator)

See docs/python.md and the scripts in examples/.
"""

import concurrent.futures as _futures
import functools as _functools
import os as _os
import tempfile as _tempfile

import numpy as _np

from . import _pixelwise
from ._pixelwise import *  # noqa: F401,F403
from ._pixelwise import __version__  # noqa: F401
from ._virelay import export_virelay  # noqa: F401


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


# ---------------------------------------------------------------- batches


def _batch_items(images):
    """The images of a batch, one list item each, by the rule of predict_batch:
    a list or tuple holds one image per item; an array is N x H x W (grey) or
    N x H x W x C. An N x H x W array whose last side is 3 or 4, or an H x W
    array, is refused as ambiguous rather than guessed."""
    if isinstance(images, _np.ndarray):
        if images.ndim == 2:
            raise ValueError(f"images: an array of shape {images.shape} is one image; a batch is a list of images, "
                             "an (N, H, W) or an (N, H, W, C) array")
        if images.ndim == 3 and images.shape[2] in (3, 4):
            raise ValueError(f"images: an array of shape {images.shape} is ambiguous (one colour image, or "
                             f"{images.shape[0]} grey images {images.shape[2]} pixels wide): pass [image] for one "
                             "colour image, or images[..., None] (N, H, W, 1) for grey images")
        if images.ndim not in (3, 4):
            raise ValueError(f"images: expected a stack of images (N, H, W) or (N, H, W, C), got shape {images.shape}")
        return [images[i] for i in range(images.shape[0])]
    if isinstance(images, (list, tuple)):
        return list(images)
    raise TypeError(f"images: expected a list of images or an array of shape (N, H, W[, C]), got {_describe(images)}")


class _ExplanationBatch:
    """The explanations of a batch (explain_batch), in input order.

    pixels: N x H x W float64 relevance (all images of one size), scores:
    N x classes, class_index, predicted: int64 arrays of N, score: float64 array
    of N, accounts: the N accounts (None for methods that do not decompose),
    explanations: the N Explanation objects. len() and [i] give the items.
    """

    def __init__(self, explanations):
        self._explanations = list(explanations)

    @property
    def explanations(self):
        return self._explanations

    def __len__(self):
        return len(self._explanations)

    def __getitem__(self, index):
        return self._explanations[index]

    def __iter__(self):
        return iter(self._explanations)

    @property
    def pixels(self):
        shapes = {e.pixels.shape for e in self.explanations}
        if len(shapes) > 1:
            raise ValueError(f"pixels: the images have different sizes {sorted(shapes)}; use .explanations[i].pixels")
        if not self.explanations:
            return _np.zeros((0, 0, 0))
        return _np.stack([e.pixels for e in self.explanations])

    @property
    def scores(self):
        return _np.stack([e.scores for e in self.explanations]) if self.explanations else _np.zeros((0, 0))

    @property
    def class_index(self):
        return _np.array([e.class_index for e in self.explanations], dtype=_np.int64)

    @property
    def predicted(self):
        return _np.array([e.predicted for e in self.explanations], dtype=_np.int64)

    @property
    def score(self):
        return _np.array([e.score for e in self.explanations], dtype=_np.float64)

    @property
    def accounts(self):
        return [e.account for e in self.explanations]

    def __repr__(self):
        return f"<pixelwise.ExplanationBatch: {len(self.explanations)} explanations>"


def _explain_batch(self, images, *, targets=None, jobs=1, progress=None, **keywords):
    """Explains every image of a batch with the keywords of explain(); the
    images as for predict_batch. targets: None (each image's predicted class),
    one class for all, or one per image. Image i is explained with
    image_index=image_index+i (the random method's seed, as the CLI numbers its
    inputs). jobs: images explained at once on threads sharing the model (0:
    all cores); progress(done, total) is called in the calling thread after
    each image; Ctrl-C raises KeyboardInterrupt between images (pending ones
    are cancelled). Returns an ExplanationBatch."""
    items = _batch_items(images)
    count = len(items)
    if targets is None or isinstance(targets, (str, int, _np.integer)):
        per_image = [targets] * count
    else:
        per_image = list(targets)
        if len(per_image) != count:
            raise ValueError(f"targets: {len(per_image)} targets for {count} images")
    if isinstance(jobs, bool) or not isinstance(jobs, (int, _np.integer)) or jobs < 0:
        raise ValueError("jobs: expected an integer >= 0 (0: all cores)")
    jobs = int(jobs) or (_os.cpu_count() or 1)
    first = keywords.pop("image_index", 0)

    def one(i):
        return self.explain(items[i], target=per_image[i], image_index=first + i, **keywords)

    results = [None] * count
    if jobs == 1 or count <= 1:
        for i in range(count):
            results[i] = one(i)
            if progress is not None:
                progress(i + 1, count)
        return _ExplanationBatch(results)
    pool = _futures.ThreadPoolExecutor(max_workers=min(jobs, count))
    try:
        pending = {pool.submit(one, i): i for i in range(count)}
        done = 0
        for future in _futures.as_completed(pending):
            results[pending[future]] = future.result()
            done += 1
            if progress is not None:
                progress(done, count)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return _ExplanationBatch(results)


# Attached by setattr and globals(), so that type checkers keep reading the
# stubs (_pixelwise.pyi), which declare these names.
_ExplanationBatch.__name__ = _ExplanationBatch.__qualname__ = "ExplanationBatch"
setattr(_pixelwise, "ExplanationBatch", _ExplanationBatch)
globals()["ExplanationBatch"] = _ExplanationBatch
for _cls in (_pixelwise.Model, _pixelwise.BowModel, _pixelwise.NetworkModel):
    setattr(_cls, "explain_batch", _explain_batch)

# ---------------------------------------------------------------- pickling


def _folder_bytes(folder):
    """Every file of a folder as {relative path: bytes}."""
    files = {}
    for root, _, names in _os.walk(folder):
        for name in names:
            path = _os.path.join(root, name)
            with open(path, "rb") as f:
                files[_os.path.relpath(path, folder)] = f.read()
    return files


def _bow_model_from_files(files):
    with _tempfile.TemporaryDirectory(prefix="pixelwise-") as folder:
        model_dir = _os.path.join(folder, "model")
        for name, data in files.items():
            path = _os.path.join(model_dir, name)
            _os.makedirs(_os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        return _pixelwise.BowModel.load(model_dir)


def _bow_model_reduce(self):
    # A BoW model is pickled as the files of its model directory: the same
    # bytes `save` writes and `load` verifies, so the copy computes the same bits.
    with _tempfile.TemporaryDirectory(prefix="pixelwise-") as folder:
        model_dir = _os.path.join(folder, "model")
        self.save(model_dir)
        return (_bow_model_from_files, (_folder_bytes(model_dir),))


setattr(_pixelwise.BowModel, "__reduce__", _bow_model_reduce)


def _model_from_origin(origin, source, keywords=None):
    make = globals()["as_model"]
    if keywords is not None:
        return make(origin, **keywords)
    if isinstance(origin, _pixelwise.BowModel):
        return make(origin, source=source)
    return make(origin)


def _model_reduce(self):
    origin = getattr(self, "_origin", None)
    if self.kind == "python":
        # as_model(scores, classes=..., ...): the same call on the unpickled scores function.
        return (_model_from_origin, (origin, self.source, getattr(self, "_keywords")))
    if origin is None:
        # Made by load_model: the model as its path holds it now.
        path = getattr(self, "_path", None)
        if path is None:
            raise TypeError("this Model cannot be pickled (made neither by load_model nor by as_model)")
        origin = _pixelwise.BowModel.load(path) if self.kind == "bow" else _pixelwise.NetworkModel.load(path)
    return (_model_from_origin, (origin, self.source))


setattr(_pixelwise.Model, "__reduce__", _model_reduce)

def _wrap_model_makers():
    """load_model and as_model remember what they were made from, for pickling."""
    load, make = globals()["load_model"], globals()["as_model"]

    @_functools.wraps(load)
    def load_model(path):
        model = load(path)
        setattr(model, "_path", _os.fspath(path) if isinstance(path, (str, _os.PathLike)) else path)
        return model

    @_functools.wraps(make)
    def as_model(model, **keywords):
        if hasattr(model, "__pixelwise_model__") and not keywords:
            return model.__pixelwise_model__()  # a PipelineModel: the Model it is seen as
        result = make(model, **keywords)
        setattr(result, "_origin", model)
        setattr(result, "_keywords", keywords)
        return result

    globals()["load_model"], globals()["as_model"] = load_model, as_model


_wrap_model_makers()


# ---------------------------------------------------------------- your own pipeline

from ._pipeline import HistogramMapping as _HistogramMapping  # noqa: E402
from ._pipeline import PipelineModel as _PipelineModel  # noqa: E402

# Attached as ExplanationBatch is, so that the stubs (_pixelwise.pyi) declare them.
_own_class: type
for _own_class in (_HistogramMapping, _PipelineModel):
    _own_class.__module__ = "pixelwise"
    setattr(_pixelwise, _own_class.__name__, _own_class)
    globals()[_own_class.__name__] = _own_class
