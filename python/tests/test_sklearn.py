"""pixelwise.sklearn.BowClassifier as a scikit-learn estimator: fit, predict,
decision_function, parameters, cross-validation, and its fitted model explained."""
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")  # python3-sklearn, installed by scripts/setup.sh

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402

import pixelwise  # noqa: E402
from conftest import TINY_CONFIG, read_fashion_mnist  # noqa: E402
from pixelwise.sklearn import BowClassifier  # noqa: E402


@pytest.fixture(scope="module")
def data():
    images, labels = read_fashion_mnist("train", 120)
    names = np.array(["top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"])
    return images, names[labels]


def test_fit_predict_and_decision_function_are_the_models(data):
    images, labels = data
    clf = BowClassifier(TINY_CONFIG).fit(images[:90], labels[:90])
    assert list(clf.classes_) == sorted(set(labels[:90]))
    assert clf.n_features_in_ == 28 * 28
    # the same model as BowModel.train on the same data
    classes, index = np.unique(labels[:90], return_inverse=True)
    direct = pixelwise.BowModel.train(TINY_CONFIG, images[:90], index, classes=[str(c) for c in classes])
    scores = clf.decision_function(images[90:])
    assert np.array_equal(scores, direct.predict_batch(images[90:]))
    assert np.array_equal(clf.predict(images[90:]), classes[np.argmax(scores, axis=1)])
    assert clf.score(images[90:], labels[90:]) == np.mean(clf.predict(images[90:]) == labels[90:])
    assert clf.score(images[:90], labels[:90]) > 0.5
    # the fitted model explains its decisions, targets named by label
    e = clf.explain(images[95], target="trouser")
    assert e.class_name == "trouser"
    assert np.array_equal(e.pixels, direct.explain(images[95], target="trouser").pixels)
    batch = clf.explain_batch(images[90:93], targets=["bag", "coat", "bag"])
    assert [clf.classes_[c] for c in batch.class_index] == ["bag", "coat", "bag"]
    with pytest.raises(ValueError, match="zebra"):
        clf.explain(images[0], target="zebra")
    # picklable (a fitted estimator in a worker, joblib, ...)
    copy = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(copy.decision_function(images[90:]), scores)


def test_parameters_and_flattened_rows(data):
    images, labels = data
    clf = BowClassifier(TINY_CONFIG, words=12, C=3.0)
    assert clf.get_params() == {"config": TINY_CONFIG, "words": 12, "C": 3.0, "image_shape": None}
    clf.set_params(words=16, image_shape=(28, 28))
    assert clf.words == 16 and clone(clf).get_params()["words"] == 16
    rows = images[:60].reshape(60, -1)
    clf.fit(rows, labels[:60])
    assert clf.model_.config["codebook"]["words"] == 16 and clf.model_.config["svm"]["C"] == 3.0
    assert np.array_equal(clf.predict(rows[:5]), clf.predict(rows[:5]))
    grey = BowClassifier(TINY_CONFIG, words=16, C=3.0).fit(images[:60], labels[:60])
    assert np.array_equal(clf.decision_function(rows[:5]), grey.decision_function(images[:5]))
    with pytest.raises(ValueError, match="image_shape"):
        BowClassifier().fit(rows, labels[:60])


def test_two_classes_follow_the_sklearn_convention(data):
    images, labels = data
    keep = np.isin(labels, ["trouser", "bag"])
    clf = BowClassifier(TINY_CONFIG).fit(images[keep], labels[keep])
    d = clf.decision_function(images[keep])
    assert d.shape == (int(keep.sum()),)
    assert np.array_equal(clf.predict(images[keep]), np.where(d > 0, "trouser", "bag"))
    assert list(clf.classes_) == ["bag", "trouser"]


def test_cross_validation(data):
    images, labels = data
    scores = cross_val_score(BowClassifier(TINY_CONFIG), images, labels, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.3)
    # the same folds by hand give the same accuracies (cross_val_score clones the estimator each time)
    from sklearn.model_selection import StratifiedKFold

    by_hand = []
    for train, test in StratifiedKFold(3).split(images, labels):
        clf = BowClassifier(TINY_CONFIG).fit(images[train], labels[train])
        by_hand.append(np.mean(clf.predict(images[test]) == labels[test]))
    assert np.array_equal(scores, np.array(by_hand))
