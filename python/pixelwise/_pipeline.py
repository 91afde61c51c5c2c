"""A model built from pixelwise's building blocks and your own parts
(docs/python.md, "Your own pipeline as a model"): local features -> a
histogram (or any vector) -> a classifier on it, scored in Python and seen by
the library as a Model of kind 'python', so that predict, occlusion, random,
the metrics and evaluate take it. pixelwise decomposes only the classifiers it
computes itself: such a model has lrp only when its classifier is a pixelwise
Svm (additive kernel) on a HistogramMapping, and no taylor or sensitivity.

Saved as a directory: pipeline.json (the manifest, with the SHA-256 of every
part) and one pickle per part. Loading unpickles the parts, and unpickling runs
code named in the file: load only directories you (or someone you trust) saved.
"""

import hashlib as _hashlib
import json as _json
import os as _os
import pickle as _pickle
import shutil as _shutil
import tempfile as _tempfile

import numpy as _np

from . import _pixelwise

_MANIFEST = "pipeline.json"
_FORMAT = "pixelwise-pipeline"
_VERSION = 1
_PARTS = ("features", "mapping", "classifier")


class HistogramMapping:
    """LocalFeatures -> the BoW histogram of docs/design.md 1.1-1.3, by the
    building blocks encode, pool and normalise: a codebook given by its
    centres (V x D) and its 'codebook' options, and the 'coding', 'pooling'
    and 'normalisation' sections as dicts (None: their defaults). It pickles
    as these arrays and dicts, and computes the same histogram after loading."""

    def __init__(self, centres, codebook=None, *, coding=None, pooling=None, normalisation=None):
        for name, value in (("codebook", codebook), ("coding", coding), ("pooling", pooling),
                            ("normalisation", normalisation)):
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"{name}: expected a dict of options or None, got {type(value).__name__}")
        self._state = {"centres": _np.array(centres, dtype=_np.float32), "codebook": codebook, "coding": coding,
                       "pooling": pooling, "normalisation": normalisation}
        self._build()

    def _build(self):
        s = self._state
        self._codebook = _pixelwise.Codebook(s["centres"], s["codebook"])
        # An empty encoding checks the coding, pooling and normalisation options now rather than per image.
        empty = _pixelwise.LocalFeatures(_np.zeros((0, self._codebook.dimension), _np.float32),
                                         {"x": _np.zeros(0), "y": _np.zeros(0), "support": _np.zeros((0, 4))}, 1, 1)
        codes = _pixelwise.encode(self._codebook, empty, s["coding"])
        self._size = _pixelwise.pool(codes, empty, s["pooling"], s["normalisation"]).histogram.size

    @property
    def size(self):
        """The length of the histogram."""
        return self._size

    @property
    def codebook(self):
        return self._codebook

    def encoding(self, features):
        """The BowEncoding (codes, pooled, histogram) of LocalFeatures."""
        if not isinstance(features, _pixelwise.LocalFeatures):
            raise TypeError(f"features: expected LocalFeatures, got {type(features).__name__}")
        codes = _pixelwise.encode(self._codebook, features, self._state["coding"])
        return _pixelwise.pool(codes, features, self._state["pooling"], self._state["normalisation"])

    def __call__(self, features):
        return _np.array(self.encoding(features).histogram)

    def __getstate__(self):
        return self._state

    def __setstate__(self, state):
        self._state = state
        self._build()

    def __repr__(self):
        return f"<pixelwise.HistogramMapping: {self._codebook.words} words, {self._size} bins>"


def _decisions(classifier, histograms, classes):
    """N x classes scores of the classifier on N histograms."""
    if isinstance(classifier, _pixelwise.Svm):
        scores = _np.stack([classifier.decisions(h) for h in histograms])
    elif hasattr(classifier, "decision_function"):
        scores = _np.asarray(classifier.decision_function(histograms), dtype=_np.float64)
        if scores.ndim == 1 and classes == 2:
            # scikit-learn's two-class convention: one score, for the second class.
            scores = _np.stack([-scores, scores], axis=1)
    else:
        scores = _np.asarray(classifier(histograms), dtype=_np.float64)
    if scores.ndim == 1 and classes == 1:
        scores = scores[:, None]
    if scores.shape != (len(histograms), classes):
        raise ValueError(f"classifier: expected {len(histograms)} x {classes} scores (histograms x classes), "
                         f"got shape {scores.shape}")
    return scores


class _Scores:
    """scores(images) of a pipeline: images float32 N x H x W -> N x classes.
    Holds the parts only (no reference to the PipelineModel), so that the
    Model built on it and the PipelineModel form no cycle."""

    def __init__(self, features, mapping, classifier, classes):
        self.features, self.mapping, self.classifier, self.classes = features, mapping, classifier, classes

    def local_features(self, image):
        if isinstance(self.features, dict):
            return _pixelwise.compute_descriptors(image, self.features)
        f = self.features(image)
        if not isinstance(f, _pixelwise.LocalFeatures):
            raise TypeError(f"features: the callable returned {type(f).__name__}, expected LocalFeatures")
        return f

    def histogram(self, image):
        h = _np.asarray(self.mapping(self.local_features(image)), dtype=_np.float64)
        if h.ndim != 1:
            raise ValueError(f"mapping: expected a 1-D vector per image, got shape {h.shape}")
        return h

    def histograms(self, images):
        rows = [self.histogram(image) for image in images]
        if len({len(h) for h in rows}) > 1:
            raise ValueError(f"mapping: vectors of different lengths {sorted({len(h) for h in rows})}")
        return _np.stack(rows)

    def __call__(self, images):
        return _decisions(self.classifier, self.histograms(images), len(self.classes))


class _SvmLrp:
    """lrp(image, c) of a pipeline whose classifier is a pixelwise Svm on a
    HistogramMapping: pixelwise's own layers run on the pipeline's parts
    (docs/design.md 1.2-1.5): the Svm's exact decomposition of f_c (bias
    policy nonzero), the pooling rule, the flat rule over the supports."""

    def __init__(self, scores):
        self.scores = scores

    def __call__(self, image, c):
        s = self.scores
        features = s.local_features(image)
        encoding = s.mapping.encoding(features)
        histogram = _np.array(encoding.histogram)
        scores = _np.asarray(s.classifier.decisions(histogram))
        c = int(_np.argmax(scores)) if c < 0 else c
        bins, svm = s.classifier.decompose(c, histogram, "nonzero")
        descriptors, pooling = _pixelwise.pool_relevance(encoding, bins)
        pixels, spread = _pixelwise.spread_to_pixels(features, descriptors, image.shape[1], image.shape[0])
        return {"pixels": pixels, "scores": scores, "class_index": c, "layers": [svm, pooling, spread]}


def _check_parts(features, mapping, classifier, classes, source):
    if not (isinstance(features, dict) or callable(features)):
        raise TypeError("features: expected a callable image -> LocalFeatures or a dict (the 'descriptor' section), "
                        f"got {type(features).__name__}")
    if not callable(mapping):
        raise TypeError(f"mapping: expected a callable LocalFeatures -> vector (e.g. HistogramMapping), "
                        f"got {type(mapping).__name__}")
    if not (isinstance(classifier, _pixelwise.Svm) or hasattr(classifier, "decision_function") or callable(classifier)):
        raise TypeError("classifier: expected a pixelwise Svm, an object with decision_function (scikit-learn) or a callable "
                        f"histograms (N x dimension) -> N x classes scores, got {type(classifier).__name__}")
    if not all(isinstance(c, str) for c in classes):
        raise TypeError("classes: expected a list of class names (str)")
    if not isinstance(source, str):
        raise TypeError(f"source: expected a str, got {type(source).__name__}")


class PipelineModel:
    """Your own pipeline as a model: features (a callable image -> LocalFeatures,
    the image a float32 H x W grey array in [0, 1], or a dict: the
    'descriptor' section for compute_descriptors), mapping (a callable
    LocalFeatures -> 1-D vector, e.g. HistogramMapping), classifier (an object
    with decision_function, e.g. scikit-learn's LinearSVC -- two classes: its
    one score s gives scores (-s, s) --, a callable histograms N x dimension
    -> N x classes scores, or a pixelwise Svm) and the class names in score order.

    It has predict, predict_batch, histogram, explain (methods occlusion and
    random; lrp too when the classifier is a pixelwise Svm with an additive
    kernel on a HistogramMapping, since pixelwise decomposes only the
    classifiers it computes itself) and explain_batch;
    as_model(pipeline), occlusion, region_perturbation and evaluate take it.
    save(path) writes a directory (manifest + pickled parts), load(path) reads
    it back strictly; loading unpickles, so load only directories you trust.
    """

    def __init__(self, *, features, mapping, classifier, classes, source="PipelineModel"):
        if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
            raise TypeError(f"classes: expected a list of class names (str), got {type(classes).__name__}")
        classes = list(classes)
        _check_parts(features, mapping, classifier, classes, source)
        self._scores = _Scores(features, mapping, classifier, classes)
        from . import as_model  # the package's as_model, which makes the Model picklable

        lrp = _SvmLrp(self._scores) if isinstance(classifier, _pixelwise.Svm) and isinstance(mapping, HistogramMapping) \
            else None
        self._model = as_model(self._scores, classes=classes, source=source, lrp=lrp)

    # The one protocol by which occlusion, the metrics, evaluate and as_model take it.
    def __pixelwise_model__(self):
        return self._model

    @property
    def model(self):
        """The Model (kind 'python') this pipeline is seen as."""
        return self._model

    @property
    def features(self):
        return self._scores.features

    @property
    def mapping(self):
        return self._scores.mapping

    @property
    def classifier(self):
        return self._scores.classifier

    @property
    def classes(self):
        return list(self._scores.classes)

    @property
    def source(self):
        return self._model.source

    @property
    def methods(self):
        return self._model.methods

    def class_index(self, name_or_index):
        return self._model.class_index(name_or_index)

    def class_name(self, index):
        return self._model.class_name(index)

    def histogram(self, image):
        """The vector the classifier sees for one image (read as predict reads it)."""
        return self._scores.histogram(_pixelwise.load_image(image))

    def predict(self, image):
        return self._model.predict(image)

    def predict_batch(self, images, *, progress=None):
        return self._model.predict_batch(images, progress=progress)

    def explain(self, image, **keywords):
        """explain() of Model: methods occlusion and random."""
        return self._model.explain(image, **keywords)

    def explain_batch(self, images, **keywords):
        return self._model.explain_batch(images, **keywords)

    def save(self, path):
        """Writes the directory `path`: pipeline.json (format, version, classes, source, and per part its file
        and SHA-256) and features.pickle, mapping.pickle, classifier.pickle. Written in a temporary directory
        next to `path` and renamed into place; an existing `path` is replaced only if it is a saved
        PipelineModel."""
        path = _os.fspath(path)
        if _os.path.exists(path) and not _os.path.isfile(_os.path.join(path, _MANIFEST)):
            raise ValueError(f"path: {path} exists and is not a saved PipelineModel; not replacing it")
        parent = _os.path.dirname(_os.path.abspath(path))
        staging = _tempfile.mkdtemp(prefix=".pipeline-", dir=parent)
        try:
            manifest = {"format": _FORMAT, "version": _VERSION, "classes": self.classes, "source": self.source,
                        "parts": {}}
            for part in _PARTS:
                data = _pickle.dumps(getattr(self._scores, part), protocol=4)
                name = part + ".pickle"
                with open(_os.path.join(staging, name), "wb") as f:
                    f.write(data)
                manifest["parts"][part] = {"file": name, "sha256": _hashlib.sha256(data).hexdigest()}
            with open(_os.path.join(staging, _MANIFEST), "w") as f:
                _json.dump(manifest, f, indent=2)
            if _os.path.exists(path):
                old = _tempfile.mkdtemp(prefix=".pipeline-old-", dir=parent)
                _os.rename(path, _os.path.join(old, "model"))
                _os.rename(staging, path)
                _shutil.rmtree(old)
            else:
                _os.rename(staging, path)
        except BaseException:
            _shutil.rmtree(staging, ignore_errors=True)
            raise

    @staticmethod
    def load(path):
        """Reads a directory written by save(): the manifest must have exactly its keys, format and version,
        and every part file its recorded SHA-256, before anything is unpickled. Unpickling runs code named in
        the files: load only directories you trust."""
        path = _os.fspath(path)
        manifest_path = _os.path.join(path, _MANIFEST)
        if not _os.path.isfile(manifest_path):
            raise ValueError(f"path: {path} is not a saved PipelineModel (no {_MANIFEST})")
        with open(manifest_path) as f:
            try:
                manifest = _json.load(f)
            except ValueError as error:
                raise ValueError(f"{manifest_path}: not JSON ({error})") from None
        if not isinstance(manifest, dict) or set(manifest) != {"format", "version", "classes", "source", "parts"}:
            raise ValueError(f"{manifest_path}: expected the keys format, version, classes, source, parts")
        if manifest["format"] != _FORMAT or manifest["version"] != _VERSION:
            raise ValueError(f"{manifest_path}: format {manifest['format']!r} version {manifest['version']!r}, "
                             f"expected {_FORMAT!r} version {_VERSION}")
        parts = manifest["parts"]
        if not isinstance(parts, dict) or set(parts) != set(_PARTS):
            raise ValueError(f"{manifest_path}: parts must be exactly {', '.join(_PARTS)}")
        loaded = {}
        for part in _PARTS:
            entry = parts[part]
            if not isinstance(entry, dict) or set(entry) != {"file", "sha256"} or entry["file"] != part + ".pickle":
                raise ValueError(f"{manifest_path}: part {part}: expected {{file: {part}.pickle, sha256}}")
            with open(_os.path.join(path, entry["file"]), "rb") as f:
                data = f.read()
            if _hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise ValueError(f"{_os.path.join(path, entry['file'])}: SHA-256 differs from the manifest's")
            loaded[part] = _pickle.loads(data)
        return PipelineModel(features=loaded["features"], mapping=loaded["mapping"],
                             classifier=loaded["classifier"], classes=manifest["classes"],
                             source=manifest["source"])

    def __reduce__(self):
        return (_pipeline_from_parts, (self.features, self.mapping, self.classifier, self.classes, self.source))

    def __repr__(self):
        return f"<pixelwise.PipelineModel: '{self.source}', {len(self.classes)} classes>"


def _pipeline_from_parts(features, mapping, classifier, classes, source):
    return PipelineModel(features=features, mapping=mapping, classifier=classifier, classes=classes, source=source)
