"""A scikit-learn estimator around a pixelwise BoW model.

    from pixelwise.sklearn import BowClassifier
    from sklearn.model_selection import cross_val_score

    clf = BowClassifier(words=64, C=10.0)
    cross_val_score(clf, images, labels, cv=3)        # images: N x H x W (or N x H*W with image_shape)
    clf.fit(images, labels).explain(images[0]).pixels  # the fitted model explains its decisions

Needs scikit-learn (Debian: python3-sklearn); importing this module without it
raises ImportError. See docs/python.md, "scikit-learn".
"""
import copy

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from . import _pixelwise

# A small pipeline in the format of configs/demo.json, fast to train on
# Fashion-MNIST-sized images; `config=` replaces it, `words=`/`C=` adjust it.
DEFAULT_CONFIG = {
    "descriptor": {"type": "dsift", "step": 2, "bin_sizes": [3, 4], "smoothing_magnif": 6.0, "fast": True},
    "codebook": {"words": 64, "training_descriptors": 10000, "seed": 1},
    "coding": {"type": "hard"},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "normalisation": {"steps": ["l1"]},
    "svm": {"kernel": "hik", "C": 10.0},
}


class BowClassifier(ClassifierMixin, BaseEstimator):
    """Bag-of-words + kernel SVM classifier of images (pixelwise.BowModel).

    Parameters
    ----------
    config : dict, str or os.PathLike, optional
        The pipeline configuration (docs/config.md); default DEFAULT_CONFIG.
    words : int, optional
        Codebook size, overriding config["codebook"]["words"].
    C : float, optional
        SVM regularisation, overriding config["svm"]["C"].
    image_shape : (int, int), optional
        (H, W) of images given as rows of a 2-D X (N x H*W), as sklearn
        pipelines often hold them; None: X is N x H x W (x C), or a list of images.

    Attributes (after fit): classes_ (the labels, sorted), model_ (the
    pixelwise.BowModel), n_features_in_ (pixels per image).
    """

    def __init__(self, config=None, *, words=None, C=None, image_shape=None):
        self.config = config
        self.words = words
        self.C = C
        self.image_shape = image_shape

    def _config(self):
        if self.config is None:
            config = copy.deepcopy(DEFAULT_CONFIG)
        elif isinstance(self.config, dict):
            config = copy.deepcopy(self.config)
        else:
            import json
            import os

            with open(os.fspath(self.config)) as f:
                config = json.load(f)
        if self.words is not None:
            config.setdefault("codebook", {})["words"] = int(self.words)
        if self.C is not None:
            config.setdefault("svm", {})["C"] = float(self.C)
        return config

    def _images(self, X):
        if isinstance(X, (list, tuple)):
            return list(X)
        X = np.asarray(X)
        if self.image_shape is not None:
            if X.ndim != 2:
                raise ValueError(f"X: with image_shape, expected N x H*W rows, got shape {X.shape}")
            return X.reshape((X.shape[0],) + tuple(self.image_shape))
        if X.ndim not in (3, 4):
            raise ValueError(f"X: expected images N x H x W (or N x H x W x C), got shape {X.shape}; "
                             "give image_shape=(H, W) for flattened rows")
        return X

    def fit(self, X, y):
        images = self._images(X)
        y = np.asarray(y)
        if len(images) != len(y):
            raise ValueError(f"fit: {len(images)} images but {len(y)} labels")
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("fit: need at least two classes")
        self.model_ = _pixelwise.BowModel.train(self._config(), images, labels.astype(np.int64),
                                                 classes=[str(c) for c in self.classes_])
        first = images[0]
        self.n_features_in_ = int(np.asarray(first).size)
        return self

    def decision_function(self, X):
        """Class scores f_c(x), N x classes; for two classes the sklearn
        convention: f_1(x) - f_0(x), positive for classes_[1]."""
        check_is_fitted(self, "model_")
        scores = self.model_.predict_batch(self._images(X))
        return scores[:, 1] - scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X):
        check_is_fitted(self, "model_")
        scores = self.model_.predict_batch(self._images(X))
        return self.classes_[np.argmax(scores, axis=1)]

    def _target(self, target):
        if target is None:
            return None
        matches = np.flatnonzero(self.classes_ == target)
        if len(matches) != 1:
            raise ValueError(f"target: {target!r} is not one of the classes {list(self.classes_)}")
        return int(matches[0])

    def explain(self, image, *, target=None, **keywords):
        """model_.explain(image, ...) with `target` a label of classes_ (None: the predicted class)."""
        check_is_fitted(self, "model_")
        if self.image_shape is not None and np.ndim(image) == 1:
            image = np.asarray(image).reshape(tuple(self.image_shape))
        return self.model_.explain(image, target=self._target(target), **keywords)

    def explain_batch(self, X, *, targets=None, **keywords):
        """model_.explain_batch over the images of X, targets labels of classes_."""
        check_is_fitted(self, "model_")
        if targets is not None and not np.isscalar(targets):
            targets = [self._target(t) for t in targets]
        elif targets is not None:
            targets = self._target(targets)
        return self.model_.explain_batch(self._images(X), targets=targets, **keywords)
